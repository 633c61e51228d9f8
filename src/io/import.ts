/**
 * Bulk import: files → Arrow batches in the table's shape → one TableWriter → one commit.
 *
 *   glob expansion ─ format by extension/magic ─┬─ CSV (.gz/.zst/stdin): csv/bytes → csv/reader (worker thread when large)
 *                                               ├─ Parquet: parquet-groups (parquet-wasm; worker thread when large) → arrow-batch
 *                                               └─ Arrow IPC file/stream: arrow → arrow-batch
 *   → TableWriter.append(batch, lineage {source, rowStart}) (chunks written as they fill)
 *   → commit() once at the end; any error aborts the writer. A new table is created by that
 *     same commit (Quiver.createTable lazy), so a failed or killed import leaves no table.
 *
 * Memory is bounded whatever the input size: readers stream (a CSV batch, a Parquet row
 * group, an IPC record batch at a time), workers run a fixed number of batches ahead, and
 * the writer flushes chunks at rowsPerChunkMax.
 */
import { accessSync, constants, createWriteStream, statSync, readdirSync, openSync, readSync, closeSync, type WriteStream } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import type { RecordBatch } from 'apache-arrow';
import type { Quiver } from '../quiver.js';
import type { Table } from '../table/table.js';
import type { CodecChoice, TimeUnit } from '../format/types.js';
import type { TableSchema, TableWriter } from '../core/types.js';
import { InputError, SchemaError, UsageError } from '../errors.js';
import { fieldTypeOfArrow } from '../core/arrow-schema.js';
import { readCsv, type CsvOptions } from './csv/reader.js';
import type { InvalidUtf8 } from './csv/cells.js';
import { csvBytes } from './csv/bytes.js';
import { readCsvInWorker, CSV_WORKER_BYTES_MIN } from './csv/parse-worker.js';
import type { TimeFormat } from './csv/values.js';
import { readArrowFile } from './arrow.js';
import { PARQUET_WORKER_BYTES_MIN, readParquetFile } from './parquet.js';

export { csvBytes };

export interface ImportProgress {
  /** Input bytes read so far (compressed bytes for .gz/.zst). */
  bytesRead: number;
  /** Sum of the input file sizes (stdin and pipes count 0). */
  bytesTotal: number;
  rows: number;
  file: string;
}

/** Default memory budget of an import (the write buffer gets a third: drains copy it, encoders need room). */
export const IMPORT_MEMORY_BYTES = 256 * 1024 * 1024;

export interface ImportOptions {
  table: string;
  /**
   * Memory budget: the write buffer is cut into chunks once it holds a third of this (or
   * rowsPerChunkMax rows, whichever comes first). Default 256 MiB. Smaller budgets make
   * smaller chunks; `compact` merges them later.
   */
  memoryBytes?: number;
  /** Table compression when creating it: 'fast' (default) or 'small' (see TableOptions). */
  compression?: 'fast' | 'small';
  /** Time column (default: detected by name or type). */
  time?: string;
  /** Tag columns (default: the string columns). */
  tags?: string[];
  timeFormat?: TimeFormat;
  /** Time unit of a new table. Default 'ns'. */
  timeUnit?: TimeUnit;
  /** Add to an existing table (without it, an existing table is an error). */
  append?: boolean;
  delimiter?: string;
  columns?: string[];
  /** Type overrides by column (CSV), e.g. { rack: 'string', usage: 'float64' }. */
  schema?: Record<string, string>;
  layout?: 'wide' | 'long';
  fieldColumn?: string;
  valueColumn?: string;
  /**
   * CSV bytes that are not UTF-8 (in a header, a tag, a utf8 field): 'error' (default) stops
   * the import at file:line:column; 'replace' stores U+FFFD in their place and counts the
   * values so changed (`invalidUtf8Replaced` of the summary). CSV input only.
   */
  invalidUtf8?: InvalidUtf8;
  /** Bad rows skipped (and written to the rejects file) before the import fails. Default 0. */
  maxErrors?: number;
  /**
   * Where skipped rows go (with maxErrors): default `<first file's name>.rejects.csv` in the
   * current directory. Its folder must exist (it is not created: a mistyped path is an
   * error before the import starts); the file is created at the first skipped row.
   */
  rejectsPath?: string;
  codec?: CodecChoice;
  /**
   * Parse large CSVs (≥ CSV_WORKER_BYTES_MIN) and decode large Parquet files (≥
   * PARQUET_WORKER_BYTES_MIN) in a worker thread. Default: when the
   * machine has at least WORKER_CORES_MIN cores (see there).
   */
  parallel?: boolean;
  /** Overrides both worker thresholds (CSV_WORKER_BYTES_MIN, PARQUET_WORKER_BYTES_MIN); 0 = always a worker. */
  workerBytesMin?: number;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportSummary {
  table: string;
  rows: number;
  files: number;
  chunks: number;
  bytesIn: number;
  bytesOut: number;
  series: number;
  seconds: number;
  rejected: number;
  rejectsPath?: string;
  /** Long-layout CSV: values of a (series, time, field) already seen, kept as rows of their own (see readCsv). */
  duplicates: number;
  /** CSV values (and header names) stored with invalid UTF-8 replaced by U+FFFD (invalidUtf8 'replace'). */
  invalidUtf8Replaced: number;
  version: number;
}

export type ImportFormat = 'csv' | 'parquet' | 'arrow';

/**
 * Cores a machine needs before CSV parsing and Parquet decoding move to a worker thread by
 * default. The importing thread alone keeps about 1.3 cores busy (V8's background GC and
 * compiler threads, file I/O), so on two cores a worker has no core of its own: measured on
 * the 2-core dev VM (bench/import), the 127 MB cpu CSV imported in 2.6–3.5 s inline vs
 * 2.9–4.0 s with the worker and ~70 MB more resident, the 1.28 GB one in 17.6 vs 17.5 s;
 * its Parquet export in 3.11–3.20 s inline vs 3.15–3.31 s, 305 vs 395 MB.
 */
export const WORKER_CORES_MIN = 3;

/** Most files one glob may expand to. */
export const IMPORT_FILES_MAX = 100_000;
/** Batches between two onProgress calls at most (it is also called at every file end). */
const PROGRESS_EVERY_BATCHES = 1;

function globPattern(segment: string): RegExp {
  return new RegExp(`^${segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
}

/**
 * Expands `*` and `?` in any path segment (Node 20 has no fs.glob), sorted; '-' is stdin.
 * Hidden entries match only a pattern that starts with a dot. A pattern matching nothing
 * is a UsageError.
 */
export function expandGlobs(patterns: readonly string[]): string[] {
  const out: string[] = [];
  for (const pattern of patterns) {
    if (pattern === '-' || !/[*?]/.test(pattern)) { out.push(pattern); continue; }
    const absolute = pattern.startsWith('/');
    const segments = pattern.split('/').filter((s, k) => s !== '' || k === 0).filter((s) => s !== '');
    let bases = [absolute ? '/' : ''];
    segments.forEach((segment, k) => {
      const last = k === segments.length - 1;
      if (!/[*?]/.test(segment)) { bases = bases.map((b) => (b === '' ? segment : join(b, segment))); return; }
      const re = globPattern(segment);
      const next: string[] = [];
      for (const b of bases) {
        let entries: string[];
        try { entries = readdirSync(b === '' ? '.' : b).sort(); } catch { continue; }
        for (const e of entries) {
          if (!re.test(e) || (e.startsWith('.') && !segment.startsWith('.'))) continue;
          const path = b === '' ? e : join(b, e);
          let isDir: boolean;
          try { isDir = statSync(path).isDirectory(); } catch { continue; }
          if (last ? !isDir : isDir) next.push(path);
        }
      }
      bases = next;
    });
    if (bases.length === 0) throw new UsageError(`no files match ${pattern}`);
    if (out.length + bases.length > IMPORT_FILES_MAX) throw new UsageError(`${pattern} matches more than ${IMPORT_FILES_MAX} files (IMPORT_FILES_MAX)`);
    out.push(...bases);
  }
  return out;
}

const PARQUET_MAGIC = 'PAR1';
const ARROW_MAGIC = 'ARROW1';

/** Format by extension, else by magic bytes (Parquet, Arrow file or stream), else CSV. */
export function detectFormat(file: string): ImportFormat {
  if (file === '-') return 'csv';
  const lower = file.toLowerCase();
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (/\.(arrow|arrows|ipc|feather)$/.test(lower)) return 'arrow';
  if (/\.(csv|tsv|txt)(\.gz|\.zst)?$/.test(lower)) return 'csv';
  const head = Buffer.alloc(8);
  const fd = openSync(file, 'r');
  let n: number;
  try { n = readSync(fd, head, 0, 8, 0); } finally { closeSync(fd); }
  if (n >= 4 && head.subarray(0, 4).toString('latin1') === PARQUET_MAGIC) return 'parquet';
  if (n >= 6 && head.subarray(0, 6).toString('latin1') === ARROW_MAGIC) return 'arrow';
  if (n >= 8 && head.readUInt32LE(0) === 0xffffffff) return 'arrow';
  return 'csv';
}

interface SourceBatch { batch: RecordBatch; rowStart: number; schema?: TableSchema; file?: string; duplicates?: number; replaced?: number }

/**
 * Imports files into one table in one commit: every file streams through one TableWriter
 * (chunks are written as they fill, so memory stays bounded) and nothing becomes visible
 * until all files are read; any error aborts the writer (deleting its chunk files) and leaves
 * the store as it was: an existing table unchanged, a new table never created.
 */
export async function importFiles(db: Quiver, patterns: readonly string[], options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const files = expandGlobs(patterns);
  if (files.length === 0) throw new UsageError('no input files given');
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read once per import');
  // Regular files by extension or magic; a pipe (e.g. bash's <(zcat …)) is read once, as CSV.
  const sizes = new Map<string, number>();
  const formats = files.map((f): ImportFormat => {
    if (f === '-') return 'csv';
    let stat;
    try { stat = statSync(f); } catch (error) {
      throw new InputError(`${f}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, f);
    }
    if (stat.isFIFO() || stat.isCharacterDevice()) {
      if (/\.(parquet|pq|arrow|arrows|ipc|feather)$/i.test(f)) throw new UsageError(`${f} is a pipe: Parquet and Arrow input must be a regular file`);
      return 'csv';
    }
    if (!stat.isFile()) throw new UsageError(`${f} is not a file`);
    sizes.set(f, stat.size);
    return detectFormat(f);
  });
  if (options.layout === 'long' && formats.some((f) => f !== 'csv')) throw new UsageError('the long layout applies to CSV input only');
  if (options.invalidUtf8 !== undefined && formats.some((f) => f !== 'csv')) throw new UsageError('--invalid-utf8 applies to CSV input only');
  const bytesTotal = [...sizes.values()].reduce((a, b) => a + b, 0);
  const exists = await db.hasTable(options.table);
  if (exists && !options.append) throw new UsageError(`table ${options.table} exists; use --append to add to it`);
  const table: Table | undefined = exists ? await db.table(options.table) : undefined;
  // The table's shape: the existing table's, or (new table) the first input's.
  let schema: TableSchema | undefined = table?.schema;
  let writer: TableWriter | undefined;
  let rejects: WriteStream | undefined;
  let rejected = 0;
  const maxErrors = options.maxErrors ?? 0;
  const rejectsPath = resolve(options.rejectsPath ?? `${files[0] === '-' ? 'stdin' : basename(files[0]!)}.rejects.csv`);
  if (maxErrors > 0) checkRejectsPath(rejectsPath);
  let rejectsFailure: Error | undefined;
  let duplicates = 0;
  let invalidUtf8Replaced = 0;
  const counter = { bytes: 0 };
  let rows = 0;
  let file = files[0]!;
  let batches = 0;
  const progress = () => options.onProgress?.({ bytesRead: counter.bytes, bytesTotal, rows, file });
  const workers = options.parallel ?? availableParallelism() >= WORKER_CORES_MIN;
  try {
    const csvOptions = (sourceOf: (file: string) => string): CsvOptions => ({
      ...(options.delimiter !== undefined ? { delimiter: options.delimiter } : {}),
      ...(options.columns ? { columns: options.columns } : {}),
      ...(options.time ? { time: options.time } : {}),
      ...(options.tags ? { tags: options.tags } : {}),
      ...(options.timeFormat ? { timeFormat: options.timeFormat } : {}),
      ...(options.timeUnit ? { timeUnit: options.timeUnit } : {}),
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.layout ? { layout: options.layout } : {}),
      ...(options.fieldColumn ? { fieldColumn: options.fieldColumn } : {}),
      ...(options.valueColumn ? { valueColumn: options.valueColumn } : {}),
      ...(options.invalidUtf8 ? { invalidUtf8: options.invalidUtf8 } : {}),
      maxErrors: maxErrors - rejected,
      onReject: (r) => {
        rejected++;
        if (rejectsFailure) throw rejectsFailure;
        if (!rejects) {
          rejects = createWriteStream(rejectsPath);
          // A write that fails later (disk full, the folder removed) fails the import at the next row or at the end, never as an unhandled 'error'.
          rejects.on('error', (error: NodeJS.ErrnoException) => { rejectsFailure ??= new InputError(`${rejectsPath}: cannot write the rejects file: ${error.code ?? error.message}`, rejectsPath); });
          rejects.write('file,line,reason,row\n');
        }
        // The row as it is in the file, byte for byte (quoted as one CSV cell).
        rejects.write(Buffer.concat([Buffer.from(`${csvCell(sourceOf(r.file ?? ''))},${r.line},${csvCell(r.reason)},`), csvBytesCell(r.bytes), Buffer.from('\n')]));
      },
    });
    for (let k = 0; k < files.length;) {
      // A run of regular CSV files large enough together is parsed in one worker thread
      // (file after file), overlapping the encoding of chunks here; anything else inline.
      let end = k + 1;
      let input: AsyncIterable<SourceBatch>;
      const parallel = workers && formats[k] === 'csv' && sizes.has(files[k]!);
      if (parallel) while (end < files.length && formats[end] === 'csv' && sizes.has(files[end]!)) end++;
      const runBytes = files.slice(k, end).reduce((sum, f) => sum + (sizes.get(f) ?? 0), 0);
      if (parallel && runBytes >= (options.workerBytesMin ?? CSV_WORKER_BYTES_MIN)) {
        input = readCsvInWorker(files.slice(k, end), counter, csvOptions((f) => f), schema);
      } else {
        end = k + 1;
        const name = files[k]!;
        const source = name === '-' ? 'stdin' : name;
        if (formats[k] === 'csv') {
          const csv = csvOptions(() => source);
          input = (async function* () {
            for await (const b of readCsv(csvBytes(name, counter), name, csv, schema)) {
              yield { batch: b.batch, rowStart: b.rowStart, schema: b.plan.schema, file: name, duplicates: b.duplicates, replaced: b.replaced };
            }
          })();
        } else if (formats[k] === 'arrow') {
          input = readArrowFile(name, counter, options, schema);
        } else {
          input = readParquetFile(name, counter, { ...options, parallel: workers && (sizes.get(name) ?? 0) >= (options.workerBytesMin ?? PARQUET_WORKER_BYTES_MIN) }, schema);
        }
      }
      for await (const b of input) {
        file = b.file ?? files[k]!;
        const { batch, rowStart } = b;
        if (!writer) {
          const bufferBytesMax = Math.floor((options.memoryBytes ?? IMPORT_MEMORY_BYTES) / 3);
          if (table) writer = table.writer({ bufferBytesMax });
          else {
            if (!b.schema) throw new InputError(`${file}: could not determine a schema`, file);
            // Created by the import's one commit: nothing is visible before it. Racing another
            // writer that creates the table first: with --append, add to it; without, fail.
            const created = await db.createTable(options.table, {
              time: b.schema.time, timeUnit: b.schema.timeUnit, tags: b.schema.tags, fields: b.schema.fields, ...(options.codec ? { codec: options.codec } : {}),
              ...(options.compression ? { compression: options.compression } : {}),
            }, { lazy: true, ifExists: options.append ? 'append' : 'fail' });
            writer = created.writer({ bufferBytesMax });
          }
          schema = writer.schema;
        }
        checkTypes(writer.schema, batch, file);
        await writer.append(batch, { source: file === '-' ? 'stdin' : file, rowStart });
        rows += batch.numRows;
        duplicates += b.duplicates ?? 0;
        invalidUtf8Replaced += b.replaced ?? 0;
        if (++batches % PROGRESS_EVERY_BATCHES === 0) progress();
      }
      file = files[end - 1]!;
      progress();
      k = end;
    }
    if (!writer) throw new InputError(`${files.join(', ')}: no rows to import`, files[0]);
    if (rejects) await closeRejects();
    if (rejectsFailure) throw rejectsFailure;
    const committed = await writer.commit();
    return {
      table: options.table, rows: committed.rows, files: files.length, chunks: committed.chunks, bytesIn: bytesTotal || counter.bytes,
      bytesOut: committed.bytes, series: committed.series, seconds: (performance.now() - started) / 1000,
      rejected, ...(rejected ? { rejectsPath } : {}), duplicates, invalidUtf8Replaced, version: committed.version,
    };
  } catch (error) {
    // Nothing was committed: only this import's own chunk files are deleted (never a table,
    // which other writers may have created or committed to meanwhile).
    await writer?.abort().catch(() => {});
    if (error instanceof InputError && maxErrors > 0 && rejected >= maxErrors && error.line !== undefined) {
      throw new InputError(`${error.message} (bad row ${rejected + 1}; --max-errors is ${maxErrors}; the others are in ${rejectsPath})`, error.file, error.line, error.column);
    }
    throw error;
  } finally {
    if (rejects) await closeRejects();
  }

  async function closeRejects(): Promise<void> {
    const r = rejects!;
    rejects = undefined;
    await new Promise<void>((done) => { if (r.destroyed) done(); else r.end(done); r.once('error', () => done()); });
  }
}

/**
 * The rejects file must be creatable before the import starts: its folder exists and is
 * writable and the path is not a folder (a UsageError naming what is wrong otherwise).
 */
function checkRejectsPath(path: string): void {
  const folder = dirname(path);
  let stat;
  try { stat = statSync(folder); } catch {
    throw new UsageError(`--rejects ${path}: the folder ${folder} does not exist (it is not created; make it first or name another file)`);
  }
  if (!stat.isDirectory()) throw new UsageError(`--rejects ${path}: ${folder} is not a folder`);
  try { accessSync(folder, constants.W_OK); } catch { throw new UsageError(`--rejects ${path}: the folder ${folder} is not writable`); }
  let target;
  try { target = statSync(path); } catch { return; }
  if (target.isDirectory()) throw new UsageError(`--rejects ${path} is a folder; name a file`);
}

/** A batch column whose type conflicts with the table's: the error names both types. */
function checkTypes(schema: TableSchema, batch: RecordBatch, file: string): void {
  for (const f of batch.schema.fields) {
    if (f.name === schema.time || schema.tags.includes(f.name)) continue;
    const known = schema.fields.find((k) => k.name === f.name);
    const type = fieldTypeOfArrow(f.type);
    if (known && type && known.type !== type && !(known.type === 'float64' && (type === 'int64' || type === 'uint64'))) {
      throw new SchemaError(`${file}: column ${f.name} is ${type} in the file but ${known.type} in the table`);
    }
  }
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Bytes as one CSV cell: quoted (doubling quotes) when they hold a quote, comma or line end; never decoded. */
function csvBytesCell(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!b.some((c) => c === 0x22 || c === 0x2c || c === 0x0d || c === 0x0a)) return b;
  const out: number[] = [0x22];
  for (const c of b) { out.push(c); if (c === 0x22) out.push(0x22); }
  out.push(0x22);
  return Buffer.from(out);
}
