import type { TimeUnit } from '../format/types.js';
import { formatTime, NS_PER_UNIT } from '../core/time.js';

/**
 * The keys every `--json` output shares (README, "Output conventions"): a table is `table`,
 * row counts `rows`, stored bytes `bytes`, uncompressed bytes `rawBytes`, their quotient
 * `ratio` (a number, raw / stored), and a time range is `timeMin`/`timeMax` (ISO-8601 with the
 * digits the value needs; null when there are no rows) with `timeMinNs`/`timeMaxNs`, the same
 * instants as integers of nanoseconds since the epoch (exact JSON numbers, see toJson).
 */
export interface JsonTimeRange {
  timeMin: string | null;
  timeMax: string | null;
  timeMinNs: bigint | null;
  timeMaxNs: bigint | null;
}

/** A stored time range (decimal strings in `unit`, or null) in the JSON convention. */
export function jsonTimeRange(min: string | bigint | null | undefined, max: string | bigint | null | undefined, unit: TimeUnit): JsonTimeRange {
  const at = (v: string | bigint | null | undefined) => (v === null || v === undefined ? null : BigInt(v));
  const lo = at(min);
  const hi = at(max);
  return {
    timeMin: lo === null ? null : formatTime(lo, unit),
    timeMax: hi === null ? null : formatTime(hi, unit),
    timeMinNs: lo === null ? null : lo * NS_PER_UNIT[unit],
    timeMaxNs: hi === null ? null : hi * NS_PER_UNIT[unit],
  };
}

/** raw / stored as a number (null when nothing is stored). */
export function jsonRatio(raw: number, stored: number): number | null {
  return stored > 0 ? raw / stored : null;
}

/**
 * A number as JSON text, as rows and every --json output write it: NaN and ±Infinity as the
 * strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers), -0 as -0 (JSON.stringify
 * would write 0).
 */
export function jsonNumber(value: number): string {
  if (!Number.isFinite(value)) return JSON.stringify(String(value));
  return Object.is(value, -0) ? '-0' : String(value);
}

/**
 * JSON text, indented by two spaces, with bigint values as JSON numbers of all their digits
 * (as 64-bit integers are in scan output; JSON.stringify refuses bigints). Keys whose value is
 * undefined are left out, as JSON.stringify does.
 */
export function toJson(value: unknown, indent = ''): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return jsonNumber(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return toJson((value as { toJSON: () => unknown }).toJSON(), indent);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + (v === undefined || typeof v === 'function' ? 'null' : toJson(v, inner))).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${toJson(v, inner)}`).join(',\n')}\n${indent}}`;
}
