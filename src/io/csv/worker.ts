/**
 * The CSV parser in a worker thread (see parse-worker.ts): reads and converts files,
 * posting each batch's column buffers (transferred, not copied) while
 * the main thread encodes and writes the previous ones. At most `credit` batches are in
 * flight: the main thread returns one credit per batch it has taken.
 */
import { toWireError, type WireError } from '../../worker-errors.js';
import { parentPort, workerData } from 'node:worker_threads';
import type { TableSchema } from '../../core/types.js';
import { csvBytes } from './bytes.js';
import { readCsv, type CsvOptions } from './reader.js';
import { batchToMessage, type ColumnMessage } from '../batch-transfer.js';

export interface WorkerInput {
  /** Parsed one after the other; a table created from the first file's plan fixes the rest. */
  files: string[];
  options: Omit<CsvOptions, 'onReject'>;
  table?: TableSchema;
  credit: number;
}

export type WorkerMessage =
  | { type: 'batch'; file: string; columns: ColumnMessage[]; rowStart: number; schema: TableSchema; bytesRead: number; duplicates: number; replaced: number }
  | { type: 'reject'; file: string; line: number; reason: string; text: string; bytes: Uint8Array }
  | { type: 'done'; bytesRead: number }
  | ({ type: 'error' } & WireError);

const port = parentPort!;
const input = workerData as WorkerInput;
let credit = input.credit;
let wake: (() => void) | undefined;
port.on('message', (m: { type: 'credit' }) => {
  if (m.type === 'credit') { credit++; wake?.(); wake = undefined; }
});

async function run(): Promise<void> {
  const counter = { bytes: 0 };
  let table = input.table;
  let rejected = 0;
  for (const file of input.files) {
    const options: CsvOptions = {
      ...input.options,
      maxErrors: (input.options.maxErrors ?? 0) - rejected,
      onReject: (r) => { rejected++; port.postMessage({ type: 'reject', file, line: r.line, reason: r.reason, text: r.text, bytes: r.bytes } satisfies WorkerMessage); },
    };
    for await (const b of readCsv(csvBytes(file, counter), file, options, table)) {
      while (credit <= 0) await new Promise<void>((resolve) => { wake = resolve; });
      credit--;
      const { columns, transfer } = batchToMessage(b.batch);
      port.postMessage({ type: 'batch', file, columns, rowStart: b.rowStart, schema: b.plan.schema, bytesRead: counter.bytes, duplicates: b.duplicates, replaced: b.replaced } satisfies WorkerMessage, transfer);
      // The main thread creates the table from the first batch: later files are planned against it.
      table ??= b.plan.schema;
    }
  }
  port.postMessage({ type: 'done', bytesRead: counter.bytes } satisfies WorkerMessage);
}

run().catch((error: unknown) => {
  port.postMessage({ type: 'error', ...toWireError(error) } satisfies WorkerMessage);
}).finally(() => port.close());
