import { Data, Int64, makeVector as arrowVector, RecordBatch, Timestamp, Type, type DataType, type Vector } from 'apache-arrow';
import type { FieldType, LineageEntry } from '../format/types.js';
import { fieldTypeInfo, importFieldTypeOf } from '../format/field-types.js';
import { assert, SchemaError } from '../errors.js';
import { utf8DataAt, utf8VectorAt } from '../format/utf8.js';
import { tagValueBytesOver, tagValueError } from './tag-values.js';
import { TIME_UNIT_OF } from '../core/arrow-schema.js';
import { convertToField, invalidUtf8RowOf } from './field-convert.js';
import { convertTime, formatTime, inTimeRange, NS_PER_UNIT, timePrecisionError, timeRangeError, toTableTime } from '../core/time.js';
import type { FieldSpec, PartitionBy, Row, TableSchema, TimeInput } from '../core/types.js';
import { FixedValues, grow, type FieldColumn, type TagColumn } from './buffer-columns.js';
import { fillBySeries, gatherBatch, type BufferColumns, permute64, permute8, seriesCodes } from './buffer-gather.js';
import { jsFieldType, loneSurrogateAt, loneSurrogateText, setValue, shownValue, stringOf } from './row-values.js';
import { sortOrder, type SortOrder } from './series-sort.js';

const INITIAL_CAPACITY = 1024;

/** One sorted, partition-pure run of buffered rows, ready for writeChunk. */
export interface BufferedChunk {
  partition: string;
  batch: RecordBatch;
  lineage: LineageEntry[];
  /** The schema revision (alters made) the rows are named and typed in; absent: 0. */
  revision?: number;
}

/**
 * The columnar write buffer behind append(): typed arrays, not row objects. A flush sorts
 * the buffered rows by (partition, series, time) without comparing strings per row — tag
 * values are ranked once per dictionary, series become dense numbers, and rows are
 * counting-sorted by (partition, series) — then cuts partition-pure batches.
 */
export class WriteBuffer {
  rows = 0;
  /** Counts appends and drains: a read-your-writes view of the buffer is current while this is unchanged. */
  edits = 0;
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

  /** The buffer's columns as a gather reads them. */
  private get columns(): BufferColumns {
    return { schema: this.schema, time: this.time, tags: this.tags, fields: this.fields.values() };
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
      if (value !== null && bytes !== undefined) throw tagValueError(row ? `append row ${row()}` : "append", tag.name, value, bytes);
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
    this.edits++;
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
      if (!inTimeRange(v)) throw new SchemaError(`row ${i}: time column ${name}: ${timeRangeError(shown(i), tableUnit)}`);
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
        const dict = data.dictionary;
        assert(dict, 'a Dictionary-typed Data has its dictionary');
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
    const lone = loneSurrogateAt(text);
    if (lone >= 0) throw new SchemaError(`row ${row}: tag ${tag.name}: ${shownValue(v)} ${loneSurrogateText(lone)}`);
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
    this.edits++;
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
    const out = this.cut(partition, rowsMax, series, inPlace);
    this.reset();
    return out;
  }

  /** The rows as drain() would give them (copies), leaving the buffer as it is: what a scan reads of it. */
  peek(partition: PartitionBy, rowsMax: number): BufferedChunk[] {
    return this.cut(partition, rowsMax, undefined, false);
  }

  private cut(partition: PartitionBy, rowsMax: number, series: Set<string> | undefined, inPlace: boolean): BufferedChunk[] {
    const n = this.rows;
    if (n === 0) return [];
    const order = sortOrder(this.time, n, this.schema.timeUnit, this.tags, partition);
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
        const batch = inPlace ? gatherBatch(this.columns, { start, end }) : gatherBatch(this.columns, rows, { ...order, first: group, start });
        out.push({ partition: run.partition, batch, lineage: this.lineageOf(rows), ...(this.schema.alters?.length ? { revision: this.schema.alters.length } : {}) });
      }
    }
    return out;
  }

  /**
   * Reorders every buffered column into `order.index` order in place, through one scratch
   * array (tag codes are filled a series at a time).
   */
  private permute(order: SortOrder): void {
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
    this.edits++;
    this.lineage = [];
    for (const t of this.tags) { t.dictionary.clear(); t.values = []; }
    for (const f of this.fields.values()) { f.nulls = 0; if (Array.isArray(f.values)) f.values = []; }
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
}

function makeVector(data: Data): { get(i: number): unknown } {
  return { get: (i: number) => (data.getValid(i) ? getUtf8(data, i) : null) };
}

function getUtf8(data: Data, i: number): string {
  if (data.type.typeId === Type.Dictionary) return String(utf8VectorAt(data.dictionary!, Number((data.values as Int32Array)[i]!)));
  return utf8DataAt(data, i);
}
