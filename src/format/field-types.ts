/*
 * Long file: the table of field types (names, Arrow types, ranges, value access and
 * construction) is read as one; the text forms of values are already out (field-text.ts).
 */
import {
  Binary, Bool, type Data, DataType, DateDay, DateMillisecond, Decimal, Duration, FixedSizeBinary, Float64, Int64, makeData,
  Time, TimeUnit as ArrowTimeUnit, Timestamp, Type, Uint64, Utf8,
} from 'apache-arrow';
import { SchemaError } from '../errors.js';
import type { PageKind } from './encodings/types.js';
import type { FieldType, TimeUnit } from './types.js';
import {
  DAY_SECONDS, DECIMAL_PRECISION_MAX, formatBase64, formatDate, formatDecimal, formatInstant, formatTimeOfDay, parseBase64,
  parseDate, parseDecimal, parseInstant, parseTimeOfDay, pow10, UNITS_PER_SECOND,
} from './field-text.js';

export {
  civilFromDays, daysFromCivil, DECIMAL_PRECISION_MAX, formatBase64, formatDate, formatDecimal, formatInstant, formatTimeOfDay,
  parseBase64, parseDecimal, parseInstant, pow10, UNITS_PER_SECOND,
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

export interface FieldTypeInfo {
  /** Canonical name, as in schemas and chunk footers: `decimal(12,2)`, `timestamp(ms,UTC)`. */
  readonly type: FieldType;
  readonly family: FieldFamily;
  /** Physical page kind. */
  readonly kind: PageKind;
  /** Bytes per value on a page of kind 'fixed' (or i64/f64: 8, i32: 4); 0 for bool and variable-length kinds. */
  readonly width: number;
  /** The Arrow type scans return (one shared instance). */
  readonly arrow: DataType;
  /** Bytes per value in that Arrow layout (0 for bool and variable-length types). */
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

const UNITS: readonly TimeUnit[] = ['s', 'ms', 'us', 'ns'];
const ARROW_UNIT: Record<TimeUnit, ArrowTimeUnit> = { s: ArrowTimeUnit.SECOND, ms: ArrowTimeUnit.MILLISECOND, us: ArrowTimeUnit.MICROSECOND, ns: ArrowTimeUnit.NANOSECOND };
const UNIT_OF_ARROW: Record<number, TimeUnit> = { [ArrowTimeUnit.SECOND]: 's', [ArrowTimeUnit.MILLISECOND]: 'ms', [ArrowTimeUnit.MICROSECOND]: 'us', [ArrowTimeUnit.NANOSECOND]: 'ns' };
const INT32_MIN = -(2n ** 31n), INT32_MAX = 2n ** 31n - 1n;
export const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n;
/** Largest precision stored on int64 pages (10^18 − 1 < 2^63). */
export const DECIMAL_I64_PRECISION_MAX = 18;
/** Largest FixedSizeBinary width a column takes (a page of 8192 such values stays under 64 MiB). */
export const FIXED_BINARY_WIDTH_MAX = 4096;
// ---------------------------------------------------------------------------------------
// The families

const int32Range = { min: INT32_MIN, max: INT32_MAX };
const int64Range = { min: INT64_MIN, max: INT64_MAX };

function info(spec: Omit<FieldTypeInfo, 'arrowWidth' | 'bytes' | 'int' | 'summable' | 'ordered' | 'stat'> & Partial<FieldTypeInfo>): FieldTypeInfo {
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
function build(type: string): FieldTypeInfo {
  const m = /^([a-z_0-9]+)(?:\((.*)\))?$/.exec(type);
  const family = m?.[1];
  const args = m?.[2] === undefined ? [] : m[2].split(',').map((a) => a.trim());
  const plain = (f: string) => {
    if (m?.[2] !== undefined) throw new SchemaError(`field type ${JSON.stringify(type)}: ${f} takes no parameters`);
  };
  switch (family) {
    case 'float64': plain(family); return info({ type: 'float64', family, kind: 'f64', width: 8, arrow: new Float64(), stat: 'float', summable: true, expected: 'float64' });
    case 'int64': plain(family); return info({ type: 'int64', family, kind: 'i64', width: 8, arrow: new Int64(), summable: true, expected: 'int64' });
    case 'uint64': plain(family); return info({ type: 'uint64', family, kind: 'i64', width: 8, arrow: new Uint64(), summable: true, expected: 'uint64' });
    case 'bool': plain(family); return info({ type: 'bool', family, kind: 'bool', width: 0, arrow: new Bool(), stat: 'bool', expected: 'bool (true/false)' });
    case 'utf8': plain(family); return info({ type: 'utf8', family, kind: 'utf8', width: 0, arrow: new Utf8(), stat: 'string', expected: 'utf8' });
    case 'binary': plain(family);
      return info({ type: 'binary', family, kind: 'utf8', width: 0, arrow: new Binary(), bytes: true, stat: 'none', ordered: false, expected: 'binary (base64)' });
    case 'fixed_binary': {
      const width = Number(args[0]);
      if (args.length !== 1 || !Number.isInteger(width) || width < 1 || width > FIXED_BINARY_WIDTH_MAX || String(width) !== args[0]) {
        throw new SchemaError(`field type ${JSON.stringify(type)}: fixed_binary takes a width in bytes, 1 to ${FIXED_BINARY_WIDTH_MAX}`);
      }
      return info({
        type: `fixed_binary(${width})`, family, kind: 'fixed', width, arrow: new FixedSizeBinary(width), bytes: true, stat: 'none', ordered: false,
        expected: `fixed_binary(${width}) (base64 of ${width} bytes)`,
      });
    }
    case 'date32': case 'date': plain(family);
      return info({
        type: 'date32', family: 'date32', kind: 'i32', width: 4, arrow: new DateDay(), expected: 'a date YYYY-MM-DD',
        int: { ...int32Range, format: (v) => formatDate(Number(v)), parse: (t) => inRange(parseDate(t), int32Range) },
      });
    case 'date64': plain(family);
      return info({
        type: 'date64', family, kind: 'i64', width: 8, arrow: new DateMillisecond(), expected: 'a date YYYY-MM-DD (or a time of it)',
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
        type: `time(${unit})`, family, kind: narrow ? 'i32' : 'i64', width: narrow ? 4 : 8, arrow: new Time(ARROW_UNIT[unit] as never, narrow ? 32 : 64), unit,
        expected: `a time of day HH:MM:SS${unit === 's' ? '' : `[.${'f'.repeat(UNITS_PER_SECOND[unit].toString().length - 1)}]`}`,
        int: { ...range, format: (v) => formatTimeOfDay(v, unit), parse: (t) => inRange(parseTimeOfDay(t, unit), range) },
      });
    }
    case 'duration': {
      const unit = timeUnitOf(args[0], type);
      if (args.length !== 1) throw new SchemaError(`field type ${JSON.stringify(type)}: duration takes one unit, e.g. duration(ms)`);
      return info({
        type: `duration(${unit})`, family, kind: 'i64', width: 8, arrow: new Duration(ARROW_UNIT[unit]), unit, summable: true,
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
        arrow: new Timestamp(ARROW_UNIT[unit], timeZone), unit, timeZone, expected: `an ISO-8601 timestamp (exact to the ${unit})`,
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
        arrow: new Decimal(scale, precision, arrowWidth * 8), precision, scale, summable: true,
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

function inRange(v: bigint | undefined, range: { min: bigint; max: bigint }): bigint | undefined {
  return v !== undefined && v >= range.min && v <= range.max ? v : undefined;
}

const cache = new Map<string, FieldTypeInfo>();

/** The descriptor of a field type (any accepted spelling: `date`, `decimal(10, 2)`); SchemaError when unknown. */
/** Type strings whose descriptors are kept (a bound: the strings come from files and users). */
const FIELD_TYPE_CACHE_MAX = 4096;

export function fieldTypeInfo(type: string): FieldTypeInfo {
  let found = cache.get(type);
  if (found === undefined) {
    found = build(type.replace(/\s+/g, ''));
    if (cache.size < FIELD_TYPE_CACHE_MAX) cache.set(type, found);
  }
  return found;
}

/** The canonical spelling of a field type (SchemaError when it is none). */
export function canonicalFieldType(type: string): FieldType {
  return fieldTypeInfo(type).type;
}

/** Whether `type` is the canonical name of a field type. */
export function isFieldType(type: string): type is FieldType {
  try {
    return fieldTypeInfo(type).type === type;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// Arrow types → field types

/** The field type whose Arrow type scans return is exactly `type` (the chunk writer's input); undefined otherwise. */
export function fieldTypeOfArrow(type: DataType): FieldType | undefined {
  const mapped = importFieldTypeOf(type);
  if (typeof mapped !== 'object' || mapped === null) return undefined;
  const canonical = fieldTypeInfo(mapped.type).arrow;
  return sameArrowType(canonical, type) ? mapped.type : undefined;
}

/** Arrow types equal in id, parameters, time zone and decimal width. */
export function sameArrowType(a: DataType, b: DataType): boolean {
  if (a.typeId !== b.typeId || String(a) !== String(b)) return false;
  if (a.typeId === Type.Timestamp && ((a as Timestamp).timezone ?? null) !== ((b as Timestamp).timezone ?? null)) return false;
  return a.typeId !== Type.Decimal || (a as Decimal).bitWidth === (b as Decimal).bitWidth;
}

/**
 * The field type an Arrow column of an input (a file, an appended batch) becomes:
 * `{ type }` (narrower numbers widen exactly: Int8…Int32 and Uint8…Uint32 to int64, Float16/32
 * to float64; views and large types become their plain twins); `null` for the Null type (a
 * column without values, see docs/types.md); or the reason it cannot be a column.
 */
export function importFieldTypeOf(type: DataType): { type: FieldType } | null | string {
  switch (type.typeId) {
    case Type.Null: return null;
    case Type.Float: return { type: 'float64' };
    case Type.Int: {
      const int = type as unknown as { isSigned: boolean; bitWidth: number };
      return { type: !int.isSigned && int.bitWidth === 64 ? 'uint64' : 'int64' };
    }
    case Type.Bool: return { type: 'bool' };
    case Type.Utf8: case Type.LargeUtf8: case Type.Utf8View: return { type: 'utf8' };
    case Type.Binary: case Type.LargeBinary: case Type.BinaryView: return { type: 'binary' };
    case Type.FixedSizeBinary: {
      const width = (type as FixedSizeBinary).byteWidth;
      if (width < 1 || width > FIXED_BINARY_WIDTH_MAX) return `has the type ${type}; fixed-size binary columns take 1 to ${FIXED_BINARY_WIDTH_MAX} bytes`;
      return { type: `fixed_binary(${width})` };
    }
    case Type.Date: return { type: (type as DateDay).unit === 0 ? 'date32' : 'date64' };
    case Type.Time: return { type: `time(${UNIT_OF_ARROW[(type as Time).unit]!})` };
    case Type.Duration: return { type: `duration(${UNIT_OF_ARROW[(type as Duration).unit]!})` };
    case Type.Timestamp: {
      const t = type as Timestamp;
      const zone = t.timezone ?? '';
      if (zone !== '' && !/^[A-Za-z0-9_+\-:/]+$/.test(zone)) return `has the type ${type}, whose time zone ${JSON.stringify(zone)} is not a zone name or offset`;
      return { type: zone === '' ? `timestamp(${UNIT_OF_ARROW[t.unit]!})` : `timestamp(${UNIT_OF_ARROW[t.unit]!},${zone})` };
    }
    case Type.Decimal: {
      const d = type as Decimal;
      if (d.precision < 1 || d.precision > DECIMAL_PRECISION_MAX) return `has the type ${type}, a precision outside 1…${DECIMAL_PRECISION_MAX}`;
      return { type: `decimal(${d.precision},${d.scale})` };
    }
    case Type.Dictionary: {
      const value = (type as unknown as { dictionary: DataType }).dictionary;
      return importFieldTypeOf(value);
    }
    case Type.Interval:
      return `has the type ${type}: an interval (months, days and a time) has no single length or order; store it as a duration, or split it into numeric columns`;
    case Type.List: case Type.LargeList: case Type.FixedSizeList: case Type.Struct: case Type.Map: case Type.Union: case Type.SparseUnion: case Type.DenseUnion:
      return `has the nested type ${type}; flatten it (one column per leaf) before import`;
    default:
      return `has the type ${type}, which a table cannot hold (see docs/types.md)`;
  }
}

// ---------------------------------------------------------------------------------------
// Values of integer-backed and binary types in their canonical Arrow layout

/** The stored integer at `row` of canonical Arrow data of an integer-backed type (the row must be valid). */
export function intAt(t: FieldTypeInfo, data: Data, row: number): bigint {
  switch (t.arrowWidth) {
    case 4: return BigInt((data.values as Int32Array)[row]!);
    case 8: return (data.values as BigInt64Array)[row]!;
    default: return wordsToBigInt(data.values as Uint32Array, row * (t.arrowWidth / 4), t.arrowWidth / 4);
  }
}

/** The bytes at `row` of Binary or FixedSizeBinary data (a view). */
export function bytesAt(t: FieldTypeInfo, data: Data, row: number): Uint8Array {
  if (t.family === 'fixed_binary') return (data.values as Uint8Array).subarray(row * t.width, (row + 1) * t.width);
  const offsets = data.valueOffsets as Int32Array;
  return (data.values as Uint8Array).subarray(offsets[row]!, offsets[row + 1]!);
}

export function valueAt(t: FieldTypeInfo, data: Data, row: number): FieldValue {
  return t.bytes ? bytesAt(t, data, row) : intAt(t, data, row);
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

/** Canonical Arrow data of a type from values (null = null). Integers must lie in the type's range. */
export function fieldData(t: FieldTypeInfo, values: readonly (FieldValue | null)[]): Data {
  const n = values.length;
  let nullCount = 0;
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) { if (values[i] === null) nullCount++; else bitmap[i >> 3]! |= 1 << (i & 7); }
  const nullBitmap = nullCount > 0 ? bitmap : undefined;
  if (t.family === 'binary') {
    const offsets = new Int32Array(n + 1);
    let bytes = 0;
    for (let i = 0; i < n; i++) { bytes += (values[i] as Uint8Array | null)?.length ?? 0; offsets[i + 1] = bytes; }
    const data = new Uint8Array(bytes);
    for (let i = 0; i < n; i++) if (values[i] !== null) data.set(values[i] as Uint8Array, offsets[i]!);
    return makeData({ type: t.arrow as Binary, length: n, nullCount, nullBitmap, valueOffsets: offsets, data });
  }
  const raw = new Uint8Array(n * t.arrowWidth);
  if (t.family === 'fixed_binary') {
    for (let i = 0; i < n; i++) if (values[i] !== null) raw.set(values[i] as Uint8Array, i * t.width);
  } else if (t.arrowWidth === 4) {
    const out = new Int32Array(raw.buffer);
    for (let i = 0; i < n; i++) if (values[i] !== null) out[i] = Number(values[i]);
  } else if (t.arrowWidth === 8) {
    const out = new BigInt64Array(raw.buffer);
    for (let i = 0; i < n; i++) if (values[i] !== null) out[i] = values[i] as bigint;
  } else {
    const out = new Uint32Array(raw.buffer);
    const words = t.arrowWidth / 4;
    for (let i = 0; i < n; i++) if (values[i] !== null) bigIntToWords(values[i] as bigint, out, i * words, words);
  }
  return fixedWidthData(t, n, nullCount, nullBitmap, raw);
}

/** Arrow data of a fixed-width type over `bytes` (n × arrowWidth, 8-byte aligned offset). */
export function fixedWidthData(t: FieldTypeInfo, n: number, nullCount: number, nullBitmap: Uint8Array | undefined, bytes: Uint8Array): Data {
  const ArrayType = (t.arrow as unknown as { ArrayType: new (buffer: ArrayBufferLike, offset: number, length: number) => ArrayBufferView & { BYTES_PER_ELEMENT: number } }).ArrayType;
  const element = (ArrayType as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  let view = bytes;
  if (bytes.byteOffset % element !== 0) view = bytes.slice();
  const data = new ArrayType(view.buffer, view.byteOffset, view.byteLength / element);
  return makeData({ type: t.arrow, length: n, nullCount, nullBitmap, data } as never);
}

/** A value as text (CSV, the table format): see docs/types.md. */
export function formatValue(t: FieldTypeInfo, value: FieldValue): string {
  return typeof value === 'bigint' ? t.int!.format(value) : formatBase64(value);
}

/** A value for JSON: a duration as a number of its unit when safe, everything else a string. */
export function jsonValue(t: FieldTypeInfo, value: FieldValue): string | number {
  if (typeof value === 'bigint' && t.family === 'duration' && value >= -(2n ** 53n) + 1n && value <= 2n ** 53n - 1n) return Number(value);
  return formatValue(t, value);
}

/** Text → a value of the type (CSV cells, strings given to append); undefined when not exactly one. */
export function parseValue(t: FieldTypeInfo, text: string): FieldValue | undefined {
  if (t.bytes) {
    const bytes = parseBase64(text);
    return bytes !== undefined && (t.family !== 'fixed_binary' || bytes.length === t.width) ? bytes : undefined;
  }
  return t.int?.parse(text);
}

/**
 * A JS value given to append() for a field of an integer-backed or binary type: a string is
 * parsed as text; a Uint8Array is binary; a Date is a date or an instant; a number or bigint
 * is the integer the type stores (days, a count of the unit) — except for timestamps, where
 * it is epoch milliseconds (number) or nanoseconds (bigint), and decimals, where it is the
 * value (a number by its shortest decimal text). Undefined when it is not exactly a value.
 */
export function valueFromJs(t: FieldTypeInfo, v: unknown): FieldValue | undefined {
  if (typeof v === 'string') return parseValue(t, v);
  if (t.bytes) {
    if (!(v instanceof Uint8Array) || (t.family === 'fixed_binary' && v.length !== t.width)) return undefined;
    return v;
  }
  const int = t.int!;
  const ranged = (x: bigint | undefined) => inRange(x, int);
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) return undefined;
    if (t.family === 'date32') return ms % 86_400_000 === 0 ? ranged(BigInt(ms / 86_400_000)) : undefined;
    if (t.family === 'date64') return ranged(BigInt(ms));
    if (t.family === 'timestamp') return ranged(scaleExact(BigInt(ms), 'ms', t.unit!));
    return undefined;
  }
  if (typeof v !== 'number' && typeof v !== 'bigint') return undefined;
  if (typeof v === 'number' && !Number.isFinite(v)) return undefined;
  if (t.family === 'decimal') return int.parse(typeof v === 'bigint' ? v.toString() : plainNumberText(v));
  if (typeof v === 'number' && !Number.isSafeInteger(v)) return undefined;
  if (t.family === 'timestamp') return ranged(typeof v === 'number' ? scaleExact(BigInt(v), 'ms', t.unit!) : scaleExact(v, 'ns', t.unit!));
  return ranged(BigInt(v));
}

/** A number's shortest round-trip text without an exponent (1e21 → '1000000000000000000000'). */
function plainNumberText(v: number): string {
  const text = String(v);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const digits = m[2]! + (m[3] ?? '');
  const exponent = Number(m[4]);
  const point = 1 + exponent;
  if (point <= 0) return `${m[1]}0.${'0'.repeat(-point)}${digits}`;
  return point >= digits.length ? `${m[1]}${digits}${'0'.repeat(point - digits.length)}` : `${m[1]}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** `value` in `from` units as a count of `to` units; undefined when not exact. */
export function scaleExact(value: bigint, from: TimeUnit, to: TimeUnit): bigint | undefined {
  const a = UNITS_PER_SECOND[from], b = UNITS_PER_SECOND[to];
  if (a === b) return value;
  if (b > a) return value * (b / a);
  const d = a / b;
  return value % d === 0n ? value / d : undefined;
}

/** The time unit of an Arrow Timestamp/Time/Duration type. */
export function unitOfArrow(type: DataType): TimeUnit {
  return UNIT_OF_ARROW[(type as unknown as { unit: number }).unit]!;
}
