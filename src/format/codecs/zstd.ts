import zstd from 'zstd-napi/binding.js';
import { CodecError, type BlockCodec } from './types.js';

export const ZSTD_LEVEL_DEFAULT = 3;
export const ZSTD_LEVEL_MIN = 1;
export const ZSTD_LEVEL_MAX = 22;

let cctx: zstd.CCtx | undefined;
let dctx: zstd.DCtx | undefined;

/**
 * `zstd`: one Zstandard frame (content size in the frame header). Decoding checks the
 * frame's declared size against the footer's before allocating, then decompresses into a
 * buffer of exactly the expected size: zstd fails rather than write past it.
 */
export const zstdCodec: BlockCodec = {
  id: 'zstd',
  encode(bytes, level = ZSTD_LEVEL_DEFAULT) {
    cctx ??= new zstd.CCtx();
    const out = Buffer.allocUnsafe(zstd.compressBound(bytes.length));
    const written = cctx.compress(out, bytes, level);
    // Copy out of the bound-sized scratch so the page does not pin the slack.
    return new Uint8Array(out.subarray(0, written));
  },
  encodeBound(bytes) {
    return zstd.compressBound(bytes);
  },
  encodeInto(bytes, dst, level = ZSTD_LEVEL_DEFAULT) {
    cctx ??= new zstd.CCtx();
    return cctx.compress(dst, bytes, level);
  },
  decode(stored, decodedBytes) {
    const out = new Uint8Array(decodedBytes);
    this.decodeInto(stored, out);
    return out;
  },
  decodeInto(stored, dst) {
    const decodedBytes = dst.length;
    let declared: number | null;
    try {
      declared = zstd.getFrameContentSize(stored);
    } catch (error) {
      throw new CodecError(`zstd: ${(error as Error).message}`);
    }
    if (declared !== null && declared !== decodedBytes) {
      throw new CodecError(`zstd: frame declares ${declared} decoded bytes, expected ${decodedBytes}`);
    }
    dctx ??= new zstd.DCtx();
    let written: number;
    try {
      written = dctx.decompress(dst, stored);
    } catch (error) {
      throw new CodecError(`zstd: ${(error as Error).message}`);
    }
    if (written !== decodedBytes) {
      throw new CodecError(`zstd: decoded ${written} bytes, expected ${decodedBytes}`);
    }
  },
};
