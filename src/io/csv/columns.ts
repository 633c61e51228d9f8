// `x[i]!` in this file indexes within the bounds of its loop, on per-value paths where an
// assert() per value would cost (noUncheckedIndexedAccess); invariants elsewhere use assert()/at().
/**
 * Column builders of one CSV batch: typed arrays filled straight from the bytes of a row,
 * turned into Arrow Data by take(). Shared by the wide and the long layout.
 */
import { Bool, Dictionary, Float64, Int32, Int64, makeData, Uint64, Utf8, vectorFromArray, type Data, type Vector } from 'apache-arrow';
import type { InputError } from '../../errors.js';
import type { FieldType } from '../../format/types.js';
import { fieldData, fieldTypeInfo, parseValue, type FieldValue } from '../../format/field-types.js';
import { fieldText, type RowView } from './tokenizer.js';
import { isNanSpelling, parseBoolText, parseFloatBytes, parseIntBytes } from './values.js';
import { cellError, utf8Error, type CellText } from './cells.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
/** Doubles at or beyond this magnitude are not all integers' exact images: an integer literal there is checked. */
const EXACT_DOUBLE_MAX = 2 ** 53;

/** The range of an integer type, as error messages quote it. */
export const INT_RANGE: Readonly<Record<'int64' | 'uint64', string>> = Object.freeze({
  int64: `${INT64_MIN} to ${INT64_MAX}`,
  uint64: `0 to ${UINT64_MAX}`,
});

/** A whole-number literal (sign, digits, surrounding spaces): what int64/uint64 accept and float64 checks for exactness. */
export const INTEGER_LITERAL = /^ *[+-]?\d+ *$/;
/** A decimal literal or an inf/nan spelling (`inf`, `infinity`, `nan`, any case, optional sign). */
export const DECIMAL_LITERAL = /^ *[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)? *$|^ *[+-]?(nan|inf|infinity) *$/i;

/** What a failed cell expected, as the error message says it. */
export function expectedText(type: FieldType): string {
  return type === 'bool' ? 'bool (true/false)' : fieldTypeInfo(type).int || fieldTypeInfo(type).bytes ? fieldTypeInfo(type).expected : type;
}

/**
 * One field column of a batch: values plus a validity byte per row.
 *
 * `exactIntegers`: a float64 column refuses an integer literal that no double holds
 * exactly (beyond 2^53), unless the user typed the column float64 themselves (--schema),
 * where decimal-to-double rounding is the documented meaning.
 */
export class FieldColumn {
  values: Float64Array | BigInt64Array | Uint8Array | string[] | (FieldValue | null)[];
  valid: Uint8Array;

  constructor(readonly name: string, readonly type: FieldType, capacity: number, private readonly text: CellText, readonly exactIntegers = true) {
    this.values = type === 'float64' ? new Float64Array(capacity)
      : type === 'int64' || type === 'uint64' ? new BigInt64Array(capacity)
        : type === 'bool' ? new Uint8Array(capacity) : [];
    this.valid = new Uint8Array(capacity);
  }

  /**
   * Converts cell j of `row` into slot r. An empty cell (or only spaces) is null, except
   * that in a utf8 column a quoted empty cell (`""`) is the empty string. Returns false
   * when the text is not of the column's type (error() says why).
   */
  set(r: number, row: RowView, j: number): boolean {
    const buf = row.buf;
    const s = row.starts[j]!, e = row.ends[j]!;
    if (s === e) {
      // "" is an empty string (or empty bytes, base64 of nothing); an unquoted empty cell is null.
      if (row.escaped[j] && this.type === 'utf8') { (this.values as string[])[r] = ''; this.valid[r] = 1; }
      else if (row.escaped[j] && this.type === 'binary') { (this.values as (FieldValue | null)[])[r] = new Uint8Array(0); this.valid[r] = 1; }
      else this.valid[r] = 0;
      return true;
    }
    switch (this.type) {
      case 'float64': {
        const v = parseFloatBytes(buf, s, e);
        if (v !== v && !isNanSpelling(buf, s, e)) {
          if (isBlank(buf, s, e)) { this.valid[r] = 0; return true; }
          return false;
        }
        if ((v >= EXACT_DOUBLE_MAX || v <= -EXACT_DOUBLE_MAX) && this.exactIntegers && !exactInteger(buf, s, e, v)) return false;
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
      case 'utf8': {
        const text = this.text.cell(row, j);
        if (text === null) return false;
        if (this.text.lossy) this.text.rowReplaced++;
        (this.values as string[])[r] = text;
        break;
      }
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

  /**
   * The error for cell j after set() refused it: what was expected, and for numbers why
   * (beyond float64, an integer no double holds exactly, out of an integer type's range)
   * with the --schema that says what is meant. `note` is added at the end.
   */
  error(file: string, header: readonly string[], row: RowView, j: number, note?: string): InputError {
    const type = this.type;
    if (type === 'utf8') return utf8Error(file, header, row, j);
    const text = fieldText(row, j);
    const name = this.name;
    let expected = expectedText(type);
    let detail: string | undefined;
    if (type === 'float64' && DECIMAL_LITERAL.test(text) && !Number.isFinite(Number(text))) {
      detail = `the number is beyond the float64 range (±${Number.MAX_VALUE}); write inf or -inf for an infinity`;
    } else if (type === 'float64' && INTEGER_LITERAL.test(text)) {
      detail = `no double holds this integer exactly (it would be stored as ${Number(text)}): import ${name} with --schema ${name}:utf8 to keep the digits, or --schema ${name}:float64 to store the nearest double`;
    } else if ((type === 'int64' || type === 'uint64') && INTEGER_LITERAL.test(text)) {
      expected = `${type} (${INT_RANGE[type]})`;
      const v = BigInt(text.trim());
      const other = type === 'int64' && v > 0n && v <= UINT64_MAX ? `${name}:uint64 (when no value is negative), `
        : type === 'uint64' && v >= INT64_MIN ? `${name}:int64 (when every value is below 2^63), ` : '';
      detail = `import ${name} with --schema ${other}${name}:float64 (the nearest double) or ${name}:utf8 (the digits as text)`;
    }
    return cellError(file, header, row, j, expected, [detail, note].filter((x) => x).join('; ') || undefined);
  }

  /** Slot i of `from` (a column of the same type) into slot r. */
  copy(from: FieldColumn, i: number, r: number): void {
    this.values[r] = from.values[i]!;
    this.valid[r] = from.valid[i]!;
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

/** Whether buf[s, e), parsed as the double v, is not an integer literal or is one v equals exactly. */
function exactInteger(buf: Uint8Array, s: number, e: number, v: number): boolean {
  const text = Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1');
  if (!INTEGER_LITERAL.test(text)) return true;
  return Number.isFinite(v) && BigInt(text.trim()) === BigInt(v);
}

/**
 * A tag column's codes and dictionary as Arrow Dictionary<Utf8, Int32> data; codes < 0
 * (NULL_TAG) are null slots (index 0 under a validity bit of 0).
 */
export function tagData(codes: Int32Array, n: number, values: string[]): Data {
  const type = new Dictionary(new Utf8(), new Int32());
  const indices = codes.slice(0, n);
  let nulls = 0;
  for (let i = 0; i < n; i++) if (indices[i]! < 0) nulls++;
  let nullBitmap: Uint8Array | undefined;
  if (nulls > 0) {
    nullBitmap = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      if (indices[i]! < 0) indices[i] = 0;
      else nullBitmap[i >> 3]! |= 1 << (i & 7);
    }
  }
  return makeData({ type, length: n, nullCount: nulls, nullBitmap, data: indices, dictionary: vectorFromArray(values, new Utf8()) as Vector<Utf8> });
}
