// `x[i]!` in this file indexes within the bounds of its loop, on per-value paths where an
// assert() per value would cost (noUncheckedIndexedAccess); invariants elsewhere use assert()/at().
/**
 * Arrow batches from Parquet and Arrow IPC files, brought into a table's shape: the time
 * column as Timestamp in the table unit, tags as strings, fields in the canonical Arrow type
 * of their field type. Shared by the Parquet and the Arrow IPC readers. Field types follow
 * docs/types.md (importFieldTypeOf, convertToField):
 *
 *   Timestamp (any unit, any zone), Date32/Date64, int epoch, ISO strings → time
 *   Utf8 / LargeUtf8 / Utf8View / Dictionary (numbers, bools as text) → tags (valid UTF-8; null stays null)
 *   Float16/32/64 → float64; Int8…Int64, Uint8…Uint32 → int64; Uint64 → uint64; Bool → bool
 *   Utf8, LargeUtf8, Utf8View → utf8 (valid UTF-8 only); Binary, LargeBinary, BinaryView → binary
 *   FixedSizeBinary(n) → fixed_binary(n); Date32 → date32; Date64 → date64; Time → time(unit)
 *   Duration → duration(unit); Timestamp that is not the time column → timestamp(unit[,zone])
 *   Decimal(p, s) → decimal(p,s), exactly; Null → no field (nulls into an existing one)
 *   Interval, List, Struct, Map, Union…                                     → InputError naming the column
 */
import {
  Data, DataType, Dictionary, Field, Int32, Int64, makeData, RecordBatch, Schema, Struct, Timestamp, Type, Utf8,
  vectorFromArray, type Vector,
} from 'apache-arrow';
import { InputError, assert } from '../errors.js';
import { importFieldTypeOf } from '../format/field-types.js';
import type { TimeUnit } from '../format/types.js';
import { ARROW_TIME_UNIT, TIME_UNIT_OF } from '../core/arrow-schema.js';
import { validateColumnName } from '../table/names.js';
import { convertToField, invalidUtf8RowOf } from '../table/field-convert.js';
import type { TableSchema } from '../core/types.js';
import { stringOf } from '../table/row-values.js';
import { epochUnitOf, parseIsoBytes, type TimeFormat } from './csv/values.js';
import { floorDiv, formatTime, INT64_MAX, INT64_MIN, inTimeRange, timePrecisionError, timeRangeError } from '../core/time.js';
import { TIME_NAMES } from './csv/reader.js';
import { TagInterner } from './csv/cells.js';
import { tagValueBytesOver, tagValueError } from '../table/tag-values.js';
import { at } from './at.js';

const NS_PER: Record<TimeUnit, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };
const NS_PER_DAY = 86_400_000_000_000n;

export interface ArrowImportOptions {
  time?: string;
  tags?: string[];
  timeUnit?: TimeUnit;
  timeFormat?: TimeFormat;
}

/** Integer tag values below this are interned through an array instead of a map. */
const INT_TAG_DENSE = 4096;

function isString(type: DataType): boolean {
  return type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8 || type.typeId === Type.Utf8View
    || (type.typeId === Type.Dictionary && isString((type as Dictionary).dictionary));
}

/** Every column of a file's schema can be a column of a table (else an InputError naming the file and column). */
export function checkArrowSchema(file: string, schema: Schema): void {
  for (const f of schema.fields) {
    const mapped = importFieldTypeOf(f.type);
    if (typeof mapped === 'string') throw new InputError(`${file}: column ${f.name} ${mapped}`, file, undefined, f.name);
  }
}

/** The table schema a file's Arrow schema implies (new tables); checks every column converts. */
export function tableSchemaOfArrow(file: string, schema: Schema, options: ArrowImportOptions): TableSchema {
  const fields = schema.fields;
  for (const f of fields) {
    // A name the table cannot hold is the file's fault, not a usage error.
    try { validateColumnName(f.name); } catch (error) { throw new InputError(`${file}: ${(error as Error).message}`, file, undefined, f.name); }
  }
  checkArrowSchema(file, schema);
  const time = options.time !== undefined ? fields.find((f) => f.name === options.time)
    : fields.find((f) => f.type.typeId === Type.Timestamp && TIME_NAMES.includes(f.name.toLowerCase()))
      ?? fields.find((f) => f.type.typeId === Type.Timestamp) ?? fields.find((f) => TIME_NAMES.includes(f.name.toLowerCase()));
  if (!time) {
    throw new InputError(`${file}: no time column${options.time ? ` ${JSON.stringify(options.time)}` : ''} (columns: ${fields.map((f) => f.name).join(', ')}; a Timestamp column, or name one with --time)`, file);
  }
  for (const tag of options.tags ?? []) {
    if (!fields.some((f) => f.name === tag)) throw new InputError(`${file}: --tags names ${JSON.stringify(tag)}, which is not a column (columns: ${fields.map((f) => f.name).join(', ')})`, file, undefined, tag);
  }
  // Like CSV, a new table is in ns unless --time-unit says otherwise (no source unit is lost).
  const timeUnit = options.timeUnit ?? 'ns';
  const tags = options.tags ?? fields.filter((f) => f !== time && isString(f.type)).map((f) => f.name);
  const out: TableSchema = { time: time.name, timeUnit, tags: tags.filter((t) => t !== time.name), fields: [] };
  for (const f of fields) {
    if (f === time || tags.includes(f.name)) continue;
    const mapped = importFieldTypeOf(f.type);
    // A Null-typed column has no values and names no type: it adds no field (docs/types.md).
    if (mapped !== null && typeof mapped !== 'string') out.fields.push({ name: f.name, type: mapped.type, nullable: true });
  }
  return out;
}

/**
 * Arrow record batches of one input in the table's shape, each with the row it starts at:
 * the table schema is the given table's, or (new table) the one the first batch implies.
 * An import format that produces Arrow (readArrowFile, a format of your own) yields these.
 */
export async function* inTableShape(file: string, batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>, options: ArrowImportOptions, table?: TableSchema): AsyncGenerator<{ batch: RecordBatch; rowStart: number; schema: TableSchema }> {
  let rowStart = 0;
  let schema = table;
  let converter: ArrowBatchConverter | undefined;
  for await (const batch of batches) {
    schema ??= tableSchemaOfArrow(file, batch.schema, options);
    converter ??= new ArrowBatchConverter(file, schema, options);
    yield { batch: converter.convert(batch, rowStart), rowStart, schema };
    rowStart += batch.numRows;
  }
}

/** Converts batches of one file into the table's shape, keeping per-file decisions (epoch unit). */
export class ArrowBatchConverter {
  private epochUnit: Exclude<TimeFormat, 'iso'> | undefined;

  private readonly timeFormat: TimeFormat | undefined;

  constructor(private readonly file: string, private readonly table: TableSchema, options: ArrowImportOptions) {
    this.timeFormat = options.timeFormat;
    if (options.timeFormat && options.timeFormat !== 'iso') this.epochUnit = options.timeFormat;
  }

  /** --time-format says how to read the time column's epoch numbers or text; a column that is neither would ignore it. */
  private refuseTimeFormat(name: string, required: boolean, holds: string): void {
    if (required && this.timeFormat !== undefined) {
      throw new InputError(`${this.file}: --time-format ${this.timeFormat} does not apply: column ${name} holds ${holds}`, this.file, undefined, name);
    }
  }

  convert(batch: RecordBatch, rowStart: number): RecordBatch {
    const n = batch.numRows;
    const table = this.table;
    const outFields: Field[] = [];
    const children: Data[] = [];
    const timeIndex = batch.schema.fields.findIndex((f) => f.name === table.time);
    if (timeIndex < 0) throw new InputError(`${this.file}: no column ${table.time} (the table's time column)`, this.file, undefined, table.time);
    const timeType = new Timestamp(ARROW_TIME_UNIT[table.timeUnit], null);
    outFields.push(new Field(table.time, timeType, false));
    children.push(makeData({ type: timeType, length: n, nullCount: 0, data: this.times(at(batch.data.children, timeIndex), table.time, rowStart, true) as never }));
    batch.schema.fields.forEach((f, k) => {
      if (k === timeIndex) return;
      const data = at(batch.data.children, k);
      const isTag = table.tags.includes(f.name);
      // A Null-typed column the table has no field for holds nothing to keep.
      if (!isTag && data.type.typeId === Type.Null && !table.fields.some((x) => x.name === f.name)) return;
      if (isTag) {
        const bad = invalidUtf8RowOf(data);
        if (bad >= 0) throw new InputError(`${this.file}: row ${rowStart + bad + 1} (column ${f.name}): invalid UTF-8 in a string column`, this.file, rowStart + bad + 1, f.name);
      }
      const converted = isTag ? this.checkedTag(this.tag(f.name, data, rowStart), f.name, rowStart) : this.field(f.name, data, rowStart);
      outFields.push(new Field(f.name, converted.type, true));
      children.push(converted);
    });
    return new RecordBatch(new Schema(outFields), makeData({ type: new Struct(outFields), length: n, nullCount: 0, children }));
  }

  /**
   * A time-like column → BigInt64Array in the table unit (the time column must have no
   * nulls). Finer units round toward -∞; a value that leaves the table unit's int64 range
   * (a Timestamp(s) of year 2300 into a ns table) is an error naming the row, the value and
   * the range, never a wrap-around.
   */
  private times(data: Data, name: string, rowStart: number, required: boolean): BigInt64Array {
    const n = data.length;
    const out = new BigInt64Array(n);
    const type = data.type as DataType;
    const unit = this.table.timeUnit;
    const bad = (i: number, expected: string): never => {
      const v = data.getValid(i) ? JSON.stringify(String(vectorValue(data, i))) : 'null';
      throw new InputError(`${this.file}: row ${rowStart + i + 1} (column ${name}): expected ${expected}, got ${v}`, this.file, rowStart + i + 1, name);
    };
    const outOfRange = (i: number, shown: string): never => {
      throw new InputError(`${this.file}: row ${rowStart + i + 1} (column ${name}): ${timeRangeError(shown, unit)}`, this.file, rowStart + i + 1, name);
    };
    const tooFine = (i: number, shown: string): never => {
      throw new InputError(`${this.file}: row ${rowStart + i + 1} (column ${name}): ${timePrecisionError(shown, unit)}`, this.file, rowStart + i + 1, name);
    };
    if (required && data.nullCount > 0) for (let i = 0; i < n; i++) if (!data.getValid(i)) bad(i, 'a timestamp');
    const to = NS_PER[unit];
    const scale = (values: BigInt64Array, fromUnit: TimeUnit, shown: (v: bigint) => string) => {
      const from = NS_PER[fromUnit];
      if (from === to) { out.set(values.subarray(0, n)); return; }
      if (from > to) {
        // Multiplying into a finer unit: values beyond INT64 / m would wrap.
        const m = from / to;
        const lo = INT64_MIN / m, hi = INT64_MAX / m;
        for (let i = 0; i < n; i++) {
          const v = values[i]!;
          if ((v < lo || v > hi) && data.getValid(i)) outOfRange(i, shown(v));
          out[i] = v * m;
        }
        return;
      }
      const d = to / from;
      for (let i = 0; i < n; i++) {
        const v = values[i]!;
        if (v % d !== 0n && data.getValid(i)) tooFine(i, shown(v));
        out[i] = floorDiv(v, d);
      }
    };
    switch (type.typeId) {
      case Type.Timestamp: {
        this.refuseTimeFormat(name, required, 'Arrow timestamps, whose unit is in the file');
        const fromUnit = TIME_UNIT_OF[(type as Timestamp).unit];
        assert(fromUnit !== undefined, 'an Arrow time unit');
        scale(data.values as BigInt64Array, fromUnit, (v) => `${formatTime(v, fromUnit)} (${v} ${fromUnit})`);
        return out;
      }
      case Type.Date: {
        this.refuseTimeFormat(name, required, 'Arrow dates');
        const days = (type as unknown as { unit: number }).unit === 0;
        for (let i = 0; i < n; i++) {
          if (!data.getValid(i)) continue;
          const ms = vectorValue(data, i) as number;
          const ns = days ? BigInt(Math.round(ms / 86_400_000)) * NS_PER_DAY : BigInt(ms) * 1_000_000n;
          if (ns % to !== 0n) tooFine(i, `${formatTime(ns, 'ns')} (${ms} ms)`);
          const v = floorDiv(ns, to);
          if (!inTimeRange(v)) outOfRange(i, formatTime(ns, 'ns').slice(0, days ? -10 : undefined));
          out[i] = v;
        }
        return out;
      }
      case Type.Int: {
        if (this.timeFormat === 'iso') this.refuseTimeFormat(name, required, 'integers, not ISO-8601 text (give their unit: s, ms, us or ns)');
        const values = data.values as ArrayLike<number | bigint>;
        const unsigned = !(type as Int64).isSigned;
        const big = new BigInt64Array(n);
        for (let i = 0; i < n; i++) {
          const v = BigInt(values[i]!);
          // A uint64 epoch above INT64_MAX (read as int64 it would be negative).
          if (unsigned && v > INT64_MAX && data.getValid(i)) outOfRange(i, `${v} (epoch)`);
          big[i] = v;
        }
        if (!this.epochUnit) {
          const sample = Array.from(big.subarray(0, Math.min(n, 1000)));
          this.epochUnit = epochUnitOf(sample) ?? 'ns';
        }
        const epochUnit = this.epochUnit;
        scale(big, epochUnit, (v) => `${v} (epoch ${epochUnit})`);
        return out;
      }
      case Type.Utf8: case Type.LargeUtf8: {
        if (this.timeFormat !== undefined && this.timeFormat !== 'iso') this.refuseTimeFormat(name, required, 'text, read as ISO-8601 (--time-format iso, or none)');
        const offsets = data.valueOffsets as Int32Array | BigInt64Array;
        const bytes = data.values as Uint8Array;
        for (let i = 0; i < n; i++) {
          if (!data.getValid(i)) continue;
          const ns = parseIsoBytes(bytes, Number(offsets[i]!), Number(offsets[i + 1]!));
          if (ns === null) bad(i, 'an ISO-8601 timestamp');
          if ((ns as bigint) % to !== 0n) tooFine(i, JSON.stringify(String(vectorValue(data, i))));
          const v = floorDiv(ns as bigint, to);
          if (!inTimeRange(v)) outOfRange(i, JSON.stringify(String(vectorValue(data, i))));
          out[i] = v;
        }
        return out;
      }
      default:
        throw new InputError(`${this.file}: column ${name} has the type ${type}; the time column must be a Timestamp, a Date, epoch integers or ISO-8601 strings`, this.file, undefined, name);
    }
  }

  /** `tag` itself when no dictionary value exceeds TAG_VALUE_BYTES_MAX; else the error names the first row using one. */
  private checkedTag(tag: Data, name: string, rowStart: number): Data {
    const dictionary = tag.dictionary!;
    for (let j = 0; j < dictionary.length; j++) {
      const value = String(dictionary.get(j) ?? '');
      const bytes = tagValueBytesOver(value);
      if (bytes === undefined) continue;
      const codes = tag.values as ArrayLike<number>;
      let i = 0;
      while (i < tag.length && !(tag.getValid(i) && Number(codes[i]) === j)) i++;
      if (i === tag.length) continue; // an unused dictionary entry enters no table
      throw tagValueError(`${this.file}: row ${rowStart + i + 1}`, name, value, bytes, this.file, rowStart + i + 1);
    }
    return tag;
  }

  /**
   * A tag column as Dictionary<Utf8, Int32>: Utf8 interned by bytes; integers, floats and
   * bools as their text (stringOf, as library rows are); null slots stay null (the null tag,
   * distinct from ""). Other types (objects) are refused naming the column and row.
   */
  private tag(name: string, data: Data, rowStart: number): Data {
    const type = data.type as DataType;
    if (type.typeId === Type.Dictionary && (type as Dictionary).dictionary.typeId === Type.Utf8) return data;
    const n = data.length;
    const codes = new Int32Array(n);
    const interner = new TagInterner();
    const nulls = data.nullCount > 0;
    if (type.typeId === Type.Utf8 && !nulls) {
      // The common case in its own monomorphic loop (Int32 offsets, no validity checks).
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      for (let i = 0; i < n; i++) codes[i] = interner.bytes(bytes, offsets[i]!, offsets[i + 1]!);
    } else if (type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8) {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const bytes = data.values as Uint8Array;
      for (let i = 0; i < n; i++) if (!nulls || data.getValid(i)) codes[i] = interner.bytes(bytes, Number(offsets[i]!), Number(offsets[i + 1]!));
    } else if (type.typeId === Type.Int) {
      // Integer tags (rack numbers, ids): one string per distinct value, not per row. Values
      // in [0, INT_TAG_DENSE) are looked up in an array (read from the int32 halves of 64-bit
      // values, so no BigInt is made per row); others through a map.
      const values = data.values as ArrayLike<number | bigint>;
      const halves = (type as Int64).bitWidth === 64 ? new Int32Array((values as BigInt64Array).buffer, (values as BigInt64Array).byteOffset, n * 2) : null;
      const dense = new Int32Array(INT_TAG_DENSE).fill(-1);
      const byValue = new Map<number | bigint, number>();
      for (let i = 0; i < n; i++) {
        if (nulls && !data.getValid(i)) continue;
        const small = halves ? (halves[2 * i + 1] === 0 ? halves[2 * i]! : -1) : (values[i] as number);
        if (small >= 0 && small < INT_TAG_DENSE) {
          let c = dense[small]!;
          if (c < 0) c = dense[small] = interner.text(String(small));
          codes[i] = c;
          continue;
        }
        const v = values[i]!;
        let c = byValue.get(v);
        if (c === undefined) { c = interner.text(String(v)); byValue.set(v, c); }
        codes[i] = c;
      }
    } else {
      for (let i = 0; i < n; i++) {
        if (nulls && !data.getValid(i)) continue;
        const v = vectorValue(data, i);
        const text = stringOf(v);
        if (text === null) throw new InputError(`${this.file}: row ${rowStart + i + 1} (column ${name}): a tag takes strings, numbers or booleans, got ${type}`, this.file, rowStart + i + 1, name);
        codes[i] = interner.text(text);
      }
    }
    const dt = new Dictionary(new Utf8(), new Int32());
    const nullBitmap = nulls ? validityBitmap(data) : undefined;
    return makeData({ type: dt, length: n, nullCount: nulls ? data.nullCount : 0, nullBitmap, data: codes, dictionary: vectorFromArray(interner.values, new Utf8()) as Vector<Utf8> });
  }

  private field(name: string, data: Data, rowStart: number): Data {
    const type = data.type as DataType;
    const mapped = importFieldTypeOf(type);
    const target = this.table.fields.find((f) => f.name === name)?.type ?? (mapped !== null && typeof mapped !== 'string' ? mapped.type : undefined);
    if (target === undefined) throw new InputError(`${this.file}: column ${name} ${mapped ?? 'has the Null type'}`, this.file, undefined, name);
    // Tables that imported timestamps and dates as int64 in the table unit (before they kept
    // their type) still take them that way.
    if (target === 'int64' && (type.typeId === Type.Timestamp || type.typeId === Type.Date)) {
      const nullBitmap = data.nullCount > 0 ? validityBitmap(data) : undefined;
      return makeData({ type: new Int64(), length: data.length, nullCount: data.nullCount, nullBitmap, data: this.times(data, name, rowStart, false) as never });
    }
    return convertToField(data, target, (row, message) => {
      if (row === undefined) throw new InputError(`${this.file}: column ${name} ${message}`, this.file, undefined, name);
      throw new InputError(`${this.file}: row ${rowStart + row + 1} (column ${name}): ${message}`, this.file, rowStart + row + 1, name);
    }, 'file');
  }
}

/** Value i of a Data through a one-Data vector (slow path for rare types). */
function vectorValue(data: Data, i: number): unknown {
  return makeVector(data).get(i);
}

const vectors = new WeakMap<Data, Vector>();
function makeVector(data: Data): Vector {
  let v = vectors.get(data);
  if (!v) {
    // A RecordBatch of one column gives a Vector over this Data without copying.
    const field = new Field('v', data.type, true);
    v = new RecordBatch(new Schema([field]), makeData({ type: new Struct([field]), length: data.length, nullCount: 0, children: [data] })).getChildAt(0)!;
    vectors.set(data, v);
  }
  return v;
}

function validityBitmap(data: Data): Uint8Array {
  const n = data.length;
  const out = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (data.getValid(i)) out[i >> 3]! |= 1 << (i & 7);
  return out;
}
