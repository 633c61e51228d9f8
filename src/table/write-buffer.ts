import { compareStrings } from '../format/stats.js';
import {
  Bool, Data, Dictionary, Field, Float64, Int32, Int64, makeData, makeVector as arrowVector, RecordBatch, Schema, Struct, Timestamp, Type, Uint64, Utf8,
  vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';
import type { FieldType, LineageEntry } from '../format/types.js';
import { fieldData, fieldTypeInfo, fixedWidthData, importFieldTypeOf, valueFromJs, type FieldValue } from '../format/field-types.js';
import { SchemaError } from '../errors.js';
import { utf8DataAt, utf8VectorAt } from '../format/utf8.js';
import { tagValueBytesOver, tagValueError } from './tag-values.js';
import { ARROW_TIME_UNIT, TIME_UNIT_OF, fieldArrowType } from './arrow-schema.js';
import { convertToField, invalidUtf8RowOf } from './field-convert.js';
import { convertTime, formatTime, inTimeRange, nextPartitionKey, NS_PER_UNIT, partitionOf, partitionStart, timePrecisionError, timeRangeError, toTableTime } from './time.js';
import type { FieldSpec, PartitionBy, Row, TableSchema, TimeInput } from './types.js';

const INITIAL_CAPACITY = 1024;
const INT64_MAX = 2n ** 63n - 1n;

type Growable = Float64Array | BigInt64Array | BigUint64Array | Int32Array | Uint8Array;

function grow<T extends Growable>(array: T, need: number): T {
  if (need <= array.length) return array;
  const next = new (array.constructor as new (n: number) => T)(Math.max(need, array.length * 2));
  (next as { set(a: T): void }).set(array);
  return next;
}

/**
 * Values of a fixed-width field type other than float64/int64/uint64 (dates, times,
 * durations, timestamps, decimals, fixed-size binary): `width` bytes per row, in the type's
 * Arrow layout.
 */
class FixedValues {
  constructor(readonly width: number, public bytes: Uint8Array) {}

  grow(capacity: number): void {
    if (capacity * this.width <= this.bytes.length) return;
    const next = new Uint8Array(capacity * this.width);
    next.set(this.bytes);
    this.bytes = next;
  }

  /** Rows in `index` order, in place (through one temporary copy). */
  permute(index: Int32Array): void {
    const w = this.width;
    const copy = this.bytes.slice(0, index.length * w);
    for (let i = 0; i < index.length; i++) this.bytes.set(copy.subarray(index[i]! * w, (index[i]! + 1) * w), i * w);
  }
}

/** A field column being buffered: values plus a validity byte per row (1 = present). Binary values are Uint8Arrays. */
interface FieldColumn {
  spec: FieldSpec;
  values: Float64Array | BigInt64Array | BigUint64Array | Uint8Array | string[] | Uint8Array[] | FixedValues;
  valid: Uint8Array;
  nulls: number;
}

/**
 * A tag column: codes into an insertion-ordered dictionary. A null tag (no value: a row
 * without it, a null slot of an Arrow column) is an entry of its own, distinct from "": its
 * series is a series of its own, sorted before every value, and written as a null slot.
 */
interface TagColumn {
  name: string;
  codes: Int32Array;
  dictionary: Map<string | null, number>;
  values: (string | null)[];
}

/** One sorted, partition-pure run of buffered rows, ready for writeChunk. */
export interface BufferedChunk {
  partition: string;
  batch: RecordBatch;
  lineage: LineageEntry[];
}

/**
 * The columnar write buffer behind append(): typed arrays, not row objects. A flush sorts
 * the buffered rows by (partition, series, time) without comparing strings per row — tag
 * values are ranked once per dictionary, series become dense numbers, and rows are
 * counting-sorted by (partition, series) — then cuts partition-pure batches.
 */
export class WriteBuffer {
  rows = 0;
  private capacity: number;
  private time: BigInt64Array;
  private readonly tags: TagColumn[];
  private readonly fields = new Map<string, FieldColumn>();
  private lineage: { source: string; rowStart: number; at: number; rows: number }[] = [];
  /** drain(…, inPlace)'s scratch column (int32 pairs). */
  private scratch = new Int32Array(0);

  /**
   * `capacity`: rows to allocate at once (a bulk import's chunk size: its arrays then never
   * grow; untouched pages of the zero-filled arrays cost no memory).
   */
  constructor(readonly schema: TableSchema, capacity = INITIAL_CAPACITY) {
    this.capacity = Math.max(1, capacity);
    this.time = new BigInt64Array(this.capacity);
    this.tags = schema.tags.map((name) => ({ name, codes: new Int32Array(this.capacity), dictionary: new Map(), values: [] }));
    for (const spec of schema.fields) this.addField(spec);
  }

  /**
   * Bytes of the buffered rows: their typed-array columns plus an estimate of 48 bytes per
   * string value (arrays grow by doubling, so up to twice this is allocated; a drain copies
   * about as much again).
   */
  get bytes(): number {
    let perRow = 8 + 4 * this.tags.length;
    let strings = 0;
    for (const c of this.fields.values()) {
      perRow += 1 + (Array.isArray(c.values) ? 0 : c.values instanceof FixedValues ? c.values.width : c.values.BYTES_PER_ELEMENT);
      if (Array.isArray(c.values)) strings++;
    }
    return this.rows * (perRow + strings * 48);
  }

  /** Field specs in column order (grows when appends bring new fields). */
  get fieldSpecs(): FieldSpec[] {
    return [...this.fields.values()].map((c) => c.spec);
  }

  private addField(spec: FieldSpec): FieldColumn {
    const column: FieldColumn = { spec, values: this.newValues(spec.type, this.capacity), valid: new Uint8Array(this.capacity), nulls: this.rows };
    this.fields.set(spec.name, column);
    return column;
  }

  private newValues(type: FieldType, n: number): FieldColumn['values'] {
    switch (type) {
      case 'float64': return new Float64Array(n);
      case 'int64': return new BigInt64Array(n);
      case 'uint64': return new BigUint64Array(n);
      case 'bool': return new Uint8Array(n);
      case 'utf8': return [];
      default: {
        const info = fieldTypeInfo(type);
        return info.family === 'binary' ? [] : new FixedValues(info.arrowWidth, new Uint8Array(n * info.arrowWidth));
      }
    }
  }

  private reserve(extra: number): void {
    const need = this.rows + extra;
    if (need <= this.capacity) return;
    this.capacity = Math.max(need, this.capacity * 2);
    this.time = grow(this.time, this.capacity);
    for (const t of this.tags) t.codes = grow(t.codes, this.capacity);
    for (const f of this.fields.values()) {
      if (f.values instanceof FixedValues) f.values.grow(this.capacity);
      else if (!Array.isArray(f.values)) f.values = grow(f.values, this.capacity);
      f.valid = grow(f.valid, this.capacity);
    }
  }

  /** `row`: the appended row carrying the value, for the error when it is too long (TAG_VALUE_BYTES_MAX). */
  private intern(tag: TagColumn, value: string | null, row?: () => number): number {
    let code = tag.dictionary.get(value);
    if (code === undefined) {
      const bytes = value === null ? undefined : tagValueBytesOver(value);
      if (bytes !== undefined) throw tagValueError(row ? `append row ${row()}` : "append", tag.name, value!, bytes);
      code = tag.values.length;
      tag.dictionary.set(value, code);
      tag.values.push(value);
    }
    return code;
  }

  private fieldFor(name: string, type: FieldType): FieldColumn {
    const existing = this.fields.get(name);
    if (existing) {
      const ints = (t: FieldType) => t === 'int64' || t === 'uint64';
      // Integer columns convert into float64 and across signedness, checked per value (copyField).
      if (existing.spec.type !== type && !((existing.spec.type === 'float64' || ints(existing.spec.type)) && ints(type))) {
        throw new SchemaError(`column ${name} is ${existing.spec.type} in the table, got ${type}`);
      }
      return existing;
    }
    return this.addField({ name, type, nullable: true });
  }

  private noteLineage(source: { source: string; rowStart: number } | undefined, rows: number): void {
    if (source) this.lineage.push({ source: source.source, rowStart: source.rowStart, at: this.rows, rows });
  }

  /** Appends an Arrow batch whose columns are named as the table's (extra fields are added). */
  appendBatch(batch: RecordBatch, lineage?: { source: string; rowStart: number }): void {
    const n = batch.numRows;
    if (n === 0) return;
    const schema = this.schema;
    const timeIndex = batch.schema.fields.findIndex((f) => f.name === schema.time);
    if (timeIndex < 0) throw new SchemaError(`batch has no time column ${JSON.stringify(schema.time)} (columns: ${batch.schema.fields.map((f) => f.name).join(', ')})`);
    // Every column is checked and converted before the buffer changes: a bad value leaves it as it was.
    const added: FieldSpec[] = [];
    for (const f of batch.schema.fields) {
      if (f.name === schema.time || schema.tags.includes(f.name) || this.fields.has(f.name)) continue;
      const mapped = importFieldTypeOf(f.type);
      if (typeof mapped === 'string') throw new SchemaError(`column ${f.name} ${mapped}`);
      // A Null-typed column holds no value and names no type: it adds no field (docs/types.md).
      if (mapped !== null) added.push({ name: f.name, type: mapped.type, nullable: true });
    }
    const converted = new Map<string, Data[]>();
    for (const spec of [...this.fieldSpecs, ...added]) {
      const child = batch.getChild(spec.name);
      if (!child) continue;
      let row = 0;
      converted.set(spec.name, child.data.map((data) => {
        const out = convertToField(data, spec.type, (r, message) => {
          throw new SchemaError(r === undefined ? `column ${spec.name} ${message}` : `row ${row + r}: column ${spec.name}: ${message}`);
        });
        row += data.length;
        return out;
      }));
    }
    for (const tag of this.tags) {
      const child = batch.getChild(tag.name);
      let row = 0;
      for (const data of child?.data ?? []) {
        const bad = invalidUtf8RowOf(data);
        if (bad >= 0) throw new SchemaError(`row ${row + bad}: tag ${tag.name}: invalid UTF-8`);
        row += data.length;
      }
    }
    for (const spec of added) this.addField(spec);
    this.reserve(n);
    const at = this.rows;
    this.copyTime(batch.getChildAt(timeIndex)!.data[0]!, batch.schema.fields[timeIndex]!.type, at, n);
    for (const tag of this.tags) {
      const child = batch.getChild(tag.name);
      if (!child) { const code = this.intern(tag, null); tag.codes.fill(code, at, at + n); continue; }
      this.copyTag(tag, child, at);
    }
    for (const column of this.fields.values()) {
      const parts = converted.get(column.spec.name);
      if (!parts) { column.valid.fill(0, at, at + n); column.nulls += n; continue; }
      this.copyField(column, parts, at);
    }
    this.noteLineage(lineage, n);
    this.rows += n;
  }

  private copyTime(data: Data, type: DataType, at: number, n: number): void {
    const name = this.schema.time;
    if (data.nullCount > 0) {
      for (let i = 0; i < n; i++) if (!data.getValid(i)) throw new SchemaError(`row ${i}: time column ${name} is null`);
    }
    let unit = this.schema.timeUnit;
    if (type.typeId === Type.Timestamp) unit = TIME_UNIT_OF[(type as Timestamp).unit]!;
    else if (type.typeId !== Type.Int || (type as Int64).bitWidth !== 64) {
      throw new SchemaError(`time column ${name} must be an Arrow Timestamp (or int64 in the table unit), got ${type}`);
    }
    // Arrow JS pre-slices value buffers (Data.values starts at the Data's offset).
    const src = (data.values as BigInt64Array).subarray(0, n);
    const tableUnit = this.schema.timeUnit;
    if (unit === tableUnit) { this.time.set(src, at); return; }
    const shown = (i: number) => `${formatTime(src[i]!, unit)} (${src[i]} ${unit})`;
    const per = NS_PER_UNIT[tableUnit] / NS_PER_UNIT[unit]; // > 1n when the batch's unit is finer
    for (let i = 0; i < n; i++) {
      if (per > 1n && src[i]! % per !== 0n) throw new SchemaError(`row ${i}: time column ${name}: ${timePrecisionError(shown(i), tableUnit)}`);
      const v = convertTime(src[i]!, unit, tableUnit);
      if (!inTimeRange(v)) throw new SchemaError(`row ${i}: time column ${name}: ${timeRangeError(`${formatTime(src[i]!, unit)} (${src[i]} ${unit})`, tableUnit)}`);
      this.time[at + i] = v;
    }
  }

  /**
   * A tag column of a batch into codes: Utf8 / LargeUtf8 / Dictionary values as they are,
   * null slots as the null tag; integer, float and bool columns as their text (as stringOf
   * does for row values, so an Arrow batch and rows of the same values make the same series).
   */
  private copyTag(tag: TagColumn, child: Vector, at: number): void {
    let row = at;
    for (const data of child.data) {
      const typeId = data.type.typeId;
      if (typeId === Type.Dictionary) {
        const dict = data.dictionary!;
        const map = new Int32Array(dict.length);
        const codes = data.values as ArrayLike<number | bigint>;
        const base = row - at;
        for (let j = 0; j < dict.length; j++) map[j] = this.intern(tag, this.tagText(tag, dict.type.typeId === Type.Utf8 ? utf8VectorAt(dict, j) : dict.get(j), row), () => base + Array.from(codes, Number).indexOf(j));
        const out = tag.codes;
        if (data.nullCount === 0 && codes instanceof Int32Array) {
          // The common case (CSV batches, the buffer's own snapshots): one tight loop.
          for (let i = 0; i < data.length; i++) out[row + i] = map[codes[i]!]!;
          row += data.length;
        } else {
          const none = this.intern(tag, null);
          for (let i = 0; i < data.length; i++) out[row++] = data.getValid(i) ? map[Number(codes[i]!)]! : none;
        }
      } else if (typeId === Type.Utf8 || typeId === Type.LargeUtf8) {
        const v = makeVector(data);
        const base = row - at;
        for (let i = 0; i < data.length; i++) tag.codes[row++] = this.intern(tag, v.get(i) as string | null, () => base + i);
      } else if (typeId === Type.Int || typeId === Type.Float || typeId === Type.Bool) {
        const v = arrowVector(data);
        for (let i = 0; i < data.length; i++, row++) tag.codes[row] = this.intern(tag, v.isValid(i) ? this.tagText(tag, v.get(i), row - at) : null);
      } else {
        throw new SchemaError(`tag column ${tag.name} must be strings (Utf8 or Dictionary; integers, floats and bools are stored as their text), got ${data.type}`);
      }
    }
  }

  /** The text of a tag value (null stays null); an object, array or function is refused, naming the row. */
  private tagText(tag: TagColumn, v: unknown, row: number): string | null {
    if (v === null || v === undefined) return null;
    const text = stringOf(v);
    if (text === null) throw new SchemaError(`row ${row}: tag ${tag.name} takes a string (numbers, bigints and booleans are stored as their text; null or a missing value is the null tag), got ${shownValue(v)}`);
    return text;
  }

  /** Copies a field's data, already converted to the canonical Arrow type of its field type (convertToField). */
  private copyField(column: FieldColumn, parts: readonly Data[], at: number): void {
    let row = at;
    for (const data of parts) {
      const n = data.length;
      if (data.nullCount === 0) column.valid.fill(1, row, row + n);
      else {
        for (let i = 0; i < n; i++) {
          const ok = data.getValid(i);
          column.valid[row + i] = ok ? 1 : 0;
          if (!ok) column.nulls++;
        }
      }
      const values = column.values;
      if (values instanceof FixedValues) {
        const src = data.values as ArrayBufferView;
        values.bytes.set(new Uint8Array(src.buffer, src.byteOffset, n * values.width), row * values.width);
      } else if (values instanceof Float64Array || values instanceof BigInt64Array || values instanceof BigUint64Array) {
        (values as { set(a: ArrayLike<number | bigint>, o: number): void }).set((data.values as Float64Array | BigInt64Array).subarray(0, n), row);
      } else if (column.spec.type === 'bool') {
        const bits = data.values as Uint8Array;
        for (let i = 0; i < n; i++) { const b = data.offset + i; (values as Uint8Array)[row + i] = (bits[b >> 3]! >> (b & 7)) & 1; }
      } else if (column.spec.type === 'utf8') {
        const v = makeVector(data);
        const out = values as string[];
        for (let i = 0; i < n; i++) out[row + i] = (v.get(i) as string | null) ?? '';
      } else {
        // Binary: each value's bytes, copied out of the batch.
        const offsets = data.valueOffsets as Int32Array;
        const bytes = data.values as Uint8Array;
        const out = values as Uint8Array[];
        for (let i = 0; i < n; i++) out[row + i] = bytes.slice(offsets[i]!, offsets[i + 1]!);
      }
      row += n;
    }
  }

  /** Appends plain rows (time, tags as strings, fields by JS type: number→float64, bigint→int64, boolean, string→utf8). */
  appendRows(rows: readonly Row[], lineage?: { source: string; rowStart: number }): void {
    const n = rows.length;
    if (n === 0) return;
    const schema = this.schema;
    const tagSet = new Set(schema.tags);
    // Add new fields first (type from the first non-null value), so reserve covers them.
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      for (const key in row) {
        if (key === schema.time || tagSet.has(key) || this.fields.has(key)) continue;
        const v = row[key];
        if (v === null || v === undefined) continue;
        this.fieldFor(key, jsFieldType(v, key, i));
      }
    }
    this.reserve(n);
    const at = this.rows;
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      const t = row[schema.time];
      if (t === null || t === undefined) throw new SchemaError(`row ${i}: missing time column ${JSON.stringify(schema.time)}`);
      try {
        this.time[at + i] = toTableTime(t as TimeInput, schema.timeUnit, `row ${i} column ${schema.time}`, true);
      } catch (error) {
        throw new SchemaError((error as Error).message);
      }
      for (const tag of this.tags) tag.codes[at + i] = this.intern(tag, this.tagText(tag, row[tag.name], i), () => i);
      for (const column of this.fields.values()) {
        const v = row[column.spec.name];
        if (v === null || v === undefined) { column.valid[at + i] = 0; column.nulls++; continue; }
        column.valid[at + i] = 1;
        setValue(column, at + i, v, i);
      }
    }
    this.noteLineage(lineage, n);
    this.rows += n;
  }

  /**
   * Takes every buffered row out as partition-pure batches sorted by series then time, each
   * at most `rowsMax` rows, and empties the buffer. With `inPlace`, the rows are reordered
   * in the buffer's own arrays and the batches' fixed-width columns view them (a bulk
   * import writes a drain's chunks before appending again: no second copy of the rows, ~36
   * MB at the default chunk size); such batches are valid until the next append.
   */
  drain(partition: PartitionBy, rowsMax: number, series?: Set<string>, inPlace = false): BufferedChunk[] {
    const n = this.rows;
    if (n === 0) return [];
    const order = this.sortOrder(partition);
    if (series) {
      // JSON keeps the null tag apart from "" (and from any text).
      for (const row of order.representatives) series.add(JSON.stringify(this.tags.map((t) => t.values[t.codes[row]!])));
    }
    if (inPlace) this.permute(order);
    const out: BufferedChunk[] = [];
    let group = 0;
    for (const run of order.runs) {
      for (let start = run.start; start < run.end; start += rowsMax) {
        const end = Math.min(run.end, start + rowsMax);
        while (order.groupStarts[group + 1]! <= start) group++;
        const rows = order.index.subarray(start, end);
        const batch = inPlace ? this.gather({ start, end }) : this.gather(rows, { ...order, first: group, start });
        out.push({ partition: run.partition, batch, lineage: this.lineageOf(rows) });
      }
    }
    this.reset();
    return out;
  }

  /**
   * Reorders every buffered column into `order.index` order in place, through one scratch
   * array (tag codes are filled a series at a time).
   */
  private permute(order: { index: Int32Array; groupStarts: Int32Array; representatives: Int32Array }): void {
    const n = this.rows;
    const { index, groupStarts, representatives } = order;
    if (this.scratch.length < 2 * n) this.scratch = new Int32Array(2 * this.capacity);
    const scratch = this.scratch;
    permute64(this.time, index, scratch);
    for (const tag of this.tags) {
      // Each series' code is read before any series is filled over it.
      fillBySeries(tag.codes, seriesCodes(tag.codes, representatives), groupStarts, 0, 0);
    }
    for (const column of this.fields.values()) {
      if (column.nulls > 0) permute8(column.valid, index, scratch);
      const values = column.values;
      if (Array.isArray(values)) column.values = Array.from(index, (row) => values[row]!) as string[] | Uint8Array[];
      else if (values instanceof FixedValues) values.permute(index);
      else if (values instanceof Uint8Array) permute8(values, index, scratch);
      else permute64(values, index, scratch);
    }
  }

  private reset(): void {
    this.rows = 0;
    this.lineage = [];
    for (const t of this.tags) { t.dictionary.clear(); t.values = []; }
    for (const f of this.fields.values()) { f.nulls = 0; if (Array.isArray(f.values)) f.values = []; }
  }

  /**
   * Partition key id of every row, and the keys (['all'] when the table is not
   * partitioned). A row inside the previous row's partition (checked on the int32 halves of
   * its time) costs two comparisons; only a row in another partition computes a key.
   */
  private partitionIds(partitionBy: PartitionBy): { ids: Int32Array; keys: string[] } {
    const n = this.rows;
    const ids = new Int32Array(n);
    if (partitionBy === 'none') return { ids, keys: ['all'] };
    const unit = this.schema.timeUnit;
    const keys: string[] = [];
    const seen = new Map<string, number>();
    const t32 = new Int32Array(this.time.buffer, this.time.byteOffset, this.time.length * 2);
    // The current partition's [start, end) as (signed high, unsigned low) halves; empty at first.
    let startHi = 1, startLo = 0, endHi = 0, endLo = 0;
    let id = -1;
    for (let i = 0; i < n; i++) {
      const hi = t32[2 * i + 1]!, lo = t32[2 * i]! >>> 0;
      if ((hi > startHi || (hi === startHi && lo >= startLo)) && (hi < endHi || (hi === endHi && lo < endLo))) { ids[i] = id; continue; }
      const key = partitionOf(this.time[i]!, unit, partitionBy);
      const known = seen.get(key);
      if (known === undefined) { id = keys.length; keys.push(key); seen.set(key, id); } else id = known;
      let start = 0n, end = INT64_MAX + 1n;
      try {
        start = partitionStart(key, unit);
        end = partitionStart(nextPartitionKey(key), unit);
      } catch { /* a key outside what Date parses (years beyond ±9999): no fast path */ }
      if (end <= INT64_MAX) {
        startHi = Number(start >> 32n); startLo = Number(BigInt.asUintN(32, start));
        endHi = Number(end >> 32n); endLo = Number(BigInt.asUintN(32, end));
      } else {
        startHi = 1; startLo = 0; endHi = 0; endLo = 0; // the last partition of the range: no fast path
      }
      ids[i] = id;
    }
    return { ids, keys };
  }

  /**
   * Row order by (partition, series, time): `index` lists the rows in that order, cut into
   * series groups (`groupStarts`, one more entry than groups; `representatives` holds a row of
   * each group), and partition runs.
   *
   * Without comparing strings per row: each tag's values are ranked once, then rows get a
   * dense, order-preserving series number one tag at a time (the pair (number so far, tag
   * rank) renumbered through a presence table, or a map when the pairs are too sparse for
   * one), and a counting sort over those numbers keeps buffer order within a series.
   */
  private sortOrder(partitionBy: PartitionBy): {
    index: Int32Array; groupStarts: Int32Array; representatives: Int32Array; runs: { partition: string; start: number; end: number }[];
  } {
    const n = this.rows;
    const part = this.partitionIds(partitionBy);
    const partRank = rankStrings(part.keys);
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = partRank[part.ids[i]!]!;
    let count = part.keys.length;
    for (const tag of this.tags) count = renumber(ids, count, tag.codes, rankStrings(tag.values), Math.max(1, tag.values.length));
    // Counting sort by series number (stable: buffer order within a series).
    const groupStarts = new Int32Array(count + 1);
    for (let i = 0; i < n; i++) groupStarts[ids[i]! + 1]!++;
    for (let g = 0; g < count; g++) groupStarts[g + 1]! += groupStarts[g]!;
    const position = groupStarts.slice(0, count);
    const index = new Int32Array(n);
    for (let i = 0; i < n; i++) index[position[ids[i]!]!++] = i;
    const representatives = new Int32Array(count);
    for (let g = 0; g < count; g++) representatives[g] = index[groupStarts[g]!]!;
    // Within each series, time order (already so for in-order appends; sorted otherwise).
    const t32 = new Int32Array(this.time.buffer, this.time.byteOffset, this.time.length * 2);
    for (let g = 0; g < count; g++) {
      const s = groupStarts[g]!;
      const e = groupStarts[g + 1]!;
      let sorted = true;
      for (let j = s + 1; j < e; j++) if (timeBefore(t32, index[j]!, index[j - 1]!)) { sorted = false; break; }
      if (!sorted) {
        const slice = Array.from(index.subarray(s, e)).sort((a, b) => (this.time[a]! < this.time[b]! ? -1 : this.time[a]! > this.time[b]! ? 1 : a - b));
        index.set(slice, s);
      }
    }
    // Partition runs (groups are partition-pure, and in partition-key order).
    const runs: { partition: string; start: number; end: number }[] = [];
    for (let g = 0; g < count;) {
      const p = part.ids[representatives[g]!]!;
      let h = g + 1;
      while (h < count && part.ids[representatives[h]!]! === p) h++;
      runs.push({ partition: part.keys[p]!, start: groupStarts[g]!, end: groupStarts[h]! });
      g = h;
    }
    return { index, groupStarts, representatives, runs };
  }

  private lineageOf(rows: Int32Array): LineageEntry[] {
    if (this.lineage.length === 0) return [];
    let lo = Infinity;
    let hi = -Infinity;
    const sources = new Map<string, { lo: number; hi: number }>();
    for (const l of this.lineage) {
      lo = Infinity; hi = -Infinity;
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        if (r >= l.at && r < l.at + l.rows) { const src = l.rowStart + (r - l.at); if (src < lo) lo = src; if (src > hi) hi = src; }
      }
      if (lo === Infinity) continue;
      const cur = sources.get(l.source);
      if (cur) { cur.lo = Math.min(cur.lo, lo); cur.hi = Math.max(cur.hi, hi); } else sources.set(l.source, { lo, hi });
    }
    return [...sources].map(([source, r]) => ({ source, rowStart: r.lo, rowEnd: r.hi + 1 }));
  }

  /** A copy of every buffered row, in append order (read-your-writes before a flush). */
  snapshot(): RecordBatch | undefined {
    if (this.rows === 0) return undefined;
    const rows = new Int32Array(this.rows);
    for (let i = 0; i < rows.length; i++) rows[i] = i;
    return this.gather(rows);
  }

  /**
   * A batch of buffered rows, in the table's column order: the rows listed (copied; with
   * `groups`, rows are `index[start …]` of a sortOrder and tag codes are filled a series
   * at a time), or a range of rows, viewed where the column is fixed-width.
   */
  private gather(rows: Int32Array | { start: number; end: number }, groups?: { groupStarts: Int32Array; representatives: Int32Array; first: number; start: number }): RecordBatch {
    const listed = rows instanceof Int32Array;
    const n = listed ? rows.length : rows.end - rows.start;
    const fields: Field[] = [];
    const children: Data[] = [];
    const time = listed ? gather64(this.time, rows, new BigInt64Array(n)) : this.time.subarray(rows.start, rows.end);
    const timeType = new Timestamp(ARROW_TIME_UNIT[this.schema.timeUnit], null);
    fields.push(new Field(this.schema.time, timeType, false));
    children.push(makeData({ type: timeType, length: n, nullCount: 0, data: time as never }));
    for (const tag of this.tags) {
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
    for (const column of this.fields.values()) {
      const type = fieldArrowType(column.spec.type);
      fields.push(new Field(column.spec.name, type, true));
      children.push(gatherField(column, rows, type));
    }
    const schema = new Schema(fields);
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
  }
}

/**
 * Renumbers `ids` (dense series numbers in key order, `count` of them) by the pair (id,
 * rank of the row's tag value), keeping the numbers dense and in pair order; returns the
 * new count.
 */
function renumber(ids: Int32Array, count: number, codes: Int32Array, rank: Int32Array, radix: number): number {
  const n = ids.length;
  if (count * radix <= RENUMBER_TABLE_MAX) {
    const table = new Int32Array(count * radix);
    for (let i = 0; i < n; i++) table[ids[i]! * radix + rank[codes[i]!]!] = 1;
    let next = 0;
    for (let k = 0; k < table.length; k++) if (table[k] !== 0) table[k] = ++next;
    for (let i = 0; i < n; i++) ids[i] = table[ids[i]! * radix + rank[codes[i]!]!]! - 1;
    return next;
  }
  // Too sparse for a table: number the pairs in order of appearance, then rank them. The
  // pair as one number id * radix + rank is exact while count * radix ≤ 2^53.
  if (count * radix > Number.MAX_SAFE_INTEGER) throw new RangeError(`write buffer: ${count} series × ${radix} tag values exceed the series numbering range`);
  const seen = new Map<number, number>();
  const pairs: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = ids[i]! * radix + rank[codes[i]!]!;
    let id = seen.get(key);
    if (id === undefined) { id = pairs.length; pairs.push(key); seen.set(key, id); }
    ids[i] = id;
  }
  const order = pairs.map((_, j) => j).sort((a, b) => pairs[a]! - pairs[b]!);
  const remap = new Int32Array(pairs.length);
  order.forEach((j, r) => { remap[j] = r; });
  for (let i = 0; i < n; i++) ids[i] = remap[ids[i]!]!;
  return pairs.length;
}

/** Largest presence table renumber() allocates (int32 entries: 16 MiB). */
const RENUMBER_TABLE_MAX = 1 << 22;

/** time[a] < time[b], on the int32 halves of a BigInt64Array (no BigInt per comparison). */
function timeBefore(t32: Int32Array, a: number, b: number): boolean {
  const ha = t32[2 * a + 1]!, hb = t32[2 * b + 1]!;
  return ha < hb || (ha === hb && t32[2 * a]! >>> 0 < t32[2 * b]! >>> 0);
}

/** 64-bit columns, moved bit for bit as int32 halves. */
type Column64 = BigInt64Array | BigUint64Array | Float64Array;

/** out[i] = src[rows[i]] for 64-bit values, moved as int32 halves (no BigInt per row). */
function gather64<T extends Column64>(src: Column64, rows: Int32Array, out: T): T {
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
function seriesCodes(codes: Int32Array, representatives: Int32Array): Int32Array {
  return Int32Array.from(representatives, (row) => codes[row]!);
}

/**
 * Fills `out` with rows [start, start + out.length) of a sorted order a series at a time:
 * series g (from `first`, the one holding row `start`) covers [groupStarts[g], groupStarts[g+1]).
 */
function fillBySeries(out: Int32Array, codeOf: Int32Array, groupStarts: Int32Array, first: number, start: number): Int32Array {
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
function permute64(a: Column64, index: Int32Array, scratch: Int32Array): void {
  const n = index.length;
  gather64(a, index, new Float64Array(scratch.buffer, scratch.byteOffset, n));
  new Int32Array(a.buffer, a.byteOffset, 2 * n).set(scratch.subarray(0, 2 * n));
}

/** a[0, n) = a[index[0, n)] for bytes, through `scratch`'s bytes. */
function permute8(a: Uint8Array, index: Int32Array, scratch: Int32Array): void {
  const n = index.length;
  const s8 = new Uint8Array(scratch.buffer, scratch.byteOffset, n);
  for (let i = 0; i < n; i++) s8[i] = a[index[i]!]!;
  a.set(s8);
}

const INT_RANGE = { int64: [-(2n ** 63n), 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 1n] } as const;

/** A JS value for an error message: strings quoted, bigints with their n, others as JSON would show them. */
function shownValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return `a Date (${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/**
 * One row value into a field column, exactly or not at all: integers out of the column's
 * 64-bit range, numbers that are not integers (or beyond 2^53, where a double is no longer
 * the integer meant: pass a bigint), bigints a double would round: each an error naming the
 * row, the column and the value.
 */
function setValue(column: FieldColumn, at: number, v: unknown, row: number): void {
  const name = column.spec.name;
  const type = column.spec.type;
  const bad = (why: string): never => { throw new SchemaError(`row ${row}: column ${name} is ${type}: ${shownValue(v)} ${why}`); };
  switch (type) {
    case 'float64':
      if (typeof v === 'number') (column.values as Float64Array)[at] = v;
      else if (typeof v === 'bigint') {
        const f = Number(v);
        if (!Number.isFinite(f) || BigInt(f) !== v) bad('is not exactly representable as float64 (above 2^53 a double rounds it)');
        (column.values as Float64Array)[at] = f;
      } else bad('is not a number');
      return;
    case 'int64': case 'uint64': {
      let b: bigint;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'number') {
        if (!Number.isInteger(v)) bad('is not an integer');
        if (!Number.isSafeInteger(v)) bad('is beyond 2^53, where a number no longer holds every integer: pass a bigint');
        b = BigInt(v);
      } else return bad('is not an integer (a bigint, or a number up to 2^53)');
      const [lo, hi] = INT_RANGE[type];
      if (b < lo || b > hi) bad(`is outside the ${type} range ${lo} … ${hi}`);
      (column.values as BigInt64Array | BigUint64Array)[at] = b;
      return;
    }
    case 'bool':
      if (typeof v !== 'boolean') bad('is not a boolean');
      (column.values as Uint8Array)[at] = v ? 1 : 0;
      return;
    case 'utf8': {
      const text = stringOf(v);
      if (text === null) bad('is not a string (numbers, bigints and booleans are stored as their text)');
      (column.values as string[])[at] = text!;
      return;
    }
    default: {
      const info = fieldTypeInfo(column.spec.type);
      const value = valueFromJs(info, v);
      if (value === undefined) throw new SchemaError(`row ${row}: column ${name} is ${column.spec.type}, expected ${info.expected}, got ${typeof v} ${JSON.stringify(v instanceof Uint8Array ? `${v.length} bytes` : String(v))}`);
      if (Array.isArray(column.values)) (column.values as Uint8Array[])[at] = (value as Uint8Array).slice();
      else {
        const fixed = column.values as FixedValues;
        const one = fieldData(info, [value]);
        const src = one.values as ArrayBufferView;
        fixed.bytes.set(new Uint8Array(src.buffer, src.byteOffset, fixed.width), at * fixed.width);
      }
      return;
    }
  }
}

/**
 * The text a string column (tag or utf8 field) stores for a JS value: strings as they are;
 * numbers, bigints and booleans as their decimal text (-0 as "-0", so it stays distinct from
 * 0); null for anything else (objects, arrays, functions, symbols), which callers refuse.
 */
export function stringOf(v: unknown): string | null {
  switch (typeof v) {
    case 'string': return v;
    case 'number': return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint': case 'boolean': return String(v);
    default: return null;
  }
}

function jsFieldType(v: unknown, name: string, row: number): FieldType {
  if (v instanceof Uint8Array) return 'binary';
  switch (typeof v) {
    case 'number': return 'float64';
    case 'bigint': return 'int64';
    case 'boolean': return 'bool';
    case 'string': return 'utf8';
    default: throw new SchemaError(`row ${row}: column ${name} has a value of type ${typeof v}; fields take numbers, bigints, booleans, strings or bytes (Uint8Array) (other types: create the field with its type)`);
  }
}

/** rank[i] = position of strings[i] in code-point order (what the chunk dictionaries use), null first. */
export function rankStrings(strings: readonly (string | null)[]): Int32Array {
  const order = strings.map((_, i) => i).sort((a, b) => {
    const x = strings[a]!, y = strings[b]!;
    return x === null ? (y === null ? 0 : -1) : y === null ? 1 : compareStrings(x, y);
  });
  const rank = new Int32Array(strings.length);
  order.forEach((i, r) => { rank[i] = r; });
  return rank;
}

function makeVector(data: Data): { get(i: number): unknown } {
  return { get: (i: number) => (data.getValid(i) ? getUtf8(data, i) : null) };
}

function getUtf8(data: Data, i: number): string {
  if (data.type.typeId === Type.Dictionary) return String(utf8VectorAt(data.dictionary!, Number((data.values as Int32Array)[i]!)));
  return utf8DataAt(data, i);
}
