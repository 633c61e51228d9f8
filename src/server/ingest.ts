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
import { NS_PER_UNIT } from '../core/time.js';
import { validateColumnName, validateTableName } from '../table/names.js';
import { pointsBatch, type IngestPoint, type PointError, type PointFieldType } from './points.js';
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
   * Makes every acknowledged point of `table` visible to scans: today by flushing its
   * buffer (scans read chunks only). A small, replaceable piece: once scans read the write
   * buffer (read-your-writes), this becomes a no-op.
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

  /** The table of a measurement, created from `points` (all of it) when it does not exist. */
  private async tableFor(measurement: string, points: readonly IngestPoint[]): Promise<TableState> {
    const known = this.tables.get(measurement);
    if (known) return known;
    let pending = this.creating.get(measurement);
    if (!pending) {
      pending = (async () => {
        validateTableName(measurement);
        if (await this.db.hasTable(measurement)) return this.state(measurement);
        // Names a table cannot hold are left out: the points naming them get their own errors.
        const tags = [...new Set(points.flatMap((p) => p.tags.map(([k]) => k)))].filter(columnName).sort();
        const fields = new Map<string, PointFieldType>();
        for (const p of points) for (const f of p.fields) if (!fields.has(f.name) && !tags.includes(f.name) && columnName(f.name)) fields.set(f.name, f.type);
        try {
          const table = await this.db.createTable(measurement, { tags, fields: [...fields].map(([name, type]) => ({ name, type })) });
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

  /** Why `point` cannot go into the table (null: it can; its new fields are claimed). */
  private check(s: TableState, point: IngestPoint): string | null {
    const schema = s.table.schema;
    const tags = schema.tags;
    for (const [k] of point.tags) {
      if (k === schema.time) return `tag key ${JSON.stringify(k)} is the time column's name`;
      if (!tags.includes(k)) {
        const field = s.fields.has(k) ? `; ${k} is a field of it` : '';
        return `tag ${JSON.stringify(k)} is not a tag of table ${s.table.name} and could not be added (its tags: ${tags.join(', ') || 'none'}${field})`;
      }
    }
    for (const f of point.fields) {
      if (f.name === schema.time) return `field key ${JSON.stringify(f.name)} is the time column's name`;
      if (tags.includes(f.name)) return `field ${JSON.stringify(f.name)} is a tag of table ${s.table.name}`;
      const known = s.fields.get(f.name);
      if (known !== undefined && known !== f.type) return `field ${JSON.stringify(f.name)} is ${known} in table ${s.table.name}, got ${f.type}`;
    }
    const per = NS_PER_UNIT[schema.timeUnit];
    if (per !== 1n && point.time % per !== 0n) return `time ${point.time} ns is finer than table ${s.table.name}'s unit (${schema.timeUnit})`;
    for (const f of point.fields) {
      if (!s.fields.has(f.name)) {
        try { validateColumnName(f.name); } catch (error) { return (error as Error).message; }
        s.fields.set(f.name, f.type);
      }
    }
    return null;
  }

  /**
   * Writes points: resolves once every accepted point is durable in its table's write-ahead
   * log, with the points refused (bad table name, tag not in the table, type conflict) and
   * why. Points of one table are appended as one batch (one WAL frame).
   */
  async write(points: readonly IngestPoint[]): Promise<{ written: number; errors: PointError[] }> {
    const errors: PointError[] = [];
    const byTable = new Map<string, IngestPoint[]>();
    for (const p of points) {
      const list = byTable.get(p.measurement);
      if (list) list.push(p);
      else byTable.set(p.measurement, [p]);
    }
    let written = 0;
    await Promise.all([...byTable].map(async ([measurement, group]) => {
      let s: TableState;
      try {
        s = await this.tableFor(measurement, group);
      } catch (error) {
        if (!(error instanceof QuiverError)) throw error;
        for (const p of group) errors.push({ line: p.line, message: `measurement ${JSON.stringify(measurement)}: ${error.message}` });
        return;
      }
      await addNewTags(s.table, group.flatMap((p) => p.tags.map(([k]) => k)), s.fields);
      const ok: IngestPoint[] = [];
      for (const p of group) {
        const why = this.check(s, p);
        if (why === null) ok.push(p);
        else errors.push({ line: p.line, message: why });
      }
      if (ok.length === 0) return;
      const since = Date.now();
      // Every field of `ok` has its point type in s.fields (check() made sure).
      await s.table.append(pointsBatch(s.table.schema, ok, s.fields as ReadonlyMap<string, PointFieldType>));
      s.pendingSince ??= s.table.pendingRows > 0 ? since : undefined;
      written += ok.length;
      // Flush by size: a table holding a quarter of the budget.
      if (pendingBytes(s) * COPIES_HELD >= this.settings.memoryBytes / 4) this.flushInBackground(s, 'size');
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
