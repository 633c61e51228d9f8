import { ByteReader, ByteWriter } from './bytes.js';
import { getStream, putStream } from './bitsplit.js';

/**
 * `bss` (byte-stream split, as in Parquet's BYTE_STREAM_SPLIT): the 8 bytes of every double
 * regrouped into 8 planes, each entropy-coded on its own. For doubles that are not decimals
 * (measurements, ratios) the sign/exponent planes are highly repetitive and the low mantissa
 * planes are noise; splitting lets each be coded by its own statistics.
 */
export const BSS_ID = 'bss';

export function encodeBss(values: Float64Array, w: ByteWriter): void {
  const n = values.length;
  const bytes = new Uint8Array(values.buffer, values.byteOffset, n * 8);
  const plane = new Uint8Array(n);
  for (let j = 0; j < 8; j++) {
    for (let i = 0; i < n; i++) plane[i] = bytes[i * 8 + j]!;
    putStream(w, plane);
  }
}

export function decodeBss(r: ByteReader, n: number): Float64Array {
  const out = new Float64Array(n);
  const bytes = new Uint8Array(out.buffer);
  for (let j = 0; j < 8; j++) {
    const plane = getStream(r, n);
    for (let i = 0; i < n; i++) bytes[i * 8 + j] = plane[i]!;
  }
  return out;
}
