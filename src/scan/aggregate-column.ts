import { DataType, type Data, type RecordBatch, type Vector } from 'apache-arrow';
import { SchemaError } from '../errors.js';
import { utf8Decoder } from '../format/utf8.js';
import { wordsToBigInt, type FieldTypeInfo } from '../format/field-types.js';

/**
 * Raw access to the Arrow columns a scan produces, for the vectorized loops of queries and
 * filters: typed arrays with the Data offset applied, and validity bitmaps. Never `.get()`
 * per row (it boxes values and turns timestamps into float milliseconds).
 */

/**
 * The layout of a column: 'w32' / 'w64' are 32- / 64-bit values of a field type other than
 * the integers (dates, times of day, durations), 'fixed' fixed-width bytes (decimals,
 * fixed-size binary), 'bytes' binary values with offsets.
 */
export type ColumnKind = 'f64' | 'i64' | 'u64' | 'bool' | 'utf8' | 'dict' | 'time' | 'i32' | 'w32' | 'w64' | 'fixed' | 'bytes';

export interface ColumnView {
  kind: ColumnKind;
  length: number;
  data: Data;
  /** Validity bitmap and its bit offset; null when the column has no null. */
  validity: Uint8Array | null;
  validityOffset: number;
}

export function columnData(batch: RecordBatch, name: string, where: string): Data {
  const child = batch.getChild(name) as Vector | null;
  if (!child) throw new SchemaError(`${where}: column ${JSON.stringify(name)} missing from scanned batch (columns: ${batch.schema.fields.map((f) => f.name).join(', ')})`);
  if (child.data.length !== 1) throw new SchemaError(`${where}: column ${JSON.stringify(name)} has ${child.data.length} data chunks in one batch, expected 1`);
  return child.data[0]!;
}

export function columnKind(data: Data, where: string): ColumnKind {
  const type = data.type;
  if (DataType.isTimestamp(type)) return 'time';
  if (DataType.isDictionary(type)) return 'dict';
  if (DataType.isFloat(type)) {
    if (type.precision !== 2) throw new SchemaError(`${where}: float column of precision ${type.precision}, expected float64`);
    return 'f64';
  }
  if (DataType.isInt(type)) {
    if (type.bitWidth === 64) return type.isSigned ? 'i64' : 'u64';
    if (type.bitWidth === 32 && type.isSigned) return 'i32';
    throw new SchemaError(`${where}: integer column of ${type.bitWidth} bits, expected 64`);
  }
  if (DataType.isBool(type)) return 'bool';
  if (DataType.isUtf8(type)) return 'utf8';
  if (DataType.isDate(type) || DataType.isTime(type) || DataType.isDuration(type)) {
    return ((data.values as ArrayBufferView & { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT === 4) ? 'w32' : 'w64';
  }
  if (DataType.isDecimal(type) || DataType.isFixedSizeBinary(type)) return 'fixed';
  if (DataType.isBinary(type)) return 'bytes';
  throw new SchemaError(`${where}: unsupported column type ${String(type)}`);
}

export function columnView(batch: RecordBatch, name: string, where: string): ColumnView {
  const data = columnData(batch, name, where);
  const bitmap = data.nullBitmap as Uint8Array | undefined;
  const hasNulls = bitmap !== undefined && bitmap.length > 0 && data.nullCount > 0;
  return {
    kind: columnKind(data, where),
    length: data.length,
    data,
    validity: hasNulls ? bitmap : null,
    validityOffset: data.offset,
  };
}

export function isValidAt(view: ColumnView, row: number): boolean {
  const v = view.validity;
  if (v === null) return true;
  const bit = view.validityOffset + row;
  return ((v[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

/*
 * Arrow JS slices fixed-width value buffers and value offsets when it slices a Data, and
 * keeps `offset` for what it does not slice: validity bitmaps and bool values (bits). So
 * `values[i]` is row i, while bitmaps are read at bit `offset + i`.
 */

/** The typed array of values, row 0 first. */
export function float64Values(data: Data): Float64Array {
  return (data.values as Float64Array).subarray(0, data.length);
}

export function bigint64Values(data: Data): BigInt64Array | BigUint64Array {
  return (data.values as BigInt64Array | BigUint64Array).subarray(0, data.length);
}

export function int32Values(data: Data): Int32Array {
  return (data.values as Int32Array).subarray(0, data.length);
}

/**
 * 64-bit integers (or timestamps) as float64 relative to `base`: exact while
 * |value − base| < 2^53. Reads the two 32-bit halves, so no BigInt per row.
 * Returns whether every value was exact.
 */
export function int64ToFloat64(data: Data, base: bigint, unsigned: boolean, out: Float64Array): boolean {
  const values = bigint64Values(data);
  const n = values.length;
  const words = new Int32Array(values.buffer, values.byteOffset, n * 2);
  const baseLo = Number(BigInt.asUintN(32, base));
  const baseHi = Number(unsigned ? BigInt.asUintN(64, base) >> 32n : BigInt.asIntN(64, base) >> 32n);
  const TWO32 = 4294967296;
  let exact = true;
  if (unsigned) {
    for (let i = 0; i < n; i++) {
      const dh = (words[2 * i + 1]! >>> 0) - baseHi;
      if (dh > 2097151 || dh < -2097151) exact = false;
      out[i] = dh * TWO32 + ((words[2 * i]! >>> 0) - baseLo);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const dh = words[2 * i + 1]! - baseHi;
      if (dh > 2097151 || dh < -2097151) exact = false;
      out[i] = dh * TWO32 + ((words[2 * i]! >>> 0) - baseLo);
    }
  }
  return exact;
}

/** Exact min and max of a non-empty int64 (timestamp) column, comparing 32-bit halves. */
export function int64MinMax(data: Data): { min: bigint; max: bigint } {
  const values = bigint64Values(data);
  const n = values.length;
  const words = new Int32Array(values.buffer, values.byteOffset, n * 2);
  let loAt = 0, hiAt = 0;
  let minHi = words[1]!, minLo = words[0]! >>> 0, maxHi = minHi, maxLo = minLo;
  for (let i = 1; i < n; i++) {
    const h = words[2 * i + 1]!;
    if (h > minHi && h < maxHi) continue;
    const l = words[2 * i]! >>> 0;
    if (h < minHi || (h === minHi && l < minLo)) { minHi = h; minLo = l; loAt = i; }
    if (h > maxHi || (h === maxHi && l > maxLo)) { maxHi = h; maxLo = l; hiAt = i; }
  }
  return { min: values[loAt]! as bigint, max: values[hiAt]! as bigint };
}

const decoder = utf8Decoder;

/**
 * The stored integers of an integer-backed column (dates: days; times, durations,
 * timestamps: counts of the unit; decimals: unscaled), exactly — an int64 array (a view where
 * the column is 64-bit already) or BigInts for decimals wider than int64 — and as float64
 * approximations (for ordering; ties compare exactly).
 */
export function storedIntegers(t: FieldTypeInfo, data: Data): { exact: BigInt64Array | bigint[]; approx: Float64Array } {
  const n = data.length;
  const approx = new Float64Array(n);
  if (t.arrowWidth === 8) {
    const exact = (data.values as BigInt64Array).subarray(0, n);
    int64ToFloat64(data, 0n, false, approx);
    return { exact, approx };
  }
  if (t.arrowWidth === 4) {
    const src = (data.values as Int32Array).subarray(0, n);
    const exact = new BigInt64Array(n);
    const halves = new Int32Array(exact.buffer);
    for (let i = 0; i < n; i++) { const v = src[i]!; halves[2 * i] = v; halves[2 * i + 1] = v < 0 ? -1 : 0; approx[i] = v; }
    return { exact, approx };
  }
  const words = t.arrowWidth / 4;
  const src = data.values as Uint32Array;
  if (t.kind === 'i64') {
    // Decimals of up to 18 digits: the low two words are the value.
    const exact = new BigInt64Array(n);
    const halves = new Int32Array(exact.buffer);
    const signed = new Int32Array(src.buffer, src.byteOffset, n * words);
    for (let i = 0; i < n; i++) {
      const lo = signed[i * words]!, hi = signed[i * words + 1]!;
      halves[2 * i] = lo; halves[2 * i + 1] = hi;
      approx[i] = hi * 4294967296 + (lo >>> 0);
    }
    return { exact, approx };
  }
  const exact: bigint[] = new Array(n);
  for (let i = 0; i < n; i++) { exact[i] = wordsToBigInt(src, i * words, words); approx[i] = Number(exact[i]); }
  return { exact, approx };
}

/** Bytes per value of a 'fixed' column (decimals: 16 or 32; fixed-size binary: its width). */
export function fixedWidthOf(data: Data): number {
  const type = data.type;
  if (DataType.isDecimal(type)) return type.bitWidth / 8;
  if (DataType.isFixedSizeBinary(type)) return type.byteWidth;
  throw new SchemaError(`column of type ${String(type)} is not fixed-width bytes`);
}

/** The string at `row` of a Utf8 column (null when invalid). */
export function utf8At(view: ColumnView, row: number): string | null {
  if (!isValidAt(view, row)) return null;
  const data = view.data;
  const offsets = data.valueOffsets as Int32Array;
  const start = offsets[row]!;
  const end = offsets[row + 1]!;
  return decoder.decode((data.values as Uint8Array).subarray(start, end));
}

export function boolAt(view: ColumnView, row: number): boolean | null {
  if (!isValidAt(view, row)) return null;
  const bit = view.data.offset + row;
  return (((view.data.values as Uint8Array)[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

/** Dictionary strings of a dictionary-encoded (tag) column, null entries as null. */
export function dictionaryStrings(data: Data, where: string): (string | null)[] {
  const dict = data.dictionary as Vector | undefined;
  if (!dict) throw new SchemaError(`${where}: dictionary column without a dictionary`);
  const out: (string | null)[] = new Array(dict.length);
  let row = 0;
  for (const chunk of dict.data) {
    const view: ColumnView = {
      kind: 'utf8', length: chunk.length, data: chunk,
      validity: chunk.nullCount > 0 ? chunk.nullBitmap ?? null : null, validityOffset: chunk.offset,
    };
    for (let i = 0; i < chunk.length; i++) out[row++] = utf8At(view, i);
  }
  return out;
}
