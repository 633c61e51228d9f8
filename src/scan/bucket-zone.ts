import { UsageError } from '../errors.js';

/**
 * Time zone offsets through Intl (the ICU data bundled with Node): no zone database of our
 * own. Offsets are cached per zone and UTC hour, since offsets change on whole quarters of an
 * hour only at transitions and callers ask once per bucket, not per row.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();
/** Cached offsets per zone before the cache is dropped (bounded memory). */
const OFFSET_CACHE_ENTRIES_MAX = 100_000;
const HOUR_MS = 3_600_000;

export function validateTimeZone(zone: string): void {
  if (zone === 'UTC') return;
  try {
    formatter(zone);
  } catch (error) {
    throw new UsageError(`query timeZone: unknown IANA time zone ${JSON.stringify(zone)} (${(error as Error).message})`);
  }
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Offset of `zone` from UTC at the instant `utcMs` (local = utc + offset), in ms. */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  if (zone === 'UTC') return 0;
  // Offsets change at whole seconds, almost always at whole minutes: one offset is cached
  // per UTC minute, and a minute with a transition inside it (local mean times of seconds,
  // e.g. Paris's +00:09:21 until 1911-03-10T23:50:39Z) is marked NaN and computed per call.
  const minute = Math.floor(utcMs / 60_000);
  let cache = offsetCache.get(zone);
  if (!cache) offsetCache.set(zone, cache = new Map());
  let offset = cache.get(minute);
  if (offset === undefined) {
    offset = computeOffsetMs(zone, minute * 60_000);
    if (computeOffsetMs(zone, minute * 60_000 + 59_000) !== offset) offset = NaN;
    if (cache.size >= OFFSET_CACHE_ENTRIES_MAX) cache.clear();
    cache.set(minute, offset);
  }
  return Number.isNaN(offset) ? computeOffsetMs(zone, utcMs) : offset;
}

function computeOffsetMs(zone: string, utcMs: number): number {
  const parts = formatter(zone).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  let year = get('year');
  // Era-less years before 1 AD come out as positive numbers with an era; not a real use.
  if (parts.some((p) => p.type === 'era' && p.value.startsWith('B'))) year = 1 - year;
  const local = Date.UTC(year, get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return local - Math.floor(utcMs / 1000) * 1000;
}

/**
 * The UTC instant of a local wall-clock time. In a gap (spring forward) the wall time is
 * read with the offset before the transition (ICU's lenient rule); in an overlap (fall back), the earlier one.
 */
export function localToUtcMs(zone: string, localMs: number): number {
  if (zone === 'UTC') return localMs;
  const before = zoneOffsetMs(zone, localMs - 2 * 12 * HOUR_MS);
  const after = zoneOffsetMs(zone, localMs + 2 * 12 * HOUR_MS);
  // Candidates: the wall time read with the offset before and after any nearby transition.
  const early = localMs - before;
  const late = localMs - after;
  const earlyOk = zoneOffsetMs(zone, early) === before;
  const lateOk = zoneOffsetMs(zone, late) === after;
  if (earlyOk && lateOk) return Math.min(early, late);
  if (earlyOk) return early;
  if (lateOk) return late;
  // In a gap the wall time does not exist: read it with the offset before the transition
  // (ICU's lenient rule), which lands just after the jump.
  return early;
}
