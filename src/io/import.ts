import { createReadStream, createWriteStream, statSync, readdirSync, openSync, readSync, closeSync, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { DecompressStream } from 'zstd-napi';
import type { Readable } from 'node:stream';
import type { RecordBatch } from 'apache-arrow';
import type { Quiver } from '../quiver.js';
import type { Table } from '../table/table.js';
import type { BlockCodecId, TimeUnit } from '../format/types.js';
import type { TableSchema, TableWriter } from '../table/types.js';
import { InputError, QuiverError, SchemaError, UsageError } from '../errors.js';
import { readCsv, type CsvOptions } from './csv/reader.js';
import type { TimeFormat } from './csv/values.js';
import { readArrowFile } from './arrow.js';
import { readParquetFile } from './parquet.js';
import { fieldTypeOfArrow } from '../table/arrow-schema.js';

export interface ImportOptions {
  table: string;
  time?: string;
  tags?: string[];
  timeFormat?: TimeFormat;
  timeUnit?: TimeUnit;
  append?: boolean;
  delimiter?: string;
  columns?: string[];
  schema?: Record<string, string>;
  layout?: 'wide' | 'long';
  fieldColumn?: string;
  valueColumn?: string;
  maxErrors?: number;
  rejectsPath?: string;
  codec?: BlockCodecId;
  onProgress?: (p: { bytesRead: number; bytesTotal?: number; rows: number; file?: string }) => void;
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
  version: number;
}

type Format = 'csv' | 'parquet' | 'arrow';

/** Expands `*` and `?` in the path's segments (Node 20 has no fs.glob); '-' is stdin. */
export function expandGlobs(patterns: readonly string[]): string[] {
  const out: string[] = [];
  for (const pattern of patterns) {
    if (pattern === '-' || !/[*?]/.test(pattern)) { out.push(pattern); continue; }
    const parts = pattern.split('/');
    let bases = [parts[0] === '' ? '/' : '.'];
    const segments = parts[0] === '' ? parts.slice(1) : parts;
    segments.forEach((segment, k) => {
      const last = k === segments.length - 1;
      if (!/[*?]/.test(segment)) { bases = bases.map((b) => (b === '.' ? segment : join(b, segment))); return; }
      const re = new RegExp(`^${segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
      const next: string[] = [];
      for (const b of bases) {
        let entries: string[] = [];
        try { entries = readdirSync(b).sort(); } catch { continue; }
        for (const e of entries) {
          if (!re.test(e) || e.startsWith('.')) continue;
          const path = b === '.' ? e : join(b, e);
          const isDir = statSync(path).isDirectory();
          if (last ? !isDir : isDir) next.push(path);
        }
      }
      bases = next;
    });
    if (bases.length === 0) throw new UsageError(`no files match ${pattern}`);
    out.push(...bases);
  }
  return out;
}

function detectFormat(file: string): Format {
  if (file === '-') return 'csv';
  const lower = file.toLowerCase();
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (/\.(arrow|arrows|ipc|feather)$/.test(lower)) return 'arrow';
  if (/\.(csv|tsv|txt)(\.gz|\.zst)?$/.test(lower)) return 'csv';
  const head = Buffer.alloc(6);
  const fd = openSync(file, 'r');
  try { readSync(fd, head, 0, 6, 0); } finally { closeSync(fd); }
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  if (head.toString('latin1') === 'ARROW1' || head.readUInt32LE(0) === 0xffffffff) return 'arrow';
  return 'csv';
}

/** A CSV's bytes, decompressed when the name or the magic says gzip or zstd. */
function csvBytes(file: string, counter: { bytes: number }): AsyncIterable<Buffer> {
  const raw: Readable = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  raw.on('data', (chunk: Buffer) => { counter.bytes += chunk.length; });
  let magic = Buffer.alloc(0);
  if (file !== '-') {
    const fd = openSync(file, 'r');
    try { magic = Buffer.alloc(4); readSync(fd, magic, 0, 4, 0); } finally { closeSync(fd); }
  }
  if (file.endsWith('.gz') || (magic[0] === 0x1f && magic[1] === 0x8b)) return raw.pipe(createGunzip());
  if (file.endsWith('.zst') || magic.readUInt32LE(0) === 0xfd2fb528) return raw.pipe(new DecompressStream());
  return raw;
}

/**
 * Imports files into one table in one commit: every file streams through one TableWriter
 * (chunks are written as they fill, so memory stays bounded) and nothing becomes visible
 * until all files are read; any error aborts the writer and the table is unchanged.
 */
export async function importFiles(db: Quiver, patterns: readonly string[], options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const files = expandGlobs(patterns);
  if (files.length === 0) throw new UsageError('no input files given');
  const formats = files.map((f) => {
    if (f !== '-') {
      try { if (!statSync(f).isFile()) throw new UsageError(`${f} is not a file`); } catch (error) {
        if (error instanceof UsageError) throw error;
        throw new InputError(`${f}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, f);
      }
    }
    return detectFormat(f);
  });
  const bytesTotal = files.reduce((s, f) => s + (f === '-' ? 0 : statSync(f).size), 0);
  const exists = await db.hasTable(options.table);
  if (exists && !options.append) throw new UsageError(`table ${options.table} exists; use --append to add to it`);
  let table: Table | undefined = exists ? await db.table(options.table) : undefined;
  let writer: TableWriter | undefined;
  let rejects: WriteStream | undefined;
  let rejected = 0;
  const rejectsPath = options.rejectsPath ?? 'quiver-rejects.csv';
  const counter = { bytes: 0 };
  let rows = 0;
  const progress = () => options.onProgress?.({ bytesRead: counter.bytes, bytesTotal, rows });
  const openWriter = async (schema: TableSchema): Promise<TableWriter> => {
    if (!table) {
      table = await db.createTable(options.table, {
        time: schema.time, timeUnit: schema.timeUnit, tags: schema.tags, fields: schema.fields, ...(options.codec ? { codec: options.codec } : {}),
      });
    }
    return (writer ??= table.writer());
  };
  try {
    for (let k = 0; k < files.length; k++) {
      const file = files[k]!;
      const source = file === '-' ? 'stdin' : basename(file) === file ? file : file;
      let batches: AsyncIterable<{ batch: RecordBatch; rowStart: number; schema?: TableSchema }>;
      if (formats[k] === 'csv') {
        const csvOptions: CsvOptions = {
          ...(options.delimiter !== undefined ? { delimiter: options.delimiter } : {}),
          ...(options.columns ? { columns: options.columns } : {}),
          ...(options.time ? { time: options.time } : {}),
          ...(options.tags ? { tags: options.tags } : {}),
          ...(options.timeFormat ? { timeFormat: options.timeFormat } : {}),
          ...(options.timeUnit ? { timeUnit: options.timeUnit } : {}),
          ...(options.schema ? { schema: options.schema } : {}),
          maxErrors: Math.max(0, (options.maxErrors ?? 0) - rejected),
          onReject: (r) => {
            rejected++;
            if (!rejects) { rejects = createWriteStream(rejectsPath); rejects.write('file,line,reason,row\n'); }
            rejects.write(`${csvCell(file)},${r.line},${csvCell(r.reason)},${csvCell(r.text)}\n`);
          },
        };
        if (options.layout === 'long') throw new UsageError('--layout long is not supported yet: pivot the file to one column per field');
        batches = (async function* () {
          for await (const b of readCsv(csvBytes(file, counter), file, csvOptions, table?.schema)) yield { batch: b.batch, rowStart: b.rowStart, schema: b.plan.schema };
        })();
      } else if (formats[k] === 'arrow') {
        batches = readArrowFile(file, counter, options, table?.schema);
      } else {
        batches = readParquetFile(file, counter, options, table?.schema);
      }
      for await (const { batch, rowStart, schema } of batches) {
        if (!writer) {
          const s = schema ?? (table?.schema as TableSchema);
          if (!s) throw new QuiverError(`${file}: could not determine a schema`);
          if (table) checkTypes(table.schema, batch, file);
          await openWriter(s);
        } else if (table) checkTypes(table.schema, batch, file);
        await writer!.append(batch, { source, rowStart });
        rows += batch.numRows;
        progress();
      }
    }
    if (!writer) {
      if (!table) throw new InputError(`${files.join(', ')}: no rows to import`, files[0]);
      writer = table.writer();
    }
    const committed = await writer.commit();
    progress();
    const description = await table!.describe();
    return {
      table: options.table, rows: committed.rows, files: files.length, chunks: committed.chunks, bytesIn: bytesTotal || counter.bytes,
      bytesOut: committed.bytes, series: committed.series, seconds: (performance.now() - started) / 1000,
      rejected, ...(rejected ? { rejectsPath } : {}), version: description.version,
    };
  } catch (error) {
    await writer?.abort().catch(() => {});
    throw error;
  } finally {
    if (rejects) await new Promise((r) => rejects!.end(r));
  }
}

function checkTypes(schema: TableSchema, batch: RecordBatch, file: string): void {
  for (const f of batch.schema.fields) {
    const known = schema.fields.find((k) => k.name === f.name);
    const type = fieldTypeOfArrow(f.type);
    if (known && type && known.type !== type && !(known.type === 'float64' && (type === 'int64' || type === 'uint64'))) {
      throw new SchemaError(`${file}: column ${f.name} is ${type} in the file but ${known.type} in table`);
    }
  }
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export { dirname };
