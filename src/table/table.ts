import type { DecodePool } from '../format/decode-pool.js';
import { randomBytes } from 'node:crypto';
import { Table as ArrowTable, type RecordBatch } from 'apache-arrow';
import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import { openChunk, writeChunk, type ChunkReader } from '../format/index.js';
import type { LineageEntry } from '../format/types.js';
import { ConflictError, QuiverError, SchemaError } from '../errors.js';
import { TableArrowSchema } from '../core/arrow-schema.js';
import { commit, describeManifest, entryOf, latestVersion, loadManifest, manifestKey, MANIFEST_DIR, MANIFEST_FORMAT, type Manifest, type ManifestChange } from './manifest.js';
import { LeaseKeeper } from './lease.js';
import { BulkWriter } from './bulk-writer.js';
import { storeSource } from './store-source.js';
import { checkChunkBytes, verifyTable, type ChunkCheck } from './verify.js';
import { WriteBuffer, type BufferedChunk } from './write-buffer.js';
import { DecodedPageCache } from '../format/decoded-cache.js';
import { WriteAheadLog, type WalRecovery, type WalRecoveryReport } from './wal.js';
import { compactTable, type CompactOptions, type CompactResult } from './compact.js';
import { vacuumTable, type VacuumOptions, type VacuumResult } from './vacuum.js';
import { explainScan, scanChunks, type ScanExplain } from '../scan/scan.js';
import { planInput } from '../scan/plan.js';
import { explainQuery, runQuery } from '../scan/query.js';
import type { PageSummarizer, QueryOptions } from '../scan/query-types.js';
import { splitQueryOptions } from '../scan/query-plan.js';
import type { ChunkEntry, FieldSpec, Row, ScanOptions, TableDescription, TableOptions, TableSchema, TableWriter } from '../core/types.js';

/** Open chunk readers (footers) kept per store. */
export const READERS_CACHED_MAX = 512;

/** Shared by every Table of one Quiver: the store and an LRU of opened chunk footers. */
export interface TableContext {
  store: ChunkManager;
  readers: Map<string, Promise<ChunkReader>>;
  /**
   * Scans and queries trust a manifest checked this recently instead of asking the store for a
   * newer version (0, the default: always ask; this process's own commits are seen at once).
   */
  manifestTtlMs?: number;
  /** Decoded pages kept for repeated scans (none: every scan decodes). */
  decoded?: DecodedPageCache;
  /** Worker threads for large decodes (none: decode on the main thread). */
  decodePool?: DecodePool;
  /**
   * After a flush, a partition it wrote to that holds this many small chunks is compacted
   * (streaming writers stay at a few chunks per partition). 0 disables. Default
   * AUTO_COMPACT_DEFAULT. The library option of the same name (Quiver.open).
   */
  autoCompact?: number;
  /** Lifetime of writer leases without a refresh (lease.ts; default LEASE_TTL_MS). */
  leaseTtlMs?: number;
  /**
   * Check each chunk from its bytes before it is put, as verify does: footer, checksums and
   * a decode of every page (default true).
   */
  checkChunks?: boolean;
}

/** Default of `autoCompact`: small chunks in one partition that trigger a compaction after a flush. */
export const AUTO_COMPACT_DEFAULT = 16;

function chunkId(): string {
  // Time-sortable: milliseconds in base 36 (fixed width), then randomness.
  return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
}

/**
 * A table: its latest manifest, a write buffer for append(), scans and queries.
 * Appended rows are durable after flush() (or close() of the Quiver); bulk imports go
 * through writer(), which commits everything at once.
 */
export class Table {
  private buffer: WriteBuffer;
  private arrowSchema?: TableArrowSchema;
  private wal?: WriteAheadLog;
  /** Highest WAL seq whose rows are in `buffer`. */
  private walSeq = 0;
  /** When the manifest was last checked against the store (Date.now()). */
  private checkedAt = Date.now();
  /** The flush in progress (flushes are serialised). */
  private flushing: Promise<unknown> = Promise.resolve();
  /** The write lease that keeps vacuum off chunks written but not yet committed (lease.ts). */
  readonly leases: LeaseKeeper;
  /** For a table not created yet (version 0): how its first commit creates it. */
  private create?: { ifExists: 'fail' | 'append' };

  constructor(private readonly ctx: TableContext, readonly name: string, private manifest: Manifest) {
    this.buffer = new WriteBuffer(manifest.schema);
    this.leases = new LeaseKeeper(ctx.store, name, ctx.leaseTtlMs);
  }

  /**
   * A table that does not exist in the store yet: its first commit (a writer's commit or a
   * flush) creates it, holding that commit's data, so a write that fails or is killed leaves
   * no table behind. If another writer creates it first, `ifExists` decides: 'fail'
   * (ConflictError) or 'append' (when its shape allows; else SchemaError).
   */
  static uncreated(ctx: TableContext, name: string, schema: TableSchema, options: TableOptions, ifExists: 'fail' | 'append'): Table {
    const manifest: Manifest = { format: MANIFEST_FORMAT, table: name, version: 0, parent: null, committedAt: new Date().toISOString(), operation: 'uncreated', schema, options, chunks: [] };
    const table = new Table(ctx, name, manifest);
    table.create = { ifExists };
    return table;
  }

  /** The change of a commit with this table's creation (when it is not created yet) and lease check. */
  private change(change: ManifestChange): ManifestChange {
    return {
      ...change,
      expect: { schema: this.manifest.schema, options: this.manifest.options },
      beforePut: () => this.leases.check(),
      ...(this.create ? { create: { schema: this.manifest.schema, options: this.manifest.options, ifExists: this.create.ifExists } } : {}),
    };
  }

  /** After a commit: the new manifest (the table exists from now on). */
  private committed(manifest: Manifest): void {
    this.create = undefined;
    this.setManifest(manifest);
  }

  get store(): ChunkManager { return this.ctx.store; }
  get schema(): TableSchema { return this.manifest.schema; }
  get options(): TableOptions { return this.manifest.options; }
  get version(): number { return this.manifest.version; }

  /** Reloads the latest manifest (other writers may have committed). */
  async refresh(): Promise<void> {
    const checked = Date.now();
    const latest = await latestVersion(this.ctx.store, this.name);
    if (latest === 0 && this.create) { this.checkedAt = checked; return; }
    if (latest === 0) throw new QuiverError(`table ${this.name} no longer exists in ${this.ctx.store.url}`);
    if (latest !== this.manifest.version) this.setManifest(await loadManifest(this.ctx.store, this.name, latest));
    this.checkedAt = checked;
  }

  /** refresh(), unless the manifest was checked less than the context's manifestTtlMs ago. */
  async refreshIfStale(): Promise<void> {
    const ttl = this.ctx.manifestTtlMs ?? 0;
    if (ttl > 0 && Date.now() - this.checkedAt < ttl) return;
    await this.refresh();
  }

  private setManifest(manifest: Manifest): void {
    this.manifest = manifest;
    this.arrowSchema = undefined;
  }

  private arrow(schema: TableSchema): TableArrowSchema {
    if (schema === this.manifest.schema) return (this.arrowSchema ??= new TableArrowSchema(schema));
    return new TableArrowSchema(schema);
  }

  /**
   * Buffers rows (Arrow batch or plain rows); flushes automatically at bufferRowsMax. With a
   * write-ahead log attached, resolves once the rows are durable in it.
   */
  async append(input: RecordBatch | readonly Row[]): Promise<void> {
    if (this.wal) {
      // Normalise (and validate) first, so the log only ever holds rows the buffer accepts.
      const scratch = new WriteBuffer(this.buffer.schema);
      if (Array.isArray(input)) scratch.appendRows(input as Row[]);
      else scratch.appendBatch(input as RecordBatch);
      const [normalised] = scratch.drain('none', Number.MAX_SAFE_INTEGER);
      if (!normalised) return;
      const seq = await this.wal.append(normalised.batch);
      this.buffer.appendBatch(normalised.batch);
      this.walSeq = seq; // WAL appends complete in seq order, so every seq ≤ this is buffered
    } else if (Array.isArray(input)) this.buffer.appendRows(input as Row[]);
    else this.buffer.appendBatch(input as RecordBatch);
    if (this.buffer.rows >= this.options.bufferRowsMax) await this.flush();
  }

  /**
   * Makes append() durable through a write-ahead log in the local directory `dir` (wal.ts),
   * and replays the rows a previous process appended but never flushed into the buffer.
   * A damaged log throws WalCorruptError unless `recovery` is 'salvage'; the report says
   * what a torn tail or salvage dropped.
   */
  async attachWal(dir: string, options: { discard?: boolean; recovery?: WalRecovery } = {}): Promise<{ replayedRows: number; recovery?: WalRecoveryReport }> {
    if (this.wal) return { replayedRows: 0 };
    await this.refresh();
    const { wal, pending, recovery } = await WriteAheadLog.open(dir, this.name, (id) => this.manifest.walMarks?.[id] ?? 0, options);
    this.wal = wal;
    let replayedRows = 0;
    for (const batch of pending) { this.buffer.appendBatch(batch); replayedRows += batch.numRows; }
    this.walSeq = wal.lastSeq;
    return { replayedRows, ...(recovery ? { recovery } : {}) };
  }

  /** Deletes the write-ahead log file (the table was dropped: its rows must not come back). */
  async dropWal(): Promise<void> {
    const wal = this.wal;
    this.wal = undefined;
    await wal?.destroy();
  }

  /** Closes the write-ahead log file (after a flush, it holds nothing). */
  async detachWal(): Promise<void> {
    await this.wal?.close();
    this.wal = undefined;
  }

  /** The rows appended but not yet flushed, as one batch (undefined when none). */
  unflushed(): RecordBatch | undefined {
    return this.buffer.snapshot();
  }

  /** Rows appended but not yet flushed. */
  get pendingRows(): number {
    return this.buffer.rows;
  }
  /** Fields appends accept now: the table's and those earlier appends added (not yet committed). */
  get appendFields(): readonly FieldSpec[] { return this.buffer.fieldSpecs; }

  /**
   * Writes buffered rows as chunks and commits them in one manifest version. Flushes run one
   * at a time; rows appended meanwhile wait for the next. If the write or the commit fails,
   * the rows go back into the buffer (and stay in the WAL) and the error is thrown.
   */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.flushNow());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async flushNow(): Promise<void> {
    if (this.buffer.rows === 0) return;
    const fields = this.buffer.fieldSpecs;
    const wal = this.wal;
    const walMark = wal ? { id: wal.id, seq: this.walSeq } : undefined;
    const chunks = this.buffer.drain(this.options.partition, this.options.rowsPerChunkMax);
    const hold = this.leases.begin();
    try {
      const entries = await this.writeChunks(chunks);
      this.committed(await commit(this.ctx.store, this.name, this.change({ operation: 'append', addChunks: entries, addFields: this.newFields(fields), ...(walMark ? { walMark } : {}) })));
    } catch (error) {
      for (const c of chunks) this.buffer.appendBatch(c.batch);
      throw error;
    } finally {
      await hold.end();
    }
    this.renewBuffer();
    if (wal && walMark) await wal.committed(walMark.seq);
    await this.autoCompact(new Set(chunks.map((c) => c.partition)));
  }

  /** Compacts the partitions just written to once they hold `autoCompact` small chunks. */
  private async autoCompact(partitions: Set<string>): Promise<void> {
    const threshold = this.ctx.autoCompact ?? AUTO_COMPACT_DEFAULT;
    if (threshold <= 0) return;
    const smallRows = Math.max(1, Math.floor(this.options.rowsPerChunkMax / 2));
    const due = [...partitions].filter((p) => this.manifest.chunks.filter((c) => c.partition === p && c.rows < smallRows).length >= threshold);
    if (due.length === 0) return;
    try {
      await compactTable(this, { partitions: due, smallRows });
    } catch (error) {
      // Another writer compacted the same chunks first: the work is done.
      if (!(error instanceof ConflictError)) throw error;
    }
  }

  /** A buffer of the current schema, unless rows arrived meanwhile (an append during a flush): those stay. */
  private renewBuffer(): void {
    if (this.buffer.rows === 0) this.buffer = new WriteBuffer(this.manifest.schema);
  }

  private newFields(fields: TableSchema['fields']) {
    return fields.filter((f) => !this.manifest.schema.fields.some((k) => k.name === f.name));
  }

  /**
   * Encodes and stores chunks (not yet visible: the caller commits their entries). The caller
   * holds a lease operation (this.leases.begin()) from before this call until its commit. Each
   * chunk is checked from its bytes before the put (checkChunkBytes).
   */
  async writeChunks(chunks: BufferedChunk[], out: ChunkEntry[] = []): Promise<ChunkEntry[]> {
    if (chunks.length) await this.leases.ensure();
    for (const chunk of chunks) {
      const { bytes, footer } = writeChunk(chunk.batch, {
        timeColumn: this.schema.time,
        tags: this.schema.tags,
        pageRows: this.options.pageRows,
        codec: this.options.codec,
        ...(this.options.codecLevel !== undefined ? { codecLevel: this.options.codecLevel } : {}),
        ...(this.options.columns ? { columns: this.options.columns } : {}),
        sortedBySeries: true,
        preferSize: this.options.compression === 'small',
        lineage: chunk.lineage,
        metadata: { table: this.name },
      });
      const key = `${this.name}/chunks/${chunk.partition}/${chunkId()}.qvr`;
      if (this.ctx.checkChunks !== false) await checkChunkBytes(key, bytes, footer);
      await this.ctx.store.put(key, bytes);
      out.push(entryOf(key, chunk.partition, footer, bytes.length));
    }
    return out;
  }

  /** Merges small chunks into full ones in one commit (see compact.ts). Flushes first. */
  async compact(options: CompactOptions = {}): Promise<CompactResult> {
    await this.flush();
    return compactTable(this, options);
  }

  /**
   * A bulk-import transaction: chunks are written as the buffer fills (at rowsPerChunkMax
   * rows, or sooner when it holds `bufferBytesMax` bytes), committed at once.
   */
  writer(options: { bufferBytesMax?: number } = {}): TableWriter {
    return new BulkWriter(this, options.bufferBytesMax ?? Infinity);
  }

  /** True until the first commit of a table made by Table.uncreated (Quiver.createTable with `lazy`). */
  get uncreated(): boolean {
    return this.create !== undefined;
  }

  /** Internal to BulkWriter: a fresh buffer for this table's schema. */
  newBuffer(capacity?: number): WriteBuffer {
    return new WriteBuffer(this.manifest.schema, capacity);
  }

  /** Internal to BulkWriter: commit chunk entries (and fields) as one version. */
  async commitChunks(entries: ChunkEntry[], fields: TableSchema['fields'], operation: string, removeChunks?: string[]): Promise<Manifest> {
    this.committed(await commit(this.ctx.store, this.name, this.change({ operation, addChunks: entries, addFields: this.newFields(fields), ...(removeChunks ? { removeChunks } : {}) })));
    this.renewBuffer();
    return this.manifest;
  }

  private async manifestFor(version?: number): Promise<Manifest> {
    if (version === undefined) { await this.refreshIfStale(); return this.manifest; }
    return loadManifest(this.ctx.store, this.name, version);
  }

  private openReader(entry: ChunkEntry): Promise<ChunkReader> {
    const cache = this.ctx.readers;
    let reader = cache.get(entry.key);
    if (reader) { cache.delete(entry.key); cache.set(entry.key, reader); return reader; }
    const { decoded, decodePool } = this.ctx;
    reader = openChunk(storeSource(this.ctx.store, entry.key, entry.bytes)).then((r) => {
      if (decoded) r.decodedCache = decoded;
      if (decodePool) r.decodePool = decodePool;
      return r;
    });
    reader.catch(() => cache.delete(entry.key));
    cache.set(entry.key, reader);
    const oldest = cache.keys().next();
    if (cache.size > READERS_CACHED_MAX && !oldest.done) cache.delete(oldest.value);
    return reader;
  }

  /** Matching rows as Arrow RecordBatches, chunk by chunk in time order; series then time within a chunk. */
  async *scan(options: ScanOptions = {}): AsyncGenerator<RecordBatch> {
    const manifest = await this.manifestFor(options.version);
    const input = planInput(manifest.schema, options);
    yield* scanChunks({ chunks: manifest.chunks, arrow: this.arrow(manifest.schema), open: (e) => this.openReader(e) }, input, options.limit, options.signal);
  }

  /** A scan whose chunks first offer their pages to `summarize` (queries answering from page statistics). */
  async *scanWithSummaries(options: ScanOptions, summarize: PageSummarizer): AsyncGenerator<RecordBatch> {
    const manifest = await this.manifestFor(options.version);
    const input = planInput(manifest.schema, options);
    yield* scanChunks({ chunks: manifest.chunks, arrow: this.arrow(manifest.schema), open: (e) => this.openReader(e) }, input, options.limit, options.signal, summarize);
  }

  /**
   * The scan as one Arrow Table; with `every`/`agg`/`by`/`latest`, an aggregation
   * (src/scan/query.ts) over the scan.
   */
  async query(options: QueryOptions = {}): Promise<ArrowTable> {
    const { aggregate, scan } = splitQueryOptions(options);
    if (aggregate) return runQuery(this, options);
    const manifest = await this.manifestFor(scan.version);
    const batches: RecordBatch[] = [];
    for await (const batch of this.scan(scan)) batches.push(batch);
    const input = planInput(manifest.schema, scan);
    return batches.length ? new ArrowTable(batches) : new ArrowTable(this.arrow(manifest.schema).project(input.columns));
  }

  /** The plan of a scan: chunks and pages pruned, bytes to read. */
  async explain(options: ScanOptions = {}): Promise<ScanExplain> {
    const manifest = await this.manifestFor(options.version);
    return explainScan({ chunks: manifest.chunks, arrow: this.arrow(manifest.schema), open: (e) => this.openReader(e) }, planInput(manifest.schema, options));
  }

  /** The plan of a query: its scan's, plus the selected pages answered from their statistics (not read). */
  async explainQuery(options: QueryOptions): Promise<ScanExplain> {
    const manifest = await this.manifestFor(options.version);
    return explainQuery({ chunks: manifest.chunks, arrow: this.arrow(manifest.schema), open: (e) => this.openReader(e) }, manifest.schema, options);
  }

  async describe(): Promise<TableDescription> {
    await this.refresh();
    return describeManifest(this.manifest);
  }

  async chunks(version?: number): Promise<ChunkEntry[]> {
    return (await this.manifestFor(version)).chunks;
  }

  /**
   * Reads every chunk of every retained version, checks every checksum, decodes every page
   * and compares each manifest entry with its chunk's footer (verify.ts). One result per chunk.
   */
  async verify(): Promise<ChunkCheck[]> {
    return (await verifyTable(this.ctx.store, this.name)).chunks;
  }

  /**
   * Deletes chunk files no manifest version references (left by failed or aborted imports)
   * and older than `olderThanMs`, so in-flight imports are not touched. Expires no version.
   */
  async gcOrphans(options: { olderThanMs?: number; now?: number } = {}): Promise<string[]> {
    return (await vacuumTable(this, { ...options, retainVersions: Number.MAX_SAFE_INTEGER })).deletedChunks;
  }

  /** Expires old versions and deletes the chunks only they referenced, and orphans (see vacuum.ts). */
  vacuum(options: VacuumOptions = {}): Promise<VacuumResult> {
    return vacuumTable(this, options);
  }

  /** The table's retained versions, oldest first: when, what operation, and the size of each. */
  async versions(): Promise<{ version: number; committedAt: string; operation: string; chunks: number; rows: number; bytes: number }[]> {
    const keys = await this.ctx.store.list(`${this.name}/${MANIFEST_DIR}/`);
    const numbers = keys.map((k) => Number(/(\d{20})\.json$/.exec(k)?.[1])).filter((v) => v > 0).sort((a, b) => a - b);
    const out = [];
    for (const v of numbers) {
      const m = await loadManifest(this.ctx.store, this.name, v);
      out.push({ version: v, committedAt: m.committedAt, operation: m.operation, chunks: m.chunks.length, rows: m.chunks.reduce((s, c) => s + c.rows, 0), bytes: m.chunks.reduce((s, c) => s + c.bytes, 0) });
    }
    return out;
  }

  /** Keys of every object of this table (chunks and manifests). */
  async keys(): Promise<string[]> {
    return this.ctx.store.list(`${this.name}/`);
  }

  /** Manifest key of a version (for copy). */
  manifestKey(version: number): string {
    return manifestKey(this.name, version);
  }

  /** The loaded manifest (latest after refresh()). */
  get currentManifest(): Manifest {
    return this.manifest;
  }
}

export { SchemaError };
export type { LineageEntry };
