import { isUtf8 } from 'node:buffer';
import {
  Binary, BinaryView, type Data, type DataType, Field, Float64, Int64, makeData, RecordBatch, Schema, Struct, Type, Uint64, Utf8, type Vector,
} from 'apache-arrow';
import {
  fieldData, fieldTypeInfo, formatValue, pow10, sameArrowType, scaleExact, unitOfArrow, wordsToBigInt,
  type FieldTypeInfo, type FieldValue,
} from '../format/field-types.js';
import type { FieldType } from '../format/types.js';
import { convertInts, type IntFailure, type IntTarget } from './int-convert.js';

/**
 * Arrow data of an input column (a file's, an appended batch's) → the canonical Arrow data of
 * a table field type (what scans return and the chunk writer takes), exactly or not at all:
 * narrower numbers widen, views and large types become their plain twins, units and decimal
 * scales convert when no digit is lost. A value that does not convert exactly, and invalid
 * UTF-8 in a string column, is an error naming the row (see docs/types.md).
 */

/** Raises the caller's error for row `row` (0-based within the data; undefined: the column as a whole). */
export type ConvertFail = (row: number | undefined, message: string) => never;

/** The row (0-based) of the first non-null value of a Utf8/LargeUtf8 Data that is not valid UTF-8, or -1. */
export function invalidUtf8Row(data: Data): number {
  const n = data.length;
  if (n === 0) return -1;
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  const bytes = data.values as Uint8Array;
  const start = Number(offsets[0]!), end = Number(offsets[n]!);
  // Fast path: the whole byte range is valid and no value starts inside a character.
  if (isUtf8(bytes.subarray(start, end))) {
    let aligned = true;
    for (let i = 1; i < n && aligned; i++) {
      const at = Number(offsets[i]!);
      if (at < end && (bytes[at]! & 0xc0) === 0x80) aligned = false;
    }
    if (aligned) return -1;
  }
  for (let i = 0; i < n; i++) {
    if (!data.getValid(i)) continue;
    if (!isUtf8(bytes.subarray(Number(offsets[i]!), Number(offsets[i + 1]!)))) return i;
  }
  return -1;
}

/** The row of the first non-null value of a string column (Utf8, LargeUtf8, Utf8View, Dictionary of them) that is not valid UTF-8, or -1. */
export function invalidUtf8RowOf(data: Data): number {
  switch (data.type.typeId) {
    case Type.Utf8: case Type.LargeUtf8: return invalidUtf8Row(data);
    case Type.Utf8View: return invalidUtf8Row(plainBytes(data, new Utf8()));
    case Type.Dictionary: {
      const dictionary = data.dictionary as Vector | undefined;
      if (!dictionary) return -1;
      const bad = new Set<number>();
      let base = 0;
      for (const part of dictionary.data) {
        if (part.type.typeId !== Type.Utf8 && part.type.typeId !== Type.LargeUtf8 && part.type.typeId !== Type.Utf8View) return -1;
        const plain = part.type.typeId === Type.Utf8View ? plainBytes(part, new Utf8()) : part;
        for (let at = 0; at < plain.length;) {
          const row = invalidUtf8Row(sliceData(plain, at));
          if (row < 0) break;
          bad.add(base + at + row);
          at += row + 1;
        }
        base += part.length;
      }
      if (bad.size === 0) return -1;
      const keys = data.values as ArrayLike<number | bigint>;
      for (let i = 0; i < data.length; i++) if (data.getValid(i) && bad.has(Number(keys[i]!))) return i;
      return -1;
    }
    default: return -1;
  }
}

function sliceData(data: Data, from: number): Data {
  return from === 0 ? data : data.slice(from, data.length - from);
}

/** The validity bitmap of `data` from bit 0 (a copy when the data is offset), or undefined without nulls. */
export function validityOf(data: Data): Uint8Array | undefined {
  if (data.nullCount === 0) return undefined;
  const n = data.length;
  const out = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (data.getValid(i)) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** Utf8View / BinaryView / LargeUtf8 / LargeBinary → the same bytes with int32 offsets, typed `type` (Utf8 or Binary). */
export function plainBytes(data: Data, type: Utf8 | Binary): Data {
  const n = data.length;
  const id = data.type.typeId;
  const offsets = new Int32Array(n + 1);
  let bytes: Uint8Array;
  if (id === Type.Utf8View || id === Type.BinaryView) {
    // Read the views through a BinaryView vector: bytes, never decoded text.
    const asBinary = vectorOf(id === Type.BinaryView ? data : data.clone(new BinaryView() as never) as Data);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = data.getValid(i) ? asBinary.get(i) as Uint8Array : new Uint8Array(0);
      parts.push(v);
      total += v.length;
      if (total > 0x7fffffff) throw new RangeError(`a column of more than 2 GiB of bytes`);
      offsets[i + 1] = total;
    }
    bytes = new Uint8Array(total);
    for (let i = 0; i < n; i++) bytes.set(parts[i]!, offsets[i]!);
  } else {
    const source = data.valueOffsets as Int32Array | BigInt64Array;
    const first = Number(source[0]!);
    const last = Number(source[n]!);
    if (last - first > 0x7fffffff) throw new RangeError(`a column of more than 2 GiB of bytes`);
    for (let i = 1; i <= n; i++) offsets[i] = Number(source[i]!) - first;
    bytes = (data.values as Uint8Array).subarray(first, last);
  }
  return makeData({ type, length: n, nullCount: data.nullCount, nullBitmap: validityOf(data), valueOffsets: offsets, data: bytes } as never);
}

/** A Vector over one Data (for `get` on the rare types read value by value). */
export function vectorOf(data: Data): Vector {
  const field = new Field('v', data.type, true);
  return new RecordBatch(new Schema([field]), makeData({ type: new Struct([field]), length: data.length, nullCount: 0, children: [data] })).getChildAt(0)!;
}

/**
 * `data` (one chunk of an input column) as canonical data of field type `target`. `fail`
 * raises the caller's error (with the file, row and column it knows).
 */
export function convertToField(data: Data, target: FieldType, fail: ConvertFail, source = 'input'): Data {
  const t = fieldTypeInfo(target);
  const type = data.type as DataType;
  const n = data.length;
  if (type.typeId === Type.Null) return fieldData(t, new Array<null>(n).fill(null));
  if (type.typeId === Type.Dictionary) return convertToField(undictionary(data), target, fail, source);
  const mismatch = (): never => fail(undefined, `is ${type} in the ${source} but ${target} in the table`);
  switch (t.family) {
    case 'float64': return toFloat64(data, fail) ?? mismatch();
    case 'int64': case 'uint64': return toInt64(data, t.family === 'uint64', fail) ?? mismatch();
    case 'bool':
      if (type.typeId !== Type.Bool) return mismatch();
      return data.offset === 0 ? data : makeData({ type: data.type, length: n, nullCount: data.nullCount, nullBitmap: validityOf(data), data: bitsFrom(data) } as never);
    case 'utf8': return toUtf8(data, fail) ?? mismatch();
    case 'binary': {
      if (type.typeId === Type.Binary) return data;
      if (type.typeId === Type.LargeBinary || type.typeId === Type.BinaryView || type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8 || type.typeId === Type.Utf8View) {
        return plainBytes(type.typeId === Type.Utf8 ? data.clone(new Binary() as never) as Data : data, new Binary());
      }
      if (type.typeId === Type.FixedSizeBinary) return byValue(data, t, (v) => v);
      return mismatch();
    }
    case 'fixed_binary':
      return type.typeId === Type.FixedSizeBinary && sameArrowType(type, t.arrow) ? ownFixed(data, t) : mismatch();
    default:
      return toIntBacked(data, t, fail) ?? mismatch();
  }
}

/** A dictionary column as its values (indices looked up; nulls kept). */
function undictionary(data: Data): Data {
  const dictionary = data.dictionary as Vector;
  const valueType = (data.type as unknown as { dictionary: DataType }).dictionary;
  const keys = data.values as ArrayLike<number | bigint>;
  const n = data.length;
  const rows: number[] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = data.getValid(i) ? Number(keys[i]!) : -1;
  return takeRows(dictionary, valueType, rows);
}

/** Rows of a vector (−1: null) as one Data of `type`, value by value through get() for types without a fast path. */
function takeRows(vector: Vector, type: DataType, rows: number[]): Data {
  const n = rows.length;
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) { if (rows[i]! < 0 || !vector.isValid(rows[i]!)) nulls++; else nullBitmap[i >> 3]! |= 1 << (i & 7); }
  const valid = (i: number) => ((nullBitmap[i >> 3]! >> (i & 7)) & 1) === 1;
  const parts = vector.data.length === 1 ? vector.data[0]! : null;
  if (parts && (type.typeId === Type.Utf8 || type.typeId === Type.Binary || type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary || type.typeId === Type.Utf8View || type.typeId === Type.BinaryView)) {
    const plain = type.typeId === Type.Utf8 || type.typeId === Type.Binary ? parts : plainBytes(parts, type.typeId === Type.LargeUtf8 || type.typeId === Type.Utf8View ? new Utf8() : new Binary());
    const source = plain.valueOffsets as Int32Array;
    const bytes = plain.values as Uint8Array;
    const offsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) { if (valid(i)) total += source[rows[i]! + 1]! - source[rows[i]!]!; offsets[i + 1] = total; }
    const out = new Uint8Array(total);
    for (let i = 0; i < n; i++) if (valid(i)) out.set(bytes.subarray(source[rows[i]!]!, source[rows[i]! + 1]!), offsets[i]!);
    return makeData({ type: plain.type, length: n, nullCount: nulls, nullBitmap: nulls > 0 ? nullBitmap : undefined, valueOffsets: offsets, data: out } as never);
  }
  // Fixed-width values: copy each row's bytes.
  if (parts && parts.values instanceof Object && 'BYTES_PER_ELEMENT' in (parts.values as object) && type.typeId !== Type.Bool) {
    const src = parts.values as ArrayBufferView & { length: number; BYTES_PER_ELEMENT: number };
    const width = (src.length * src.BYTES_PER_ELEMENT) / Math.max(1, parts.length);
    const from = new Uint8Array(src.buffer, src.byteOffset, src.length * src.BYTES_PER_ELEMENT);
    const out = new Uint8Array(n * width + 8);
    for (let i = 0; i < n; i++) if (valid(i)) out.set(from.subarray(rows[i]! * width, (rows[i]! + 1) * width), i * width);
    const Ctor = src.constructor as new (b: ArrayBufferLike, o: number, l: number) => ArrayBufferView;
    return makeData({ type, length: n, nullCount: nulls, nullBitmap: nulls > 0 ? nullBitmap : undefined, data: new Ctor(out.buffer, 0, (n * width) / src.BYTES_PER_ELEMENT) } as never);
  }
  const bits = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (valid(i) && vector.get(rows[i]!)) bits[i >> 3]! |= 1 << (i & 7);
  return makeData({ type, length: n, nullCount: nulls, nullBitmap: nulls > 0 ? nullBitmap : undefined, data: bits } as never);
}

function bitsFrom(data: Data): Uint8Array {
  const n = data.length;
  const out = new Uint8Array((n + 7) >> 3);
  const src = data.values as Uint8Array;
  for (let i = 0; i < n; i++) {
    const k = data.offset + i;
    if ((src[k >> 3]! >> (k & 7)) & 1) out[i >> 3]! |= 1 << (i & 7);
  }
  return out;
}


function toFloat64(data: Data, fail: ConvertFail): Data | undefined {
  const type = data.type as DataType;
  const n = data.length;
  const nullBitmap = validityOf(data);
  const make = (out: Float64Array) => makeData({ type: new Float64(), length: n, nullCount: data.nullCount, nullBitmap, data: out });
  if (type.typeId === Type.Float) {
    const precision = (type as unknown as { precision: number }).precision;
    if (precision === 2) return data;
    const out = new Float64Array(n);
    if (precision === 1) out.set((data.values as Float32Array).subarray(0, n));
    else { const v = vectorOf(data); for (let i = 0; i < n; i++) out[i] = data.getValid(i) ? v.get(i) as number : 0; }
    return make(out);
  }
  // Integers: exactly (a value beyond 2^53 a double would round is refused), through int-convert.
  if (type.typeId === Type.Int) return make(convertInts(data, 'float64', intFailure('float64', fail)) as Float64Array);
  return undefined;
}

function toInt64(data: Data, unsigned: boolean, fail: ConvertFail): Data | undefined {
  const type = data.type as DataType;
  if (type.typeId !== Type.Int) return undefined;
  const int = type as unknown as { bitWidth: number; isSigned: boolean };
  if (int.bitWidth === 64 && int.isSigned !== unsigned) return data;
  const target = unsigned ? 'uint64' : 'int64';
  // Widening copies; narrowing (int64 ↔ uint64) is checked per value (int-convert.ts).
  const values = convertInts(data, target, intFailure(target, fail));
  const dt = unsigned ? new Uint64() : new Int64();
  return makeData({ type: dt, length: data.length, nullCount: data.nullCount, nullBitmap: validityOf(data), data: values } as never);
}

/** convertInts' failure as a ConvertFail message: what the table's type expected, the value, and why it does not fit. */
function intFailure(target: IntTarget, fail: ConvertFail): IntFailure {
  return (row, value, why) => fail(row, `expected ${target}, got ${value}, which ${why}`);
}

function checkUtf8(data: Data, fail: ConvertFail): Data {
  const row = invalidUtf8Row(data);
  if (row >= 0) fail(row, 'invalid UTF-8 in a string column (store bytes as binary)');
  return data;
}

function toUtf8(data: Data, fail: ConvertFail): Data | undefined {
  switch (data.type.typeId) {
    case Type.Utf8: return checkUtf8(data, fail);
    case Type.LargeUtf8: case Type.Utf8View: return checkUtf8(plainBytes(data, new Utf8()), fail);
    // Binary into a utf8 field (tables whose binary columns were imported as text): only valid UTF-8.
    case Type.Binary: case Type.LargeBinary: case Type.BinaryView:
      return checkUtf8(plainBytes(data.type.typeId === Type.Binary ? data.clone(new Utf8() as never) as Data : data, new Utf8()), fail);
    case Type.FixedSizeBinary: {
      // Tables that imported fixed-size binary (UUIDs) as text hold it as hex.
      const width = (data.type as unknown as { byteWidth: number }).byteWidth;
      const bytes = data.values as Uint8Array;
      const strings: (string | null)[] = new Array(data.length);
      for (let i = 0; i < data.length; i++) strings[i] = data.getValid(i) ? hexText(bytes.subarray(i * width, (i + 1) * width)) : null;
      return utf8Of(strings);
    }
    default: return undefined;
  }
}

function hexText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return bytes.length === 16 ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` : hex;
}

function utf8Of(strings: (string | null)[]): Data {
  const encoder = new TextEncoder();
  const parts = strings.map((s) => (s === null ? null : encoder.encode(s)));
  return fieldData(fieldTypeInfo('binary'), parts).clone(new Utf8() as never) as Data;
}

/** FixedSizeBinary data owning its bytes from 0 (Arrow JS keeps the offset for them). */
function ownFixed(data: Data, t: FieldTypeInfo): Data {
  if (data.offset === 0) return data;
  return byValue(data, t, (v) => v);
}

/** Value by value through the generic reader (rare conversions). */
function byValue(data: Data, t: FieldTypeInfo, convert: (v: Uint8Array) => FieldValue): Data {
  const v = vectorOf(data);
  const out: (FieldValue | null)[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data.getValid(i) ? convert(v.get(i) as Uint8Array) : null;
  return fieldData(t, out);
}

/** The stored integers of an integer-backed source (dates, times, durations, timestamps, decimals, integers) at `row`. */
function sourceInt(data: Data, row: number): bigint {
  const type = data.type as DataType;
  if (type.typeId === Type.Decimal) {
    const words = (type as unknown as { bitWidth: number }).bitWidth / 32;
    return wordsToBigInt(data.values as Uint32Array, row * words, words);
  }
  return BigInt((data.values as ArrayLike<number | bigint>)[row]!);
}

/**
 * Into an integer-backed type: the same type as is (a decimal's precision checked); other
 * units, dates, scales and integers through each value, exactly or an error naming the row.
 */
function toIntBacked(data: Data, t: FieldTypeInfo, fail: ConvertFail): Data | undefined {
  const type = data.type as DataType;
  const n = data.length;
  const convert = convertInt(type, t);
  if (convert === undefined) return undefined;
  if (sameArrowType(type, t.arrow)) {
    if (t.family === 'decimal') checkDecimals(data, t, fail);
    if (t.family === 'time') checkTimesOfDay(data, t, fail);
    return ownFixedWidth(data, t);
  }
  const out: (bigint | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    if (!data.getValid(i)) { out[i] = null; continue; }
    const from = sourceInt(data, i);
    const v = convert(from);
    if (v === undefined || v < t.int!.min || v > t.int!.max) fail(i, `${describeSource(type, from)} is not exactly a ${t.type} (the table's type)`);
    out[i] = v;
  }
  return fieldData(t, out);
}

function describeSource(type: DataType, v: bigint): string {
  const mapped = type.typeId === Type.Int ? undefined : (() => {
    try { return fieldTypeInfo(sourceFieldType(type)); } catch { return undefined; }
  })();
  return mapped?.int ? JSON.stringify(formatValue(mapped, v)) : v.toString();
}

function sourceFieldType(type: DataType): string {
  switch (type.typeId) {
    case Type.Date: return (type as unknown as { unit: number }).unit === 0 ? 'date32' : 'date64';
    case Type.Time: return `time(${unitOfArrow(type)})`;
    case Type.Duration: return `duration(${unitOfArrow(type)})`;
    case Type.Timestamp: return `timestamp(${unitOfArrow(type)})`;
    case Type.Decimal: return `decimal(${(type as unknown as { precision: number }).precision},${(type as unknown as { scale: number }).scale})`;
    default: return 'int64';
  }
}

/** How a source Arrow type's stored integer converts into `t`'s, or undefined when it does not. */
function convertInt(type: DataType, t: FieldTypeInfo): ((v: bigint) => bigint | undefined) | undefined {
  const id = type.typeId;
  switch (t.family) {
    case 'date32':
      if (id !== Type.Date) return undefined;
      return (type as unknown as { unit: number }).unit === 0 ? (v) => v : (v) => (v % 86_400_000n === 0n ? v / 86_400_000n : undefined);
    case 'date64':
      if (id !== Type.Date) return undefined;
      return (type as unknown as { unit: number }).unit === 0 ? (v) => v * 86_400_000n : (v) => v;
    case 'time': case 'duration': {
      if (id !== (t.family === 'time' ? Type.Time : Type.Duration)) return undefined;
      const from = unitOfArrow(type);
      return (v) => scaleExact(v, from, t.unit!);
    }
    case 'timestamp': {
      if (id !== Type.Timestamp || ((type as unknown as { timezone?: string | null }).timezone || null) !== (t.timeZone ?? null)) return undefined;
      const from = unitOfArrow(type);
      return (v) => scaleExact(v, from, t.unit!);
    }
    case 'decimal': {
      if (id === Type.Int) return (v) => v * pow10(Math.max(0, t.scale!)) / pow10(Math.max(0, -t.scale!));
      if (id !== Type.Decimal) return undefined;
      const shift = t.scale! - (type as unknown as { scale: number }).scale;
      if (shift >= 0) return (v) => v * pow10(shift);
      const d = pow10(-shift);
      return (v) => (v % d === 0n ? v / d : undefined);
    }
    default: return undefined;
  }
}

/** Canonical fixed-width data owning its values from row 0 (Arrow JS pre-slices value buffers, but keep the copy exact). */
function ownFixedWidth(data: Data, t: FieldTypeInfo): Data {
  if (data.nullBitmap === undefined || data.offset === 0) return data;
  return makeData({ type: t.arrow, length: data.length, nullCount: data.nullCount, nullBitmap: validityOf(data), data: data.values } as never);
}

/** Every valid time of day lies in [0, 24 h) (Arrow's rule; a value outside is no time of day). */
function checkTimesOfDay(data: Data, t: FieldTypeInfo, fail: ConvertFail): void {
  const values = data.values as Int32Array | BigInt64Array;
  const max = t.int!.max;
  for (let i = 0; i < data.length; i++) {
    const v = values[i]!;
    if ((v < 0 || v > max) && data.getValid(i)) fail(i, `${v} ${t.unit} is not a time of day (0 to ${max} ${t.unit})`);
  }
}

/** Every valid value of a decimal column lies within its precision (an Arrow writer may not have checked). */
function checkDecimals(data: Data, t: FieldTypeInfo, fail: ConvertFail): void {
  const words = t.arrowWidth / 4;
  const src = data.values as Uint32Array;
  const signed = new Int32Array(src.buffer, src.byteOffset, data.length * words);
  const bound = Number(t.int!.max);
  for (let i = 0; i < data.length; i++) {
    // Quick accept: the upper words only extend the sign and |value| stays well inside 10^p.
    const at = i * words;
    const hi = signed[at + 1]!;
    let extends_ = true;
    for (let w = 2; w < words && extends_; w++) extends_ = signed[at + w] === (hi < 0 ? -1 : 0);
    if (extends_ && Math.abs(hi * 4294967296 + (src[at]! >>> 0)) < bound * 0.999) continue;
    if (!data.getValid(i)) continue;
    const v = wordsToBigInt(src, at, words);
    if (v < t.int!.min || v > t.int!.max) fail(i, `unscaled value ${v} exceeds the precision of ${t.type}`);
  }
}
