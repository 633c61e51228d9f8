/*
 * Field types with Arrow: each type's Arrow type, Arrow types → field types, and values in
 * Arrow layouts. The types themselves (names, storage, ranges, text) are in
 * field-type-spec.ts, which needs no Arrow; everything here is re-exported from one place.
 */
import {
  Binary, Bool, type Data, DataType, DateDay, DateMillisecond, Decimal, Duration, FixedSizeBinary, Float64, Int64, makeData,
  Time, TimeUnit as ArrowTimeUnit, Timestamp, Type, Uint64, Utf8,
} from 'apache-arrow';
import type { FieldType, TimeUnit } from './types.js';
import {
  bigIntToWords, FIXED_BINARY_WIDTH_MAX, fieldTypeSpec, inRange, wordsToBigInt, type FieldTypeSpec, type FieldValue,
} from './field-type-spec.js';
import {
  DECIMAL_PRECISION_MAX, formatBase64, parseBase64, UNITS_PER_SECOND,
} from './field-text.js';

export {
  civilFromDays, daysFromCivil, DECIMAL_PRECISION_MAX, formatBase64, formatDate, formatDecimal, formatInstant, formatTimeOfDay,
  parseBase64, parseDecimal, parseInstant, pow10, UNITS_PER_SECOND,
} from './field-text.js';

/** A field type's descriptor with the Arrow type scans return (one shared instance per type). */
export interface FieldTypeInfo extends FieldTypeSpec {
  readonly arrow: DataType;
}

export {
  canonicalFieldType, DECIMAL_I64_PRECISION_MAX, FIELD_TYPE_NAMES, FIXED_BINARY_WIDTH_MAX, fieldTypeSpec, INT64_MAX, INT64_MIN, isFieldType,
  bigIntToWords, wordsToBigInt, type FieldFamily, type FieldTypeSpec, type FieldValue, type IntCodec,
} from './field-type-spec.js';

const ARROW_UNIT: Record<TimeUnit, ArrowTimeUnit> = { s: ArrowTimeUnit.SECOND, ms: ArrowTimeUnit.MILLISECOND, us: ArrowTimeUnit.MICROSECOND, ns: ArrowTimeUnit.NANOSECOND };
const UNIT_OF_ARROW: Record<number, TimeUnit> = { [ArrowTimeUnit.SECOND]: 's', [ArrowTimeUnit.MILLISECOND]: 'ms', [ArrowTimeUnit.MICROSECOND]: 'us', [ArrowTimeUnit.NANOSECOND]: 'ns' };

function arrowTypeOf(t: FieldTypeSpec): DataType {
  switch (t.family) {
    case 'float64': return new Float64();
    case 'int64': return new Int64();
    case 'uint64': return new Uint64();
    case 'bool': return new Bool();
    case 'utf8': return new Utf8();
    case 'binary': return new Binary();
    case 'fixed_binary': return new FixedSizeBinary(t.width);
    case 'date32': return new DateDay();
    case 'date64': return new DateMillisecond();
    case 'time': return new Time(ARROW_UNIT[t.unit!] as never, t.width === 4 ? 32 : 64);
    case 'duration': return new Duration(ARROW_UNIT[t.unit!]);
    case 'timestamp': return new Timestamp(ARROW_UNIT[t.unit!], t.timeZone ?? null);
    case 'decimal': return new Decimal(t.scale!, t.precision!, t.arrowWidth * 8);
  }
}

const infos = new WeakMap<FieldTypeSpec, FieldTypeInfo>();

/** The descriptor of a field type (any accepted spelling: `date`, `decimal(10, 2)`) with its Arrow type; SchemaError when unknown. */
export function fieldTypeInfo(type: string): FieldTypeInfo {
  const spec = fieldTypeSpec(type);
  let info = infos.get(spec);
  if (info === undefined) {
    info = Object.freeze({ ...spec, arrow: arrowTypeOf(spec) });
    infos.set(spec, info);
  }
  return info;
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
