/**
 * Parquet decoding in a worker thread: decodes row groups (parquet-wasm), converts them to
 * the table's shape and posts each batch's buffers (transferred) while the main thread
 * writes the previous ones. At most `credit` batches are decoded ahead of the main thread
 * (worker-stream.ts).
 */
import type { TableSchema } from '../core/types.js';
import type { ArrowImportOptions } from './arrow-batch.js';
import { batchToMessage, type ColumnMessage } from './batch-transfer.js';
import { parquetBatches } from './parquet-groups.js';
import { serveWorkerStream } from './worker-stream.js';

export interface ParquetWorkerInput { file: string; credit: number; options: ArrowImportOptions; table?: TableSchema }

export type ParquetWorkerMessage =
  | { type: 'batch'; columns: ColumnMessage[]; rowStart: number; schema: TableSchema; bytes: number }
  | { type: 'done' };

serveWorkerStream<ParquetWorkerMessage, ParquetWorkerInput>(async (out, input) => {
  for await (const b of parquetBatches(input.file, input.options, input.table)) {
    const { columns, transfer } = batchToMessage(b.batch);
    await out.batch({ type: 'batch', columns, rowStart: b.rowStart, schema: b.schema, bytes: b.bytes }, transfer);
  }
  return { type: 'done' };
});
