import { compressSync, uncompressSync } from 'lz4-napi';
import { CodecError, type BlockCodec } from './types.js';

/** Bytes of the little-endian u32 decoded size lz4-napi puts before the block. */
const LZ4_SIZE_PREFIX_BYTES = 4;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * `lz4`: u32 LE decoded size, then one raw LZ4 block (lz4-napi `compressSync` layout).
 * Decoding checks the prefix against the footer's decoded size before lz4 allocates, so a
 * hostile prefix cannot make it allocate more than the footer allows.
 */
export const lz4Codec: BlockCodec = {
  id: 'lz4',
  encode(bytes) {
    return compressSync(asBuffer(bytes));
  },
  encodeBound(bytes) {
    // LZ4_COMPRESSBOUND plus the size prefix.
    return bytes + Math.floor(bytes / 255) + 16 + LZ4_SIZE_PREFIX_BYTES;
  },
  encodeInto(bytes, dst) {
    const out = compressSync(asBuffer(bytes));
    dst.set(out);
    return out.length;
  },
  decodeInto(stored, dst) {
    dst.set(this.decode(stored, dst.length));
  },
  decode(stored, decodedBytes) {
    if (stored.length < LZ4_SIZE_PREFIX_BYTES) {
      throw new CodecError(`lz4: stored ${stored.length} bytes, shorter than the ${LZ4_SIZE_PREFIX_BYTES}-byte size prefix`);
    }
    const declared = (stored[0]! | (stored[1]! << 8) | (stored[2]! << 16) | (stored[3]! << 24)) >>> 0;
    if (declared !== decodedBytes) {
      throw new CodecError(`lz4: block declares ${declared} decoded bytes, expected ${decodedBytes}`);
    }
    let out: Buffer;
    try {
      out = uncompressSync(stored);
    } catch (error) {
      throw new CodecError(`lz4: ${(error as Error).message}`);
    }
    if (out.length !== decodedBytes) {
      throw new CodecError(`lz4: decoded ${out.length} bytes, expected ${decodedBytes}`);
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  },
};
