/**
 * The CSV parser in a worker thread (see parse-worker.ts): reads and converts files,
 * posting each batch's column buffers (transferred, not copied) while
 * the main thread encodes and writes the previous ones. At most `credit` batches are in
 * flight: the main thread returns one credit per batch it has taken (worker-stream.ts).
 */
import type { TableSchema } from '../../core/types.js';
import { csvBytes } from './bytes.js';
import { readCsv, type CsvOptions } from './reader.js';
import { batchToMessage, type ColumnMessage } from '../batch-transfer.js';
import { serveWorkerStream } from '../worker-stream.js';

export interface WorkerInput {
  /** Parsed one after the other; a table created from the first file's plan fixes the rest. */
  files: string[];
  options: Omit<CsvOptions, 'onReject'>;
  table?: TableSchema;
  credit: number;
}

export type WorkerMessage =
  | { type: 'file'; file: string }
  | { type: 'batch'; file: string; columns: ColumnMessage[]; rowStart: number; schema: TableSchema; bytesRead: number; replaced: number }
  | { type: 'reject'; file: string; line: number; reason: string; text: string; bytes: Uint8Array }
  | { type: 'done'; bytesRead: number };

serveWorkerStream<WorkerMessage, WorkerInput>(async (out, input) => {
  const counter = { bytes: 0 };
  let table = input.table;
  let rejected = 0;
  for (const file of input.files) {
    out.post({ type: 'file', file });
    const options: CsvOptions = {
      ...input.options,
      maxErrors: (input.options.maxErrors ?? 0) - rejected,
      onReject: (r) => { rejected++; out.post({ type: 'reject', file, line: r.line, reason: r.reason, text: r.text, bytes: r.bytes }); },
    };
    for await (const b of readCsv(csvBytes(file, counter), file, options, table)) {
      const { columns, transfer } = batchToMessage(b.batch);
      await out.batch({ type: 'batch', file, columns, rowStart: b.rowStart, schema: b.plan.schema, bytesRead: counter.bytes, replaced: b.replaced }, transfer);
      // The main thread creates the table from the first batch: later files are planned against it.
      table ??= b.plan.schema;
    }
  }
  return { type: 'done', bytesRead: counter.bytes };
});
