import type { TimeUnit } from '../format/types.js';
import { UsageError } from '../errors.js';
import { formatTime, INT64_MIN } from '../core/time.js';
import { localToUtcMs, zoneOffsetMs, validateTimeZone } from './bucket-zone.js';

/**
 * Time buckets of queries (`every`). A bucketer maps a time (table unit, bigint) to its
 * bucket: a stable integer key, and the bucket's [start, end) in the table unit.
 *
 * - ms, s, m, h: fixed durations, aligned on 2000-01-03T00:00Z (a Monday), the origin of
 *   DuckDB's time_bucket, so '7m' or '1w' buckets agree with it. Absolute time: the time zone
 *   does not move them.
 * - d, w: calendar days (weeks from Monday) in the time zone: a bucket starts at local
 *   midnight and lasts 23, 24 or 25 hours across DST changes. In UTC they are fixed durations.
 * - mo: calendar months in the time zone, counted from 2000-01 (like DuckDB).
 *
 * Locating a bucket costs a few BigInt operations (and, for calendar units, an Intl offset
 * lookup), so callers locate once per run of rows and compare plain numbers in between.
 */

export type EveryUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w' | 'mo';

export interface Every {
  count: number;
  unit: EveryUnit;
}

export interface BucketRange {
  /** Stable identity of the bucket (bucket index since the origin). */
  key: number;
  start: bigint;
  end: bigint;
}

export interface Bucketer {
  locate(time: bigint): BucketRange;
}

/** A bucket count larger than this is a typo, not a query ('100000000000h'). */
export const EVERY_COUNT_MAX = 1_000_000_000;

const UNIT_MS: Record<Exclude<EveryUnit, 'mo'>, number> = {
  ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000,
};

/** Table units per millisecond, as a fraction num/den. */
const UNITS_PER_MS: Record<TimeUnit, { num: bigint; den: bigint }> = {
  s: { num: 1n, den: 1000n },
  ms: { num: 1n, den: 1n },
  us: { num: 1000n, den: 1n },
  ns: { num: 1_000_000n, den: 1n },
};

/** 2000-01-03T00:00:00Z in epoch ms: DuckDB's time_bucket origin, a Monday. */
export const BUCKET_ORIGIN_MS = 946_857_600_000;
const ORIGIN_DAY = BUCKET_ORIGIN_MS / 86_400_000; // 10959
const DAY_MS = 86_400_000;

export function parseEvery(every: string): Every {
  const match = /^\s*(\d+)\s*(ms|s|m|h|d|w|mo)\s*$/.exec(every);
  if (!match) {
    throw new UsageError(`query every: expected a count and a unit among ms, s, m, h, d, w, mo (e.g. '10s', '1h', '1mo'), got ${JSON.stringify(every)}`);
  }
  const count = Number(match[1]);
  if (!Number.isSafeInteger(count) || count < 1 || count > EVERY_COUNT_MAX) {
    throw new UsageError(`query every: count must be 1..${EVERY_COUNT_MAX}, got ${match[1]} in ${JSON.stringify(every)}`);
  }
  return { count, unit: match[2] as EveryUnit };
}

export function msToUnit(ms: bigint, unit: TimeUnit): bigint {
  const { num, den } = UNITS_PER_MS[unit];
  return floorDiv(ms * num, den);
}

export function unitToMs(time: bigint, unit: TimeUnit): bigint {
  const { num, den } = UNITS_PER_MS[unit];
  return floorDiv(time * den, num);
}

export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

export function makeBucketer(every: string, timeUnit: TimeUnit, timeZone = 'UTC'): Bucketer {
  const spec = parseEvery(every);
  validateTimeZone(timeZone);
  const utc = timeZone === 'UTC' || timeZone === 'Etc/UTC';
  if (spec.unit === 'mo') return new MonthBucketer(spec.count, timeUnit, timeZone);
  if ((spec.unit === 'd' || spec.unit === 'w') && !utc) {
    return new LocalDayBucketer(spec.count * (spec.unit === 'w' ? 7 : 1), timeUnit, timeZone);
  }
  const widthMs = BigInt(spec.count) * BigInt(UNIT_MS[spec.unit]);
  const { num, den } = UNITS_PER_MS[timeUnit];
  if ((widthMs * num) % den !== 0n) {
    throw new UsageError(`query every ${JSON.stringify(every)} is not a whole number of the table's time unit '${timeUnit}'`);
  }
  return new FixedBucketer((widthMs * num) / den, msToUnit(BigInt(BUCKET_ORIGIN_MS), timeUnit), timeUnit, every);
}

/**
 * The error for a time whose bucket a query cannot give (near the ends of a unit's int64
 * range): its start before the unit's first time, its number beyond 2^53 (buckets would
 * merge), or its calendar date beyond what a Date holds.
 */
function unbucketable(time: bigint, unit: TimeUnit, every: string, why: string): UsageError {
  return new UsageError(`query every ${every}: the bucket of time ${formatTime(time, unit)} ${why}: narrow the query with from/to`);
}

/** A bucket's start, or the unbucketable error when it would start before the unit's first time. */
function checkedStart(start: bigint, time: bigint, unit: TimeUnit, every: string): bigint {
  if (start < INT64_MIN) throw unbucketable(time, unit, every, `would start before the first time of unit ${unit}`);
  return start;
}

const DATE_MS_MAX = 8.64e15;

/** A time as epoch ms for calendar arithmetic (Date's range), or the unbucketable error. */
function calendarMs(time: bigint, unit: TimeUnit, every: string): number {
  const ms = Number(unitToMs(time, unit));
  if (!(Math.abs(ms) <= DATE_MS_MAX - 2 * 366 * DAY_MS)) throw unbucketable(time, unit, every, 'is beyond the calendar dates a query can count (years -271821 to 275760)');
  return ms;
}

class FixedBucketer implements Bucketer {
  constructor(private readonly width: bigint, private readonly origin: bigint, private readonly unit: TimeUnit, private readonly every: string) {}
  locate(time: bigint): BucketRange {
    const index = floorDiv(time - this.origin, this.width);
    const start = this.origin + index * this.width;
    const key = Number(index);
    if (!Number.isSafeInteger(key)) throw unbucketable(time, this.unit, this.every, 'is beyond the 2^53 buckets a query can number from 2000-01-03');
    return { key, start: checkedStart(start, time, this.unit, this.every), end: start + this.width };
  }
}

/** Calendar days (count of them) in a time zone, aligned on 2000-01-03 local. */
class LocalDayBucketer implements Bucketer {
  /** The width as a query writes it (errors name it); built once, not per row. */
  private readonly every: string;
  constructor(private readonly days: number, private readonly unit: TimeUnit, private readonly zone: string) {
    this.every = `${days}d`;
  }
  locate(time: bigint): BucketRange {
    const utcMs = calendarMs(time, this.unit, this.every);
    const localDay = Math.floor((utcMs + zoneOffsetMs(this.zone, utcMs)) / DAY_MS);
    const index = Math.floor((localDay - ORIGIN_DAY) / this.days);
    const startDay = ORIGIN_DAY + index * this.days;
    const start = checkedStart(this.bound(startDay * DAY_MS, time, true), time, this.unit, this.every);
    return { key: index, start, end: this.bound((startDay + this.days) * DAY_MS, time, false) };
  }
  /** Local midnight to the table unit; clamps so that start <= time < end holds whatever the zone did. */
  private bound(localMs: number, time: bigint, isStart: boolean): bigint {
    const t = msToUnit(BigInt(localToUtcMs(this.zone, localMs)), this.unit);
    if (isStart) return t <= time ? t : time;
    return t > time ? t : time + 1n;
  }
}

class MonthBucketer implements Bucketer {
  /** The width as a query writes it (errors name it); built once, not per row. */
  private readonly every: string;
  constructor(private readonly months: number, private readonly unit: TimeUnit, private readonly zone: string) {
    this.every = `${months}mo`;
  }
  locate(time: bigint): BucketRange {
    const utcMs = calendarMs(time, this.unit, this.every);
    const local = new Date(utcMs + zoneOffsetMs(this.zone, utcMs));
    const monthIndex = (local.getUTCFullYear() - 2000) * 12 + local.getUTCMonth();
    const index = Math.floor(monthIndex / this.months);
    const startMonth = index * this.months;
    const startLocalMs = Date.UTC(2000 + Math.floor(startMonth / 12), ((startMonth % 12) + 12) % 12, 1);
    const endMonth = startMonth + this.months;
    const endLocalMs = Date.UTC(2000 + Math.floor(endMonth / 12), ((endMonth % 12) + 12) % 12, 1);
    let start = msToUnit(BigInt(localToUtcMs(this.zone, startLocalMs)), this.unit);
    let end = msToUnit(BigInt(localToUtcMs(this.zone, endLocalMs)), this.unit);
    if (start > time) start = time;
    if (end <= time) end = time + 1n;
    return { key: index, start: checkedStart(start, time, this.unit, this.every), end };
  }
}
