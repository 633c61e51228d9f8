/** Parquet (parquet-wasm, one row group at a time; large files decoded in a worker thread: ../parquet.ts). */
import { PARQUET_WORKER_BYTES_MIN, readParquetFile } from '../parquet.js';
import type { ImportFormatDescriptor } from './registry.js';

export const PARQUET_MAGIC = 'PAR1';

export const parquetFormat: ImportFormatDescriptor = {
  id: 'parquet',
  name: 'Parquet',
  extensions: ['.parquet', '.pq'],
  magic: (head) => head.length >= 4 && Buffer.from(head.subarray(0, 4)).toString('latin1') === PARQUET_MAGIC,
  // The footer is at the end: the reader seeks.
  pipeable: false,
  open(input, context) {
    const parallel = context.parallel && (input.size ?? 0) >= (context.options.workerBytesMin ?? PARQUET_WORKER_BYTES_MIN);
    return readParquetFile(input.file, context.counter, { ...context.options, parallel }, context.table);
  },
};
