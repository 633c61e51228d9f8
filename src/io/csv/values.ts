/**
 * Field conversion straight from bytes. Each parser returns NaN / null for "not this type"
 * so the caller can report file:line:column with what was expected.
 */
import { daysFromCivil } from '../../format/field-types.js';

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A decimal from bytes, bit-identical to Number(text): mantissas of up to 15 digits with
 * up to 22 fraction digits are exact integers divided by an exact power of ten (one
 * correctly rounded IEEE division); anything else (exponents, long mantissas, spaces,
 * inf/nan spellings) goes through the general path and Number(). Returns NaN when the
 * text is not a number.
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
  return Number(text);
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

function digitsAt(buf: Uint8Array, i: number, count: number): number {
  let v = 0;
  for (let k = 0; k < count; k++) {
    const c = buf[i + k]! - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * ISO-8601 from bytes: `YYYY-MM-DD`, then optional `T` or space, `HH:MM[:SS[.f…]]` (up to
 * 9 fraction digits), then optional `Z` or `±HH[:MM]` (none = UTC). Returns epoch
 * nanoseconds, or null when the text is not such a time.
 */
export function parseIsoBytes(buf: Uint8Array, start: number, end: number): bigint | null {
  while (start < end && buf[start] === 0x20) start++;
  while (end > start && buf[end - 1] === 0x20) end--;
  if (end - start < 10 || buf[start + 4] !== 0x2d || buf[start + 7] !== 0x2d) return null;
  const y = digitsAt(buf, start, 4), mo = digitsAt(buf, start + 5, 2), d = digitsAt(buf, start + 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1]! || (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)))) return null;
  let i = start + 10;
  let secs = 0;
  let fracNs = 0;
  if (i < end && (buf[i] === 0x54 || buf[i] === 0x74 || buf[i] === 0x20) && i + 1 < end && buf[i + 1]! >= 0x30 && buf[i + 1]! <= 0x39) {
    i++;
    const h = digitsAt(buf, i, 2);
    if (h < 0 || h > 23 || buf[i + 2] !== 0x3a) return null;
    const mi = digitsAt(buf, i + 3, 2);
    if (mi < 0 || mi > 59) return null;
    i += 5;
    let s = 0;
    if (i < end && buf[i] === 0x3a) {
      s = digitsAt(buf, i + 1, 2);
      if (s < 0 || s > 60) return null;
      i += 3;
      if (i < end && (buf[i] === 0x2e || buf[i] === 0x2c)) {
        i++;
        let k = 0;
        while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
          if (k < 9) fracNs = fracNs * 10 + (buf[i]! - 0x30);
          k++;
          i++;
        }
        if (k === 0) return null;
        for (; k < 9; k++) fracNs *= 10;
      }
    }
    secs = h * 3600 + mi * 60 + s;
  }
  let offsetSecs = 0;
  if (i < end) {
    const c = buf[i]!;
    if ((c === 0x5a || c === 0x7a) && i + 1 === end) i++;
    else if (c === 0x2b || c === 0x2d) {
      const oh = digitsAt(buf, i + 1, 2);
      if (oh < 0) return null;
      let om = 0;
      let j = i + 3;
      if (j < end && buf[j] === 0x3a) j++;
      if (j < end) { om = digitsAt(buf, j, 2); if (om < 0) return null; j += 2; }
      if (j !== end) return null;
      offsetSecs = (c === 0x2d ? -1 : 1) * (oh * 3600 + om * 60);
      i = end;
    } else return null;
  }
  if (i !== end) return null;
  const epochSecs = daysFromCivil(y, mo, d) * 86400 + secs - offsetSecs;
  return BigInt(epochSecs) * 1_000_000_000n + BigInt(fracNs);
}

/** Epoch digits in a given unit → ns; null when not an integer. */
export function parseEpochBytes(buf: Uint8Array, start: number, end: number, unit: Exclude<TimeFormat, 'iso'>): bigint | null {
  const v = parseIntBytes(buf, start, end);
  if (v === null) return null;
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
