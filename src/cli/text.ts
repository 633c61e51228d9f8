/**
 * Text for people that needs no Arrow: times, byte sizes and aligned tables, for the commands
 * that start light (`quiver tables`, `quiver inspect`) as well as for scan output (output.ts).
 */
import { formatTime } from '../core/time.js';
import { UsageError } from '../errors.js';
import type { TimeUnit } from '../format/types.js';

const UNIT_OF_PER_SECOND = new Map<bigint, TimeUnit>([[1n, 's'], [1_000n, 'ms'], [1_000_000n, 'us'], [1_000_000_000n, 'ns']]);

/**
 * ISO-8601 with only the fractional digits the value needs: `2026-01-01T00:00:10.5Z` (any
 * int64, see formatTime); in `zone`'s local time with its offset when one is given
 * (`2026-01-01T01:00:10.5+01:00`).
 */
export function formatTimestamp(value: bigint, perSecond: bigint, zone?: TimeZoneFormat): string {
  const unit = UNIT_OF_PER_SECOND.get(perSecond) ?? 'ns';
  if (!zone || zone.utc) return formatTime(value, unit);
  const offset = zone.offsetSeconds(value, perSecond);
  const local = formatTime(value + BigInt(offset) * perSecond, unit);
  const abs = Math.abs(offset);
  const two = (n: number) => String(n).padStart(2, '0');
  // Local mean times before standard zones have offsets in seconds (Berlin +00:53:28): kept, as RFC 9557 allows.
  const text = `${offset < 0 ? '-' : '+'}${two(Math.floor(abs / 3600))}:${two(Math.floor(abs / 60) % 60)}${abs % 60 ? `:${two(abs % 60)}` : ''}`;
  return `${local.slice(0, -1)}${text}`;
}

/** Milliseconds JS dates can hold (±100,000,000 days around 1970): a zone's offset is looked up within them. */
const DATE_MS_MAX = 8_640_000_000_000_000n;

/**
 * A time zone for printing (`--tz`): IANA names (`Europe/Berlin`), `UTC`, or `local` (the
 * process's zone, TZ). The offset of each instant comes from the platform's tz database
 * (Intl), cached per quarter hour of UTC (a quarter hour with a transition inside is looked up per
 * instant);
 * instants beyond what a JS Date holds take the offset at the nearest one it holds.
 */
export class TimeZoneFormat {
  readonly name: string;
  readonly utc: boolean;
  private readonly parts: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();
  constructor(zone: string) {
    const resolved = zone === 'local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : zone;
    try {
      this.parts = new Intl.DateTimeFormat('en-US', {
        timeZone: resolved, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
      });
    } catch {
      throw new UsageError(`--tz ${JSON.stringify(zone)}: not a time zone (an IANA name such as Europe/Berlin, UTC, or local)`);
    }
    this.name = this.parts.resolvedOptions().timeZone;
    this.utc = this.name === 'UTC' || this.name === 'Etc/UTC';
  }

  /** Seconds east of UTC at `value` (in units of 1/perSecond s). */
  offsetSeconds(value: bigint, perSecond: bigint): number {
    if (this.utc) return 0;
    let ms = (value * 1000n) / perSecond;
    if (ms > DATE_MS_MAX) ms = DATE_MS_MAX;
    if (ms < -DATE_MS_MAX) ms = -DATE_MS_MAX;
    const quarter = Math.floor(Number(ms) / 900_000);
    let offset = this.cache.get(quarter);
    if (offset === undefined) {
      if (this.cache.size > 100_000) this.cache.clear();
      const first = this.lookup(quarter * 900_000);
      // A quarter hour with a transition inside (rare, e.g. from local mean time) is looked up per instant.
      offset = first === this.lookup(quarter * 900_000 + 899_000) ? first : NaN;
      this.cache.set(quarter, offset);
    }
    return Number.isNaN(offset) ? this.lookup(Number(ms)) : offset;
  }

  private lookup(ms: number): number {
    const p: Record<string, string> = Object.create(null);
    for (const part of this.parts.formatToParts(new Date(ms))) p[part.type] = part.value;
    const year = p.era === 'BC' || p.era === 'B' ? 1 - Number(p.year) : Number(p.year);
    const wall = new Date(0);
    wall.setUTCFullYear(year, Number(p.month) - 1, Number(p.day));
    wall.setUTCHours(Number(p.hour), Number(p.minute), Number(p.second), 0);
    // The wall clock minus the instant (whole seconds: the parts have no fraction) is the offset.
    return Math.round((wall.getTime() - (ms - (((ms % 1000) + 1000) % 1000))) / 1000);
  }
}

/** Renders plain records as an aligned text table (for inspect/tables output). */
export function renderTable(records: Record<string, unknown>[], columns?: string[]): string {
  if (records.length === 0) return '(none)\n';
  const names = columns ?? Object.keys(records[0]!);
  const cells = records.map((r) => names.map((n) => formatPlain(r[n])));
  const widths = names.map((n, j) => Math.max(n.length, ...cells.map((row) => row[j]!.length)));
  const line = (row: string[]) => row.map((c, j) => c.padEnd(widths[j]!)).join('  ').trimEnd();
  return [line(names), ...cells.map(line)].join('\n') + '\n';
}

function formatPlain(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(3);
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * A count with thousands separators, as `toLocaleString('en-US')` prints it (`864,000`), without
 * Intl: its first use loads ICU's locale data, which cost `quiver inspect` tens of milliseconds of start-up.
 */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 || Object.is(n, -0) ? `-${out}` : out;
}

/** A byte count for people: 1.5 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
