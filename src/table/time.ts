import type { TimeUnit } from '../format/types.js';
import { UsageError } from '../errors.js';
import type { PartitionBy, TimeInput } from './types.js';

/** Units per second of each time unit. */
export const UNITS_PER_SECOND: Record<TimeUnit, bigint> = { s: 1n, ms: 1_000n, us: 1_000_000n, ns: 1_000_000_000n };

/** Converts an integer time from one unit to another (truncating toward -∞ when coarsening). */
export function convertTime(value: bigint, from: TimeUnit, to: TimeUnit): bigint {
  if (from === to) return value;
  const f = UNITS_PER_SECOND[from];
  const t = UNITS_PER_SECOND[to];
  if (t > f) return value * (t / f);
  const d = f / t;
  const q = value / d;
  return value < 0n && q * d !== value ? q - 1n : q;
}

/**
 * A point in time from the API into the table's unit: Date, ISO-8601 string (fractional
 * seconds to the nanosecond kept), number = epoch milliseconds, bigint = epoch nanoseconds.
 */
export function toTableTime(input: TimeInput, unit: TimeUnit, what = 'time'): bigint {
  if (typeof input === 'bigint') return convertTime(input, 'ns', unit);
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new UsageError(`${what}: expected epoch milliseconds, got ${input}`);
    const ms = Math.floor(input);
    const frac = Math.round((input - ms) * 1e6);
    return convertTime(BigInt(ms) * 1_000_000n + BigInt(frac), 'ns', unit);
  }
  if (input instanceof Date) {
    const ms = input.getTime();
    if (Number.isNaN(ms)) throw new UsageError(`${what}: invalid Date`);
    return convertTime(BigInt(ms), 'ms', unit);
  }
  if (typeof input === 'string') return convertTime(parseIsoNs(input, what), 'ns', unit);
  throw new UsageError(`${what}: expected a Date, ISO-8601 string, epoch ms number or epoch ns bigint, got ${typeof input}`);
}

const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** ISO-8601 (date, date-time, optional fraction to ns, Z or ±hh[:mm]; no zone means UTC) → epoch ns. */
export function parseIsoNs(text: string, what = 'time'): bigint {
  const m = ISO.exec(text.trim());
  if (!m) throw new UsageError(`${what}: expected ISO-8601 like 2026-01-01T00:00:00Z, got ${JSON.stringify(text)}`);
  const [, date, hh = '00', mm = '00', ss = '00', frac = '', zone = 'Z'] = m;
  const ms = Date.parse(`${date}T${hh}:${mm}:${ss}Z`);
  if (Number.isNaN(ms)) throw new UsageError(`${what}: not a valid date-time: ${JSON.stringify(text)}`);
  let ns = BigInt(ms) * 1_000_000n + BigInt(frac.padEnd(9, '0') || '0');
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1n : 1n;
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
    ns -= sign * offsetMin * 60_000_000_000n;
  }
  return ns;
}

const DAY_MS = 86_400_000;

/**
 * Partition key of a time (in `unit`): '2026-01-01' (day), '2026-01-01T13' (hour),
 * '2026-01' (month), 'all' (none). Keys sort in time order.
 */
export function partitionOf(value: bigint, unit: TimeUnit, by: PartitionBy): string {
  if (by === 'none') return 'all';
  const ms = Number(convertTime(value, unit, 'ms'));
  const iso = new Date(Math.floor(ms / (by === 'hour' ? 3_600_000 : DAY_MS)) * (by === 'hour' ? 3_600_000 : DAY_MS)).toISOString();
  return by === 'hour' ? iso.slice(0, 13) : by === 'day' ? iso.slice(0, 10) : iso.slice(0, 7);
}

/** Start of a month, day or hour partition key, in epoch milliseconds. */
function partitionStartMs(key: string): number {
  return Date.parse(key.length === 7 ? `${key}-01T00:00:00Z` : key.length === 10 ? `${key}T00:00:00Z` : `${key}:00:00Z`);
}

/** The key of the partition after `key` (day, hour or month keys). */
export function nextPartitionKey(key: string): string {
  if (key.length === 7) {
    const [y, m] = key.split('-').map(Number) as [number, number];
    return m === 12 ? `${String(y + 1).padStart(4, '0')}-01` : `${key.slice(0, 4)}-${String(m + 1).padStart(2, '0')}`;
  }
  const iso = new Date(partitionStartMs(key) + (key.length === 10 ? DAY_MS : 3_600_000)).toISOString();
  return key.length === 10 ? iso.slice(0, 10) : iso.slice(0, 13);
}

/** Start of a partition in the table unit. */
export function partitionStart(key: string, unit: TimeUnit): bigint {
  if (key === 'all') return -(2n ** 63n);
  return convertTime(BigInt(partitionStartMs(key)), 'ms', unit);
}
