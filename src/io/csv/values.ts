// `x[i]!` in this file indexes within the bounds of its loop, on per-value paths where an
// assert() per value would cost (noUncheckedIndexedAccess); invariants elsewhere use assert()/at().
/**
 * Field conversion straight from bytes. Each parser returns NaN / null for "not this type"
 * so the caller can report file:line:column with what was expected.
 */

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A decimal from bytes, bit-identical to Number(text): mantissas of up to 15 digits with
 * up to 22 fraction digits are exact integers divided by an exact power of ten (one
 * correctly rounded IEEE division); anything else (exponents, long mantissas, spaces,
 * inf/nan spellings) goes through the general path and Number(). Returns NaN when the
 * text is not a number, and for a finite literal beyond the double range (`1e999`, which
 * Number() makes Infinity): infinities are only spelled `inf`/`infinity`.
 */
export function parseFloatBytes(buf: Uint8Array, start: number, end: number): number {
  // Fast path: [+-]digits[.digits], nothing else (two tight loops, no per-byte state).
  let i = start;
  let negative = false;
  const first = buf[i];
  if (first === 0x2d) { negative = true; i++; } else if (first === 0x2b) i++;
  const d0 = i;
  let m = 0;
  while (i < end) { const c = buf[i]! - 0x30; if (c < 0 || c > 9) break; m = m * 10 + c; i++; }
  let digits = i - d0;
  let fraction = 0;
  if (i < end && buf[i] === 0x2e) {
    i++;
    const f0 = i;
    while (i < end) { const c = buf[i]! - 0x30; if (c < 0 || c > 9) break; m = m * 10 + c; i++; }
    fraction = i - f0;
    digits += fraction;
  }
  if (i !== end || digits === 0 || digits > 15 || fraction > 22) return parseFloatGeneral(buf, start, end);
  const v = fraction === 0 ? m : m / POW10[fraction]!;
  return negative ? -v : v;
}

/** The general path: surrounding spaces, leading zeros beyond 15 digits, then Number(). */
function parseFloatGeneral(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && buf[i] === 0x20) i++;
  while (end > i && buf[end - 1] === 0x20) end--;
  if (i >= end) return NaN;
  let negative = false;
  if (buf[i] === 0x2d) { negative = true; i++; } else if (buf[i] === 0x2b) i++;
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let seenDot = false;
  let any = false;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x30 && c <= 0x39) {
      any = true;
      if (digits > 0 || c !== 0x30) digits++;
      mantissa = mantissa * 10 + (c - 0x30);
      if (seenDot) fraction++;
    } else if (c === 0x2e && !seenDot) {
      seenDot = true;
    } else {
      return slowFloat(buf, start, end);
    }
  }
  if (!any) return NaN;
  if (digits > 15 || fraction > 22) return slowFloat(buf, start, end);
  const value = fraction === 0 ? mantissa : mantissa / POW10[fraction]!;
  return negative ? -value : value;
}

function slowFloat(buf: Uint8Array, start: number, end: number): number {
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1').trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$/i.test(text)) return NaN;
  const lower = text.toLowerCase();
  if (lower.endsWith('nan')) return NaN; // the caller tells a spelled NaN from garbage with isNanSpelling
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  // A finite literal beyond the double range (1e999) is not a number of this type: only the
  // inf spellings above are infinities.
  const value = Number(text);
  return Number.isFinite(value) ? value : NaN;
}

/** Whether a float parse failure was a real number spelled "nan" (NaN is a value, not an error). */
export function isNanSpelling(buf: Uint8Array, start: number, end: number): boolean {
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1').trim().toLowerCase();
  return text === 'nan' || text === '+nan' || text === '-nan';
}

/** A signed integer from bytes, or null. */
export function parseIntBytes(buf: Uint8Array, start: number, end: number): bigint | null {
  let i = start;
  while (i < end && buf[i] === 0x20) i++;
  while (end > i && buf[end - 1] === 0x20) end--;
  if (i >= end) return null;
  const signStart = i;
  if (buf[i] === 0x2d || buf[i] === 0x2b) i++;
  if (i >= end) return null;
  let value = 0;
  for (let j = i; j < end; j++) {
    const c = buf[j]!;
    if (c < 0x30 || c > 0x39) return null;
    value = value * 10 + (c - 0x30);
  }
  if (end - i <= 15) return BigInt(buf[signStart] === 0x2d ? -value : value);
  const big = BigInt(Buffer.from(buf.buffer, buf.byteOffset + signStart, end - signStart).toString('latin1'));
  return big >= -(2n ** 63n) && big < 2n ** 64n ? big : null;
}

const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0']);

export function parseBoolText(text: string): boolean | null {
  const t = text.trim().toLowerCase();
  return TRUE.has(t) ? true : FALSE.has(t) ? false : null;
}

export type TimeFormat = 'iso' | 's' | 'ms' | 'us' | 'ns';

export { parseIso, parseIsoBytes } from '../../core/time.js';

/** Longest epoch integer read (digits): far beyond every unit's range, short enough to parse cheaply. */
const EPOCH_DIGITS_MAX = 64;

/**
 * Epoch digits (optional sign, surrounding spaces) in a given unit → ns, exact at any size
 * (the caller checks the result against its table unit's range); null when not an integer.
 */
export function parseEpochBytes(buf: Uint8Array, start: number, end: number, unit: Exclude<TimeFormat, 'iso'>): bigint | null {
  while (start < end && buf[start] === 0x20) start++;
  while (end > start && buf[end - 1] === 0x20) end--;
  let i = start;
  const negative = buf[i] === 0x2d;
  if (negative || buf[i] === 0x2b) i++;
  if (i >= end || end - i > EPOCH_DIGITS_MAX) return null;
  let v: bigint;
  if (end - i <= 15) {
    let n = 0;
    for (let j = i; j < end; j++) { const c = buf[j]! - 0x30; if (c < 0 || c > 9) return null; n = n * 10 + c; }
    v = BigInt(n);
  } else {
    for (let j = i; j < end; j++) { const c = buf[j]! - 0x30; if (c < 0 || c > 9) return null; }
    v = BigInt(Buffer.from(buf.buffer, buf.byteOffset + i, end - i).toString('latin1'));
  }
  if (negative) v = -v;
  switch (unit) {
    case 's': return v * 1_000_000_000n;
    case 'ms': return v * 1_000_000n;
    case 'us': return v * 1_000n;
    case 'ns': return v;
  }
}

/** The epoch unit that puts a sample of integers in 1970–2200 (by magnitude). */
export function epochUnitOf(values: bigint[]): Exclude<TimeFormat, 'iso'> | null {
  const abs = values.map((v) => (v < 0n ? -v : v));
  const max = abs.reduce((a, b) => (b > a ? b : a), 0n);
  if (max < 10n ** 10n) return 's';
  if (max < 10n ** 13n) return 'ms';
  if (max < 10n ** 16n) return 'us';
  if (max < 10n ** 19n) return 'ns';
  return null;
}
