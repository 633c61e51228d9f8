/**
 * The write path behind every ingest endpoint: points → tables (created on first write with
 * the tags and fields of that write's points; new fields and tags added later, new-tags.ts;
 * a type conflict or a tag named like a field is that point's error), appended through the table's write-ahead log (the
 * promise resolves after fdatasync: group commit), flushed to chunks by size and age, with a
 * memory budget that answers 429 instead of growing.
 */
import { readdir } from 'node:fs/promises';
import type { Quiver } from '../quiver.js';
import type { Table } from '../table/table.js';
import { QuiverError, RequestError } from '../errors.js';
import type { RecordBatch } from 'apache-arrow';
import { validateColumnName, validateTableName } from '../table/names.js';
import type { PointError, PointFieldType } from './points.js';
import type { LineWindow, MeasurementData } from './line-columns.js';
import { lineBatch } from './line-batch.js';
import type { Metrics, Counter } from './metrics.js';
import type { ServeSettings } from './settings.js';
import { walObserver } from '../table/wal.js';
import { addNewTags } from './new-tags.js';

/** Write buffers and WAL frames each hold the points until a flush: the memory they cost. */
const COPIES_HELD = 2;

/** Estimated bytes of a buffered row of the table, as WriteBuffer.bytes counts them. */
function rowBytes(s: TableState): number {
  let bytes = 8 + 4 * s.table.schema.tags.length;
  for (const type of s.fields.values()) bytes += type === 'utf8' || type === 'binary' ? 49 : type === 'bool' ? 2 : 9;
  return bytes;
}

/** Estimated bytes of the table's unflushed rows. */
function pendingBytes(s: TableState): number {
  return s.table.pendingRows * rowBytes(s);
}

/** What a table accepts, as the server tracks it (field types claimed by writes in flight too). */
interface TableState {
  table: Table;
  /** Field types by name: the point types, or another type of the table's own (refused for points). */
  fields: Map<string, string>;
  /** Date.now() when the oldest unflushed point was appended (undefined: none). */
  pendingSince?: number;
  flushing?: Promise<void>;
}

/** A name a new table can take as a tag or field (the time column is `time`). */
function columnName(name: string): boolean {
  if (name === 'time') return false;
  try { validateColumnName(name); return true; } catch { return false; }
}

export class Ingest {
  /** Set when the server stops accepting work. */
  closing = false;
  private readonly tables = new Map<string, TableState>();
  private readonly creating = new Map<string, Promise<TableState>>();
  /** Bytes reserved by requests being read and parsed. */
  private reserved = 0;
  private timer?: NodeJS.Timeout;
  private readonly pointsWritten: Counter;
  private readonly pointsRejected: Counter;
  private readonly flushes: Counter;
  private readonly flushErrors: Counter;
  private readonly throttled: Counter;
  private readonly onSync: (seconds: number, bytes: number) => void;

  constructor(readonly db: Quiver, readonly settings: ServeSettings, metrics: Metrics) {
    this.pointsWritten = metrics.counter('quiver_points_written_total', 'Points acknowledged (durable in the write-ahead log).');
    this.pointsRejected = metrics.counter('quiver_points_rejected_total', 'Points refused as bad input (line errors, type conflicts).');
    this.flushes = metrics.counter('quiver_flushes_total', 'Flushes of buffered points to chunks, by reason (age, size, budget, query, close).');
    this.flushErrors = metrics.counter('quiver_flush_errors_total', 'Flushes that failed (the points stay buffered and logged, and are retried).');
    this.throttled = metrics.counter('quiver_writes_throttled_total', 'Write requests answered 429 (memory budget reached).');
    const syncs = metrics.histogram('quiver_wal_fsync_duration_seconds', 'fdatasync latency of write-ahead log group commits.', [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
    const walBytes = metrics.counter('quiver_wal_written_bytes_total', 'Bytes written to write-ahead logs.');
    // Process-wide: the last server started hears the syncs (one server per process is the rule).
    this.onSync = (seconds, bytes) => { syncs.observe(seconds); walBytes.inc({}, bytes); };
    walObserver.onSync = this.onSync;
    metrics.gauge('quiver_buffered_points', 'Points acknowledged but not yet flushed to chunks.', () => this.sum((s) => s.table.pendingRows));
    metrics.gauge('quiver_buffered_bytes', 'Estimated memory of unflushed points (write buffers and WAL frames) plus request bodies being parsed.', () => this.usedBytes());
    metrics.gauge('quiver_memory_budget_bytes', 'The write memory budget (429 beyond).', () => settings.memoryBytes);
    metrics.gauge('quiver_wal_bytes', 'Bytes of the write-ahead log files.', () => this.walBytes());
    metrics.gauge('quiver_tables', 'Tables this server has written to.', () => this.tables.size);
    metrics.gauge('quiver_table_versions_committed', 'Latest manifest version of each table written (a flush or compaction commits one).', () => [...this.tables.entries()].map(([name, s]) => [{ table: name }, s.table.version]));
  }

  private sum(of: (s: TableState) => number): number {
    let total = 0;
    for (const s of this.tables.values()) total += of(s);
    return total;
  }

  /** Memory the write path holds now. */
  usedBytes(): number {
    return this.sum(pendingBytes) * COPIES_HELD + this.reserved;
  }

  private async walBytes(): Promise<number> {
    const dir = this.db.walDirectory;
    if (!dir) return 0;
    const { stat } = await import('node:fs/promises');
    let total = 0;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.endsWith('.wal')) total += (await stat(`${dir}/${name}`).catch(() => ({ size: 0 }))).size;
    }
    return total;
  }

  /**
   * Opens every table with a write-ahead log in the WAL directory (replaying points an
   * earlier process acknowledged but never flushed), then starts the age flusher.
   */
  async start(): Promise<void> {
    const dir = this.db.walDirectory;
    for (const name of dir ? await readdir(dir).catch(() => [] as string[]) : []) {
      if (!name.endsWith('.wal')) continue;
      const table = name.slice(0, -'.wal'.length).replaceAll('%2F', '/');
      try {
        if (await this.db.hasTable(table)) await this.state(table);
      } catch (error) {
        this.settings.log({ time: new Date().toISOString(), level: 'error', event: 'wal-replay', table, error: (error as Error).message });
        throw error;
      }
    }
    for (const s of this.tables.values()) if (s.table.pendingRows > 0) s.pendingSince = Date.now();
    const tick = Math.max(10, Math.min(1000, Math.floor(this.settings.flushAgeMs / 4)));
    this.timer = setInterval(() => this.flushDue(), tick);
    this.timer.unref();
  }

  /**
   * Reserves memory for a request body of up to `bytes` being parsed: a RequestError 429
   * (Retry-After) when the budget is reached (flushes are started to make room).
   */
  admit(bytes: number): { release(): void } {
    if (this.closing) throw new RequestError(503, 'the server is shutting down', { 'Retry-After': '1' });
    if (this.usedBytes() + bytes > this.settings.memoryBytes && (this.reserved > 0 || this.usedBytes() > 0)) {
      this.throttled.inc();
      this.flushLargest();
      throw new RequestError(429, `write buffer at its memory budget (${this.settings.memoryBytes} bytes): retry after the flushes in progress`, { 'Retry-After': '1' });
    }
    this.reserved += bytes;
    let released = false;
    return { release: () => { if (!released) { released = true; this.reserved -= bytes; } } };
  }

  /** Starts flushes of the tables holding the most memory until half the budget is being freed. */
  private flushLargest(): void {
    const states = [...this.tables.values()].filter((s) => !s.flushing && s.table.pendingRows > 0).sort((a, b) => pendingBytes(b) - pendingBytes(a));
    let freeing = 0;
    for (const s of states) {
      if (freeing * COPIES_HELD >= this.settings.memoryBytes / 2) break;
      freeing += pendingBytes(s);
      this.flushInBackground(s, 'budget');
    }
  }

  private flushDue(): void {
    const now = Date.now();
    for (const s of this.tables.values()) {
      if (s.pendingSince !== undefined && now - s.pendingSince >= this.settings.flushAgeMs) this.flushInBackground(s, 'age');
    }
  }

  private flushInBackground(s: TableState, reason: string): void {
    if (s.flushing) return;
    s.flushing = this.flush(s, reason).catch((error) => {
      this.flushErrors.inc({ table: s.table.name });
      this.settings.log({ time: new Date().toISOString(), level: 'error', event: 'flush', table: s.table.name, reason, error: (error as Error).message });
    }).finally(() => { s.flushing = undefined; });
  }

  private async flush(s: TableState, reason: string): Promise<void> {
    if (s.table.pendingRows === 0) return;
    const rows = s.table.pendingRows;
    const started = performance.now();
    const since = Date.now();
    await s.table.flush();
    // Points appended during the flush wait for the next one; their age starts now.
    s.pendingSince = s.table.pendingRows > 0 ? since : undefined;
    this.flushes.inc({ reason });
    this.settings.log({ time: new Date().toISOString(), level: 'info', event: 'flush', table: s.table.name, reason, rows, ms: Math.round(performance.now() - started) });
  }

  /**
   * Flushes `table`'s acknowledged points before a query reads it. Scans see unflushed rows
   * too (read-your-writes), so this is not what makes them visible: it lets the query read
   * chunks (statistics, pruning, the decoded-page cache) instead of encoding the buffer in
   * memory for each query, and bounds what a restart replays.
   */
  async visible(table: string): Promise<void> {
    const s = this.tables.get(table);
    if (!s || s.table.pendingRows === 0) return;
    await s.flushing;
    if (s.table.pendingRows > 0) await this.flush(s, 'query');
  }

  /** The server's state of a table (opening it replays its write-ahead log). */
  private async state(name: string): Promise<TableState> {
    const known = this.tables.get(name);
    if (known) return known;
    return this.track(name, await this.db.table(name));
  }

  private track(name: string, table: Table): TableState {
    const known = this.tables.get(name);
    if (known) return known;
    // Columns of other types (float32, dates…) are kept too: a point naming one is refused.
    const state: TableState = { table, fields: new Map(table.appendFields.map((f) => [f.name, f.type])) };
    this.tables.set(name, state);
    return state;
  }

  /** The table of a measurement, created from its columns (all of them) when it does not exist. */
  private async tableFor(m: MeasurementData): Promise<TableState> {
    const measurement = m.measurement;
    const known = this.tables.get(measurement);
    if (known) return known;
    let pending = this.creating.get(measurement);
    if (!pending) {
      pending = (async () => {
        validateTableName(measurement);
        if (await this.db.hasTable(measurement)) return this.state(measurement);
        // Names a table cannot hold are left out: the points naming them get their own errors.
        const tags = [...m.tags.keys()].filter(columnName).sort();
        // Each field at the type of the first point naming it.
        const fields: { name: string; type: PointFieldType; row: number }[] = [];
        for (const [name, columns] of m.fields) {
          if (tags.includes(name) || !columnName(name)) continue;
          const first = columns.filter((c) => c.firstRow >= 0).sort((a, b) => a.firstRow - b.firstRow)[0];
          if (first) fields.push({ name, type: first.type, row: first.firstRow });
        }
        fields.sort((a, b) => a.row - b.row);
        try {
          const table = await this.db.createTable(measurement, { tags, fields: fields.map(({ name, type }) => ({ name, type })) });
          return this.track(measurement, table);
        } catch (error) {
          // Another process created it meanwhile: use theirs.
          if (error instanceof QuiverError && /already exists/.test(error.message)) return this.state(measurement);
          throw error;
        }
      })();
      this.creating.set(measurement, pending);
      void pending.then(() => this.creating.delete(measurement), () => this.creating.delete(measurement));
    }
    return pending;
  }

  /**
   * Appends an Arrow batch (columns named as the table's) to table `name`: resolves once it is
   * durable in the table's write-ahead log (group commit), then schedules the flushes the
   * server's policy asks for (by size; by age from the oldest unflushed point). Every write
   * path of the server (line protocol, Prometheus remote write) appends through here.
   */
  async appendBatch(name: string, batch: RecordBatch): Promise<void> {
    await this.appendTo(await this.state(name), batch);
  }

  private async appendTo(s: TableState, batch: RecordBatch): Promise<void> {
    const since = Date.now();
    await s.table.append(batch);
    s.pendingSince ??= s.table.pendingRows > 0 ? since : undefined;
    // Flush by size: a table holding a quarter of the budget.
    if (pendingBytes(s) * COPIES_HELD >= this.settings.memoryBytes / 4) this.flushInBackground(s, 'size');
  }

  /**
   * Writes a window of line-protocol points, taken into columns: resolves once every accepted
   * point is durable in its table's write-ahead log, with the points refused (bad table name,
   * tag not in the table, type conflict) and why. Each measurement's points are appended as
   * one batch (one WAL frame).
   */
  async writeLines(lines: LineWindow): Promise<{ written: number; errors: PointError[] }> {
    const errors: PointError[] = [];
    let written = 0;
    await Promise.all([...lines.measurements.values()].map(async (m) => {
      let s: TableState;
      try {
        s = await this.tableFor(m);
      } catch (error) {
        if (!(error instanceof QuiverError)) throw error;
        for (let r = 0; r < m.rows; r++) errors.push({ line: m.lines[r]!, message: `measurement ${JSON.stringify(m.measurement)}: ${error.message}` });
        return;
      }
      await addNewTags(s.table, m.tags.keys(), s.fields);
      const out = lineBatch({ name: s.table.name, schema: s.table.schema, fields: s.fields }, m);
      errors.push(...out.errors);
      if (!out.batch) return;
      await this.appendTo(s, out.batch);
      written += out.rows;
    }));
    errors.sort((a, b) => a.line - b.line);
    this.pointsWritten.inc({}, written);
    this.pointsRejected.inc({}, errors.length);
    return { written, errors };
  }

  /** Stops the age flusher and flushes every buffered point. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    for (const s of this.tables.values()) {
      await s.flushing;
      await this.flush(s, 'close');
    }
    if (walObserver.onSync === this.onSync) walObserver.onSync = undefined;
  }
}
