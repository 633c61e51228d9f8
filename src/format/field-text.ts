import type { TimeUnit } from './types.js';

/**
 * The text of field values (field-types.ts's families print and parse through these): dates
 * and times (proleptic Gregorian, any year; ISO 8601, expanded years signed), decimals and
 * base64. Split from field-types.ts, which re-exports what others use.
 */

export const UNITS_PER_SECOND: Record<TimeUnit, bigint> = { s: 1n, ms: 1_000n, us: 1_000_000n, ns: 1_000_000_000n };
/** Largest decimal precision (Decimal256). */
export const DECIMAL_PRECISION_MAX = 76;

export const DAY_SECONDS = 86_400n;

// ---------------------------------------------------------------------------------------
// Text of dates and times (proleptic Gregorian, any year; ISO 8601, expanded years signed)

/** Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The civil date of a day number since 1970-01-01 (inverse of daysFromCivil). */
export function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

const pad = (n: number | bigint, width: number) => String(n).padStart(width, '0');

function yearText(y: number): string {
  if (y < 0) return `-${pad(-y, 4)}`;
  return y > 9999 ? `+${y}` : pad(y, 4);
}

/** `YYYY-MM-DD` of a day number (years outside 0…9999 signed, as ISO 8601 expanded years). */
export function formatDate(days: number): string {
  const { y, m, d } = civilFromDays(days);
  return `${yearText(y)}-${pad(m, 2)}-${pad(d, 2)}`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/** Digits of a fraction of `perSecond` units, trailing zeros dropped; '' for none. */
function fractionText(fraction: bigint, perSecond: bigint): string {
  if (fraction === 0n) return '';
  const digits = perSecond.toString().length - 1;
  return `.${pad(fraction, digits).replace(/0+$/, '')}`;
}

/** `HH:MM:SS[.fraction]` of a count of units since midnight (negative: a leading '-'; 24 h and more: hours above 23). */
export function formatTimeOfDay(value: bigint, unit: TimeUnit): string {
  const perSecond = UNITS_PER_SECOND[unit];
  const sign = value < 0n ? '-' : '';
  const v = value < 0n ? -value : value;
  const seconds = v / perSecond;
  return `${sign}${pad(seconds / 3600n, 2)}:${pad((seconds / 60n) % 60n, 2)}:${pad(seconds % 60n, 2)}${fractionText(v % perSecond, perSecond)}`;
}

/** ISO 8601 UTC of an epoch count of units: `2026-01-01T00:00:10.5Z`, any int64. */
export function formatInstant(value: bigint, unit: TimeUnit): string {
  const perDay = UNITS_PER_SECOND[unit] * DAY_SECONDS;
  const days = floorDiv(value, perDay);
  return `${formatDate(Number(days))}T${formatTimeOfDay(value - days * perDay, unit)}Z`;
}

const DATE_RE = /^([+-]\d{4,}|\d{4})-(\d{2})-(\d{2})/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?/;

/** Day number of `YYYY-MM-DD` at the start of `text`, and the characters it took; undefined if none. */
function parseDatePrefix(text: string): { days: number; length: number } | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  if (!Number.isSafeInteger(y) || Math.abs(y) > 1e12 || mo < 1 || mo > 12 || d < 1) return undefined;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!;
  if (d > monthDays) return undefined;
  return { days: daysFromCivil(y, mo, d), length: m[0].length };
}

/** Units since midnight of `HH:MM[:SS[.f]]` at the start of `text` (exact in `unit`, else undefined). */
function parseTimePrefix(text: string, unit: TimeUnit): { value: bigint; length: number } | undefined {
  const m = TIME_RE.exec(text);
  if (!m) return undefined;
  const h = Number(m[1]), mi = Number(m[2]), s = m[3] === undefined ? 0 : Number(m[3]);
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const fraction = exactFraction(m[4] ?? '', unit);
  if (fraction === undefined) return undefined;
  return { value: BigInt(h * 3600 + mi * 60 + s) * UNITS_PER_SECOND[unit] + fraction, length: m[0].length };
}

/** A fraction's digits as a count of `unit`; undefined when it has nonzero digits finer than the unit. */
function exactFraction(digits: string, unit: TimeUnit): bigint | undefined {
  const places = UNITS_PER_SECOND[unit].toString().length - 1;
  if (digits.length > places && !/^0*$/.test(digits.slice(places))) return undefined;
  return digits === '' ? 0n : BigInt(digits.slice(0, places).padEnd(places, '0'));
}

export function parseDate(text: string): bigint | undefined {
  const d = parseDatePrefix(text);
  return d && d.length === text.length ? BigInt(d.days) : undefined;
}

export function parseTimeOfDay(text: string, unit: TimeUnit): bigint | undefined {
  const t = parseTimePrefix(text, unit);
  return t && t.length === text.length ? t.value : undefined;
}

/** `YYYY-MM-DD[T| ]HH:MM[:SS[.f]][Z|±HH[:MM]]` (no zone: UTC) → epoch count of `unit`, exactly. */
export function parseInstant(text: string, unit: TimeUnit): bigint | undefined {
  const d = parseDatePrefix(text);
  if (!d) return undefined;
  const perDay = UNITS_PER_SECOND[unit] * DAY_SECONDS;
  let rest = text.slice(d.length);
  let value = BigInt(d.days) * perDay;
  if (rest === '') return value;
  if (rest[0] !== 'T' && rest[0] !== 't' && rest[0] !== ' ') return undefined;
  const t = parseTimePrefix(rest.slice(1), unit);
  if (!t) return undefined;
  value += t.value;
  rest = rest.slice(1 + t.length);
  if (rest === 'Z' || rest === 'z' || rest === '') return value;
  const zone = /^([+-])(\d{2})(?::?(\d{2}))?$/.exec(rest);
  if (!zone) return undefined;
  const hours = Number(zone[2]), minutes = Number(zone[3] ?? 0);
  if (hours > 18 || minutes > 59 || hours * 60 + minutes > 18 * 60) return undefined;
  const offset = BigInt((hours * 60 + minutes) * 60) * UNITS_PER_SECOND[unit];
  return zone[1] === '+' ? value - offset : value + offset;
}

// ---------------------------------------------------------------------------------------
// Decimals

const POW10: bigint[] = [];
for (let k = 0, p = 1n; k <= 2 * DECIMAL_PRECISION_MAX; k++, p *= 10n) POW10.push(p);
export function pow10(k: number): bigint {
  return POW10[k] ?? 10n ** BigInt(k);
}

/** Unscaled integer → text with exactly `scale` fraction digits (`-12.30`; scale ≤ 0: an integer). */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  let text: string;
  if (scale <= 0) text = unscaled === 0n ? '0' : digits + '0'.repeat(-scale);
  else {
    const padded = digits.padStart(scale + 1, '0');
    text = `${padded.slice(0, padded.length - scale)}.${padded.slice(padded.length - scale)}`;
  }
  return negative ? `-${text}` : text;
}

/** Decimal text (no exponent) → unscaled integer at `scale`; undefined when not exact at that scale. */
export function parseDecimal(text: string, scale: number): bigint | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  let whole = m[2]!, fraction = m[3] ?? '';
  if (scale >= 0) {
    if (fraction.length > scale) {
      if (!/^0*$/.test(fraction.slice(scale))) return undefined;
      fraction = fraction.slice(0, scale);
    }
    whole += fraction.padEnd(scale, '0');
  } else {
    if (!/^0*$/.test(fraction)) return undefined;
    const drop = -scale;
    const tail = whole.slice(Math.max(0, whole.length - drop));
    if (!/^0*$/.test(tail)) return undefined;
    whole = whole.slice(0, Math.max(0, whole.length - drop));
  }
  const value = BigInt(whole === '' ? '0' : whole);
  return m[1] === '-' ? -value : value;
}

// ---------------------------------------------------------------------------------------
// Base64 (RFC 4648, padded): the text of binary values

export function formatBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Strict base64 (standard alphabet, padded, canonical); undefined otherwise. */
export function parseBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
