import type { ByteReader, ByteWriter } from '../bytes.js';
import { decodeDeltaRleInt64 } from '../int64.js';
import { checkSafe, scaled, type IntChainCoder } from '../int-chain.js';
import { EncodingError } from '../types.js';

/** Runs of equal values (count only, for the picker). */
export function countRuns(v: Float64Array): number {
  let runs = v.length > 0 ? 1 : 0;
  for (let i = 1; i < v.length; i++) if (v[i] !== v[i - 1]) runs++;
  return runs;
}

/** Runs of equal deltas (count only, for the picker). */
export function countDeltaRuns(v: Float64Array): number {
  let runs = v.length > 1 ? 1 : 0;
  for (let i = 2; i < v.length; i++) if (v[i]! - v[i - 1]! !== v[i - 1]! - v[i - 2]!) runs++;
  return runs;
}

/**
 * `rle`: runs of equal values (sorted tag codes, constant columns, validity bitmaps): varint
 * run count, then (svarint value, varint length) per run.
 */
export const rle: IntChainCoder = {
  id: 'rle',
  encode(v: Float64Array, w: ByteWriter): void {
    const n = v.length;
    w.varint(countRuns(v));
    for (let i = 0; i < n;) {
      let j = i + 1;
      while (j < n && v[j] === v[i]) j++;
      w.svarint(v[i]!);
      w.varint(j - i);
      i = j;
    }
  },
  decode(r: ByteReader, n: number, divisor: number, into?: Float64Array): Float64Array {
    return scaled(readRuns(r, n, new Float64Array(n)), divisor, into);
  },
};

/**
 * The runs of an `rle` stage (count, then svarint value and varint length per run) filled into
 * `out` (n values): float64 pages, and int32 tag codes straight from their page (`lo`/`hi`
 * bound the values; checked once per run).
 */
export function readRuns<T extends Float64Array | Int32Array>(r: ByteReader, n: number, out: T, lo = -Infinity, hi = Infinity): T {
  const runs = r.count(n, 'rle runs');
  let at = 0;
  for (let k = 0; k < runs; k++) {
    const value = r.svarint();
    const length = r.varint();
    if (length === 0 || at + length > n) throw new EncodingError(`rle run ${k} of length ${length} overflows ${n} values`);
    if (value < lo || value > hi) throw new EncodingError(`i32 rle value ${value} out of range`);
    out.fill(value, at, at + length);
    at += length;
  }
  if (at !== n) throw new EncodingError(`rle runs cover ${at} values, expected ${n}`);
  return out;
}

/**
 * `delta>rle`: first value, then runs of equal deltas (regular timestamps): svarint first,
 * varint run count, (svarint delta, varint length) per run. int64 pages decode it straight
 * into int64 (decodeDeltaRleInt64).
 */
export const deltaRle: IntChainCoder = {
  id: 'delta>rle',
  encode(v: Float64Array, w: ByteWriter): void {
    const n = v.length;
    if (n === 0) return;
    w.svarint(v[0]!);
    w.varint(countDeltaRuns(v));
    for (let i = 1; i < n;) {
      const d = v[i]! - v[i - 1]!;
      let j = i + 1;
      while (j < n && v[j]! - v[j - 1]! === d) j++;
      w.svarint(d);
      w.varint(j - i);
      i = j;
    }
  },
  decode(r: ByteReader, n: number, divisor: number, into?: Float64Array): Float64Array {
    const out = new Float64Array(n);
    if (n === 0) return scaled(out, divisor, into);
    let x = r.svarint();
    out[0] = x;
    const runs = r.count(n, 'delta runs');
    let at = 1;
    for (let k = 0; k < runs; k++) {
      const d = r.svarint();
      const length = r.varint();
      if (length === 0 || at + length > n) throw new EncodingError(`delta run ${k} of length ${length} overflows ${n} values`);
      for (let e = at + length; at < e; at++) out[at] = x += d;
    }
    if (at !== n) throw new EncodingError(`delta runs cover ${at} values, expected ${n}`);
    checkSafe(out);
    return scaled(out, divisor, into);
  },
  decodeInt64(r: ByteReader, n: number, base: bigint, into?: BigInt64Array): BigInt64Array {
    return decodeDeltaRleInt64(r, base, n, into);
  },
};
