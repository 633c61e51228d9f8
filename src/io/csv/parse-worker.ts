/**
 * Parsing a large CSV in a worker thread while the main thread encodes and writes chunks:
 * on two cores, parse and write overlap instead of adding up. Batches come back as column
 * buffers transferred between threads; at most CSV_WORKER_BATCHES_IN_FLIGHT are parsed
 * ahead, so memory stays bounded. Errors, rejects and progress cross over as messages.
 */
import type { RecordBatch } from 'apache-arrow';
import { messageToBatch } from '../batch-transfer.js';
import type { TableSchema } from '../../core/types.js';
import type { CsvOptions } from './reader.js';
import type { WorkerInput, WorkerMessage } from './worker.js';
import { workerStream } from '../worker-stream.js';

/** CSV files (a run of them together) at least this large are parsed in a worker (below, its startup cost dominates). */
export const CSV_WORKER_BYTES_MIN = 8 * 1024 * 1024;
/** Batches the worker may parse ahead of the writer. */
export const CSV_WORKER_BATCHES_IN_FLIGHT = 2;

/**
 * Like readCsv on regular files (not stdin or pipes), one after the other, parsed in a
 * worker thread. `options.maxErrors` counts over all the files; each reject and batch
 * names its file.
 */
export async function* readCsvInWorker(files: string | string[], counter: { bytes: number }, options: CsvOptions, table?: TableSchema): AsyncGenerator<{ batch: RecordBatch; rowStart: number; schema: TableSchema; file: string; replaced: number }> {
  const { onReject, ...rest } = options;
  const workerData: WorkerInput = { files: typeof files === 'string' ? [files] : files, options: rest, ...(table ? { table } : {}), credit: CSV_WORKER_BATCHES_IN_FLIGHT };
  const names = workerData.files;
  let current = names[0] ?? '';
  const base = counter.bytes;
  for await (const m of workerStream<WorkerMessage>(new URL('./worker.js', import.meta.url), workerData, 'CSV parser worker', () => current)) {
    if (m.type === 'file') { current = m.file; continue; }
    if (m.type === 'reject') { onReject?.({ line: m.line, reason: m.reason, text: m.text, bytes: m.bytes, file: m.file }); continue; }
    if (m.type === 'done') { counter.bytes = base + m.bytesRead; return; }
    counter.bytes = base + m.bytesRead;
    yield { batch: messageToBatch(m.columns), rowStart: m.rowStart, schema: m.schema, file: m.file, replaced: m.replaced };
  }
}
