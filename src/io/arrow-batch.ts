/**
 * Arrow batches from Parquet and Arrow IPC files, brought into a table's shape: the time
 * column as Timestamp in the table unit, tags as strings, fields as float64 / int64 /
 * uint64 / bool / utf8. Shared by the Parquet and the Arrow IPC readers.
 *
 *   Timestamp (any unit, any zone), Date32/Date64, int epoch, ISO strings → time
 *   Utf8 / LargeUtf8 / Dictionary (numbers, bools as text; null stays null) → tags
 *   Float16/32/64, Decimal                                                → float64
 *   Int8/16/32/64, Uint8/16/32                                            → int64
 *   Uint64 → uint64; Bool → bool; Utf8, Binary (UTF-8), FixedSizeBinary (hex) → utf8
 *   Timestamp/Date that is not the time column                            → int64 in the table unit
 *   List, Struct, Map, Union…                                             → InputError naming the column
 */
import {
  Bool, Data, DataType, Dictionary, Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct, Timestamp, Type, Uint64, Utf8,
  vectorFromArray, type Vector,
} from 'apache-arrow';
import { InputError } from '../errors.js';
import type { FieldType, TimeUnit } from '../format/types.js';
import { ARROW_TIME_UNIT, TIME_UNIT_OF } from '../table/arrow-schema.js';
import { validateColumnName } from '../table/names.js';
import type { TableSchema } from '../table/types.js';
import { convertInts } from '../table/int-convert.js';
import { stringOf } from '../table/write-buffer.js';
import { epochUnitOf, parseIsoBytes, type TimeFormat } from './csv/values.js';
import { floorDiv, formatTime, INT64_MAX, INT64_MIN, inTimeRange, timeRangeError } from '../table/time.js';
import { TIME_NAMES } from './csv/reader.js';
import { TagInterner } from './csv/cells.js';
import { tagValueBytesOver, tagValueError } from '../table/tag-values.js';

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
  return type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8
    || (type.typeId === Type.Dictionary && isString((type as Dictionary).dictionary));
}

/** The table type a column converts to, or a reason it cannot. */
function fieldTypeOf(type: DataType): FieldType | string {
  switch (type.typeId) {
    case Type.Float: case Type.Decimal: return 'float64';
    case Type.Int: return (type as Int64).isSigned || (type as Int64).bitWidth < 64 ? 'int64' : 'uint64';
    case Type.Bool: return 'bool';
    case Type.Utf8: case Type.LargeUtf8: case Type.Binary: case Type.LargeBinary: case Type.FixedSizeBinary: return 'utf8';
    case Type.Dictionary: return isString((type as Dictionary).dictionary) ? 'utf8' : fieldTypeOf((type as Dictionary).dictionary);
    case Type.Timestamp: case Type.Date: return 'int64';
    case Type.List: case Type.LargeList: case Type.FixedSizeList: case Type.Struct: case Type.Map: case Type.Union: case Type.SparseUnion: case Type.DenseUnion:
      return `has the nested type ${type}; flatten it (one column per leaf) before import`;
    default: return `has the type ${type}, which a table cannot hold (time, strings, numbers, bools)`;
  }
}

/** The table schema a file's Arrow schema implies (new tables); checks every column converts. */
export function tableSchemaOfArrow(file: string, schema: Schema, options: ArrowImportOptions): TableSchema {
  const fields = schema.fields;
  for (const f of fields) {
    // A name the table cannot hold is the file's fault, not a usage error.
    try { validateColumnName(f.name); } catch (error) { throw new InputError(`${file}: ${(error as Error).message}`, file, undefined, f.name); }
    const t = fieldTypeOf(f.type);
    if (!['float64', 'int64', 'uint64', 'bool', 'utf8'].includes(t)) throw new InputError(`${file}: column ${f.name} ${t}`, file, undefined, f.name);
  }
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
    out.fields.push({ name: f.name, type: fieldTypeOf(f.type) as FieldType, nullable: true });
  }
  return out;
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
    children.push(makeData({ type: timeType, length: n, nullCount: 0, data: this.times(batch.data.children[timeIndex]!, table.time, rowStart, true) as never }));
    batch.schema.fields.forEach((f, k) => {
      if (k === timeIndex) return;
      const data = batch.data.children[k]!;
      const converted = table.tags.includes(f.name) ? this.checkedTag(this.tag(f.name, data, rowStart), f.name, rowStart) : this.field(f.name, data, rowStart);
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
      for (let i = 0; i < n; i++) out[i] = floorDiv(values[i]!, d);
    };
    switch (type.typeId) {
      case Type.Timestamp: {
        this.refuseTimeFormat(name, required, 'Arrow timestamps, whose unit is in the file');
        const fromUnit = TIME_UNIT_OF[(type as Timestamp).unit]!;
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
    const n = data.length;
    const known = this.table.fields.find((f) => f.name === name)?.type;
    const target = known ?? (fieldTypeOf(type) as FieldType);
    const nullBitmap = data.nullCount > 0 ? validityBitmap(data) : undefined;
    const nullCount = data.nullCount;
    switch (type.typeId) {
      case Type.Float: {
        if (target !== 'float64') break;
        if ((type as Float64).precision === 2) return data;
        const src = data.values as Float32Array | Uint16Array;
        const out = new Float64Array(n);
        if ((type as Float64).precision === 0) for (let i = 0; i < n; i++) out[i] = data.getValid(i) ? (vectorValue(data, i) as number) : 0;
        else for (let i = 0; i < n; i++) out[i] = src[i]!;
        return makeData({ type: new Float64(), length: n, nullCount, nullBitmap, data: out });
      }
      case Type.Decimal: {
        if (target !== 'float64') break;
        return makeData({ type: new Float64(), length: n, nullCount, nullBitmap, data: decimalsToFloat64(data) });
      }
      case Type.Int: {
        if (target !== 'int64' && target !== 'uint64' && target !== 'float64') break;
        const int = type as Int64;
        if (int.bitWidth === 64 && target === (int.isSigned ? 'int64' : 'uint64')) return data;
        // Widening copies; narrowing (int64 ↔ uint64, int64 → float64) is checked per value.
        const values = convertInts(data, target, (i, value, why) => this.bad(name, rowStart + i, target, `${value}, which ${why}`));
        const dt = target === 'float64' ? new Float64() : target === 'int64' ? new Int64() : new Uint64();
        return makeData({ type: dt, length: n, nullCount, nullBitmap, data: values } as never);
      }
      case Type.Bool:
        if (target === 'bool') return data.offset === 0 ? data : makeData({ type: new Bool(), length: n, nullCount, nullBitmap, data: bitsOf(data) });
        break;
      case Type.Timestamp: case Type.Date:
        if (target !== 'int64') break;
        return makeData({ type: new Int64(), length: n, nullCount, nullBitmap, data: this.times(data, name, rowStart, false) as never });
      case Type.Utf8:
        if (target === 'utf8') return data;
        break;
      case Type.LargeUtf8: case Type.Binary: case Type.LargeBinary: case Type.FixedSizeBinary: case Type.Dictionary: {
        if (target !== 'utf8') break;
        const strings: (string | null)[] = new Array(n);
        const hex = type.typeId === Type.FixedSizeBinary;
        for (let i = 0; i < n; i++) {
          if (!data.getValid(i)) { strings[i] = null; continue; }
          const v = vectorValue(data, i);
          strings[i] = v instanceof Uint8Array ? (hex ? hexOf(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8')) : String(v);
        }
        return vectorFromArray(strings, new Utf8()).data[0]!;
      }
      default:
        break;
    }
    throw new InputError(`${this.file}: column ${name} is ${type} in the file but ${target} in the table`, this.file, undefined, name);
  }

  private bad(name: string, row: number, expected: string, got: string): never {
    throw new InputError(`${this.file}: row ${row + 1} (column ${name}): expected ${expected}, got ${got}`, this.file, row + 1, name);
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

function bitsOf(data: Data): Uint8Array {
  const n = data.length;
  const out = new Uint8Array((n + 7) >> 3);
  const src = data.values as Uint8Array;
  for (let i = 0; i < n; i++) {
    const k = data.offset + i;
    if ((src[k >> 3]! >> (k & 7)) & 1) out[i >> 3]! |= 1 << (i & 7);
  }
  return out;
}

function hexOf(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return bytes.length === 16 ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` : hex;
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * Decimal128/256 (little-endian two's complement words) → float64, correctly rounded:
 * an unscaled value below 2^53 divided by an exact power of ten is one IEEE division;
 * larger ones go through the decimal text.
 */
function decimalsToFloat64(data: Data): Float64Array {
  const type = data.type as unknown as { scale: number; bitWidth: number };
  const words = type.bitWidth / 32;
  const n = data.length;
  const src = data.values as Uint32Array;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let big = 0n;
    for (let w = words - 1; w >= 0; w--) big = (big << 32n) | BigInt(src[i * words + w]!);
    big = BigInt.asIntN(type.bitWidth, big);
    const abs = big < 0n ? -big : big;
    if (abs < 2n ** 53n && type.scale <= 22) {
      out[i] = type.scale >= 0 ? Number(big) / POW10[type.scale]! : Number(big) * 10 ** -type.scale;
    } else {
      const digits = abs.toString().padStart(type.scale + 1, '0');
      const text = type.scale > 0 ? `${digits.slice(0, digits.length - type.scale)}.${digits.slice(digits.length - type.scale)}` : `${digits}${'0'.repeat(-type.scale)}`;
      out[i] = Number(`${big < 0n ? '-' : ''}${text}`);
    }
  }
  return out;
}

