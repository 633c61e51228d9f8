/**
 * Snappy block format (not the framed stream format: remote write and read use blocks), by the
 * `snappy` package (napi-rs bindings of the Rust `snap` crate: strict about corrupt input, a
 * prebuilt binary per platform on npm). The uncompressed length is read from the block's
 * preamble and checked against a limit before anything is allocated.
 */
import { compressSync, uncompressSync } from 'snappy';
import { InputError, LimitExceededError } from '../../errors.js';

/** The uncompressed length a snappy block announces (its leading varint), or an InputError. */
export function snappyLength(block: Uint8Array, what: string): number {
  let value = 0;
  for (let i = 0, scale = 1; i < 5 && i < block.length; i++, scale *= 128) {
    const b = block[i]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
  }
  throw new InputError(`${what}: not a snappy block (no uncompressed length at its start)`);
}

/** Decompresses one block of at most `bytesMax` uncompressed bytes. */
export function snappyDecode(block: Uint8Array, bytesMax: number, what: string): Uint8Array {
  const length = snappyLength(block, what);
  if (length > bytesMax) throw new LimitExceededError(`${what}: uncompressed bytes`, length, bytesMax, 'snappy block length');
  try {
    return uncompressSync(Buffer.from(block.buffer, block.byteOffset, block.byteLength)) as Buffer;
  } catch (error) {
    throw new InputError(`${what}: not a valid snappy block (${(error as Error).message})`);
  }
}

export function snappyEncode(bytes: Uint8Array): Buffer {
  return compressSync(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
