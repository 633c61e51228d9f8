/**
 * Quiver: an Arrow-based columnar storage engine for time series.
 *
 *   const db = await Quiver.open('./quiver-data')            // or s3://…, az://…, gs://…
 *   const cpu = await db.createTable('cpu', { tags: ['host'], fields: [{ name: 'usage', type: 'float64' }] })
 *   await cpu.append(rowsOrRecordBatch); await cpu.flush()
 *   for await (const batch of cpu.scan({ from, to, where: { host: 'a' }, columns: ['usage'] })) …
 *   const table = await cpu.query({ from, to, every: '1h', by: ['host'], agg: { usage: 'max' } })
 */
export { Quiver, DEFAULT_TABLE_OPTIONS, type Point, type PointOptions, type QuiverOptions } from './quiver.js';
export { Table } from './table/table.js';
export { setRetention, dropExpired, parseDuration, formatDuration } from './table/retention.js';
export type { RollupRequest } from './table/rollup.js';
export type { RollupRefresh } from './table/rollup-maintain.js';
export { planCompaction, type CompactOptions, type CompactResult, type CompactGroup } from './table/compact.js';
export type { VacuumOptions, VacuumResult } from './table/vacuum.js';
export type { DeleteOptions, DeleteResult } from './table/delete.js';
export { WriteAheadLog, describeRecovery, type WalRecovery, type WalRecoveryReport, type WalLostRange } from './table/wal.js';
export type * from './core/types.js';
export * from './errors.js';
export type { ChunkManager, PutOptions, ListOptions, ByteRange } from './chunk-manager/chunk-manager.js';
export { openStore, registerStore, type StoreProvider, type OpenStoreOptions } from './chunk-manager/url.js';
export { MemoryChunkManager } from './chunk-manager/memory.js';
export { LocalChunkManager } from './chunk-manager/local.js';
export { CountingChunkManager } from './chunk-manager/counting.js';
export { CachingChunkManager } from './chunk-manager/cache.js';
export { RetryingChunkManager } from './chunk-manager/retry.js';
export { writeChunk, openChunk, bufferSource, FORMAT_VERSION, releaseBatch } from './format/index.js';
export type { ChunkFooter, ColumnFooter, PageFooter } from './format/types.js';
export type { QueryOptions, AggSpec, FieldPredicate } from './scan/query-types.js';
export { registerAggregate, fieldAccumulator, type AggregateDescriptor, type AggregateState, type SlotInput } from './scan/aggregates/index.js';
export type { ExportOptions, ExportResult } from './export/export.js';
export type { ByteSink, ParquetCodec } from './export/parquet-writer.js';
