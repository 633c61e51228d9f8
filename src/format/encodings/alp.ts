import { ByteReader, ByteWriter, SAFE_MAGNITUDE_MAX } from './bytes.js';
import { EncodingError } from './types.js';

/**
 * ALP (Afroozeh, Kuffo, Boncz, SIGMOD 2024), the decimal part: a double that was printed
 * with `e` decimals is exactly `round(x·10^e) / 10^e`, so the page is stored as the integers
 * `round(x·10^e)` (then any integer chain) plus an exponent. Values that do not round-trip
 * (NaN, ±Inf, -0, more digits than `e`) are exceptions kept aside with their raw bits;
 * their integer slot repeats the previous integer so deltas stay small.
 *
 * Header: u8 e | varint exceptions | per exception: varint position gap, i64 raw bits
 * (bits, not the number: NaN payloads survive).
 */
export const ALP_EXPONENT_MAX = 14;
const POW10 = Array.from({ length: ALP_EXPONENT_MAX + 1 }, (_, e) => 10 ** e);
/** A page is ALP-worthy when at most this share of its values are exceptions. */
const EXCEPTIONS_SHARE_MAX = 0.05;

function fits(x: number, e: number): boolean {
  const scaled = Math.round(x * POW10[e]!);
  return Math.abs(scaled) < SAFE_MAGNITUDE_MAX && scaled / POW10[e]! === x && !Object.is(x, -0);
}

/** Values sampled to choose the exponent. */
const EXPONENT_SAMPLE_SIZE = 256;

/** The smallest exponent under which (nearly) every sampled value round-trips, or -1. */
export function chooseExponent(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return 0;
  const sampleSize = Math.min(n, EXPONENT_SAMPLE_SIZE);
  const allowed = Math.max(1, Math.floor(sampleSize * EXCEPTIONS_SHARE_MAX));
  for (let e = 0; e <= ALP_EXPONENT_MAX; e++) {
    let misses = 0;
    for (let s = 0; s < sampleSize && misses <= allowed; s++) {
      if (!fits(values[Math.floor((s * n) / sampleSize)]!, e)) misses++;
    }
    if (misses <= allowed) return e;
  }
  return -1;
}

/** Splits the page into integers and exceptions; null when exceptions exceed the share. */
export function alpSplit(values: Float64Array, e: number): { ints: Float64Array; positions: number[] } | null {
  const n = values.length;
  const ints = new Float64Array(n);
  const positions: number[] = [];
  const scale = POW10[e]!;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    const scaled = Math.round(x * scale);
    if (Math.abs(scaled) < SAFE_MAGNITUDE_MAX && scaled / scale === x && !Object.is(x, -0)) {
      ints[i] = prev = scaled;
    } else {
      ints[i] = prev;
      positions.push(i);
    }
  }
  return positions.length > Math.max(1, n * EXCEPTIONS_SHARE_MAX) ? null : { ints, positions };
}

export function writeAlpHeader(w: ByteWriter, e: number, values: Float64Array, positions: number[]): void {
  w.u8(e);
  w.varint(positions.length);
  const bits = new BigInt64Array(values.buffer, values.byteOffset, values.length);
  let last = 0;
  for (const p of positions) { w.varint(p - last); w.i64(bits[p]!); last = p; }
}

export function readAlpHeader(r: ByteReader, n: number): { e: number; exceptions: { position: number; bits: bigint }[] } {
  const e = r.u8();
  if (e > ALP_EXPONENT_MAX) throw new EncodingError(`alp exponent ${e} exceeds ${ALP_EXPONENT_MAX}`);
  const count = r.count(n, 'alp exceptions');
  const exceptions: { position: number; bits: bigint }[] = [];
  let at = 0;
  for (let k = 0; k < count; k++) {
    at += r.varint();
    if (at >= n) throw new EncodingError(`alp exception position ${at} outside ${n} values`);
    exceptions.push({ position: at, bits: r.i64() });
  }
  return { e, exceptions };
}

/** 10^e, the divisor that turns ALP integers back into doubles (exact powers for e ≤ 22). */
export function alpDivisor(e: number): number {
  return POW10[e]!;
}

/** Patches the exceptions into decoded doubles (the integers were already divided by 10^e). */
export function alpPatch(out: Float64Array, exceptions: { position: number; bits: bigint }[]): Float64Array {
  const bits = new BigInt64Array(out.buffer, out.byteOffset, out.length);
  for (const x of exceptions) bits[x.position] = x.bits;
  return out;
}
