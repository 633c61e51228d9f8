import { open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { RecordBatch, Schema } from 'apache-arrow';
import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import { openStore } from '../chunk-manager/url.js';
import { UsageError } from '../errors.js';
import type { Table } from '../table/table.js';
import { loadManifest } from '../table/manifest.js';
import { convertTime, inTimeRange, nextPartitionKey, partitionStart, toTableTime } from '../core/time.js';
import type { PartitionBy, ScanOptions, TableSchema } from '../core/types.js';
import { formatTimestamp } from '../cli/output.js';
import { ParquetFileWriter, type ByteSink } from './parquet-writer.js';
import { isDirectoryTarget, ROW_GROUP_ROWS_MAX, type ParquetCodec } from './options.js';

export { isDirectoryTarget, ROW_GROUP_ROWS_MAX };

export interface ExportOptions extends Pick<ScanOptions, 'from' | 'to' | 'where' | 'columns' | 'version' | 'signal'> {
  /**
   * Row order inside a partition: 'any' (default) streams chunk by chunk, so memory holds a
   * chunk or two whatever the table's size; 'series' merges chunks that overlap in time (each
   * series in time order), which holds every chunk of a merge group at once.
   */
  order?: 'any' | 'series';
  /** Parquet compression: zstd (default), snappy, gzip, lz4, brotli, none. */
  codec?: ParquetCodec;
  /** Rows per row group at most (default ROW_GROUP_ROWS_MAX); each partition starts a new one. */
  rowGroupRows?: number;
  /** Timestamps as UTC instants (default true); false writes them zone-less (see ParquetWriterOptions.utc). */
  utc?: boolean;
}

export interface ExportResult {
  table: string;
  version: number;
  rows: number;
  rowGroups: number;
  bytes: number;
  /** One entry per file written (one for a file target, one per partition for a directory). */
  files: { path: string; partition?: string; rows: number; bytes: number }[];
}

/** A partition of the export: its key and the time range to scan, in the table's unit. */
interface PartitionRange { key: string; from?: bigint; to?: bigint }

/**
 * The partitions holding chunks of `version`, each clipped to the requested time range (in
 * order; empty intersections dropped).
 */
async function partitionRanges(table: Table, schema: TableSchema, version: number, options: ExportOptions): Promise<PartitionRange[]> {
  const unit = schema.timeUnit;
  const lo = options.from === undefined ? undefined : toTableTime(options.from, unit, 'from');
  const hi = options.to === undefined ? undefined : toTableTime(options.to, unit, 'to');
  const keys = [...new Set((await table.chunks(version)).map((c) => c.partition))].sort();
  const out: PartitionRange[] = [];
  for (const key of keys) {
    // The first and last partitions of a unit's range start or end outside it: no bound there.
    const bound = (t: bigint) => (inTimeRange(t) ? t : undefined);
    let from = key === 'all' ? undefined : bound(partitionStart(key, unit));
    let to = key === 'all' ? undefined : bound(partitionStart(nextPartitionKey(key), unit));
    if (lo !== undefined && (from === undefined || lo > from)) from = lo;
    if (hi !== undefined && (to === undefined || hi < to)) to = hi;
    if (from !== undefined && to !== undefined && from >= to) continue;
    out.push({ key, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
  }
  return out;
}

/** Tracks the exported rows' time range (table unit). */
class TimeRange {
  min?: bigint;
  max?: bigint;
  add(batch: RecordBatch): void {
    const data = batch.data.children[0]!;
    const values = data.values as BigInt64Array; // already sliced to the batch (data.offset is for bitmaps)
    for (let i = 0; i < data.length; i++) {
      const v = values[i]!;
      if (this.min === undefined || v < this.min) this.min = v;
      if (this.max === undefined || v > this.max) this.max = v;
    }
  }
}

const PER_SECOND = { s: 1n, ms: 1_000n, us: 1_000_000n, ns: 1_000_000_000n } as const;

/** Key-value metadata of an exported file: where it came from and what time range it holds. */
function fileMetadata(table: Table, schema: TableSchema, version: number, range: TimeRange, options: ExportOptions, rows: number, partition?: string): Record<string, string> {
  const unit = schema.timeUnit;
  const iso = (v: bigint) => formatTimestamp(v, PER_SECOND[unit]);
  const md: Record<string, string> = {
    'quiver.table': table.name,
    'quiver.version': String(version),
    'quiver.time_column': schema.time,
    'quiver.time_unit': unit,
    'quiver.tags': schema.tags.join(','),
    'quiver.rows': String(rows),
  };
  if (range.min !== undefined) {
    md['quiver.time_min'] = iso(range.min);
    md['quiver.time_max'] = iso(range.max!);
    md['quiver.time_min_raw'] = range.min.toString();
    md['quiver.time_max_raw'] = range.max!.toString();
  }
  if (options.from !== undefined) md['quiver.from'] = iso(toTableTime(options.from, unit, 'from'));
  if (options.to !== undefined) md['quiver.to'] = iso(toTableTime(options.to, unit, 'to'));
  if (partition !== undefined) md['quiver.partition'] = partition;
  return md;
}

/**
 * Streams the rows of each partition into row groups of at most `rowGroupRows` rows.
 * `onPartition` is called before each partition's first row group (per-partition files
 * start a new file there).
 */
async function writePartitions(
  table: Table, options: ExportOptions, schema: Schema,
  partitions: readonly PartitionRange[], version: number, tableSchema: TableSchema,
  target: (partition: PartitionRange) => Promise<{ writer: ParquetFileWriter; range: TimeRange; rows: { n: number } }>,
): Promise<void> {
  const groupRows = options.rowGroupRows ?? ROW_GROUP_ROWS_MAX;
  if (!(Number.isInteger(groupRows) && groupRows > 0)) throw new UsageError(`rowGroupRows must be a positive integer, got ${groupRows}`);
  const unit = tableSchema.timeUnit;
  for (const p of partitions) {
    const { writer, range, rows } = await target(p);
    let pending: RecordBatch[] = [];
    let pendingRows = 0;
    const flush = async () => {
      if (pendingRows === 0) return;
      await writer.writeRowGroup(schema, pending);
      pending = [];
      pendingRows = 0;
    };
    const scan = table.scan({
      ...(options.where ? { where: options.where } : {}),
      ...(options.columns ? { columns: options.columns } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      order: options.order ?? 'any',
      version,
      ...(p.from !== undefined ? { from: convertTime(p.from, unit, 'ns') } : {}),
      ...(p.to !== undefined ? { to: convertTime(p.to, unit, 'ns') } : {}),
    });
    for await (let batch of scan) {
      while (batch.numRows > 0) {
        const take = Math.min(batch.numRows, groupRows - pendingRows);
        const part = take === batch.numRows ? batch : batch.slice(0, take);
        pending.push(part);
        pendingRows += take;
        range.add(part);
        rows.n += take;
        if (pendingRows >= groupRows) await flush();
        batch = take === batch.numRows ? batch.slice(0, 0) : batch.slice(take);
      }
    }
    await flush();
  }
}

/** The export's Arrow schema (time first, then the requested columns) and the pinned version. */
async function prepare(table: Table, options: ExportOptions): Promise<{ version: number; schema: Schema; tableSchema: TableSchema }> {
  const version = options.version ?? (await table.refreshIfStale(), table.version);
  const tableSchema = (await loadManifest(table.store, table.name, version)).schema;
  // An empty time range gives the projected Arrow schema (and checks the column names).
  const empty = await table.query({ version, from: 0n, to: 0n, ...(options.columns ? { columns: options.columns } : {}) });
  return { version, schema: empty.schema, tableSchema };
}

function writerOptions(options: ExportOptions): { codec?: ParquetCodec; utc?: boolean } {
  return { ...(options.codec ? { codec: options.codec } : {}), ...(options.utc !== undefined ? { utc: options.utc } : {}) };
}

/** Exports a table (or a scan of it) as one Parquet file written to `sink`, row group by row group. */
export async function exportParquet(table: Table, sink: ByteSink, options: ExportOptions = {}): Promise<ExportResult> {
  const { version, schema, tableSchema } = await prepare(table, options);
  const partitions = await partitionRanges(table, tableSchema, version, options);
  const writer = new ParquetFileWriter(sink, writerOptions(options));
  const range = new TimeRange();
  const rows = { n: 0 };
  await writePartitions(table, options, schema, partitions, version, tableSchema, async () => ({ writer, range, rows }));
  if (writer.rowGroupCount === 0) await writer.writeRowGroup(schema, []);
  const done = await writer.finish(fileMetadata(table, tableSchema, version, range, options, rows.n));
  return { table: table.name, version, rows: rows.n, rowGroups: done.rowGroups, bytes: done.bytes, files: [{ path: '', rows: rows.n, bytes: done.bytes }] };
}

/**
 * Hive-style folder of a partition: `date=2026-01-01/`, `date=2026-01-01/hour=13/`,
 * `month=2026-01/`; a table partitioned by nothing writes at the top.
 */
export function partitionFolder(key: string, by: PartitionBy): string {
  if (by === 'none' || key === 'all') return '';
  if (by === 'month') return `month=${key}/`;
  if (by === 'hour') return `date=${key.slice(0, 10)}/hour=${key.slice(11, 13)}/`;
  return `date=${key}/`;
}

/** Bytes collected for one object put. */
class BufferSink implements ByteSink {
  readonly parts: Uint8Array[] = [];
  async write(bytes: Uint8Array): Promise<void> { this.parts.push(bytes.slice()); }
  concat(): Uint8Array { return Buffer.concat(this.parts); }
}

/**
 * Exports one Parquet file per partition into `store` (`date=YYYY-MM-DD/<table>.parquet`,
 * Hive-style, so DuckDB, Spark, Polars or Athena read the folder as one table). Each file
 * is put whole once complete (object stores take whole objects): memory holds one
 * partition's encoded Parquet, not its rows.
 */
export async function exportParquetPartitions(table: Table, store: ChunkManager, options: ExportOptions = {}): Promise<ExportResult> {
  const { version, schema, tableSchema } = await prepare(table, options);
  const partitions = await partitionRanges(table, tableSchema, version, options);
  const by = table.options.partition;
  const files: ExportResult['files'] = [];
  let rowGroups = 0;
  let bytes = 0;
  let current: { key: string; sink: BufferSink; writer: ParquetFileWriter; range: TimeRange; rows: { n: number } } | undefined;
  const close = async () => {
    if (!current) return;
    const c = current;
    current = undefined;
    if (c.rows.n === 0) return; // a partition whose rows all fell outside the filters
    const done = await c.writer.finish(fileMetadata(table, tableSchema, version, c.range, options, c.rows.n, c.key));
    const path = `${partitionFolder(c.key, by)}${table.name}.parquet`;
    await store.put(path, c.sink.concat());
    files.push({ path, partition: c.key, rows: c.rows.n, bytes: done.bytes });
    rowGroups += done.rowGroups;
    bytes += done.bytes;
  };
  await writePartitions(table, options, schema, partitions, version, tableSchema, async (p) => {
    await close();
    const sink = new BufferSink();
    current = { key: p.key, sink, writer: new ParquetFileWriter(sink, writerOptions(options)), range: new TimeRange(), rows: { n: 0 } };
    return current;
  });
  await close();
  return { table: table.name, version, rows: files.reduce((s, f) => s + f.rows, 0), rowGroups, bytes, files };
}

/** A local file written through a temporary name and renamed when complete (no half files). */
export class FileSink implements ByteSink {
  private readonly tmp: string;
  private handle?: Awaited<ReturnType<typeof open>>;
  constructor(readonly path: string) {
    this.tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  }
  async write(bytes: Uint8Array): Promise<void> {
    this.handle ??= await open(this.tmp, 'w');
    let off = 0;
    while (off < bytes.length) off += (await this.handle.write(bytes, off, bytes.length - off)).bytesWritten;
  }
  async commit(): Promise<void> {
    this.handle ??= await open(this.tmp, 'w');
    await this.handle.sync();
    await this.handle.close();
    await rename(this.tmp, this.path);
  }
  async abort(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}


/**
 * Exports to `out`: a `.parquet` file path (one file, row groups per partition), or a
 * directory / store URL ending in '/' (`./dump/`, `s3://bucket/dir/?endpoint=…`: one file per
 * partition in Hive-style folders).
 */
export async function exportTable(table: Table, out: string, options: ExportOptions = {}): Promise<ExportResult> {
  if (isDirectoryTarget(out)) {
    const store = await openStore(out);
    try {
      const result = await exportParquetPartitions(table, store, options);
      return { ...result, files: result.files.map((f) => ({ ...f, path: `${store.url.replace(/\/$/, '')}/${f.path}` })) };
    } finally {
      await store.close();
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(out) && !/^file:\/\//i.test(out)) {
    throw new UsageError(`export to ${out}: a store URL names a folder and must end in '/' (one Parquet file per partition is written under it)`);
  }
  const sink = new FileSink(/^file:\/\//i.test(out) ? fileURLToPath(out) : out);
  try {
    const result = await exportParquet(table, sink, options);
    await sink.commit();
    return { ...result, files: [{ ...result.files[0]!, path: sink.path }] };
  } catch (error) {
    await sink.abort();
    throw error;
  }
}
