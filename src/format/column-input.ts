import { type Data, type DataType, type Field, makeData, type RecordBatch, TimeUnit as ArrowTimeUnit, Type, Utf8 } from 'apache-arrow';
import { InputError, SchemaError } from '../errors.js';
import { copyBits, sliceBits } from './bits.js';
import type { PageValues } from './encodings/types.js';
import { FIELD_TYPE_NAMES, fieldTypeInfo, fieldTypeOfArrow } from './field-types.js';
import { compareStrings } from './stats.js';
import type { ColumnRole, ColumnType, TimeUnit } from './types.js';
import { utf8Decoder, utf8VectorAt } from './utf8.js';

/**
 * Writer input: the batches' columns flattened into chunk-wide typed arrays (one per
 * column, bit offset 0, null slots zero-filled), which pages then view by row range.
 * A single batch whose buffers need no fix-up is viewed without a copy.
 */
export interface FlatColumn {
  name: string;
  role: ColumnRole;
  type: ColumnType;
  nullable: boolean;
  /** Chunk-wide values; for tags the int32 codes into `dictionary`. */
  values: PageValues;
  /** Chunk-wide validity bitmap, or null when the column has no nulls. */
  validity: Uint8Array | null;
  nullCount: number;
  /** Tags: the sorted distinct values. */
  dictionary?: string[];
}

export interface FlatInput {
  rowCount: number;
  timeUnit: TimeUnit;
  timeZone: string | null;
  columns: FlatColumn[];
}

const UNITS: Record<ArrowTimeUnit, TimeUnit> = {
  [ArrowTimeUnit.SECOND]: 's',
  [ArrowTimeUnit.MILLISECOND]: 'ms',
  [ArrowTimeUnit.MICROSECOND]: 'us',
  [ArrowTimeUnit.NANOSECOND]: 'ns',
};

function describeType(type: DataType): string {
  return String(type);
}

function fieldType(field: Field, role: ColumnRole): ColumnType {
  const t = field.type as DataType;
  if (role === 'time') {
    if (t.typeId !== Type.Timestamp) throw new SchemaError(`chunk writer: time column ${JSON.stringify(field.name)} must be a Timestamp, got ${describeType(t)}`);
    return 'timestamp';
  }
  if (role === 'tag') {
    if (t.typeId === Type.Utf8) return 'string';
    if (t.typeId === Type.Dictionary) {
      const dict = t as unknown as { dictionary: DataType; indices: DataType };
      if (dict.dictionary.typeId === Type.Utf8 && dict.indices.typeId === Type.Int) return 'string';
    }
    throw new SchemaError(`chunk writer: tag column ${JSON.stringify(field.name)} must be Dictionary<Utf8, Int> or Utf8, got ${describeType(t)}`);
  }
  if (t.typeId === Type.Dictionary) {
    // Dictionary-encoded strings in a field are stored as plain utf8 values.
    const dict = t as unknown as { dictionary: DataType; indices: DataType };
    if (dict.dictionary.typeId === Type.Utf8 && dict.indices.typeId === Type.Int) return 'utf8';
  }
  const type = fieldTypeOfArrow(t);
  if (type !== undefined) return type;
  throw new SchemaError(`chunk writer: field ${JSON.stringify(field.name)} has unsupported type ${describeType(t)} (supported: the Arrow types of ${FIELD_TYPE_NAMES}; see docs/types.md)`);
}

function sameType(a: DataType, b: DataType): boolean {
  return a.typeId === b.typeId && String(a) === String(b);
}

/** A view of `count` 8-byte values at element `start` of `values`, copied only when misaligned. */
function view64(values: ArrayBufferView, start: number, count: number): BigInt64Array {
  const byteOffset = values.byteOffset + start * 8;
  if (byteOffset % 8 === 0) return new BigInt64Array(values.buffer, byteOffset, count);
  const copy = new BigInt64Array(count);
  new Uint8Array(copy.buffer).set(new Uint8Array(values.buffer, byteOffset, count * 8));
  return copy;
}

function viewF64(values: ArrayBufferView, start: number, count: number): Float64Array {
  const byteOffset = values.byteOffset + start * 8;
  if (byteOffset % 8 === 0) return new Float64Array(values.buffer, byteOffset, count);
  const copy = new Float64Array(count);
  new Uint8Array(copy.buffer).set(new Uint8Array(values.buffer, byteOffset, count * 8));
  return copy;
}

/**
 * The Data chunks of one column across batches. Arrow JS convention (Data.slice): typed
 * value buffers, value offsets and dictionary indices are already sliced to the Data's
 * first row; only bitmaps (validity, bool values) are addressed from bit `data.offset`.
 */
type Parts = Data[];

function gatherValidity(parts: Parts, rowCount: number): { validity: Uint8Array | null; nullCount: number } {
  let nullCount = 0;
  for (const d of parts) nullCount += d.nullCount;
  if (nullCount === 0) return { validity: null, nullCount: 0 };
  const validity = new Uint8Array((rowCount + 7) >>> 3);
  let row = 0;
  for (const d of parts) {
    if (d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0) copyBits(d.nullBitmap, d.offset, validity, row, d.length);
    else if (d.length > 0) {
      // No bitmap (or an all-valid part): mark every row valid.
      for (let i = 0; i < d.length; i++) validity[(row + i) >>> 3]! |= 1 << ((row + i) & 7);
    }
    row += d.length;
  }
  return { validity, nullCount };
}

function zeroNulls<T extends { length: number; fill(value: never, start?: number, end?: number): unknown }>(values: T, validity: Uint8Array, rowCount: number, zero: unknown): void {
  for (let byte = 0; byte < validity.length; byte++) {
    const bits = validity[byte]!;
    if (bits === 0xff) continue;
    const base = byte << 3;
    for (let b = 0; b < 8 && base + b < rowCount; b++) {
      if (((bits >>> b) & 1) === 0) (values as unknown as { [i: number]: unknown })[base + b] = zero;
    }
  }
}

function flatten64(parts: Parts, rowCount: number, validity: Uint8Array | null): BigInt64Array {
  if (parts.length === 1 && validity === null) return view64(parts[0]!.values as ArrayBufferView, 0, rowCount);
  const out = new BigInt64Array(rowCount);
  let row = 0;
  for (const d of parts) {
    out.set(view64(d.values as ArrayBufferView, 0, d.length), row);
    row += d.length;
  }
  if (validity !== null) zeroNulls(out, validity, rowCount, 0n);
  return out;
}

function flattenF64(parts: Parts, rowCount: number, validity: Uint8Array | null): Float64Array {
  if (parts.length === 1 && validity === null) return viewF64(parts[0]!.values as ArrayBufferView, 0, rowCount);
  const out = new Float64Array(rowCount);
  let row = 0;
  for (const d of parts) {
    out.set(viewF64(d.values as ArrayBufferView, 0, d.length), row);
    row += d.length;
  }
  if (validity !== null) zeroNulls(out, validity, rowCount, 0);
  return out;
}

function flatten32(parts: Parts, rowCount: number, validity: Uint8Array | null): Int32Array {
  if (parts.length === 1 && validity === null) return (parts[0]!.values as Int32Array).subarray(0, rowCount);
  const out = new Int32Array(rowCount);
  let row = 0;
  for (const d of parts) {
    out.set((d.values as Int32Array).subarray(0, d.length), row);
    row += d.length;
  }
  if (validity !== null) zeroNulls(out, validity, rowCount, 0);
  return out;
}

/** Fixed-width values (wide decimals, fixed-size binary) as bytes, `width` per row, null slots zero. */
function flattenFixed(parts: Parts, rowCount: number, validity: Uint8Array | null, width: number): Uint8Array {
  const bytesOf = (d: Data) => {
    const v = d.values as ArrayBufferView;
    return new Uint8Array(v.buffer, v.byteOffset, d.length * width);
  };
  if (parts.length === 1 && validity === null) return bytesOf(parts[0]!);
  const out = new Uint8Array(rowCount * width);
  let row = 0;
  for (const d of parts) {
    out.set(bytesOf(d), row * width);
    row += d.length;
  }
  if (validity !== null) {
    for (let i = 0; i < rowCount; i++) if (((validity[i >>> 3]! >>> (i & 7)) & 1) === 0) out.fill(0, i * width, (i + 1) * width);
  }
  return out;
}

/**
 * Decimals of up to 18 digits: the Arrow Decimal128 words narrowed to int64 (null slots 0).
 * A value outside int64 cannot be of the column's precision: an InputError.
 */
function flattenDecimal64(parts: Parts, rowCount: number, validity: Uint8Array | null, name: string): BigInt64Array {
  const out = new BigInt64Array(rowCount);
  const halves = new Int32Array(out.buffer);
  let row = 0;
  for (const d of parts) {
    const words = new Int32Array((d.values as Uint32Array).buffer, (d.values as Uint32Array).byteOffset, d.length * 4);
    for (let i = 0; i < d.length; i++, row++) {
      if (validity !== null && ((validity[row >>> 3]! >>> (row & 7)) & 1) === 0) continue;
      const lo = words[4 * i]!, hi = words[4 * i + 1]!, sign = hi < 0 ? -1 : 0;
      if (words[4 * i + 2] !== sign || words[4 * i + 3] !== sign) {
        throw new InputError(`chunk writer: row ${row} of decimal column ${JSON.stringify(name)} does not fit its precision`, undefined, undefined, name);
      }
      halves[2 * row] = lo;
      halves[2 * row + 1] = hi;
    }
  }
  return out;
}

function flattenBool(parts: Parts, rowCount: number, validity: Uint8Array | null): Uint8Array {
  const out = new Uint8Array((rowCount + 7) >>> 3);
  let row = 0;
  for (const d of parts) {
    copyBits(d.values as Uint8Array, d.offset, out, row, d.length);
    row += d.length;
  }
  if (validity !== null) for (let i = 0; i < out.length; i++) out[i]! &= validity[i]!;
  return out;
}

/** A Dictionary<Utf8> part as a Utf8 part (values looked up through the indices). */
function undictionary(d: Data): Data {
  const dictionary = d.dictionary!;
  if (dictionary.data.length !== 1) throw new InputError(`chunk writer: dictionary of ${dictionary.data.length} chunks (expected 1)`);
  const dict = dictionary.data[0]!;
  const dictOffsets = dict.valueOffsets as Int32Array;
  const dictBytes = dict.values as Uint8Array;
  const indices = d.values as ArrayLike<number | bigint>;
  const valid = (i: number) => d.nullCount === 0 || !d.nullBitmap || ((d.nullBitmap[(d.offset + i) >>> 3]! >>> ((d.offset + i) & 7)) & 1) === 1;
  let bytes = 0;
  const keys = new Int32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    if (!valid(i)) { keys[i] = -1; continue; }
    const k = Number(indices[i]!);
    if (!(k >= 0 && k < dict.length)) throw new InputError(`chunk writer: dictionary index ${k} outside a dictionary of ${dict.length} values`);
    keys[i] = k;
    bytes += dictOffsets[k + 1]! - dictOffsets[k]!;
  }
  const offsets = new Int32Array(d.length + 1);
  const data = new Uint8Array(bytes);
  let at = 0;
  for (let i = 0; i < d.length; i++) {
    const k = keys[i]!;
    if (k >= 0) {
      const s = dictOffsets[k]!, e = dictOffsets[k + 1]!;
      data.set(dictBytes.subarray(s, e), at);
      at += e - s;
    }
    offsets[i + 1] = at;
  }
  return makeData({ type: new Utf8(), length: d.length, nullCount: d.nullCount, nullBitmap: d.nullCount > 0 ? sliceBits(d.nullBitmap!, d.offset, d.length) : undefined, valueOffsets: offsets, data }) as unknown as Data;
}

/** Utf8 and Binary values (and dictionary-encoded strings) as one offsets + bytes pair, null slots empty. */
function flattenUtf8(input: Parts, rowCount: number, validity: Uint8Array | null): { offsets: Int32Array; data: Uint8Array } {
  const parts = input.map((d) => (d.type.typeId === Type.Dictionary ? undictionary(d) : d));
  let dataBytes = 0;
  for (const d of parts) {
    const o = d.valueOffsets as Int32Array;
    dataBytes += o[d.length]! - o[0]!;
  }
  if (dataBytes > 0x7fffffff) throw new InputError(`chunk writer: utf8/binary column holds ${dataBytes} bytes, above the int32 offset range`);
  const offsets = new Int32Array(rowCount + 1);
  const data = new Uint8Array(dataBytes);
  let row = 0;
  let at = 0;
  for (const d of parts) {
    const o = d.valueOffsets as Int32Array;
    const src = d.values as Uint8Array;
    if (d.nullCount === 0) {
      const first = o[0]!;
      const last = o[d.length]!;
      data.set(src.subarray(first, last), at);
      const shift = at - first;
      for (let i = 1; i <= d.length; i++) offsets[row + i] = o[i]! + shift;
      at += last - first;
    } else {
      for (let i = 0; i < d.length; i++) {
        const valid = validity === null || ((validity[(row + i) >>> 3]! >>> ((row + i) & 7)) & 1) === 1;
        if (valid) {
          const s = o[i]!, e = o[i + 1]!;
          data.set(src.subarray(s, e), at);
          at += e - s;
        }
        offsets[row + i + 1] = at;
      }
    }
    row += d.length;
  }
  return { offsets, data: at === data.length ? data : data.subarray(0, at) };
}

/**
 * codes[at + i] = local[indices[i]], resolving a dictionary index met for the first time
 * through `resolve` (the tight loop of flattenTag for null-free int32 indices).
 */
function mapCodes(indices: Int32Array, n: number, local: Int32Array, codes: Int32Array, at: number, resolve: (k: number) => number): void {
  for (let i = 0; i < n; i++) {
    const k = indices[i]!;
    let code = local[k];
    if (code === undefined) throw new InputError(`chunk writer: dictionary index ${k} outside a dictionary of ${local.length} values`);
    if (code < 0) code = local[k] = resolve(k);
    codes[at + i] = code;
  }
}

/**
 * Tags: builds the chunk-wide sorted dictionary of the values that occur (in valid rows)
 * and the int32 code of every row (0 for null rows).
 */
function flattenTag(parts: Parts, rowCount: number, validity: Uint8Array | null): { codes: Int32Array; dictionary: string[] } {
  const decoder = utf8Decoder;
  const codes = new Int32Array(rowCount);
  const distinct = new Map<string, number>(); // value → provisional code
  const values: string[] = [];
  const intern = (s: string): number => {
    let code = distinct.get(s);
    if (code === undefined) {
      code = values.length;
      distinct.set(s, code);
      values.push(s);
    }
    return code;
  };
  let row = 0;
  for (const d of parts) {
    const valid = (i: number) => validity === null || ((validity[(row + i) >>> 3]! >>> ((row + i) & 7)) & 1) === 1;
    if (d.type.typeId === Type.Dictionary) {
      const dictionary = d.dictionary!;
      const indices = d.values as ArrayLike<number | bigint>;
      const local = new Int32Array(dictionary.length).fill(-1);
      const noNulls = validity === null;
      if (noNulls && indices instanceof Int32Array) {
        mapCodes(indices, d.length, local, codes, row, (k) => intern(utf8VectorAt(dictionary, k) ?? ''));
        row += d.length;
        continue;
      }
      for (let i = 0; i < d.length; i++) {
        if (!noNulls && !valid(i)) continue;
        const raw = indices[i]!;
        const k = typeof raw === 'number' ? raw : Number(raw);
        if (!(k >= 0 && k < local.length)) throw new InputError(`chunk writer: dictionary index ${k} outside a dictionary of ${local.length} values`);
        let code = local[k]!;
        if (code < 0) {
          const s = utf8VectorAt(dictionary, k);
          code = local[k] = intern(s ?? '');
        }
        codes[row + i] = code;
      }
    } else {
      const o = d.valueOffsets as Int32Array;
      const src = d.values as Uint8Array;
      let prevStart = -1, prevEnd = -1, prevCode = 0;
      for (let i = 0; i < d.length; i++) {
        if (!valid(i)) continue;
        const s = o[i]!, e = o[i + 1]!;
        // Series-sorted input repeats a tag value for long runs: reuse the previous code.
        let same = prevStart >= 0 && e - s === prevEnd - prevStart;
        for (let j = 0; same && j < e - s; j++) if (src[s + j] !== src[prevStart + j]) same = false;
        if (!same) {
          prevCode = intern(decoder.decode(src.subarray(s, e)));
          prevStart = s;
          prevEnd = e;
        }
        codes[row + i] = prevCode;
      }
    }
    row += d.length;
  }
  // Sort the dictionary and remap provisional codes to sorted positions.
  const order = values.map((_, i) => i).sort((a, b) => compareStrings(values[a]!, values[b]!));
  const remap = new Int32Array(values.length);
  const dictionary: string[] = new Array(values.length);
  for (let i = 0; i < order.length; i++) {
    remap[order[i]!] = i;
    dictionary[i] = values[order[i]!]!;
  }
  if (validity === null) for (let i = 0; i < rowCount; i++) codes[i] = remap[codes[i]!]!;
  else for (let i = 0; i < rowCount; i++) codes[i] = ((validity[i >>> 3]! >>> (i & 7)) & 1) === 1 ? remap[codes[i]!]! : 0;
  return { codes, dictionary };
}

/** Flattens and checks the writer's input batches (see FlatInput). */
export function flattenInput(batches: readonly RecordBatch[], timeColumn: string, tags: readonly string[]): FlatInput {
  if (batches.length === 0) throw new InputError('chunk writer: no record batches given (pass at least one, possibly empty, batch to give the schema)');
  const schema = batches[0]!.schema;
  const fields = schema.fields;
  const names = new Set<string>();
  for (const f of fields) {
    if (names.has(f.name)) throw new SchemaError(`chunk writer: duplicate column ${JSON.stringify(f.name)}`);
    names.add(f.name);
  }
  if (!names.has(timeColumn)) throw new SchemaError(`chunk writer: time column ${JSON.stringify(timeColumn)} not in the schema (columns: ${[...names].join(', ')})`);
  for (const tag of tags) {
    if (!names.has(tag)) throw new SchemaError(`chunk writer: tag column ${JSON.stringify(tag)} not in the schema`);
    if (tag === timeColumn) throw new SchemaError(`chunk writer: ${JSON.stringify(tag)} is both the time column and a tag`);
  }
  for (let b = 1; b < batches.length; b++) {
    const other = batches[b]!.schema.fields;
    const same = other.length === fields.length && other.every((f, i) => f.name === fields[i]!.name && sameType(f.type as DataType, fields[i]!.type as DataType));
    if (!same) throw new SchemaError(`chunk writer: batch ${b} schema differs from batch 0 (${other.map((f) => `${f.name}: ${f.type}`).join(', ')} vs ${fields.map((f) => `${f.name}: ${f.type}`).join(', ')})`);
  }
  let rowCount = 0;
  for (const b of batches) rowCount += b.numRows;
  const timeField = fields.find((f) => f.name === timeColumn)!;
  const timeType = timeField.type as unknown as { typeId: Type; unit: ArrowTimeUnit; timezone?: string | null };
  const columns: FlatColumn[] = fields.map((field, index) => {
    const role: ColumnRole = field.name === timeColumn ? 'time' : tags.includes(field.name) ? 'tag' : 'field';
    const type = fieldType(field, role);
    const parts: Parts = batches.map((b) => b.data.children[index]!);
    const { validity, nullCount } = gatherValidity(parts, rowCount);
    if (role === 'time' && nullCount > 0) throw new InputError(`chunk writer: time column ${JSON.stringify(field.name)} holds ${nullCount} null(s)`, undefined, undefined, field.name);
    const base = { name: field.name, role, type, nullable: role !== 'time' && (field.nullable || nullCount > 0), validity, nullCount };
    if (type === 'timestamp') return { ...base, values: { kind: 'i64', values: flatten64(parts, rowCount, validity) } };
    if (type === 'string') {
      const { codes, dictionary } = flattenTag(parts, rowCount, validity);
      return { ...base, values: { kind: 'i32', values: codes }, dictionary };
    }
    const info = fieldTypeInfo(type);
    switch (info.kind) {
      case 'i64': {
        const values = info.family === 'decimal' ? flattenDecimal64(parts, rowCount, validity, field.name) : flatten64(parts, rowCount, validity);
        return { ...base, values: { kind: 'i64', values } };
      }
      case 'i32':
        return { ...base, values: { kind: 'i32', values: flatten32(parts, rowCount, validity) } };
      case 'f64':
        return { ...base, values: { kind: 'f64', values: flattenF64(parts, rowCount, validity) } };
      case 'bool':
        return { ...base, values: { kind: 'bool', bits: flattenBool(parts, rowCount, validity), length: rowCount } };
      case 'utf8':
        return { ...base, values: { kind: 'utf8', ...flattenUtf8(parts, rowCount, validity) } };
      case 'fixed':
        return { ...base, values: { kind: 'fixed', width: info.width, data: flattenFixed(parts, rowCount, validity, info.width) } };
    }
  });
  const timeZone = typeof timeType.timezone === 'string' && timeType.timezone !== '' ? timeType.timezone : null;
  return { rowCount, timeUnit: UNITS[timeType.unit], timeZone, columns };
}
