/**
 * Parquet decoding in a worker thread: decodes row groups (parquet-wasm), converts them to
 * the table's shape and posts each batch's buffers (transferred) while the main thread
 * writes the previous ones. At most `credit` batches are decoded ahead of the main thread.
 */
import { toWireError, type WireError } from '../worker-errors.js';
import { parentPort, workerData } from 'node:worker_threads';
import type { TableSchema } from '../core/types.js';
import type { ArrowImportOptions } from './arrow-batch.js';
import { batchToMessage, type ColumnMessage } from './batch-transfer.js';
import { parquetBatches } from './parquet-groups.js';

export interface ParquetWorkerInput { file: string; credit: number; options: ArrowImportOptions; table?: TableSchema }

export type ParquetWorkerMessage =
  | { type: 'batch'; columns: ColumnMessage[]; rowStart: number; schema: TableSchema; bytes: number }
  | { type: 'done' }
  | ({ type: 'error' } & WireError);

const port = parentPort!;
const input = workerData as ParquetWorkerInput;
let credit = input.credit;
let wake: (() => void) | undefined;
port.on('message', (m: { type: 'credit' }) => {
  if (m.type === 'credit') { credit++; wake?.(); wake = undefined; }
});

async function run(): Promise<void> {
  for await (const b of parquetBatches(input.file, input.options, input.table)) {
    while (credit <= 0) await new Promise<void>((resolve) => { wake = resolve; });
    credit--;
    const { columns, transfer } = batchToMessage(b.batch);
    port.postMessage({ type: 'batch', columns, rowStart: b.rowStart, schema: b.schema, bytes: b.bytes } satisfies ParquetWorkerMessage, transfer);
  }
  port.postMessage({ type: 'done' } satisfies ParquetWorkerMessage);
}

run().catch((error: unknown) => {
  port.postMessage({ type: 'error', ...toWireError(error) } satisfies ParquetWorkerMessage);
}).finally(() => port.close());
