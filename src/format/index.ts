/**
 * The packed chunk file format (layout diagram in chunk.ts, spec in docs/format.md).
 * Pure: no node:fs, no network; bytes come from a ByteSource.
 */
export { writeChunk, type WrittenChunk } from './chunk-writer.js';
export { openChunk, ChunkReader, TAIL_READ_BYTES, POOL_COLUMN_BYTES_MIN, type ChunkRegion } from './chunk-reader.js';
export { DecodePool, defaultDecodeThreads } from './decode-pool.js';
export { DecodeBufferPool, decodeBuffers, releaseBatch, releaseUnshared, DECODE_BUFFERS_IDLE_MAX } from './buffer-pool.js';
export { bufferSource } from './byte-source.js';
export { pagesToData, arrowColumnOf, type ArrowColumn } from './arrow-data.js';
export { getBlockCodec, isBlockCodecId, knownBlockCodecs } from './codecs/registry.js';
export { CodecError, type BlockCodec } from './codecs/types.js';
export { ZSTD_LEVEL_DEFAULT, ZSTD_LEVEL_MIN, ZSTD_LEVEL_MAX } from './codecs/zstd.js';
export { registerArrowCodecs } from './codecs/arrow.js';
export { DEFAULT_LIMITS, resolveLimits } from './limits.js';
export { isFieldType } from './field-types.js';
export { compareStrings, statKindOf } from './stats.js';
export { pageKindOf } from './column-kind.js';
export {
  FORMAT_VERSION, MAGIC, TRAILER_BYTES, FOOTER_HEADER_BYTES, DEFAULT_PAGE_ROWS, WRITER_ID,
} from './chunk.js';
export type * from './types.js';
export type { PageValues, PageKind } from './encodings/types.js';
