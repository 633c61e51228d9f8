/**
 * Bulk import: files → Arrow batches in the table's shape → one TableWriter → one commit.
 *
 *   glob expansion ─ format by extension/magic (formats/registry.ts) ─┬─ CSV (.gz/.zst/stdin): csv/bytes → csv/reader (worker thread when large)
 *                                                                     ├─ Parquet: parquet-groups (parquet-wasm; worker thread when large) → arrow-batch
 *                                                                     └─ Arrow IPC file/stream: arrow → arrow-batch
 *   → TableWriter.append(batch, lineage {source, rowStart}) (chunks written as they fill)
 *   → commit() once at the end; any error aborts the writer. A new table is created by that
 *     same commit (Quiver.createTable lazy), so a failed or killed import leaves no table.
 *
 * Memory is bounded whatever the input size: readers stream (a CSV batch, a Parquet row
 * group, an IPC record batch at a time), workers run a fixed number of batches ahead, and
 * the writer flushes chunks at rowsPerChunkMax.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import type { RecordBatch } from 'apache-arrow';
import type { Quiver } from '../quiver.js';
import type { Table } from '../table/table.js';
import type { TableSchema, TableWriter } from '../core/types.js';
import { InputError, SchemaError, UsageError } from '../errors.js';
import { fieldTypeOfArrow } from '../core/arrow-schema.js';
import { csvBytes } from './csv/bytes.js';
import { IMPORT_MEMORY_BYTES, type ImportOptions, type ImportSummary } from './import-options.js';
import { importInput, type FormatContext, type SourceBatch } from './formats/index.js';
import { RejectsFile, checkRejectsPath } from './rejects.js';
import { at } from './at.js';
import { formatDuration, keptRuns, parseRetention } from '../table/retention.js';
import { stageTags } from '../table/alter.js';

export { csvBytes };
export { detectFormat, registerImportFormat, unregisterImportFormat, importFormats, type ImportFormatDescriptor } from './formats/index.js';
export type { ImportOptions, ImportProgress, ImportSummary } from './import-options.js';
export { IMPORT_MEMORY_BYTES } from './import-options.js';

/** An import format's id ('csv', 'parquet', 'arrow-file', 'arrow-stream', or one registered). */
export type ImportFormat = string;

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

/**
 * Imports files into one table in one commit: every file streams through one TableWriter
 * (chunks are written as they fill, so memory stays bounded) and nothing becomes visible
 * until all files are read; any error aborts the writer (deleting its chunk files) and leaves
 * the store as it was: an existing table unchanged, a new table never created. Each file is
 * read by its import format (formats/registry.ts).
 */
export async function importFiles(db: Quiver, patterns: readonly string[], options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const files = expandGlobs(patterns);
  if (files.length === 0) throw new UsageError('no input files given');
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read once per import');
  const inputs = files.map(importInput);
  if (options.layout === 'long' && inputs.some((i) => !i.format.csvOptions)) throw new UsageError('the long layout applies to CSV input only');
  if (options.invalidUtf8 !== undefined && inputs.some((i) => !i.format.csvOptions)) throw new UsageError('--invalid-utf8 applies to CSV input only');
  const bytesTotal = inputs.reduce((sum, i) => sum + (i.input.size ?? 0), 0);
  const exists = await db.hasTable(options.table);
  if (exists && !options.append) throw new UsageError(`table ${options.table} exists; use --append to add to it`);
  const table: Table | undefined = exists ? await db.table(options.table) : undefined;
  const retention = parseRetention(options.retention, '--retention');
  if (table && options.retention !== undefined && table.options.retention !== retention) {
    throw new UsageError(`table ${options.table} exists with ${table.options.retention === undefined ? 'no retention' : `retention ${formatDuration(table.options.retention)}`}: --retention applies when the import creates the table (change it with \`quiver retention ${options.table} …\`)`);
  }
  // Tags the import names that the table lacks are added by the import's own commit (alter.ts
  // stageTags): its chunks are written in the schema they make, and a failure adds nothing.
  // Staged once: the inputs are read in the schema they make, and the writer commits them.
  const staged = table && options.tags ? stageTags(table.currentManifest, options.tags) : undefined;
  let target = table;
  let expiredRows = 0;
  // The table's shape: the existing table's (with the tags the import adds), or (new table) the first input's.
  let schema: TableSchema | undefined = staged?.schema ?? table?.schema;
  let writer: TableWriter | undefined;
  let rejected = 0;
  const maxErrors = options.maxErrors ?? 0;
  const rejects = new RejectsFile(resolve(options.rejectsPath ?? `${files[0] === '-' ? 'stdin' : basename(at(files, 0))}.rejects.csv`));
  if (maxErrors > 0) checkRejectsPath(rejects.path);
  let invalidUtf8Replaced = 0;
  const counter = { bytes: 0 };
  let rows = 0;
  let file = at(files, 0);
  let batches = 0;
  const progress = () => options.onProgress?.({ bytesRead: counter.bytes, bytesTotal, rows, file });
  const parallel = options.parallel ?? availableParallelism() >= WORKER_CORES_MIN;
  try {
    for (let k = 0; k < inputs.length;) {
      const { format } = at(inputs, k);
      const context: FormatContext = {
        options, counter, parallel, ...(schema ? { table: schema } : {}),
        errorsLeft: () => maxErrors - rejected,
        reject: (row) => { rejected++; rejects.write(row); },
      };
      // Consecutive regular files of one format may be read together (openRun), else one by one.
      let end = k + 1;
      let batchesOf: AsyncIterable<SourceBatch> | undefined;
      if (format.openRun && at(inputs, k).input.size !== undefined) {
        while (end < inputs.length && at(inputs, end).format === format && at(inputs, end).input.size !== undefined) end++;
        batchesOf = format.openRun(inputs.slice(k, end).map((i) => i.input), context);
      }
      if (!batchesOf) {
        end = k + 1;
        batchesOf = format.open(at(inputs, k).input, context);
      }
      for await (const b of batchesOf) {
        file = b.file ?? at(files, k);
        const { batch, rowStart } = b;
        if (!writer) {
          const bufferBytesMax = Math.floor((options.memoryBytes ?? IMPORT_MEMORY_BYTES) / 3);
          if (table) writer = table.writer({ bufferBytesMax, ...(staged ? { staged } : {}) });
          else {
            if (!b.schema) throw new InputError(`${file}: could not determine a schema`, file);
            // Created by the import's one commit: nothing is visible before it. Racing another
            // writer that creates the table first: with --append, add to it; without, fail.
            const created = await db.createTable(options.table, {
              time: b.schema.time, timeUnit: b.schema.timeUnit, tags: b.schema.tags, fields: b.schema.fields, ...(options.codec ? { codec: options.codec } : {}),
              ...(options.compression ? { compression: options.compression } : {}),
              ...(options.duplicates ? { duplicates: options.duplicates } : {}),
              ...(retention !== undefined ? { retention } : {}),
            }, { lazy: true, ifExists: options.append ? 'append' : 'fail' });
            target = created;
            writer = created.writer({ bufferBytesMax });
          }
          schema = writer.schema;
        }
        checkTypes(writer.schema, batch, file);
        // Rows the table's retention already hides are skipped and counted (retention.ts).
        const { runs, expired } = keptRuns(batch, writer.schema.time, target?.retentionCutoff());
        for (const run of runs) await writer.append(run.batch, { source: file === '-' ? 'stdin' : file, rowStart: rowStart + run.offset });
        expiredRows += expired;
        rows += batch.numRows;
        invalidUtf8Replaced += b.replaced ?? 0;
        if (++batches % PROGRESS_EVERY_BATCHES === 0) progress();
      }
      file = at(files, end - 1);
      progress();
      k = end;
    }
    if (!writer) throw new InputError(`${files.join(', ')}: no rows to import`, files[0]);
    await rejects.close();
    if (rejects.failure) throw rejects.failure;
    const committed = await writer.commit();
    return {
      table: options.table, rows: committed.rows, files: files.length, chunks: committed.chunks, bytesIn: bytesTotal || counter.bytes,
      bytesOut: committed.bytes, series: committed.series, seconds: (performance.now() - started) / 1000,
      rejected, ...(rejected ? { rejectsPath: rejects.path } : {}), duplicates: committed.duplicateValues, duplicateRows: committed.duplicateRows,
      duplicatePolicy: writer.policy, invalidUtf8Replaced, expiredRows, version: committed.version,
    };
  } catch (error) {
    // Nothing was committed: only this import's own chunk files are deleted (never a table,
    // which other writers may have created or committed to meanwhile).
    await writer?.abort().catch(() => {});
    if (error instanceof InputError && maxErrors > 0 && rejected >= maxErrors && error.line !== undefined) {
      throw new InputError(`${error.message} (bad row ${rejected + 1}; --max-errors is ${maxErrors}; the others are in ${rejects.path})`, error.file, error.line, error.column);
    }
    throw error;
  } finally {
    await rejects.close();
  }
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
