import type { DecodePool } from '../format/decode-pool.js';
import { Table as ArrowTable, type RecordBatch } from 'apache-arrow';
import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import type { ChunkReader } from '../format/index.js';
import type { LineageEntry } from '../format/types.js';
import { ConflictError, QuiverError, SchemaError } from '../errors.js';
import { TableArrowSchema } from '../core/arrow-schema.js';
// Long file: the Table facade every part of a table goes through (issue 15's lifecycle adds its
// hooks here) until the planned split of this class.
import { commit, describeManifest, latestVersion, loadManifest, manifestKey, MANIFEST_FORMAT, type Manifest, type ManifestChange } from './manifest.js';
import { LeaseKeeper } from './lease.js';
import { BulkWriter } from './bulk-writer.js';
import { openTableReader, writeTableChunks } from './readers.js';
import { alteredReader, revisionOf } from './alter-read.js';
import { addTagsRewrite, alterSteps, applyAlter, isTagsPresent, stageTags, type AlterSpec, type StagedTags } from './alter.js';
import { tableVersions, type VersionInfo } from './versions.js';
import { verifyTable, type ChunkCheck } from './verify.js';
import { WriteBuffer, type BufferedChunk } from './write-buffer.js';
import { DecodedPageCache } from '../format/decoded-cache.js';
import { WriteAheadLog, type WalRecovery, type WalRecoveryReport } from './wal.js';
import { compactTable, type CompactOptions, type CompactResult } from './compact.js';
import { vacuumTable, type VacuumOptions, type VacuumResult } from './vacuum.js';
import { deleteRows, type DeleteOptions, type DeleteResult } from './delete.js';
import { explainScan, scanChunks, type ScanExplain, type ScanSource } from '../scan/scan.js';
import type { DuplicateCount } from './import-duplicates.js';
import { UnflushedView, type InFlight } from './buffer-scan.js';
import { guardUnflushed, unguard } from './exit-guard.js';
import { planInput } from '../scan/plan.js';
import { explainQuery } from '../scan/query.js';
import { explainTableQuery, queryTable } from './rollup-query.js';
import { checkAlterRollups } from './rollup.js';
import type { PageSummarizer, QueryOptions, QueryThreads, TablePieces } from '../scan/query-types.js';
import { splitQueryOptions } from '../scan/query-plan.js';
import type { ChunkEntry, FieldSpec, Row, ScanOptions, TableDescription, TableOptions, TableSchema, TableWriter } from '../core/types.js';
import { retentionCutoff } from './retention.js';
import { afterCommit } from './lifecycle.js';

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
  /** Threads that read pieces of big aggregations (none: one thread); close() ends them. */
  queryThreads?: QueryThreads & { close(): Promise<void> };
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
  /** Wall clock in epoch ms for retention (default Date.now; tests inject one). */
  clock?: () => number;
}

/** Default of `autoCompact`: small chunks in one partition that trigger a compaction after a flush. */
export const AUTO_COMPACT_DEFAULT = 16;

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
  /** Read-your-writes: the buffer (and a flush in progress) as scans see it (buffer-scan.ts). */
  private readonly unflushedView: UnflushedView;
  private inFlight?: InFlight;

  constructor(private readonly ctx: TableContext, readonly name: string, private manifest: Manifest) {
    this.buffer = new WriteBuffer(manifest.schema);
    this.leases = new LeaseKeeper(ctx.store, name, ctx.leaseTtlMs);
    this.unflushedView = new UnflushedView(name);
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
    const seen = this.manifest;
    const latest = await latestVersion(this.ctx.store, this.name);
    if (latest === 0 && this.create) { this.checkedAt = checked; return; }
    if (latest === 0) throw new QuiverError(`table ${this.name} no longer exists in ${this.ctx.store.url}`);
    if (latest !== seen.version) {
      const loaded = await loadManifest(this.ctx.store, this.name, latest);
      // A commit of this handle that landed meanwhile is newer than what was read: keep it
      // (going back would hide the rows it took out of the buffer).
      if (this.manifest === seen || loaded.version > this.manifest.version) this.setManifest(loaded);
    }
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
    // Rows buffered before an alter are flushed in their own schema revision first.
    if (revisionOf(this.buffer.schema) !== revisionOf(this.manifest.schema)) { await this.flush(); this.renewBuffer(); }
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
    } else {
      if (Array.isArray(input)) this.buffer.appendRows(input as Row[]);
      else this.buffer.appendBatch(input as RecordBatch);
      guardUnflushed(this);
    }
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
    unguard(this);
    this.buffer = new WriteBuffer(this.manifest.schema);
    const wal = this.wal;
    this.wal = undefined;
    await wal?.destroy();
  }

  /** Closes the write-ahead log file (after a flush, it holds nothing). */
  async detachWal(): Promise<void> {
    await this.wal?.close();
    this.wal = undefined;
  }

  /** Rows appended but not yet flushed (scans see them: read-your-writes). */
  get pendingRows(): number {
    return this.buffer.rows + (this.inFlight?.chunks.reduce((n, c) => n + c.batch.numRows, 0) ?? 0);
  }

  /** Whether appended rows are durable in a write-ahead log before a flush. */
  get logged(): boolean {
    return this.wal !== undefined;
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
    const inFlight: InFlight = { chunks };
    this.inFlight = inFlight;
    const hold = this.leases.begin();
    try {
      const entries = await this.writeChunks(chunks);
      inFlight.keys = new Set(entries.map((e) => e.key));
      this.committed(await commit(this.ctx.store, this.name, this.change({ operation: 'append', addChunks: entries, addFields: this.newFields(fields, this.buffer.schema), ...(walMark ? { walMark } : {}) })));
      this.inFlight = undefined;
    } catch (error) {
      this.inFlight = undefined;
      for (const c of chunks) this.buffer.appendBatch(c.batch);
      throw error;
    } finally {
      await hold.end();
    }
    this.renewBuffer();
    if (this.buffer.rows === 0) { unguard(this); this.unflushedView.clear(); }
    if (wal && walMark) await wal.committed(walMark.seq);
    await afterCommit(this, 'append');
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

  /** Fields the rows added: unknown to the schema they were buffered in (`known`; an alter may have renamed its fields since) and to the table's. */
  private newFields(fields: TableSchema['fields'], known = this.manifest.schema) {
    return fields.filter((f) => !known.fields.some((k) => k.name === f.name) && !this.manifest.schema.fields.some((k) => k.name === f.name));
  }

  /**
   * Encodes and stores chunks (not yet visible: the caller commits their entries). The caller
   * holds a lease operation (this.leases.begin()) from before this call until its commit. Each
   * chunk is checked from its bytes before the put (checkChunkBytes); duplicates are folded
   * (encodeChunk), `duplicates` receives each chunk's count of rows that met their point.
   */
  async writeChunks(chunks: BufferedChunk[], out: ChunkEntry[] = [], duplicates?: DuplicateCount[], schema = this.manifest.schema): Promise<ChunkEntry[]> {
    if (chunks.length) await this.leases.ensure();
    return writeTableChunks(this.ctx, this.name, { schema, options: this.manifest.options }, chunks, out, duplicates);
  }

  /** Drops, renames, widens fields in one 'alter' commit; chunks are read through it, not rewritten (alter.ts). Flushes first. */
  async alter(spec: AlterSpec): Promise<{ version: number; schema: TableSchema }> {
    const steps = alterSteps(spec);
    if (this.create) throw new QuiverError(`alter ${this.name}: the table is not created yet (its first commit creates it)`);
    await this.flush();
    const checked = await checkAlterRollups(this, steps);
    this.committed(await commit(this.ctx.store, this.name, { operation: 'alter', rewrite: (next) => {
      const added = checked && (next.rollups ?? []).find((r) => !checked.includes(r));
      if (added) throw new ConflictError(`alter ${this.name}: rollup ${added} was created meanwhile; nothing was committed, run the alter again`);
      return { ...next, ...applyAlter(next, steps, next.version) };
    } }));
    this.renewBuffer();
    return { version: this.manifest.version, schema: this.manifest.schema };
  }

  /**
   * Adds the tags of `tags` the table lacks, in one 'alter' commit (a point carrying a new
   * tag: the server, imports naming tags); writers adding the same tag at once make one alter.
   * A name that is a field or the time column is a SchemaError. Flushes first when it adds.
   */
  async addTags(tags: readonly string[]): Promise<void> {
    const missing = () => tags.filter((t) => !this.manifest.schema.tags.includes(t));
    if (missing().length === 0) return;
    if (this.create) throw new QuiverError(`add tags to ${this.name}: the table is not created yet (its first commit creates it)`);
    await this.refresh();
    if (missing().length === 0) return;
    await this.flush();
    try {
      this.committed(await commit(this.ctx.store, this.name, { operation: 'alter', rewrite: addTagsRewrite(missing()) }));
    } catch (error) {
      if (!isTagsPresent(error)) throw error;
      await this.refresh();
    }
    this.renewBuffer();
  }

  /** Merges small chunks into full ones in one commit (see compact.ts). Flushes first. */
  async compact(options: CompactOptions = {}): Promise<CompactResult> {
    await this.flush();
    return compactTable(this, options);
  }

  delete(options: DeleteOptions): Promise<DeleteResult> { return deleteRows(this, options); } // one commit, after a flush (delete.ts)

  /**
   * A bulk-import transaction: chunks are written as the buffer fills (at rowsPerChunkMax
   * rows, or sooner when it holds `bufferBytesMax` bytes), committed at once. `addTags`: tags
   * its commit adds (alter.ts stageTags); `staged`: the same, already staged by the caller
   * (an import, which reads its input in the schema they make before it opens the writer).
   */
  writer(options: { bufferBytesMax?: number; addTags?: readonly string[]; staged?: StagedTags } = {}): TableWriter {
    const staged = options.staged ?? (options.addTags?.length ? stageTags(this.manifest, options.addTags) : undefined);
    if (staged && this.create) throw new QuiverError(`add tags to ${this.name}: the table is not created yet (its first commit creates it)`);
    return new BulkWriter(this, options.bufferBytesMax ?? Infinity, staged);
  }

  /** True until the first commit of a table made by Table.uncreated (Quiver.createTable with `lazy`). */
  get uncreated(): boolean {
    return this.create !== undefined;
  }

  /** Internal to BulkWriter: a fresh buffer for this table's schema (or the one its staged tags make). */
  newBuffer(capacity?: number, schema = this.manifest.schema): WriteBuffer {
    return new WriteBuffer(schema, capacity);
  }

  /** Internal to BulkWriter: commit chunk entries (and fields) as one version. */
  async commitChunks(entries: ChunkEntry[], fields: TableSchema['fields'], operation: string, removeChunks?: string[], rewrite?: ManifestChange['rewrite']): Promise<Manifest> {
    this.committed(await commit(this.ctx.store, this.name, this.change({ operation, addChunks: entries, addFields: this.newFields(fields), ...(removeChunks ? { removeChunks } : {}), ...(rewrite ? { rewrite } : {}) })));
    this.renewBuffer();
    const manifest = this.manifest;
    await afterCommit(this, operation);
    return manifest;
  }

  /** Commits a change of options or metadata (retention, rollups: `edit` applied to the latest version). */
  async commitEdit(operation: string, edit: (next: Manifest) => void, extra: Partial<ManifestChange> = {}): Promise<Manifest> {
    this.committed(await commit(this.ctx.store, this.name, { ...this.change({ operation, ...extra }), rewrite: (next) => { edit(next); return next; } }));
    return this.manifest;
  }

  /** The first time (table unit) a scan of `manifest` shows, by its retention and the context's clock (retention.ts). */
  retentionCutoff(manifest: Manifest = this.manifest): bigint | undefined {
    return retentionCutoff(manifest.options, manifest.schema.timeUnit, (this.ctx.clock ?? Date.now)());
  }

  /** The context shared with the other tables of this Quiver (rollup tables open through it). */
  get context(): TableContext {
    return this.ctx;
  }

  /** What a scan of `manifest`'s chunks reads: through the reader cache, under its duplicate policy, deletes and retention. */
  scanSource(manifest: Manifest): ScanSource {
    const floor = this.retentionCutoff(manifest);
    return {
      chunks: manifest.chunks, arrow: this.arrow(manifest.schema), open: (e) => openTableReader(this.ctx, e, manifest.schema),
      duplicates: manifest.options.duplicates, deletes: manifest.deletes, ...(floor !== undefined ? { timeFloor: floor } : {}),
      ...(this.ctx.decoded ? { cacheBytes: this.ctx.decoded.bytesMax } : {}),
    };
  }

  private async manifestFor(version?: number): Promise<Manifest> {
    if (version === undefined) { await this.refreshIfStale(); return this.manifest; }
    // A version is immutable: the one this handle holds needs no second read (pieces of a query read it).
    if (version === this.manifest.version) return this.manifest;
    return loadManifest(this.ctx.store, this.name, version);
  }

  /** What a scan reads: the chunks of `version`, or of the latest plus this process's unflushed rows (buffer-scan.ts). */
  private async readSource(version?: number): Promise<{ schema: TableSchema; source: ScanSource }> {
    const manifest = await this.manifestFor(version);
    const stored = this.scanSource(manifest);
    if (version !== undefined) return { schema: manifest.schema, source: stored };
    const { schema, chunks, readers } = this.unflushedView.units(manifest, this.buffer, this.inFlight);
    const buffered = (e: ChunkEntry) => readers.get(e.key)?.then((r) => alteredReader(r, manifest.schema));
    const source: ScanSource = { ...stored, chunks: chunks.length ? [...manifest.chunks, ...chunks] : manifest.chunks, arrow: this.arrow(schema), open: (e: ChunkEntry) => buffered(e) ?? stored.open(e) };
    return { schema, source };
  }


  /** Matching rows as Arrow RecordBatches, chunk by chunk in time order; series then time within a chunk. */
  async *scan(options: ScanOptions = {}): AsyncGenerator<RecordBatch> {
    const { schema, source } = await this.readSource(options.version);
    yield* scanChunks(source, planInput(schema, options), options.limit, options.signal);
  }

  /** A scan whose chunks first offer their pages to `summarize` (queries answering from page statistics). */
  async *scanWithSummaries(options: ScanOptions, summarize: PageSummarizer): AsyncGenerator<RecordBatch> {
    const { schema, source } = await this.readSource(options.version);
    yield* scanChunks(source, planInput(schema, options), options.limit, options.signal, summarize);
  }

  /**
   * The scan as one Arrow Table; with `every`/`agg`/`by`/`latest`, an aggregation
   * (src/scan/query.ts) over the scan.
   */
  async query(options: QueryOptions = {}): Promise<ArrowTable> {
    const { aggregate, scan } = splitQueryOptions(options);
    if (aggregate) return queryTable(this, options);
    const { schema, source } = await this.readSource(scan.version);
    const input = planInput(schema, scan);
    const batches: RecordBatch[] = [];
    for await (const batch of scanChunks(source, input, scan.limit, scan.signal)) batches.push(batch);
    return batches.length ? new ArrowTable(batches) : new ArrowTable(source.arrow.project(input.columns));
  }

  /**
   * What other threads may read of this table for a query (src/scan/query-pieces.ts): a local
   * store they open themselves, no unflushed rows (they live in this process) and no retention
   * cutoff (each thread would take its own clock's); else null.
   */
  async pieces(fresh: boolean): Promise<TablePieces | null> {
    const threads = this.ctx.queryThreads;
    if (threads === undefined || !this.ctx.store.url.startsWith('file://') || this.pendingRows > 0) return null;
    if (fresh) await this.refreshIfStale();
    const manifest = this.manifest;
    if (this.retentionCutoff(manifest) !== undefined) return null;
    return { url: this.ctx.store.url, table: this.name, version: manifest.version, chunks: manifest.chunks, threads };
  }

  /** The plan of a scan: chunks and pages pruned, bytes to read. */
  async explain(options: ScanOptions = {}): Promise<ScanExplain> {
    const { schema, source } = await this.readSource(options.version);
    return explainScan(source, planInput(schema, options));
  }

  /** The plan of a query: its scan's, plus the selected pages answered from their statistics (not read). */
  async explainQuery(options: QueryOptions): Promise<ScanExplain> {
    const { schema, source } = await this.readSource(options.version);
    return explainTableQuery(this, options, () => explainQuery(source, schema, options));
  }

  async describe(): Promise<TableDescription> {
    await this.refresh();
    return describeManifest(this.manifest);
  }

  /** The schema of a version (default: the latest). */
  async schemaAt(version?: number): Promise<TableSchema> {
    return (await this.manifestFor(version)).schema;
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

  /** The table's retained versions, oldest first: when, what operation, the size of each and what changed (versions.ts). */
  versions(): Promise<VersionInfo[]> {
    return tableVersions(this.ctx.store, this.name);
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
