import { type ByteReader, type ByteWriter, zigzag } from './bytes.js';
import { EncodingError } from './types.js';

/**
 * What an integer chain is to the registry: one entry of the chains table (ints.ts), coded in
 * its stage file (chains/*.ts). Integer chains run over safe integers (|v| < 2^51, as float64
 * numbers: exact, and far faster in V8 than BigInt): int64 pages reach them relative to a base
 * value (int64.ts), doubles through ALP's scaled integers (alp.ts, as `alp>` + the id), tag
 * codes directly.
 */
export interface IntChainCoder {
  /**
   * The stable id, the stages joined by '>' (outermost first). Chunk footers record it per
   * page: an id once written is never reused for other bytes, and is never removed.
   */
  readonly id: string;
  /** Writes the page; throws EncodingError when its values do not fit the chain. */
  encode(v: Float64Array, w: ByteWriter): void;
  /**
   * Reads `n` values, each divided by `divisor` (ALP's 10^e; 1 otherwise), into `into` when
   * given. Bytes that do not decode to `n` exact values throw EncodingError.
   */
  decode(r: ByteReader, n: number, divisor: number, into?: Float64Array): Float64Array;
  /** For int64 pages, `base + value` straight into int64 (faster than doubles, then fromRelative). */
  decodeInt64?(r: ByteReader, n: number, base: bigint, into?: BigInt64Array): BigInt64Array;
  /**
   * Tried by the picker (int-picker.ts) on a page it named `picked` for, when `when` says so;
   * the smallest candidate is kept. With `replaces`, the chain stands in for that picked chain
   * (which is then tried only when the writer prefers size).
   */
  readonly trial?: { when(v: Float64Array, picked: string): boolean; replaces?: string };
}

/** Hostile bytes could walk a prefix sum out of the exact range; refuse rather than round. */
export function checkSafe(v: Float64Array): void {
  for (let i = 0; i < v.length; i++) {
    if (!(Math.abs(v[i]!) <= Number.MAX_SAFE_INTEGER)) throw new EncodingError(`decoded integer ${v[i]} at ${i} outside the exact range`);
  }
}

/** A decoded page's values divided by `divisor` (ALP) and copied into `into` when given. */
export function scaled(out: Float64Array, divisor: number, into?: Float64Array): Float64Array {
  if (divisor !== 1) for (let i = 0; i < out.length; i++) out[i] = out[i]! / divisor;
  if (into) { into.set(out); return into; }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) { const t = a % b; a = b; b = t; }
  return a;
}

/** Greatest common divisor of the page's deltas (0 when all are 0). */
export function deltaGcd(v: Float64Array): number {
  let g = 0;
  for (let i = 1; i < v.length && g !== 1; i++) {
    const d = Math.abs(v[i]! - v[i - 1]!);
    if (d !== 0) g = g === 0 ? d : gcd(g, d);
  }
  return g;
}

/** The sorted distinct values, or null when there are more than `max` (or one is not a safe integer). */
export function distinctSorted(v: Float64Array, max: number): number[] | null {
  const seen = new Set<number>();
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (seen.has(x)) continue;
    if (seen.size === max || !Number.isSafeInteger(x)) return null;
    seen.add(x);
  }
  return [...seen].sort((a, b) => a - b);
}

/** Bits of a non-negative integer: the picker's cost proxy (clz32 when it fits, log2 above). */
export function bitsOf(x: number): number {
  return x < 4294967296 ? 32 - Math.clz32(x) : Math.log2(x + 1);
}

/** Pages shorter than this keep the picker's chain: too few values for a rANS table to pay. */
export const TRIAL_VALUES_MIN = 256;

/** The chains the picker names for random walks; the rANS trials stand in for them or join them. */
export const DELTA_BITSPLIT_IDS: readonly string[] = ['delta>zigzag>bitsplit', 'delta>gcd>zigzag>bitsplit'];

/**
 * The id of a rANS chain with `lanes` states: `…>rans` (one) or `…>rans2` (two), both written
 * before; `…>ransx` ('page') pages store their lane count.
 */
export function ransId(stages: string, lanes: 1 | 2 | 'page'): string {
  return lanes === 'page' ? `${stages}x` : lanes === 2 ? `${stages}2` : stages;
}

/** Zigzagged deltas (divided by `g`) of a page, with its first value in front. */
export function zigzagDeltas(v: Float64Array, g: number): Float64Array {
  const n = v.length;
  const z = new Float64Array(n);
  let prev = n > 0 ? v[0]! : 0;
  for (let i = 0; i < n; i++) { const x = v[i]!; z[i] = zigzag((x - prev) / g); prev = x; }
  return z;
}
