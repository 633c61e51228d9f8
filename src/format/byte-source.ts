import { UsageError } from '../errors.js';
import type { ByteSource } from './types.js';

/**
 * A ByteSource over bytes in memory. Reads are zero-copy views; a read past the end returns
 * the bytes that exist (shorter than asked), as a file or object store would.
 */
export function bufferSource(bytes: Uint8Array, name: string): ByteSource {
  const read = (offset: number, length: number): Uint8Array => {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new UsageError(`bufferSource ${name}: bad range offset ${offset} length ${length}`);
    }
    return bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length));
  };
  return {
    name,
    size: () => Promise.resolve(bytes.length),
    read: (offset, length) => Promise.resolve(read(offset, length)),
    readRanges: (ranges) => Promise.resolve(ranges.map((r) => read(r.offset, r.length))),
  };
}
