import { DecodePool, defaultDecodeThreads, freeCores } from './format/decode-pool.js';
import { queryThreadPool, type QueryThreadPool } from './query-threads.js';
import type { ChunkManager } from './chunk-manager/chunk-manager.js';
import { openStore, type OpenStoreOptions } from './chunk-manager/url.js';
import { compareStrings } from './format/index.js';
import { DEFAULT_PAGE_ROWS } from './format/chunk.js';
import { AlreadyExistsError, QuiverError, SchemaError, UsageError } from './errors.js';
import { DecodedPageCache } from './format/decoded-cache.js';
import { checkTableSpec, createManifest, describeManifest, latestVersion, loadManifest, MANIFEST_DIR } from './table/manifest.js';
import { validateColumnName, validateTableName } from './table/names.js';
import { Table, type TableContext } from './table/table.js';
import { listTables } from './table/catalog.js';
import { convertTime, toTableTime } from './core/time.js';
import { describeRecovery, type WalRecovery, type WalRecoveryReport } from './table/wal.js';
import { Table as ArrowTable, type RecordBatch, type Schema } from 'apache-arrow';
import type { ExportOptions, ExportResult } from './export/export.js';
import type { ByteSink } from './export/parquet-writer.js';
import { canonicalFieldType } from './format/field-types.js';
import type { FieldType } from './format/types.js';
import type { ServeOptions } from './server/settings.js';
import type { ServerHandle } from './server/server.js';
import type { CreateTableSpec, RollupSpec, TableDescription, TableOptions, TableSchema, TimeInput } from './core/types.js';
import { parseRetention } from './table/retention.js';
import { copyTableTo } from './table/copy-table.js';
import { checkOrphanRollup, listRollup, planRollup, rollupPartition, rollupSpecOf, type RollupRequest } from './table/rollup.js';
import { maintainRollups, refreshRollup, type RollupRefresh } from './table/rollup-maintain.js';

export const DEFAULT_TABLE_OPTIONS: TableOptions = {
  partition: 'day',
  rowsPerChunkMax: 1 << 18,
  pageRows: DEFAULT_PAGE_ROWS,
  codec: 'auto',
  bufferRowsMax: 1 << 18,
};

export interface QuiverOptions extends OpenStoreOptions {
  /**
   * A local directory for write-ahead logs (src/table/wal.ts): `append()` / `writePoint()`
   * resolve once rows are durable there, and rows a crashed process appended but never
   * flushed are replayed when their table is next opened. Without it, appended rows are
   * durable after `flush()` / `close()`. One process per directory.
   */
  wal?: string;
  /**
   * What opening a table does with a damaged write-ahead log (a bad frame followed by intact
   * ones; a torn last write is always cut off): 'strict' (the default) throws
   * WalCorruptError and leaves the file untouched; 'salvage' keeps the damaged file beside
   * the log (`<table>.wal.damaged-<time>`), replays every intact frame and reports the lost
   * byte ranges and frame seqs through onWalRecovery.
   */
  walRecovery?: WalRecovery;
  /**
   * Called when opening a table cut a torn tail off its log or salvaged it. Default: a
   * process warning (code QUIVER_WAL_RECOVERY) describing what was dropped.
   */
  onWalRecovery?: (report: WalRecoveryReport) => void;
  /**
   * Compact a partition after a flush once it holds this many small chunks (streaming writes
   * then stay at a few chunks per partition). 0 disables. Default 16 (AUTO_COMPACT_DEFAULT).
   */
  autoCompact?: number;
  /**
   * Byte budget of decoded pages kept for repeated scans and queries (least recently used
   * out). A second identical query then reads and decodes nothing. 0 disables. Default 256 MiB.
   */
  decodedCacheBytes?: number;
  /**
   * How long scans and queries trust the table version they last saw before asking the store
   * for a newer one (other processes' commits appear up to this late). 0, the default, asks
   * every time: a list and an existence probe per query, no data.
   */
  manifestTtlMs?: number;
  /**
   * Worker threads that decode pages for scans and queries while the main thread aggregates
   * (they start on the first large read and take work once loaded; the main thread decodes a
   * share too). 0 decodes on the main thread only. Default: one per core beyond the first, at
   * most 8.
   */
  decodeThreads?: number;
  /** Threads reading pieces of big aggregations on local stores (query-threads.ts; 0: none). Default: one per core beyond the first, at most 8. */
  queryThreads?: number;
  /** Lifetime of a writer's lease without a refresh (src/table/lease.ts). Default 10 minutes. */
  leaseTtlMs?: number;
  /** The wall clock retention measures from, in epoch ms (src/table/retention.ts). Default Date.now; tests inject one. */
  clock?: () => number;
}

/** Default budget of the decoded-page cache. */
export const DECODED_CACHE_BYTES = 256 * 1024 * 1024;

export interface PointOptions {
  /** Field name of the value. Default 'value'. */
  field?: string;
}

export interface Point {
  /** Epoch nanoseconds. */
  time: bigint;
  value: number | null;
  /** Tag values; null for the null tag (a point written without that tag). */
  tags: Record<string, string | null>;
}

/**
 * A store of tables. Open one by URL (a directory, s3://, az://, gs://, memory://) or over
 * any ChunkManager. Every operation is safe against other processes using the same store:
 * tables change only through conditional manifest commits.
 */
/** A field's type in its canonical spelling (`date` → `date32`); a SchemaError naming the field when it is none. */
function fieldType(name: string, type: string): FieldType {
  try { return canonicalFieldType(type); } catch (error) { throw new SchemaError(`field ${name}: ${(error as Error).message}`); }
}

export class Quiver {
  private readonly ctx: TableContext;
  private readonly open = new Map<string, Table>();
  private readonly opening = new Map<string, Promise<Table>>();
  /** Tables made with createTable(…, { lazy: true }), flushed at close() (they exist once committed). */
  private readonly lazy = new Set<Table>();

  private readonly walDir?: string;
  private readonly walRecovery: WalRecovery;
  private readonly onWalRecovery: (report: WalRecoveryReport) => void;

  private constructor(readonly store: ChunkManager, options: QuiverOptions) {
    const decodedBytes = options.decodedCacheBytes ?? DECODED_CACHE_BYTES;
    if (!(decodedBytes >= 0)) throw new UsageError(`decodedCacheBytes must be ≥ 0, got ${decodedBytes}`);
    this.walDir = options.wal;
    if (options.walRecovery !== undefined && !['strict', 'salvage'].includes(options.walRecovery)) throw new UsageError(`walRecovery must be 'strict' or 'salvage', got ${JSON.stringify(options.walRecovery)}`);
    this.walRecovery = options.walRecovery ?? 'strict';
    this.onWalRecovery = options.onWalRecovery ?? ((report) => process.emitWarning(describeRecovery(report), { code: 'QUIVER_WAL_RECOVERY' }));
    const threads = options.decodeThreads ?? defaultDecodeThreads();
    if (!(Number.isInteger(threads) && threads >= 0)) throw new UsageError(`decodeThreads must be an integer ≥ 0, got ${threads}`);
    const queryThreads = queryThreadPool(options.queryThreads);
    this.ctx = {
      store,
      readers: new Map(),
      ...(options.autoCompact !== undefined ? { autoCompact: options.autoCompact } : {}),
      ...(decodedBytes > 0 ? { decoded: new DecodedPageCache(decodedBytes) } : {}),
      ...(options.manifestTtlMs ? { manifestTtlMs: options.manifestTtlMs } : {}),
      ...(threads > 0 ? { decodePool: new DecodePool(threads, options.decodeThreads === undefined ? { freeCores } : {}) } : {}),
      ...(queryThreads ? { queryThreads } : {}),
      ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    };
  }

  static async open(store: string | ChunkManager, options: QuiverOptions = {}): Promise<Quiver> {
    return new Quiver(typeof store === 'string' ? await openStore(store, options) : store, options);
  }

  /** The decoded-page cache (undefined when disabled): its bytes, hits, misses, evictions. */
  get decodedCache(): DecodedPageCache | undefined {
    return this.ctx.decoded;
  }

  /** The query thread pool (undefined when queryThreads is 0). */
  get queryThreads(): QueryThreadPool | undefined { return this.ctx.queryThreads as QueryThreadPool | undefined; }
  /** The decode worker pool (undefined when decodeThreads is 0). */
  get decodePool(): DecodePool | undefined {
    return this.ctx.decodePool;
  }

  /** Registers an opened table (attaching its write-ahead log, which replays unflushed rows). */
  private async adopt(table: Table, created = false): Promise<Table> {
    // A new table owns no logged rows: a log left by a dropped namesake starts over.
    if (this.walDir !== undefined) {
      const { recovery } = await table.attachWal(this.walDir, { discard: created, recovery: this.walRecovery });
      if (recovery) this.onWalRecovery(recovery);
    }
    this.open.set(table.name, table);
    return table;
  }

  get url(): string {
    return this.store.url;
  }

  /** The write-ahead log directory (undefined: appends are durable at flush only). */
  get walDirectory(): string | undefined {
    return this.walDir;
  }

  /**
   * Starts the HTTP server of `quiver serve` (src/server: InfluxDB line protocol writes,
   * queries, /health, /metrics) on a store it opens with a write-ahead log in `wal`
   * (default ./quiver-wal): a write is acknowledged once durable there. `close()` on the
   * handle stops accepting, finishes in-flight requests, flushes and closes the store.
   */
  static async serve(options: ServeOptions & QuiverOptions & { store?: string } = {}): Promise<ServerHandle> {
    const { startServer } = await import('./server/server.js');
    const { MeteredChunkManager } = await import('./server/store-metrics.js');
    const store = new MeteredChunkManager(await openStore(options.store ?? './quiver-data', options));
    const db = await Quiver.open(store, { ...options, wal: options.wal ?? './quiver-wal' });
    try {
      return await startServer(db, options, { closeDb: true });
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  /**
   * Creates a table. By default its empty version 1 is committed at once. With `lazy`, nothing
   * is written until the table's first commit (`writer().commit()` or `flush()`), which creates
   * it holding that commit's rows, so a write that fails or is killed leaves no table; if
   * another writer creates the table first, `ifExists` decides: 'fail' (ConflictError, the
   * default) or 'append' (the rows join that table when its time column, unit, tags and
   * partitioning are the same; else SchemaError).
   */
  async createTable(name: string, spec: CreateTableSpec = {}, mode: { lazy?: boolean; ifExists?: 'fail' | 'append'; rollupOf?: RollupSpec } = {}): Promise<Table> {
    const { schema, options } = this.tableSpec(name, spec);
    if (mode.rollupOf) options.rollupOf = mode.rollupOf;
    if (mode.lazy) {
      const table = Table.uncreated(this.ctx, name, schema, options, mode.ifExists ?? 'fail');
      this.lazy.add(table);
      return table;
    }
    try {
      const manifest = await createManifest(this.store, name, schema, options);
      return await this.adopt(new Table(this.ctx, name, manifest), true);
    } catch (error) {
      if (error instanceof AlreadyExistsError) throw new QuiverError(`table ${name} already exists in ${this.store.url}`);
      throw error;
    }
  }

  /** A new table's schema and options from a spec, checked as every reader will check its manifest. */
  private tableSpec(name: string, spec: CreateTableSpec): { schema: TableSchema; options: TableOptions } {
    validateTableName(name);
    const time = validateColumnName(spec.time ?? 'time');
    const tags = (spec.tags ?? []).map(validateColumnName);
    const fields = (spec.fields ?? []).map((f) => ({ name: validateColumnName(f.name), type: fieldType(f.name, f.type), nullable: f.nullable ?? true }));
    const names = [time, ...tags, ...fields.map((f) => f.name)];
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new SchemaError(`column ${JSON.stringify(dup)} appears twice in the table spec`);
    const schema: TableSchema = { time, timeUnit: spec.timeUnit ?? 'ns', tags, fields };
    if (!['s', 'ms', 'us', 'ns'].includes(schema.timeUnit)) throw new SchemaError(`time unit ${JSON.stringify(schema.timeUnit)} is not s, ms, us or ns`);
    const options: TableOptions = {
      partition: spec.partition ?? DEFAULT_TABLE_OPTIONS.partition,
      rowsPerChunkMax: spec.rowsPerChunkMax ?? DEFAULT_TABLE_OPTIONS.rowsPerChunkMax,
      pageRows: spec.pageRows ?? DEFAULT_TABLE_OPTIONS.pageRows,
      codec: spec.codec ?? DEFAULT_TABLE_OPTIONS.codec,
      bufferRowsMax: spec.bufferRowsMax ?? spec.rowsPerChunkMax ?? DEFAULT_TABLE_OPTIONS.bufferRowsMax,
      ...(spec.codecLevel !== undefined ? { codecLevel: spec.codecLevel } : {}),
      // Keyed by column names: a null-prototype copy, so `constructor` or `__proto__` are names like any other.
      ...(spec.columns ? { columns: Object.assign(Object.create(null) as NonNullable<CreateTableSpec['columns']>, spec.columns) } : {}),
      ...(spec.compression ? { compression: spec.compression } : {}),
      duplicates: spec.duplicates ?? 'last',
      ...(parseRetention(spec.retention) !== undefined ? { retention: parseRetention(spec.retention) } : {}),
    };
    if (!['auto', 'zstd', 'lz4', 'none'].includes(options.codec)) throw new SchemaError(`codec ${JSON.stringify(options.codec)} is not auto, zstd, lz4 or none`);
    if (options.compression !== undefined && !['fast', 'small'].includes(options.compression)) throw new SchemaError(`compression ${JSON.stringify(options.compression)} is not fast or small`);
    if (!['last', 'first', 'keep'].includes(options.duplicates!)) throw new SchemaError(`duplicates ${JSON.stringify(options.duplicates)} is not last, first or keep`);
    if (!['hour', 'day', 'month', 'none'].includes(options.partition)) throw new SchemaError(`partition ${JSON.stringify(options.partition)} is not hour, day, month or none`);
    checkTableSpec(schema, options);
    return { schema, options };
  }

  /** An existing table (the same object for repeated calls on this Quiver). */
  async table(name: string): Promise<Table> {
    validateTableName(name);
    const known = this.open.get(name);
    if (known) { await known.refreshIfStale(); return known; }
    // One Table (and one WAL replay) per name, however many callers race to open it.
    let opening = this.opening.get(name);
    if (!opening) {
      opening = (async () => {
        const version = await latestVersion(this.store, name);
        if (version === 0) throw new QuiverError(`no table named ${name} in ${this.store.url}`);
        return this.adopt(new Table(this.ctx, name, await loadManifest(this.store, name, version)));
      })();
      this.opening.set(name, opening);
      opening.then(() => this.opening.delete(name), () => this.opening.delete(name));
    }
    return opening;
  }

  async hasTable(name: string): Promise<boolean> {
    validateTableName(name);
    return (await latestVersion(this.store, name)) > 0;
  }

  /** Names of the tables in the store, sorted. */
  async tables(): Promise<string[]> {
    return listTables(this.store);
  }

  async describe(name: string): Promise<TableDescription> {
    return (await this.table(name)).describe();
  }

  /** Deletes a table: its manifests first (it disappears at once), then its chunks. */
  async dropTable(name: string): Promise<void> {
    const table = await this.table(name);
    const of = table.options.rollupOf;
    if (of && (await this.hasTable(of.source))) await listRollup(await this.table(of.source), name, false);
    const keys = await table.keys();
    const manifests = keys.filter((k) => k.startsWith(`${name}/${MANIFEST_DIR}/`)).sort().reverse();
    await this.store.delete(manifests);
    await this.store.delete(keys.filter((k) => !k.startsWith(`${name}/${MANIFEST_DIR}/`)));
    await table.dropWal();
    this.open.delete(name);
  }

  /** Copies a table to another store, verified, keeping its version number (table/copy-table.ts). */
  async copyTable(name: string, dst: Quiver, options: { concurrency?: number } = {}): Promise<{ table: string; chunks: number; bytes: number }> {
    const table = await this.table(name);
    if (await dst.hasTable(name)) throw new QuiverError(`table ${name} already exists in ${dst.url}`);
    return copyTableTo(table.currentManifest, this.store, dst.store, options.concurrency ?? 4);
  }

  /**
   * The point API of a stock-tick TSDB: metric = table (created on first write with the
   * point's tag keys as tags and a float64 `value` field), buffered until flush()/close().
   */
  async writePoint(metric: string, ts: TimeInput, value: number | null, tags: Record<string, string> = {}, options: PointOptions = {}): Promise<void> {
    const field = options.field ?? 'value';
    let table: Table;
    if (this.open.has(metric) || (await this.hasTable(metric))) table = await this.cachedTable(metric);
    else {
      try {
        table = await this.createTable(metric, { tags: Object.keys(tags).sort(), fields: [{ name: field, type: 'float64' }] });
      } catch (error) {
        if (!(error instanceof QuiverError) || !/already exists/.test(error.message)) throw error;
        table = await this.table(metric);
      }
    }
    for (const k of Object.keys(tags)) {
      if (!table.schema.tags.includes(k)) throw new SchemaError(`metric ${metric} has tags ${table.schema.tags.join(', ')}; ${JSON.stringify(k)} is not one of them`);
    }
    await table.append([{ [table.schema.time]: ts, ...tags, [field]: value }]);
  }

  private async cachedTable(name: string): Promise<Table> {
    return this.open.get(name) ?? this.table(name);
  }

  /** Points of a metric in [from, to), optionally filtered by tags, sorted by series then time. */
  async readPoints(metric: string, from: TimeInput, to: TimeInput, tags: Record<string, string> = {}, options: PointOptions = {}): Promise<Point[]> {
    const table = await this.cachedTable(metric);
    const field = options.field ?? 'value';
    const schema = table.schema;
    // Committed points and this process's unflushed ones: scans read both (read-your-writes).
    const result = await table.query({ from, to, where: tags, columns: [...schema.tags, field] });
    const out: Point[] = [];
    for (const source of [result]) {
      const times = source.getChild(schema.time)!;
      const values = source.getChild(field);
      const tagCols = schema.tags.map((t) => [t, source.getChild(t)] as const);
      let row = 0;
      for (const data of times.data) {
        const t = data.values as BigInt64Array;
        for (let i = 0; i < data.length; i++, row++) {
          const pointTags = Object.fromEntries(tagCols.map(([name, col]) => [name, col && col.isValid(row) ? String(col.get(row)) : null]));
          out.push({
            time: convertTime(t[i]!, schema.timeUnit, 'ns'),
            value: values?.isValid(row) ? Number(values.get(row)) : null,
            tags: pointTags,
          });
        }
      }
    }
    // Series order as scans give it: tag by tag, the null tag first, then time.
    const compareTag = (x: string | null, y: string | null) => (x === y ? 0 : x === null ? -1 : y === null ? 1 : compareStrings(x, y));
    out.sort((a, b) => {
      for (const t of schema.tags) { const d = compareTag(a.tags[t]!, b.tags[t]!); if (d !== 0) return d; }
      return a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
    });
    return out;
  }

  /**
   * Exports a table (or a time range, tag filter, projection of it) to Parquet, in bounded
   * memory: `out` is a `.parquet` path (one file, a row group per partition), a directory
   * or store URL ending in '/' (one file per partition in Hive-style `date=…/` folders), or
   * a ByteSink receiving the bytes of one file (src/export/export.ts).
   */
  async export(name: string, out: string | ByteSink, options: ExportOptions = {}): Promise<ExportResult> {
    const table = await this.table(name);
    const { exportParquet, exportTable } = await import('./export/export.js'); // parquet-wasm loads on first use
    return typeof out === 'string' ? exportTable(table, out, options) : exportParquet(table, out, options);
  }

  /**
   * Runs SQL on DuckDB (an optional dependency: `npm install @duckdb/node-api`) over this
   * store's tables, each visible as a table function of its name backed by Quiver's scan:
   * `FROM cpu`, or with the time range and tag filters pushed down into the scan,
   * `FROM cpu(from_time := '2026-01-01', to_time := '2026-01-02', hostname := 'host_1|host_2')`.
   * Returns the result as one Arrow Table; `sqlBatches()` streams it.
   */
  async sql(query: string): Promise<ArrowTable> {
    let schema: Schema | undefined;
    const batches: RecordBatch[] = [];
    for await (const batch of this.sqlBatches(query, (s) => { schema = s; })) batches.push(batch);
    return batches.length > 0 ? new ArrowTable(batches) : new ArrowTable(schema!);
  }

  /** The result of `sql()` as a stream of Arrow batches; `onSchema` hears the columns first. */
  async *sqlBatches(query: string, onSchema?: (schema: Schema) => void): AsyncGenerator<RecordBatch> {
    const { runSql } = await import('./sql/sql.js');
    yield* runSql(this, query, onSchema);
  }

  /**
   * A rollup table kept up to date from its source (src/table/rollup.ts: `every`, `by`, `agg`
   * count/sum/mean/min/max per field, its own `retention`), filled from the source's rows at once.
   */
  async createRollup(name: string, request: RollupRequest): Promise<Table> {
    const source = await this.table(request.source);
    const { spec, schema } = planRollup(name, request, source);
    // A createRollup killed between creating its table and listing it: the same request resumes it.
    const orphan = !(source.currentManifest.rollups ?? []).includes(name) && (await this.hasTable(name)) ? await this.table(name) : undefined;
    if (orphan) checkOrphanRollup(orphan, spec, schema, parseRetention(request.retention));
    const rollup = orphan ?? await this.createTable(name, { ...schema, partition: rollupPartition(source.options.partition), ...(request.retention !== undefined ? { retention: request.retention } : {}) }, { rollupOf: spec });
    await listRollup(source, name, true);
    await refreshRollup(source, rollup);
    return rollup;
  }

  /** Drops a rollup table and takes it off its source's list. */
  async dropRollup(name: string): Promise<void> {
    if (rollupSpecOf(await this.table(name))) await this.dropTable(name);
  }

  /** Brings the rollups of a table up to date now (they also catch up after each of its commits). */
  async refreshRollups(source: string): Promise<RollupRefresh[]> {
    return maintainRollups(await this.table(source));
  }

  /** Flushes every table with buffered rows. */
  async flush(): Promise<void> {
    for (const table of this.open.values()) await table.flush();
  }

  async close(): Promise<void> {
    try {
      await this.flush();
      for (const table of this.lazy) await table.flush();
      for (const table of this.open.values()) await table.detachWal();
      for (const table of [...this.open.values(), ...this.lazy]) await table.leases.close();
    } finally {
      await Promise.all([this.ctx.decodePool?.close(), this.ctx.queryThreads?.close()]);
      await this.store.close();
    }
  }
}

export { describeManifest, toTableTime, loadManifest };
