import { CompressionType, compressionRegistry } from 'apache-arrow';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import zstd from 'zstd-napi/binding.js';
import { compress as zstdCompress, decompress as zstdDecompress } from 'zstd-napi';
import { ZSTD_LEVEL_DEFAULT } from './zstd.js';

/** Largest buffer a zstd frame in an Arrow IPC body may declare (1 GiB). */
export const ARROW_ZSTD_DECODED_BYTES_MAX = 1024 * 1024 * 1024;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

let registered = false;

/**
 * Registers zstd and LZ4 (frame format, as the Arrow IPC spec requires) into apache-arrow's
 * `compressionRegistry`, so `tableFromIPC`/`RecordBatchReader` read IPC files with body
 * compression and `RecordBatchWriter` can write them. Idempotent.
 *
 * Arrow's codec seam passes no expected size, so zstd frames declaring more than
 * ARROW_ZSTD_DECODED_BYTES_MAX are refused; the check is best effort (LZ4 frames are not bounded).
 */
export function registerArrowCodecs(): void {
  if (registered) return;
  compressionRegistry.set(CompressionType.ZSTD, {
    encode: (data) => new Uint8Array(zstdCompress(data, { compressionLevel: ZSTD_LEVEL_DEFAULT })),
    decode: (data) => {
      const declared = zstd.getFrameContentSize(data);
      if (declared !== null && declared > ARROW_ZSTD_DECODED_BYTES_MAX) {
        throw new Error(`zstd IPC buffer declares ${declared} decoded bytes, above the limit ${ARROW_ZSTD_DECODED_BYTES_MAX}`);
      }
      return new Uint8Array(zstdDecompress(data));
    },
  });
  compressionRegistry.set(CompressionType.LZ4_FRAME, {
    encode: (data) => new Uint8Array(compressFrameSync(asBuffer(data))),
    decode: (data) => new Uint8Array(decompressFrameSync(asBuffer(data))),
  });
  registered = true;
}
