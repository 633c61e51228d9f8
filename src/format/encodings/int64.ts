import { SAFE_MAGNITUDE_MAX } from './bytes.js';

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
