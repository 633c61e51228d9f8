/**
 * Column builders of one CSV batch: typed arrays filled straight from the bytes of a row,
 * turned into Arrow Data by take(). Shared by the wide and the long layout.
 */
import { Bool, Dictionary, Float64, Int32, Int64, makeData, Uint64, Utf8, vectorFromArray, type Data, type Vector } from 'apache-arrow';
import type { FieldType } from '../../format/types.js';
import { fieldData, fieldTypeInfo, parseValue, type FieldValue } from '../../format/field-types.js';
import { fieldText, type RowView } from './tokenizer.js';
import { isNanSpelling, parseBoolText, parseFloatBytes, parseIntBytes } from './values.js';

const INT64_MAX = 2n ** 63n - 1n;

/** What a failed cell expected, as the error message says it. */
export function expectedText(type: FieldType): string {
  return type === 'bool' ? 'bool (true/false)' : fieldTypeInfo(type).int || fieldTypeInfo(type).bytes ? fieldTypeInfo(type).expected : type;
}

/** One field column of a batch: values plus a validity byte per row. */
export class FieldColumn {
  values: Float64Array | BigInt64Array | Uint8Array | string[] | (FieldValue | null)[];
  valid: Uint8Array;

  constructor(readonly name: string, readonly type: FieldType, capacity: number) {
    this.values = type === 'float64' ? new Float64Array(capacity)
      : type === 'int64' || type === 'uint64' ? new BigInt64Array(capacity)
        : type === 'bool' ? new Uint8Array(capacity) : [];
    this.valid = new Uint8Array(capacity);
  }

  /**
   * Converts cell j of `row` into slot r. An empty cell (or only spaces) is null. Returns
   * false when the text is not of the column's type (the caller raises the error).
   */
  set(r: number, row: RowView, j: number): boolean {
    const buf = row.buf;
    const s = row.starts[j]!, e = row.ends[j]!;
    if (s === e) {
      // "" is an empty string; an unquoted empty cell is null.
      if (this.type === 'utf8' && row.escaped[j]) { (this.values as string[])[r] = ''; this.valid[r] = 1; } else this.valid[r] = 0;
      return true;
    }
    switch (this.type) {
      case 'float64': {
        const v = parseFloatBytes(buf, s, e);
        if (v !== v && !isNanSpelling(buf, s, e)) {
          if (isBlank(buf, s, e)) { this.valid[r] = 0; return true; }
          return false;
        }
        (this.values as Float64Array)[r] = v;
        break;
      }
      case 'int64': case 'uint64': {
        const v = parseIntBytes(buf, s, e);
        if (v === null) {
          if (isBlank(buf, s, e)) { this.valid[r] = 0; return true; }
          return false;
        }
        if (this.type === 'int64' ? v > INT64_MAX : v < 0n) return false;
        (this.values as BigInt64Array)[r] = BigInt.asIntN(64, v);
        break;
      }
      case 'bool': {
        const text = fieldText(row, j);
        const v = parseBoolText(text);
        if (v === null) {
          if (text.trim() === '') { this.valid[r] = 0; return true; }
          return false;
        }
        (this.values as Uint8Array)[r] = v ? 1 : 0;
        break;
      }
      case 'utf8':
        (this.values as string[])[r] = fieldText(row, j);
        break;
      default: {
        // Dates, times, durations, timestamps, decimals, binary: their text (field-types.ts parseValue).
        const text = fieldText(row, j);
        const v = parseValue(fieldTypeInfo(this.type), text);
        if (v === undefined) {
          if (text.trim() === '') { this.valid[r] = 0; return true; }
          return false;
        }
        (this.values as (FieldValue | null)[])[r] = v;
        break;
      }
    }
    this.valid[r] = 1;
    return true;
  }

  /** Rows [0, n) as Arrow Data; the validity bytes are cleared for the next batch. */
  take(n: number): Data {
    let nulls = 0;
    const bitmap = new Uint8Array((n + 7) >> 3);
    const valid = this.valid;
    for (let i = 0; i < n; i++) { if (valid[i]) bitmap[i >> 3]! |= 1 << (i & 7); else nulls++; }
    const nullBitmap = nulls ? bitmap : undefined;
    let data: Data;
    switch (this.type) {
      case 'float64':
        data = makeData({ type: new Float64(), length: n, nullCount: nulls, nullBitmap, data: (this.values as Float64Array).slice(0, n) });
        break;
      case 'int64':
        data = makeData({ type: new Int64(), length: n, nullCount: nulls, nullBitmap, data: (this.values as BigInt64Array).slice(0, n) as never });
        break;
      case 'uint64':
        data = makeData({ type: new Uint64(), length: n, nullCount: nulls, nullBitmap, data: new BigUint64Array((this.values as BigInt64Array).slice(0, n).buffer) as never });
        break;
      case 'bool': {
        const bits = new Uint8Array((n + 7) >> 3);
        const src = this.values as Uint8Array;
        for (let i = 0; i < n; i++) if (src[i]) bits[i >> 3]! |= 1 << (i & 7);
        data = makeData({ type: new Bool(), length: n, nullCount: nulls, nullBitmap, data: bits });
        break;
      }
      case 'utf8': {
        const src = this.values as string[];
        data = vectorFromArray(Array.from({ length: n }, (_, i) => (valid[i] ? src[i] ?? '' : null)), new Utf8()).data[0]!;
        this.values = [];
        break;
      }
      default: {
        const src = this.values as (FieldValue | null)[];
        data = fieldData(fieldTypeInfo(this.type), Array.from({ length: n }, (_, i) => (valid[i] ? src[i] ?? null : null)));
        this.values = [];
        break;
      }
    }
    valid.fill(0, 0, n);
    return data;
  }
}

function isBlank(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] !== 0x20 && buf[i] !== 0x09) return false;
  return true;
}

/** A tag column's codes and dictionary as Arrow Dictionary<Utf8, Int32> data. */
export function tagData(codes: Int32Array, n: number, values: string[]): Data {
  const type = new Dictionary(new Utf8(), new Int32());
  return makeData({ type, length: n, nullCount: 0, data: codes.slice(0, n), dictionary: vectorFromArray(values, new Utf8()) as Vector<Utf8> });
}
