/**
 * Parsing a large CSV in a worker thread while the main thread encodes and writes chunks:
 * on two cores, parse and write overlap instead of adding up. Batches come back as column
 * buffers transferred between threads; at most CSV_WORKER_BATCHES_IN_FLIGHT are parsed
 * ahead, so memory stays bounded. Errors, rejects and progress cross over as messages.
 */
import { Worker } from 'node:worker_threads';
import type { RecordBatch } from 'apache-arrow';
import { messageToBatch } from '../batch-transfer.js';
import { QuiverError } from '../../errors.js';
import { fromWireError } from '../../worker-errors.js';
import type { TableSchema } from '../../core/types.js';
import type { CsvOptions } from './reader.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

/** CSV files (a run of them together) at least this large are parsed in a worker (below, its startup cost dominates). */
export const CSV_WORKER_BYTES_MIN = 8 * 1024 * 1024;
/** Batches the worker may parse ahead of the writer. */
export const CSV_WORKER_BATCHES_IN_FLIGHT = 2;

function errorOf(m: Extract<WorkerMessage, { type: 'error' }>): Error {
  const error = fromWireError(m);
  return error instanceof QuiverError ? error : new QuiverError(`CSV parser worker failed: ${m.name}: ${m.message}`);
}

/**
 * Like readCsv on regular files (not stdin or pipes), one after the other, parsed in a
 * worker thread. `options.maxErrors` counts over all the files; each reject and batch
 * names its file.
 */
export async function* readCsvInWorker(files: string | string[], counter: { bytes: number }, options: CsvOptions, table?: TableSchema): AsyncGenerator<{ batch: RecordBatch; rowStart: number; schema: TableSchema; file: string; duplicates: number; replaced: number }> {
  const { onReject, ...rest } = options;
  const workerData: WorkerInput = { files: typeof files === 'string' ? [files] : files, options: rest, ...(table ? { table } : {}), credit: CSV_WORKER_BATCHES_IN_FLIGHT };
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData });
  const queue: WorkerMessage[] = [];
  let failure: Error | undefined;
  let exited = false;
  let wake: (() => void) | undefined;
  const notify = () => { wake?.(); wake = undefined; };
  worker.on('message', (m: WorkerMessage) => { queue.push(m); notify(); });
  worker.on('error', (error) => { failure ??= new QuiverError(`CSV parser worker crashed: ${error.message}`); notify(); });
  worker.on('exit', (code) => {
    exited = true;
    if (code !== 0) failure ??= new QuiverError(`CSV parser worker exited with code ${code}`);
    notify();
  });
  const base = counter.bytes;
  try {
    for (;;) {
      while (queue.length === 0) {
        if (failure) throw failure;
        if (exited) throw new QuiverError('CSV parser worker exited before the end of the file');
        await new Promise<void>((resolve) => { wake = resolve; });
      }
      const m = queue.shift()!;
      if (m.type === 'reject') { onReject?.({ line: m.line, reason: m.reason, text: m.text, bytes: m.bytes, file: m.file }); continue; }
      if (m.type === 'error') throw errorOf(m);
      if (m.type === 'done') { counter.bytes = base + m.bytesRead; return; }
      const batch = messageToBatch(m.columns);
      counter.bytes = base + m.bytesRead;
      yield { batch, rowStart: m.rowStart, schema: m.schema, file: m.file, duplicates: m.duplicates, replaced: m.replaced };
      worker.postMessage({ type: 'credit' });
    }
  } finally {
    if (!exited) await worker.terminate();
  }
}
