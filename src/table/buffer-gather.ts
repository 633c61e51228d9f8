/**
 * Rows out of the write buffer: a RecordBatch of listed rows (copied) or of a range of rows
 * (fixed-width columns viewed), and the in-place reordering helpers of a drain. 64-bit values
 * move as int32 halves (no BigInt per row).
 */
import {
  Bool, Data, Dictionary, Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct, Timestamp, Uint64, Utf8, vectorFromArray,
  type DataType, type Vector,
} from 'apache-arrow';
import { fieldData, fieldTypeInfo, fixedWidthData, type FieldValue } from '../format/field-types.js';
import { ARROW_TIME_UNIT, fieldArrowType } from '../core/arrow-schema.js';
import type { TableSchema } from '../core/types.js';
import type { FieldColumn, FixedValues, TagColumn } from './buffer-columns.js';

/** What a gather reads of the buffer: its schema and columns (`fields` in column order). */
export interface BufferColumns {
  schema: TableSchema;
  time: BigInt64Array;
  tags: readonly TagColumn[];
  fields: Iterable<FieldColumn>;
}

/**
 * A batch of buffered rows, in the table's column order: the rows listed (copied; with
 * `groups`, rows are `index[start …]` of a sortOrder and tag codes are filled a series
 * at a time), or a range of rows, viewed where the column is fixed-width.
 */
export function gatherBatch(buffer: BufferColumns, rows: Int32Array | { start: number; end: number }, groups?: { groupStarts: Int32Array; representatives: Int32Array; first: number; start: number }): RecordBatch {
  const listed = rows instanceof Int32Array;
  const n = listed ? rows.length : rows.end - rows.start;
  const fields: Field[] = [];
  const children: Data[] = [];
  const time = listed ? gather64(buffer.time, rows, new BigInt64Array(n)) : buffer.time.subarray(rows.start, rows.end);
  const timeType = new Timestamp(ARROW_TIME_UNIT[buffer.schema.timeUnit], null);
  fields.push(new Field(buffer.schema.time, timeType, false));
  children.push(makeData({ type: timeType, length: n, nullCount: 0, data: time as never }));
  for (const tag of buffer.tags) {
    let codes: Int32Array;
    if (!listed) codes = tag.codes.subarray(rows.start, rows.end);
    else if (groups) {
      codes = fillBySeries(new Int32Array(n), seriesCodes(tag.codes, groups.representatives), groups.groupStarts, groups.first, groups.start);
    } else {
      codes = new Int32Array(n);
      for (let i = 0; i < n; i++) codes[i] = tag.codes[rows[i]!]!;
    }
    const type = new Dictionary(new Utf8(), new Int32());
    fields.push(new Field(tag.name, type, true));
    // The null tag: a null slot (and a null dictionary entry, so a reader that ignores validity still sees null).
    const nullCode = tag.dictionary.get(null);
    let nullCount = 0;
    let nullBitmap: Uint8Array | undefined;
    if (nullCode !== undefined) {
      nullBitmap = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (codes[i] === nullCode) nullCount++; else nullBitmap[i >> 3]! |= 1 << (i & 7);
      if (nullCount === 0) nullBitmap = undefined;
    }
    children.push(makeData({ type, length: n, nullCount, nullBitmap, data: codes, dictionary: vectorFromArray(tag.values, new Utf8()) as Vector<Utf8> }));
  }
  for (const column of buffer.fields) {
    const type = fieldArrowType(column.spec.type);
    fields.push(new Field(column.spec.name, type, true));
    children.push(gatherField(column, rows, type));
  }
  const schema = new Schema(fields);
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}

/** 64-bit columns, moved bit for bit as int32 halves. */
export type Column64 = BigInt64Array | BigUint64Array | Float64Array;

/** out[i] = src[rows[i]] for 64-bit values, moved as int32 halves (no BigInt per row). */
export function gather64<T extends Column64>(src: Column64, rows: Int32Array, out: T): T {
  const s32 = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
  const o32 = new Int32Array(out.buffer, out.byteOffset, out.length * 2);
  for (let i = 0; i < rows.length; i++) {
    const r = 2 * rows[i]!;
    o32[2 * i] = s32[r]!;
    o32[2 * i + 1] = s32[r + 1]!;
  }
  return out;
}

/** The tag code of each series (the code at its representative row). */
export function seriesCodes(codes: Int32Array, representatives: Int32Array): Int32Array {
  return Int32Array.from(representatives, (row) => codes[row]!);
}

/**
 * Fills `out` with rows [start, start + out.length) of a sorted order a series at a time:
 * series g (from `first`, the one holding row `start`) covers [groupStarts[g], groupStarts[g+1]).
 */
export function fillBySeries(out: Int32Array, codeOf: Int32Array, groupStarts: Int32Array, first: number, start: number): Int32Array {
  const n = out.length;
  for (let g = first; g < codeOf.length && groupStarts[g]! < start + n; g++) {
    out.fill(codeOf[g]!, Math.max(groupStarts[g]! - start, 0), Math.min(groupStarts[g + 1]! - start, n));
  }
  return out;
}

/** A field column of the rows listed (copied), or of a range of rows (fixed-width values viewed). */
function gatherField(column: FieldColumn, rows: Int32Array | { start: number; end: number }, type: DataType): Data {
  const listed = rows instanceof Int32Array;
  const n = listed ? rows.length : rows.end - rows.start;
  const base = listed ? 0 : rows.start;
  const row = (i: number) => (listed ? rows[i]! : base + i);
  let nulls = 0;
  let nullBitmap: Uint8Array | undefined;
  if (column.nulls > 0) {
    const bitmap = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      if (column.valid[row(i)]) bitmap[i >> 3]! |= 1 << (i & 7);
      else nulls++;
    }
    if (nulls > 0) nullBitmap = bitmap;
  }
  switch (column.spec.type) {
    case 'float64': {
      const src = column.values as Float64Array;
      let out: Float64Array;
      if (listed) {
        out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = src[rows[i]!]!;
      } else {
        out = src.subarray(rows.start, rows.end);
      }
      return makeData({ type: type as Float64, length: n, nullCount: nulls, nullBitmap, data: out });
    }
    case 'int64': case 'uint64': {
      const src = column.values as BigInt64Array | BigUint64Array;
      const out = !listed ? src.subarray(rows.start, rows.end) : gather64(src, rows, column.spec.type === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n));
      return makeData({ type: type as Int64 | Uint64, length: n, nullCount: nulls, nullBitmap, data: out as never });
    }
    case 'bool': {
      const src = column.values as Uint8Array;
      const out = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (src[row(i)]) out[i >> 3]! |= 1 << (i & 7);
      return makeData({ type: type as Bool, length: n, nullCount: nulls, nullBitmap, data: out });
    }
    case 'utf8': {
      const src = column.values as string[];
      const values: (string | null)[] = new Array(n);
      for (let i = 0; i < n; i++) values[i] = column.valid[row(i)] ? src[row(i)] ?? '' : null;
      return vectorFromArray(values, new Utf8()).data[0]!;
    }
    default: {
      const info = fieldTypeInfo(column.spec.type);
      if (Array.isArray(column.values)) {
        const src = column.values as Uint8Array[];
        const values: (FieldValue | null)[] = new Array(n);
        for (let i = 0; i < n; i++) values[i] = column.valid[row(i)] ? src[row(i)] ?? new Uint8Array(0) : null;
        return fieldData(info, values);
      }
      const { bytes: src, width } = column.values as FixedValues;
      let out: Uint8Array;
      if (listed) {
        out = new Uint8Array(n * width);
        for (let i = 0; i < n; i++) out.set(src.subarray(rows[i]! * width, (rows[i]! + 1) * width), i * width);
      } else {
        out = src.subarray(rows.start * width, rows.end * width);
      }
      return fixedWidthData(info, n, nulls, nullBitmap, out);
    }
  }
}

/** a[0, n) = a[index[0, n)] for 64-bit values: gathered into `scratch` (≥ 2n int32s), copied back. */
export function permute64(a: Column64, index: Int32Array, scratch: Int32Array): void {
  const n = index.length;
  gather64(a, index, new Float64Array(scratch.buffer, scratch.byteOffset, n));
  new Int32Array(a.buffer, a.byteOffset, 2 * n).set(scratch.subarray(0, 2 * n));
}

/** a[0, n) = a[index[0, n)] for bytes, through `scratch`'s bytes. */
export function permute8(a: Uint8Array, index: Int32Array, scratch: Int32Array): void {
  const n = index.length;
  const s8 = new Uint8Array(scratch.buffer, scratch.byteOffset, n);
  for (let i = 0; i < n; i++) s8[i] = a[index[i]!]!;
  a.set(s8);
}
