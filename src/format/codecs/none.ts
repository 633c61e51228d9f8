import { CodecError, type BlockCodec } from './types.js';

/** `none`: the stored bytes are the encoded bytes. */
export const noneCodec: BlockCodec = {
  id: 'none',
  encode(bytes) {
    return bytes;
  },
  encodeBound(bytes) {
    return bytes;
  },
  encodeInto(bytes, dst) {
    dst.set(bytes);
    return bytes.length;
  },
  decodeInto(stored, dst) {
    dst.set(this.decode(stored, dst.length));
  },
  decode(stored, decodedBytes) {
    if (stored.length !== decodedBytes) {
      throw new CodecError(`none: stored ${stored.length} bytes, expected ${decodedBytes}`);
    }
    return stored;
  },
};
