import {
  Bool, type Data, type DataType, Dictionary, Field, Float64, Int32, Int64, makeData, type Vector,
  Timestamp, TimeUnit as ArrowTimeUnit, Uint64, Utf8, vectorFromArray,
} from 'apache-arrow';
import { copyBits } from './bits.js';
import type { PageValues } from './encodings/types.js';
import { fieldTypeInfo, fixedWidthData, type FieldTypeInfo } from './field-types.js';
import type { ColumnFooter, DecodedPage, TimeUnit } from './types.js';

/**
 * Decoded pages → Arrow Data. One page becomes Data over the decoded typed arrays without a
 * copy; several pages are concatenated into one buffer per Arrow buffer (one copy).
 */

const ARROW_UNITS: Record<TimeUnit, ArrowTimeUnit> = {
  s: ArrowTimeUnit.SECOND,
  ms: ArrowTimeUnit.MILLISECOND,
  us: ArrowTimeUnit.MICROSECOND,
  ns: ArrowTimeUnit.NANOSECOND,
};

/** The Arrow field a column reads as (cached per reader so batches of one reader share types). */
export interface ArrowColumn {
  field: Field;
  /** Tags: the dictionary as an Arrow Utf8 vector. */
  dictionary?: Vector<Utf8>;
  /** Fields: the descriptor of the field type. */
  info?: FieldTypeInfo;
}

export function arrowColumnOf(column: ColumnFooter, timeUnit: TimeUnit, timeZone: string | undefined): ArrowColumn {
  switch (column.type) {
    case 'timestamp': return { field: new Field(column.name, new Timestamp(ARROW_UNITS[timeUnit], timeZone ?? null), column.nullable) };
    case 'string': return {
      field: new Field(column.name, new Dictionary(new Utf8(), new Int32()), column.nullable),
      dictionary: vectorFromArray(column.dictionary ?? [], new Utf8()) as Vector<Utf8>,
    };
    default: {
      const info = fieldTypeInfo(column.type);
      return { field: new Field(column.name, info.arrow, column.nullable), info };
    }
  }
}

function concatValues(pages: readonly DecodedPage[], rows: number): PageValues {
  const first = pages[0]!.values;
  switch (first.kind) {
    case 'i64': case 'f64': case 'i32': {
      const joined = adjacentView(pages, rows);
      if (joined !== null) return joined;
      const out = first.kind === 'i64' ? new BigInt64Array(rows) : first.kind === 'f64' ? new Float64Array(rows) : new Int32Array(rows);
      let at = 0;
      for (const p of pages) {
        const v = (p.values as { values: typeof out }).values;
        (out as { set(a: ArrayLike<number | bigint>, o: number): void }).set(v, at);
        at += v.length;
      }
      return { kind: first.kind, values: out } as PageValues;
    }
    case 'bool': {
      const bits = new Uint8Array((rows + 7) >>> 3);
      let at = 0;
      for (const p of pages) {
        copyBits((p.values as { bits: Uint8Array }).bits, 0, bits, at, p.rows);
        at += p.rows;
      }
      return { kind: 'bool', bits, length: rows };
    }
    case 'utf8': {
      let dataBytes = 0;
      for (const p of pages) dataBytes += (p.values as { data: Uint8Array }).data.length;
      const offsets = new Int32Array(rows + 1);
      const data = new Uint8Array(dataBytes);
      let row = 0;
      let at = 0;
      for (const p of pages) {
        const v = p.values as { offsets: Int32Array; data: Uint8Array };
        data.set(v.data, at);
        for (let i = 1; i <= p.rows; i++) offsets[row + i] = v.offsets[i]! + at;
        row += p.rows;
        at += v.data.length;
      }
      return { kind: 'utf8', offsets, data };
    }
    case 'fixed': {
      const data = new Uint8Array(rows * first.width);
      let at = 0;
      for (const p of pages) {
        const v = (p.values as { data: Uint8Array }).data;
        data.set(v, at);
        at += v.length;
      }
      return { kind: 'fixed', width: first.width, data };
    }
  }
}

/**
 * When the pages' values already lie back to back in one buffer (the reader decodes plain
 * fixed-width pages that way), one view over all of them: no copy.
 */
function adjacentView(pages: readonly DecodedPage[], rows: number): PageValues | null {
  const first = (pages[0]!.values as { values: BigInt64Array | Float64Array | Int32Array }).values;
  if (first === undefined) return null;
  let end = first.byteOffset + first.byteLength;
  for (let i = 1; i < pages.length; i++) {
    const v = (pages[i]!.values as { values: BigInt64Array | Float64Array | Int32Array }).values;
    if (v.buffer !== first.buffer || v.byteOffset !== end) return null;
    end += v.byteLength;
  }
  const kind = pages[0]!.values.kind;
  switch (kind) {
    case 'i64': return { kind, values: new BigInt64Array(first.buffer, first.byteOffset, rows) };
    case 'f64': return { kind, values: new Float64Array(first.buffer, first.byteOffset, rows) };
    case 'i32': return { kind, values: new Int32Array(first.buffer, first.byteOffset, rows) };
    default: return null;
  }
}

function concatValidity(pages: readonly DecodedPage[], rows: number): Uint8Array | null {
  if (pages.every((p) => p.validity === null)) return null;
  const out = new Uint8Array((rows + 7) >>> 3);
  let at = 0;
  for (const p of pages) {
    if (p.validity !== null) copyBits(p.validity, 0, out, at, p.rows);
    else for (let i = at; i < at + p.rows; i++) out[i >>> 3]! |= 1 << (i & 7);
    at += p.rows;
  }
  return out;
}

/** Arrow Data of a column over decoded pages (zero-copy for a single page). */
export function pagesToData(column: ArrowColumn, pages: readonly DecodedPage[]): Data {
  let rows = 0;
  let nullCount = 0;
  for (const p of pages) {
    rows += p.rows;
    nullCount += p.nullCount;
  }
  const type = column.field.type as DataType;
  let values: PageValues;
  let validity: Uint8Array | null;
  if (pages.length === 1) {
    values = pages[0]!.values;
    validity = pages[0]!.validity;
  } else if (pages.length === 0) {
    values = emptyValues(type, column.info);
    validity = null;
  } else {
    values = concatValues(pages, rows);
    validity = concatValidity(pages, rows);
  }
  const nullBitmap = validity ?? undefined;
  const info = column.info;
  switch (values.kind) {
    case 'i64': {
      if (info?.family === 'decimal') return makeData({ type: type as never, length: rows, nullCount, nullBitmap, data: widenToWords(values.values, info.arrowWidth / 4) } as never);
      const data = type instanceof Uint64
        ? new BigUint64Array(values.values.buffer, values.values.byteOffset, values.values.length)
        : values.values;
      return makeData({ type: type as Int64, length: rows, nullCount, nullBitmap, data } as never);
    }
    case 'f64': return makeData({ type: type as Float64, length: rows, nullCount, nullBitmap, data: values.values });
    case 'i32':
      if (info !== undefined) return makeData({ type: type as never, length: rows, nullCount, nullBitmap, data: values.values } as never);
      return makeData({ type: type as Dictionary<Utf8, Int32>, length: rows, nullCount, nullBitmap, data: values.values, dictionary: column.dictionary! });
    case 'bool': return makeData({ type: type as Bool, length: rows, nullCount, nullBitmap, data: values.bits });
    case 'utf8': return makeData({ type: type as Utf8, length: rows, nullCount, nullBitmap, valueOffsets: values.offsets, data: values.data });
    case 'fixed': return fixedWidthData(info!, rows, nullCount, nullBitmap, values.data);
  }
}

/** Int64 values as little-endian two's complement words of `words` × 32 bits (decimals stored on int64 pages). */
function widenToWords(values: BigInt64Array, words: number): Uint32Array {
  const n = values.length;
  const halves = new Int32Array(values.buffer, values.byteOffset, n * 2);
  const out = new Int32Array(n * words);
  for (let i = 0; i < n; i++) {
    const hi = halves[2 * i + 1]!;
    const at = i * words;
    out[at] = halves[2 * i]!;
    out[at + 1] = hi;
    if (hi < 0) out.fill(-1, at + 2, at + words);
  }
  return new Uint32Array(out.buffer);
}

function emptyValues(type: DataType, info: FieldTypeInfo | undefined): PageValues {
  if (info !== undefined) {
    switch (info.kind) {
      case 'i32': return { kind: 'i32', values: new Int32Array(0) };
      case 'fixed': return { kind: 'fixed', width: info.width, data: new Uint8Array(0) };
      case 'utf8': return { kind: 'utf8', offsets: new Int32Array(1), data: new Uint8Array(0) };
      default: break;
    }
  }
  if (type instanceof Timestamp || type instanceof Int64 || type instanceof Uint64 || info?.kind === 'i64') return { kind: 'i64', values: new BigInt64Array(0) };
  if (type instanceof Float64) return { kind: 'f64', values: new Float64Array(0) };
  if (type instanceof Dictionary) return { kind: 'i32', values: new Int32Array(0) };
  if (type instanceof Bool) return { kind: 'bool', bits: new Uint8Array(0), length: 0 };
  return { kind: 'utf8', offsets: new Int32Array(1), data: new Uint8Array(0) };
}
