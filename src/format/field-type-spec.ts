/*
 * The table of field types (names, storage, ranges, text), read as one. It needs no Arrow:
 * manifests, statistics and text use it, so the commands that only read manifests
 * (`quiver tables`, `quiver inspect`) start without loading apache-arrow. field-types.ts
 * adds each type's Arrow type and the values in Arrow layouts.
 */
import { SchemaError } from '../errors.js';
import type { PageKind } from './encodings/types.js';
import type { FieldType, TimeUnit } from './types.js';
import {
  DAY_SECONDS, DECIMAL_PRECISION_MAX, formatDate, formatDecimal, formatInstant, formatTimeOfDay,
  parseDate, parseDecimal, parseInstant, parseTimeOfDay, pow10, UNITS_PER_SECOND,
} from './field-text.js';

/**
 * Field types as descriptors: one entry per family says how a type is stored (page kind,
 * width), what Arrow type scans return, how its statistics and aggregates work and how its
 * values read and print as text. Everything that depends on a field's type asks here, so a
 * new type is one family entry (docs/types.md has the table).
 *
 * Integer-backed types (dates, times of day, durations, timestamps, decimals) store one
 * integer per value: days, counts of the unit, or the unscaled decimal. Their statistics are
 * that integer as a decimal string (like int64), their text is the type's own (a date, a
 * time, a decimal). Binary types store bytes as they came.
 */

export type FieldFamily =
  | 'float64' | 'int64' | 'uint64' | 'bool' | 'utf8'
  | 'binary' | 'fixed_binary' | 'date32' | 'date64' | 'time' | 'duration' | 'timestamp' | 'decimal';

/** The integer behind a value of an integer-backed type. */
export interface IntCodec {
  /** Inclusive range of the stored integer (a decimal's precision, int32 for 32-bit types). */
  readonly min: bigint;
  readonly max: bigint;
  /** The value as text (a date, a time of day, a decimal, …). */
  format(value: bigint): string;
  /** Text → stored integer; undefined when the text is not a value of the type (or not exactly). */
  parse(text: string): bigint | undefined;
}

/** A field type without its Arrow type (field-types.ts adds that): what manifests, statistics and text need. */
export interface FieldTypeSpec {
  /** Canonical name, as in schemas and chunk footers: `decimal(12,2)`, `timestamp(ms,UTC)`. */
  readonly type: FieldType;
  readonly family: FieldFamily;
  /** Physical page kind. */
  readonly kind: PageKind;
  /** Bytes per value on a page of kind 'fixed' (or i64/f64: 8, i32: 4); 0 for bool and variable-length kinds. */
  readonly width: number;
  /** Bytes per value in the Arrow layout scans return (0 for bool and variable-length types). */
  readonly arrowWidth: number;
  /** Integer-backed types: the stored integer's range and text. */
  readonly int: IntCodec | null;
  /** Binary families: values are bytes. */
  readonly bytes: boolean;
  /** Page min/max statistics: floats, decimal strings of integers, booleans, strings, or none (binary). */
  readonly stat: 'float' | 'int' | 'bool' | 'string' | 'none';
  /** Has the page `sum` statistic and an exact sum aggregate (integers, decimals, durations). */
  readonly summable: boolean;
  /** min/max apply (not to binary). */
  readonly ordered: boolean;
  /** What an error says was expected of a text value. */
  readonly expected: string;
  readonly unit?: TimeUnit;
  readonly precision?: number;
  readonly scale?: number;
  readonly timeZone?: string | null;
}

/** A value of an integer-backed (bigint) or binary (bytes) type, as the generic paths hold it. */
export type FieldValue = bigint | Uint8Array;

export const UNITS: readonly TimeUnit[] = ['s', 'ms', 'us', 'ns'];
export const INT32_MIN = -(2n ** 31n), INT32_MAX = 2n ** 31n - 1n;
export const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n;
/** Largest precision stored on int64 pages (10^18 − 1 < 2^63). */
export const DECIMAL_I64_PRECISION_MAX = 18;
/** Largest FixedSizeBinary width a column takes (a page of 8192 such values stays under 64 MiB). */
export const FIXED_BINARY_WIDTH_MAX = 4096;
// ---------------------------------------------------------------------------------------
// The families

const int32Range = { min: INT32_MIN, max: INT32_MAX };
const int64Range = { min: INT64_MIN, max: INT64_MAX };

function info(spec: Omit<FieldTypeSpec, 'arrowWidth' | 'bytes' | 'int' | 'summable' | 'ordered' | 'stat'> & Partial<FieldTypeSpec>): FieldTypeSpec {
  const arrowWidth = spec.arrowWidth ?? (spec.kind === 'fixed' ? spec.width : spec.kind === 'i64' || spec.kind === 'f64' ? 8 : spec.kind === 'i32' ? 4 : 0);
  return {
    int: null, bytes: false, stat: 'int', summable: false, ordered: true, ...spec, arrowWidth,
  };
}

function timeUnitOf(text: string | undefined, type: string): TimeUnit {
  if (text !== undefined && (UNITS as readonly string[]).includes(text)) return text as TimeUnit;
  throw new SchemaError(`field type ${JSON.stringify(type)}: the unit must be s, ms, us or ns`);
}

/** The descriptor of every field type; built from the type's canonical name. */
function build(type: string): FieldTypeSpec {
  const m = /^([a-z_0-9]+)(?:\((.*)\))?$/.exec(type);
  const family = m?.[1];
  const args = m?.[2] === undefined ? [] : m[2].split(',').map((a) => a.trim());
  const plain = (f: string) => {
    if (m?.[2] !== undefined) throw new SchemaError(`field type ${JSON.stringify(type)}: ${f} takes no parameters`);
  };
  switch (family) {
    case 'float64': plain(family); return info({ type: 'float64', family, kind: 'f64', width: 8, stat: 'float', summable: true, expected: 'float64' });
    case 'int64': plain(family); return info({ type: 'int64', family, kind: 'i64', width: 8, summable: true, expected: 'int64' });
    case 'uint64': plain(family); return info({ type: 'uint64', family, kind: 'i64', width: 8, summable: true, expected: 'uint64' });
    case 'bool': plain(family); return info({ type: 'bool', family, kind: 'bool', width: 0, stat: 'bool', expected: 'bool (true/false)' });
    case 'utf8': plain(family); return info({ type: 'utf8', family, kind: 'utf8', width: 0, stat: 'string', expected: 'utf8' });
    case 'binary': plain(family);
      return info({ type: 'binary', family, kind: 'utf8', width: 0, bytes: true, stat: 'none', ordered: false, expected: 'binary (base64)' });
    case 'fixed_binary': {
      const width = Number(args[0]);
      if (args.length !== 1 || !Number.isInteger(width) || width < 1 || width > FIXED_BINARY_WIDTH_MAX || String(width) !== args[0]) {
        throw new SchemaError(`field type ${JSON.stringify(type)}: fixed_binary takes a width in bytes, 1 to ${FIXED_BINARY_WIDTH_MAX}`);
      }
      return info({
        type: `fixed_binary(${width})`, family, kind: 'fixed', width, bytes: true, stat: 'none', ordered: false,
        expected: `fixed_binary(${width}) (base64 of ${width} bytes)`,
      });
    }
    case 'date32': case 'date': plain(family);
      return info({
        type: 'date32', family: 'date32', kind: 'i32', width: 4, expected: 'a date YYYY-MM-DD',
        int: { ...int32Range, format: (v) => formatDate(Number(v)), parse: (t) => inRange(parseDate(t), int32Range) },
      });
    case 'date64': plain(family);
      return info({
        type: 'date64', family, kind: 'i64', width: 8, expected: 'a date YYYY-MM-DD (or a time of it)',
        int: {
          ...int64Range,
          // Date64 counts milliseconds; a value that is not a whole day prints as the instant it is.
          format: (v) => (v % 86_400_000n === 0n ? formatDate(Number(v / 86_400_000n)) : formatInstant(v, 'ms')),
          parse: (t) => inRange(parseInstant(t, 'ms'), int64Range),
        },
      });
    case 'time': {
      const unit = timeUnitOf(args[0], type);
      if (args.length !== 1) throw new SchemaError(`field type ${JSON.stringify(type)}: time takes one unit, e.g. time(us)`);
      const narrow = unit === 's' || unit === 'ms';
      // Arrow's times of day lie in [0, 24 h): anything else is not a time of day.
      const range = { min: 0n, max: DAY_SECONDS * UNITS_PER_SECOND[unit] - 1n };
      return info({
        type: `time(${unit})`, family, kind: narrow ? 'i32' : 'i64', width: narrow ? 4 : 8, unit,
        expected: `a time of day HH:MM:SS${unit === 's' ? '' : `[.${'f'.repeat(UNITS_PER_SECOND[unit].toString().length - 1)}]`}`,
        int: { ...range, format: (v) => formatTimeOfDay(v, unit), parse: (t) => inRange(parseTimeOfDay(t, unit), range) },
      });
    }
    case 'duration': {
      const unit = timeUnitOf(args[0], type);
      if (args.length !== 1) throw new SchemaError(`field type ${JSON.stringify(type)}: duration takes one unit, e.g. duration(ms)`);
      return info({
        type: `duration(${unit})`, family, kind: 'i64', width: 8, unit, summable: true,
        expected: `an integer count of ${unit} (duration)`,
        int: { ...int64Range, format: (v) => v.toString(), parse: (t) => inRange(/^[+-]?\d+$/.test(t) ? BigInt(t) : undefined, int64Range) },
      });
    }
    case 'timestamp': {
      const unit = timeUnitOf(args[0], type);
      if (args.length > 2 || (args.length === 2 && !/^[A-Za-z0-9_+\-:/]+$/.test(args[1]!))) {
        throw new SchemaError(`field type ${JSON.stringify(type)}: timestamp takes a unit and an optional time zone, e.g. timestamp(ms) or timestamp(us,UTC)`);
      }
      const timeZone = args[1] ?? null;
      return info({
        type: timeZone === null ? `timestamp(${unit})` : `timestamp(${unit},${timeZone})`, family, kind: 'i64', width: 8,
        unit, timeZone, expected: `an ISO-8601 timestamp (exact to the ${unit})`,
        int: { ...int64Range, format: (v) => formatInstant(v, unit), parse: (t) => inRange(parseInstant(t, unit), int64Range) },
      });
    }
    case 'decimal': {
      const precision = Number(args[0]), scale = Number(args[1]);
      if (args.length !== 2 || !Number.isInteger(precision) || !Number.isInteger(scale) || String(precision) !== args[0] || String(scale) !== args[1]
        || precision < 1 || precision > DECIMAL_PRECISION_MAX || Math.abs(scale) > DECIMAL_PRECISION_MAX) {
        throw new SchemaError(`field type ${JSON.stringify(type)}: decimal takes a precision 1 to ${DECIMAL_PRECISION_MAX} and a scale, e.g. decimal(12,2)`);
      }
      const range = { min: -(pow10(precision) - 1n), max: pow10(precision) - 1n };
      const onI64 = precision <= DECIMAL_I64_PRECISION_MAX;
      const arrowWidth = precision <= 38 ? 16 : 32;
      return info({
        type: `decimal(${precision},${scale})`, family, kind: onI64 ? 'i64' : 'fixed', width: onI64 ? 8 : arrowWidth, arrowWidth,
        precision, scale, summable: true,
        expected: `a decimal(${precision},${scale}) (at most ${precision - scale} digits before the point and ${Math.max(0, scale)} after)`,
        int: { ...range, format: (v) => formatDecimal(v, scale), parse: (t) => inRange(parseDecimal(t, scale), range) },
      });
    }
    default:
      throw new SchemaError(`unknown field type ${JSON.stringify(type)} (types: ${FIELD_TYPE_NAMES})`);
  }
}

/** The field types, for messages. */
export const FIELD_TYPE_NAMES = 'float64, int64, uint64, bool, utf8, binary, fixed_binary(N), date32, date64, time(s|ms|us|ns), duration(s|ms|us|ns), timestamp(UNIT[,ZONE]), decimal(P,S)';

export function inRange(v: bigint | undefined, range: { min: bigint; max: bigint }): bigint | undefined {
  return v !== undefined && v >= range.min && v <= range.max ? v : undefined;
}

const cache = new Map<string, FieldTypeSpec>();

/** The descriptor of a field type (any accepted spelling: `date`, `decimal(10, 2)`); SchemaError when unknown. */
/** Type strings whose descriptors are kept (a bound: the strings come from files and users). */
const FIELD_TYPE_CACHE_MAX = 4096;

export function fieldTypeSpec(type: string): FieldTypeSpec {
  let found = cache.get(type);
  if (found === undefined) {
    found = build(type.replace(/\s+/g, ''));
    if (cache.size < FIELD_TYPE_CACHE_MAX) cache.set(type, found);
  }
  return found;
}

/** The canonical spelling of a field type (SchemaError when it is none). */
export function canonicalFieldType(type: string): FieldType {
  return fieldTypeSpec(type).type;
}

/** Whether `type` is the canonical name of a field type. */
export function isFieldType(type: string): type is FieldType {
  try {
    return fieldTypeSpec(type).type === type;
  } catch {
    return false;
  }
}

/** Little-endian two's complement words [at, at + n) → bigint. */
export function wordsToBigInt(words: Uint32Array, at: number, n: number): bigint {
  let v = 0n;
  for (let w = n - 1; w >= 0; w--) v = (v << 32n) | BigInt(words[at + w]!);
  return BigInt.asIntN(32 * n, v);
}

export function bigIntToWords(v: bigint, words: Uint32Array, at: number, n: number): void {
  let x = BigInt.asUintN(32 * n, v);
  for (let w = 0; w < n; w++) { words[at + w] = Number(x & 0xffffffffn); x >>= 32n; }
}
