import { SAFE_MAGNITUDE_MAX, type ByteReader } from './bytes.js';
import { EncodingError } from './types.js';
import { decodeKernels } from './kernels.js';

/**
 * 64-bit integers (timestamps in ns are ~1.7e18, past float64's exact range) reach the
 * integer chains as `base + rel[i]`: the first value kept whole, the rest as exact float64
 * offsets computed on 32-bit halves (no BigInt per value).
 */
export function toRelative(values: BigInt64Array): { base: bigint; rel: Float64Array } | null {
  const n = values.length;
  const base = n > 0 ? values[0]! : 0n;
  const rel = new Float64Array(n);
  if (n === 0) return { base, rel };
  const halves = new Int32Array(values.buffer, values.byteOffset, n * 2);
  const lo0 = halves[0]! >>> 0;
  const hi0 = halves[1]!;
  for (let i = 0; i < n; i++) {
    const r = (halves[2 * i + 1]! - hi0) * 4294967296 + ((halves[2 * i]! >>> 0) - lo0);
    if (!(Math.abs(r) < SAFE_MAGNITUDE_MAX)) return null;
    rel[i] = r;
  }
  return { base, rel };
}

/** Inverse of toRelative: wrapping 64-bit addition on halves, as int64 arithmetic does. */
export function fromRelative(base: bigint, rel: Float64Array, into?: BigInt64Array): BigInt64Array {
  const n = rel.length;
  const out = into ?? new BigInt64Array(n);
  const kernel = decodeKernels.relativeToInt64;
  if (kernel) { kernel(base, rel, out); return out; }
  const halves = new Int32Array(out.buffer, out.byteOffset, n * 2);
  const b = new BigInt64Array([base]);
  const bh = new Int32Array(b.buffer);
  const lo0 = bh[0]! >>> 0;
  const hi0 = bh[1]!;
  for (let i = 0; i < n; i++) {
    const r = rel[i]!;
    const rHi = Math.floor(r / 4294967296);
    const lo = lo0 + (r - rHi * 4294967296);
    const carry = lo >= 4294967296 ? 1 : 0;
    halves[2 * i] = lo - carry * 4294967296;
    halves[2 * i + 1] = (hi0 + rHi + carry) | 0;
  }
  return out;
}

const TWO32 = 4294967296;

/**
 * `delta>rle` over `value - base` straight into int64 (timestamps): the same bytes and checks
 * as decodeInts('delta>rle') + fromRelative, in one pass over 32-bit halves with the run's
 * delta split once into high and low words (regular series are one run: an add per value).
 */
export function decodeDeltaRleInt64(r: ByteReader, base: bigint, n: number, into?: BigInt64Array): BigInt64Array {
  const out = into ?? new BigInt64Array(n);
  if (n === 0) return out;
  const halves = new Int32Array(out.buffer, out.byteOffset, n * 2);
  const b = new BigInt64Array([base]);
  const bh = new Int32Array(b.buffer);
  let x = r.svarint();
  if (!(Math.abs(x) <= Number.MAX_SAFE_INTEGER)) throw new EncodingError(`decoded integer ${x} at 0 outside the exact range`);
  // hi:lo = base + x as two int32 words (lo read unsigned); 64-bit wrapping like int64 math.
  const xHi = Math.floor(x / TWO32);
  const lo0 = (bh[0]! >>> 0) + (x - xHi * TWO32);
  let lo = lo0 | 0;
  let hi = (bh[1]! + xHi + (lo0 >= TWO32 ? 1 : 0)) | 0;
  halves[0] = lo;
  halves[1] = hi;
  const runs = r.count(n, 'delta runs');
  // Runs first (validated), then the fill: natively when the addon is there.
  const deltas = new Float64Array(runs);
  const lengths = new Float64Array(runs);
  let covered = 1;
  for (let k = 0; k < runs; k++) {
    const d = r.svarint();
    const length = r.varint();
    if (length === 0 || covered + length > n) throw new EncodingError(`delta run ${k} of length ${length} overflows ${n} values`);
    // The prefix sum must stay exact, as in decodeInts: a run moves linearly, so its end decides.
    const end = x + d * length;
    if (!(Math.abs(d) <= Number.MAX_SAFE_INTEGER) || !(Math.abs(end) <= Number.MAX_SAFE_INTEGER)) {
      throw new EncodingError(`decoded integer ${end} at ${covered + length - 1} outside the exact range`);
    }
    x = end;
    deltas[k] = d;
    lengths[k] = length;
    covered += length;
  }
  if (covered !== n) throw new EncodingError(`delta runs cover ${covered} values, expected ${n}`);
  const kernel = decodeKernels.deltaRunsInt64;
  if (kernel) { kernel(deltas, lengths, out); return out; }
  let at = 1;
  for (let k = 0; k < runs; k++) {
    const d = deltas[k]!;
    const length = lengths[k]!;
    const dHi = Math.floor(d / TWO32) | 0;
    const dLo = (d - Math.floor(d / TWO32) * TWO32) | 0;
    for (let e = at + length; at < e; at++) {
      const next = (lo + dLo) | 0;
      // Unsigned overflow of the low word carries into the high one.
      hi = (hi + dHi + ((next >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      lo = next;
      halves[2 * at] = lo;
      halves[2 * at + 1] = hi;
    }
  }
  return out;
}
