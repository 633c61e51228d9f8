import type { TimeUnit } from '../format/types.js';
import { UsageError } from '../errors.js';
import { civilFromDays, daysFromCivil } from '../format/field-text.js';
import type { PartitionBy, TimeInput } from './types.js';

/**
 * Times of a table are int64 counts of its unit since 1970-01-01T00:00:00Z, so each unit has
 * its own range (ns: 1677-09-21T00:12:43.145224192Z … 2262-04-11T23:47:16.854775807Z; us, ms
 * and s reach ±290 thousand, million and billion years). Every time that enters a table —
 * a CSV cell, an Arrow or Parquet column converted between units, a library row, a scan's
 * from/to — is checked against it: out of range is an error naming the value and the range,
 * never a wrap-around.
 */

/** Units per second of each time unit. */
export const UNITS_PER_SECOND: Record<TimeUnit, bigint> = { s: 1n, ms: 1_000n, us: 1_000_000n, ns: 1_000_000_000n };

/** Nanoseconds per unit. */
export const NS_PER_UNIT: Record<TimeUnit, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** Whether an integer count of a unit fits the int64 a table stores. */
export function inTimeRange(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

const rangeTexts = new Map<TimeUnit, string>();

/** The representable range of a unit, for messages: `1677-09-21T00:12:43.145224192Z … 2262-04-11T23:47:16.854775807Z for ns`. */
export function timeRangeText(unit: TimeUnit): string {
  let text = rangeTexts.get(unit);
  if (text === undefined) {
    text = `${formatTime(INT64_MIN, unit, false)} … ${formatTime(INT64_MAX, unit, false)} for ${unit}`;
    rangeTexts.set(unit, text);
  }
  return text;
}

/** The error text of a time outside its unit's range (`value` as the user wrote it). */
export function timeRangeError(value: string, unit: TimeUnit): string {
  return `${value} is outside the representable range ${timeRangeText(unit)}`;
}

/**
 * The error text of a time finer than the table's unit (`value` as the user wrote it): a
 * time is stored exactly or refused, never floored to the unit without a word.
 */
export function timePrecisionError(value: string, unit: TimeUnit): string {
  return `${value} is finer than the table's time unit (${unit}): storing it would drop digits; `
    + 'keep such times in a table of a finer unit (--time-unit, timeUnit) or round them before the import';
}

/** floor(a / d) for d > 0. */
export function floorDiv(a: bigint, d: bigint): bigint {
  if (d === 1n) return a;
  const q = a / d;
  return a < 0n && q * d !== a ? q - 1n : q;
}

/** Converts an integer time from one unit to another (truncating toward -∞ when coarsening; no range check). */
export function convertTime(value: bigint, from: TimeUnit, to: TimeUnit): bigint {
  if (from === to) return value;
  const f = UNITS_PER_SECOND[from];
  const t = UNITS_PER_SECOND[to];
  if (t > f) return value * (t / f);
  return floorDiv(value, f / t);
}

/** A time from epoch ns (any size) into `unit`, or a UsageError naming `shown` and the unit's range. */
function nsToUnitChecked(ns: bigint, unit: TimeUnit, what: string, shown: string, exact: boolean): bigint {
  if (exact && ns % NS_PER_UNIT[unit] !== 0n) throw new UsageError(`${what}: ${timePrecisionError(shown, unit)}`);
  // A bound finer than the unit rounds up: t ≥ from and t < to then hold for the same table times.
  const value = -floorDiv(-ns, NS_PER_UNIT[unit]);
  if (!inTimeRange(value)) throw new UsageError(`${what}: ${timeRangeError(shown, unit)}`);
  return value;
}

/**
 * A point in time from the API into the table's unit: Date, ISO-8601 string (see
 * parseIsoBytes for the accepted forms; fractional seconds to the nanosecond kept), number =
 * epoch milliseconds (a fraction keeps its sub-millisecond part), bigint = epoch nanoseconds.
 * Finer than the unit rounds up (a scan's bounds: `from` is inclusive, `to` exclusive, so a
 * table time t ≥ from or t < to exactly when it is ≥ or < the rounded bound), or with `exact`
 * (a time to store) is a UsageError; outside the unit's int64 range is a UsageError.
 */
export function toTableTime(input: TimeInput, unit: TimeUnit, what = 'time', exact = false): bigint {
  if (typeof input === 'bigint') return nsToUnitChecked(input, unit, what, `${input} (epoch ns)`, exact);
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new UsageError(`${what}: expected epoch milliseconds, got ${input}`);
    const ms = Math.floor(input);
    const frac = Math.round((input - ms) * 1e6);
    return nsToUnitChecked(BigInt(ms) * 1_000_000n + BigInt(frac), unit, what, `${input} (epoch ms)`, exact);
  }
  if (input instanceof Date) {
    const ms = input.getTime();
    if (Number.isNaN(ms)) throw new UsageError(`${what}: invalid Date`);
    return nsToUnitChecked(BigInt(ms) * 1_000_000n, unit, what, input.toISOString(), exact);
  }
  if (typeof input === 'string') return nsToUnitChecked(parseIsoNs(input, what), unit, what, JSON.stringify(input), exact);
  throw new UsageError(`${what}: expected a Date, ISO-8601 string, epoch ms number or epoch ns bigint, got ${input === null ? 'null' : typeof input}`);
}

const encoder = new TextEncoder();

/** ISO-8601 text (see parseIsoBytes) → epoch ns, or a UsageError saying what is wrong. */
export function parseIsoNs(text: string, what = 'time'): bigint {
  const bytes = encoder.encode(text);
  const result = parseIso(bytes, 0, bytes.length);
  if (typeof result === 'bigint') return result;
  throw new UsageError(`${what}: expected ISO-8601 like 2026-01-01T00:00:00Z, got ${JSON.stringify(text)} (${result})`);
}

/** Largest year digits of an expanded (signed) ISO year: the s unit reaches ±292,277,026,596. */
const EXPANDED_YEAR_DIGITS_MAX = 12;

function digitsAt(buf: Uint8Array, i: number, count: number, end: number): number {
  if (i + count > end) return -1;
  let v = 0;
  for (let k = 0; k < count; k++) {
    const c = buf[i + k]! - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

// Civil-date arithmetic (H. Hinnant's days_from_civil and its inverse): one copy, in field-types.ts.
export { civilFromDays, daysFromCivil };

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, m: number): number {
  return m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : DAYS_IN_MONTH[m - 1]!;
}

/**
 * ISO-8601 from bytes → epoch nanoseconds (a bigint of any size: the caller checks it against
 * its unit), or a string saying why the text is not such a time. Accepted, with optional
 * surrounding spaces:
 *
 *   date      YYYY-MM-DD, or an expanded year ±YYYYY…-MM-DD (as toISOString writes years
 *             beyond 0000–9999); a real calendar date (no Feb 30)
 *   time      then T, t or a space, HH:MM, optional :SS, optional fraction (. or ,) of 1–9
 *             digits; digits beyond the 9th (below a nanosecond) only when they are zeros,
 *             so nothing is rounded. Hours 00–23 (no 24:00), seconds 00–59: a leap second
 *             (:60) is refused, since Unix time has none
 *   zone      Z / z, or ±HH, ±HHMM, ±HH:MM up to ±23:59; none means UTC
 */
export function parseIso(buf: Uint8Array, start: number, end: number): bigint | string {
  while (start < end && buf[start] === 0x20) start++;
  while (end > start && buf[end - 1] === 0x20) end--;
  let i = start;
  let y: number;
  const sign = buf[i];
  if (sign === 0x2b || sign === 0x2d) {
    let j = i + 1;
    while (j < end && buf[j]! >= 0x30 && buf[j]! <= 0x39) j++;
    const digits = j - i - 1;
    if (digits < 4 || digits > EXPANDED_YEAR_DIGITS_MAX) return 'not a date YYYY-MM-DD';
    y = digitsAt(buf, i + 1, digits, end) * (sign === 0x2d ? -1 : 1);
    i = j;
  } else {
    y = digitsAt(buf, i, 4, end);
    if (y < 0) return 'not a date YYYY-MM-DD';
    i += 4;
  }
  if (buf[i] !== 0x2d || buf[i + 3] !== 0x2d) return 'not a date YYYY-MM-DD';
  const mo = digitsAt(buf, i + 1, 2, end), d = digitsAt(buf, i + 4, 2, end);
  if (mo < 0 || d < 0) return 'not a date YYYY-MM-DD';
  if (mo < 1 || mo > 12) return `month ${mo} is not 1–12`;
  if (d < 1 || d > daysInMonth(y, mo)) return `day ${d} is not in ${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}`;
  i += 6;
  let secs = 0;
  let fracNs = 0;
  if (i < end && (buf[i] === 0x54 || buf[i] === 0x74 || buf[i] === 0x20) && i + 1 < end && buf[i + 1]! >= 0x30 && buf[i + 1]! <= 0x39) {
    i++;
    const h = digitsAt(buf, i, 2, end);
    if (h < 0 || buf[i + 2] !== 0x3a) return 'not a time HH:MM[:SS]';
    const mi = digitsAt(buf, i + 3, 2, end);
    if (mi < 0) return 'not a time HH:MM[:SS]';
    if (h > 23) return `hour ${h} is not 00–23`;
    if (mi > 59) return `minute ${mi} is not 00–59`;
    i += 5;
    let s = 0;
    if (i < end && buf[i] === 0x3a) {
      s = digitsAt(buf, i + 1, 2, end);
      if (s < 0) return 'not a time HH:MM[:SS]';
      if (s === 60) return 'second 60 (a leap second) has no Unix time';
      if (s > 59) return `second ${s} is not 00–59`;
      i += 3;
      if (i < end && (buf[i] === 0x2e || buf[i] === 0x2c)) {
        i++;
        let k = 0;
        while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
          if (k < 9) fracNs = fracNs * 10 + (buf[i]! - 0x30);
          else if (buf[i] !== 0x30) return 'a fraction of a second finer than nanoseconds';
          k++;
          i++;
        }
        if (k === 0) return 'no digits after the decimal point';
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
      const oh = digitsAt(buf, i + 1, 2, end);
      if (oh < 0) return 'not a zone Z or ±HH:MM';
      let om = 0;
      let j = i + 3;
      if (j < end && buf[j] === 0x3a) j++;
      if (j < end) { om = digitsAt(buf, j, 2, end); if (om < 0) return 'not a zone Z or ±HH:MM'; j += 2; }
      if (j !== end) return 'not a zone Z or ±HH:MM';
      if (oh > 23 || om > 59) return `offset ${String.fromCharCode(c)}${String(oh).padStart(2, '0')}:${String(om).padStart(2, '0')} is beyond ±23:59`;
      offsetSecs = (c === 0x2d ? -1 : 1) * (oh * 3600 + om * 60);
      i = end;
    } else return 'unexpected text after the time';
  }
  if (i !== end) return 'unexpected text after the time';
  // Days fit a double exactly for every accepted year (< 10^12 years ≈ 3.7e14 days); seconds not, so BigInt.
  const epochSecs = BigInt(daysFromCivil(y, mo, d)) * 86400n + BigInt(secs - offsetSecs);
  return epochSecs * 1_000_000_000n + BigInt(fracNs);
}

/** ISO-8601 from bytes → epoch ns, or null when the text is not such a time (see parseIso). */
export function parseIsoBytes(buf: Uint8Array, start: number, end: number): bigint | null {
  const r = parseIso(buf, start, end);
  return typeof r === 'bigint' ? r : null;
}

/**
 * ISO-8601 UTC text of a time in `unit`, for any int64 value: years 0000–9999 as four digits,
 * others expanded with a sign (`+292278994-08-17T07:12:55.807Z`, as toISOString writes them).
 * `trim`: only the fraction digits the value needs (none when whole); otherwise all of the unit's.
 */
export function formatTime(value: bigint, unit: TimeUnit, trim = true): string {
  const perSecond = UNITS_PER_SECOND[unit];
  const seconds = floorDiv(value, perSecond);
  const fraction = value - seconds * perSecond;
  const days = floorDiv(seconds, 86400n);
  const secOfDay = Number(seconds - days * 86400n);
  const { y, m, d } = civilFromDays(Number(days));
  const year = y >= 0 && y <= 9999 ? String(y).padStart(4, '0') : `${y < 0 ? '-' : '+'}${String(Math.abs(y)).padStart(6, '0')}`;
  const two = (v: number) => String(v).padStart(2, '0');
  const base = `${year}-${two(m)}-${two(d)}T${two(Math.floor(secOfDay / 3600))}:${two(Math.floor(secOfDay / 60) % 60)}:${two(secOfDay % 60)}`;
  const digits = perSecond.toString().length - 1;
  if (digits === 0 || (trim && fraction === 0n)) return `${base}Z`;
  const text = fraction.toString().padStart(digits, '0');
  return `${base}.${trim ? text.replace(/0+$/, '') : text}Z`;
}

const DAY_S = 86_400n;

/**
 * Partition key of a time (in `unit`): '2026-01-01' (day), '2026-01-01T13' (hour),
 * '2026-01' (month), 'all' (none). Keys sort in time order within years 0000–9999; years
 * beyond carry a sign ('+012026-01-01'), as formatTime writes them.
 */
export function partitionOf(value: bigint, unit: TimeUnit, by: PartitionBy): string {
  if (by === 'none') return 'all';
  const seconds = floorDiv(value, UNITS_PER_SECOND[unit]);
  const iso = formatTime(by === 'hour' ? floorDiv(seconds, 3600n) * 3600n : floorDiv(seconds, DAY_S) * DAY_S, 's');
  const date = iso.indexOf('T');
  return by === 'hour' ? iso.slice(0, date + 3) : by === 'day' ? iso.slice(0, date) : iso.slice(0, date - 3);
}

/** Year, month, day and hour of a partition key (see partitionOf), and which kind it is. */
function partitionKeyParts(key: string): { by: 'hour' | 'day' | 'month'; y: number; m: number; d: number; h: number } {
  const m = /^([+-]?\d{4,})-(\d{2})(?:-(\d{2})(?:T(\d{2}))?)?$/.exec(key);
  if (!m) throw new UsageError(`not a partition key: ${JSON.stringify(key)}`);
  const by = m[4] !== undefined ? 'hour' : m[3] !== undefined ? 'day' : 'month';
  return { by, y: Number(m[1]), m: Number(m[2]), d: Number(m[3] ?? 1), h: Number(m[4] ?? 0) };
}

/** Start of a month, day or hour partition key, in epoch seconds. */
function partitionStartSeconds(key: string): bigint {
  const p = partitionKeyParts(key);
  return BigInt(daysFromCivil(p.y, p.m, p.d)) * DAY_S + BigInt(p.h) * 3600n;
}

/** The key of the partition after `key` (day, hour or month keys). */
export function nextPartitionKey(key: string): string {
  const p = partitionKeyParts(key);
  const start = partitionStartSeconds(key);
  if (p.by === 'hour') return partitionOf(start + 3600n, 's', 'hour');
  if (p.by === 'day') return partitionOf(start + DAY_S, 's', 'day');
  return partitionOf(BigInt(daysFromCivil(p.m === 12 ? p.y + 1 : p.y, p.m === 12 ? 1 : p.m + 1, 1)) * DAY_S, 's', 'month');
}

/** Start of a partition in the table unit (may lie outside the unit's int64 range at its ends). */
export function partitionStart(key: string, unit: TimeUnit): bigint {
  if (key === 'all') return INT64_MIN;
  return partitionStartSeconds(key) * UNITS_PER_SECOND[unit];
}
