import type { RecordBatch } from 'apache-arrow';
import type { TableSchema } from '../core/types.js';
import type { ArrowImportOptions } from './arrow-batch.js';
import { messageToBatch } from './batch-transfer.js';
import type { ParquetBatch } from './parquet-groups.js';
import type { ParquetWorkerInput, ParquetWorkerMessage } from './parquet-worker.js';
import { workerStream } from './worker-stream.js';

/** Parquet files at least this large (bytes) are decoded in a worker by importFiles. */
export const PARQUET_WORKER_BYTES_MIN = 4 * 1024 * 1024;
/** Batches the worker may decode ahead of the writer. */
export const PARQUET_BATCHES_IN_FLIGHT = 4;

/**
 * Parquet files through parquet-wasm (arrow-rs compiled to WebAssembly: every codec —
 * snappy, gzip, zstd, lz4, brotli — every v1/v2 encoding, INT96 and logical timestamps of
 * any unit, dates, decimals, strings), one row group at a time, so memory holds the footer
 * and a few row groups. Batches are converted to the table's shape by
 * ArrowBatchConverter; with `parallel`, decoding and conversion run in a worker thread
 * while this thread writes.
 *
 * Measured on the 864,000-row cpu export (zstd, 7 row groups): decoding to Arrow takes
 * 0.6–1.1 s with parquet-wasm; the whole import took 10.2 s with hyparquet (a JS value per
 * cell, then rebuilt into Arrow) vs 3.4 s with parquet-wasm, so parquet-wasm it is.
 */
export async function* readParquetFile(file: string, counter: { bytes: number }, options: ArrowImportOptions & { parallel?: boolean }, table?: TableSchema): AsyncGenerator<{ batch: RecordBatch; rowStart: number; schema?: TableSchema }> {
  const { parallel, ...convert } = options;
  const arrow: ArrowImportOptions = {
    ...(convert.time !== undefined ? { time: convert.time } : {}), ...(convert.tags ? { tags: convert.tags } : {}),
    ...(convert.timeUnit ? { timeUnit: convert.timeUnit } : {}), ...(convert.timeFormat ? { timeFormat: convert.timeFormat } : {}),
  };
  // parquet-wasm (~20 MB resident) loads only when a Parquet file is read on this thread.
  const batches = parallel ? batchesInWorker(file, arrow, table) : (await import('./parquet-groups.js')).parquetBatches(file, arrow, table);
  for await (const b of batches) {
    yield { batch: b.batch, rowStart: b.rowStart, schema: b.schema };
    counter.bytes += b.bytes;
  }
}

async function* batchesInWorker(file: string, options: ArrowImportOptions, table?: TableSchema): AsyncGenerator<ParquetBatch> {
  const workerData: ParquetWorkerInput = { file, credit: PARQUET_BATCHES_IN_FLIGHT, options, ...(table ? { table } : {}) };
  for await (const m of workerStream<ParquetWorkerMessage>(new URL('./parquet-worker.js', import.meta.url), workerData, 'Parquet decoder worker', () => file)) {
    if (m.type === 'batch') yield { batch: messageToBatch(m.columns), rowStart: m.rowStart, schema: m.schema, bytes: m.bytes };
  }
}
