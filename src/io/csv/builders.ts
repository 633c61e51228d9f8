// `x[i]!` in this file indexes within the bounds of its loop, on per-value paths where an
// assert() per value would cost (noUncheckedIndexedAccess); invariants elsewhere use assert()/at().
/**
 * Rows → Arrow batches in the planned shape: WideBuilder (a column per field) and LongBuilder
 * (one row per series × time × field, pivoted to wide). Each `add` converts a row from its
 * bytes or throws an InputError naming its line and column, leaving no trace of it.
 */
import { Field, makeData, RecordBatch, Schema, Struct, Timestamp, type Data } from 'apache-arrow';
import { ARROW_TIME_UNIT } from '../../core/arrow-schema.js';
import { fieldText, type RowView } from './tokenizer.js';
import { CellText, INVALID_TAG, NULL_TAG, SMI_MASK, TagInterner, TimeCell, cellError, fieldCountError, utf8Error } from './cells.js';
import { FieldColumn, tagData } from './columns.js';
import { TAG_VALUE_BYTES_MAX, tagValueError } from '../../table/tag-values.js';
import type { CsvPlan } from './plan.js';

/** A tag cell over TAG_VALUE_BYTES_MAX is an error at its line and column (its raw bytes bound the unescaped ones). */
function checkTagCell(file: string, header: readonly string[], row: RowView, j: number): void {
  if (j < 0 || row.ends[j]! - row.starts[j]! <= TAG_VALUE_BYTES_MAX) return;
  const text = fieldText(row, j);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > TAG_VALUE_BYTES_MAX) throw tagValueError(`${file}:${row.line}:${j + 1}`, header[j] ?? `#${j + 1}`, text, bytes, file, row.line);
}


/** Turns rows into batches; `add` throws InputError for a bad row and leaves no trace of it. */
export interface Builder {
  rows: number;
  add(row: RowView): void;
  take(): RecordBatch;
}

function batchOf(plan: CsvPlan, time: BigInt64Array, n: number, columns: [string, Data][]): RecordBatch {
  const timeType = new Timestamp(ARROW_TIME_UNIT[plan.schema.timeUnit], null);
  const fields = [new Field(plan.schema.time, timeType, false), ...columns.map(([name, data]) => new Field(name, data.type, true))];
  const children = [makeData({ type: timeType, length: n, nullCount: 0, data: time.slice(0, n) as never }), ...columns.map(([, data]) => data)];
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}

interface TagColumn { name: string; index: number; codes: Int32Array; interner: TagInterner }

function tagColumns(plan: CsvPlan, capacity: number, cells: CellText): TagColumn[] {
  return plan.tags.map((t) => ({ ...t, codes: new Int32Array(capacity), interner: new TagInterner(cells) }));
}

/** The tag code of cell j: NULL_TAG for an unquoted empty cell; bytes that are not UTF-8 (policy 'error') throw. */
function tagCode(tag: TagColumn, row: RowView, file: string, header: readonly string[]): number {
  const code = tag.interner.cell(row, tag.index);
  if (code === INVALID_TAG) throw utf8Error(file, header, row, tag.index);
  return code;
}

/** Under 'replace': counts the row's tag values stored with replacements. */
function countLossyTags(tags: readonly TagColumn[], r: number, cells: CellText): void {
  for (const t of tags) if (t.interner.lossy(t.codes[r]!)) cells.rowReplaced++;
}

/** A series seen in this batch: the raw bytes of its tag cells and their codes. */
interface SeriesEntry { bytes: Uint8Array; view: DataView; quoted: number; codes: Int32Array }

/** Whether the entry's bytes equal buf[s, e): 4 bytes per step through DataViews (2× a byte loop). */
function sameSpan(entry: SeriesEntry, view: DataView, buf: Uint8Array, s: number, e: number): boolean {
  const length = e - s;
  if (entry.bytes.length !== length) return false;
  const ev = entry.view;
  let k = 0;
  for (; k + 4 <= length; k += 4) if (ev.getUint32(k, true) !== view.getUint32(s + k, true)) return false;
  const bytes = entry.bytes;
  for (; k < length; k++) if (bytes[k] !== buf[s + k]) return false;
  return true;
}

/** Wide layout: one row in, one row out; every cell converted from bytes. */
export class WideBuilder implements Builder {
  rows = 0;
  private readonly time: BigInt64Array;
  private readonly timeCell: TimeCell;
  private readonly tags: TagColumn[];
  private readonly fields: { index: number; column: FieldColumn }[];
  /**
   * When the tag columns sit next to each other in the file, a row's tag cells are one
   * byte span, equal for every row of a series: one hash and one compare per row give all
   * its tag codes (instead of one lookup per tag cell).
   */
  private readonly span: { first: number; last: number } | undefined;
  private readonly countLossy: boolean;
  private series = new Map<number, SeriesEntry | SeriesEntry[]>();
  private viewOf: Uint8Array | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));

  constructor(private readonly plan: CsvPlan, private readonly file: string, capacity: number, private readonly cells: CellText) {
    this.time = new BigInt64Array(capacity);
    this.timeCell = new TimeCell(plan.timeFormat, plan.schema.timeUnit, file, plan.header);
    this.tags = tagColumns(plan, capacity, cells);
    this.fields = plan.fields.map((f) => ({ index: f.index, column: new FieldColumn(f.name, f.type, capacity, cells, f.exact) }));
    const idx = plan.tags.map((t) => t.index);
    const contiguous = idx.length > 1 && idx.every((v, k) => k === 0 || v === idx[k - 1]! + 1);
    this.span = contiguous ? { first: idx[0]!, last: idx[idx.length - 1]! } : undefined;
    this.countLossy = cells.mode === 'replace';
  }

  add(row: RowView): void {
    const header = this.plan.header;
    if (row.count !== header.length) throw fieldCountError(this.file, header, row);
    for (const t of this.tags) checkTagCell(this.file, header, row, t.index);
    const r = this.rows;
    this.time[r] = this.timeCell.parse(row, this.plan.timeIndex);
    for (const f of this.fields) {
      if (!f.column.set(r, row, f.index)) throw f.column.error(this.file, header, row, f.index);
    }
    if (this.span) this.spanTags(row, r, this.span.first, this.span.last);
    else for (const t of this.tags) t.codes[r] = tagCode(t, row, this.file, header);
    if (this.countLossy) countLossyTags(this.tags, r, this.cells);
    this.rows++;
  }

  private spanTags(row: RowView, r: number, first: number, last: number): void {
    const buf = row.buf;
    const s = row.starts[first]!, e = row.ends[last]!;
    // The same span bytes tokenize the same way, except for whether the first cell was
    // quoted (the last cell's closing quote is inside the span, so "" and an empty cell,
    // the empty string and null, differ there too).
    const quoted = row.escaped[first]!;
    let h = 0x811c9dc5 ^ quoted;
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h &= SMI_MASK;
    if (buf !== this.viewOf) { this.viewOf = buf; this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength); }
    const view = this.view;
    const found = this.series.get(h);
    let entry: SeriesEntry | undefined;
    if (found !== undefined) {
      if (!Array.isArray(found)) { if (found.quoted === quoted && sameSpan(found, view, buf, s, e)) entry = found; } else {
        for (const c of found) if (c.quoted === quoted && sameSpan(c, view, buf, s, e)) { entry = c; break; }
      }
    }
    const tags = this.tags;
    if (entry === undefined) {
      const codes = new Int32Array(tags.length);
      for (let k = 0; k < tags.length; k++) codes[k] = tagCode(tags[k]!, row, this.file, this.plan.header);
      const bytes = new Uint8Array(buf.subarray(s, e));
      entry = { bytes, view: new DataView(bytes.buffer), quoted, codes };
      if (found === undefined) this.series.set(h, entry);
      else if (Array.isArray(found)) found.push(entry);
      else this.series.set(h, [found, entry]);
    }
    const codes = entry.codes;
    for (let k = 0; k < tags.length; k++) tags[k]!.codes[r] = codes[k]!;
  }

  take(): RecordBatch {
    const n = this.rows;
    const columns: [string, Data][] = [];
    for (const t of this.tags) { columns.push([t.name, tagData(t.codes, n, t.interner.values)]); t.interner.reset(); }
    for (const f of this.fields) columns.push([f.column.name, f.column.take(n)]);
    this.rows = 0;
    this.series = new Map();
    this.timeCell.reset();
    return batchOf(this.plan, this.time, n, columns);
  }
}

/**
 * Long layout: rows (time, tags…, field name, value) pivoted into one row per series ×
 * time with a column per field name. Rows of one series × time are merged when they fall
 * in the same batch (they usually sit next to each other); the batch is cut only before a
 * new series × time, so neighbours are never split. A value for a (series, time, field)
 * the pivot already holds is a duplicate: see rowFor().
 */
export class LongBuilder implements Builder {
  rows = 0;
  private readonly time: BigInt64Array;
  private readonly timeCell: TimeCell;
  private readonly tags: TagColumn[];
  private readonly names: TagInterner;
  /** Per field-name code: its column, a one-slot column a value is checked in first, and which rows hold a value of it. */
  private readonly columns: FieldColumn[] = [];
  private readonly scratch: FieldColumn[] = [];
  private readonly written: Uint8Array[] = [];
  /** Series × time → its first row; further rows of the key (duplicates) are chained through `next`. */
  private readonly keys = new Map<string, number>();
  private readonly next: Int32Array;
  private readonly tagCodes: number[];
  private readonly long: NonNullable<CsvPlan['long']>;
  /** Names a field may not have: the time column and the tags (they would be two columns of one name). */
  private readonly reserved: Set<string>;

  constructor(private readonly plan: CsvPlan, private readonly file: string, private readonly capacity: number, private readonly cells: CellText,
              private readonly emit: (batch: RecordBatch) => void) {
    this.long = plan.long!;
    this.time = new BigInt64Array(capacity);
    this.next = new Int32Array(capacity);
    this.timeCell = new TimeCell(plan.timeFormat, plan.schema.timeUnit, file, plan.header);
    this.tags = tagColumns(plan, capacity, cells);
    this.names = new TagInterner(cells);
    this.tagCodes = new Array(this.tags.length).fill(0);
    this.reserved = new Set([plan.schema.time, ...plan.schema.tags]);
  }

  private column(code: number, row: RowView): FieldColumn {
    let column = this.columns[code];
    if (!column) {
      const { fieldIndex } = this.long;
      const name = this.names.values[code]!;
      if (name === '') throw cellError(this.file, this.plan.header, row, fieldIndex, 'a field name');
      if (this.reserved.has(name)) throw cellError(this.file, this.plan.header, row, fieldIndex, 'a field name other than the time column and the tags');
      const type = this.long.types.get(name) ?? 'float64';
      const exact = !this.long.rounded.has(name);
      column = this.columns[code] = new FieldColumn(name, type, this.capacity, this.cells, exact);
      this.scratch[code] = new FieldColumn(name, type, 1, this.cells, exact);
      this.written[code] = new Uint8Array(this.capacity);
    }
    return column;
  }

  add(row: RowView): void {
    const { header } = this.plan;
    const { fieldIndex, valueIndex } = this.long;
    if (row.count !== header.length) throw fieldCountError(this.file, header, row);
    const t = this.timeCell.parse(row, this.plan.timeIndex);
    for (const tag of this.tags) checkTagCell(this.file, header, row, tag.index);
    const code = this.names.cell(row, fieldIndex);
    if (code === INVALID_TAG) throw utf8Error(this.file, header, row, fieldIndex);
    if (code === NULL_TAG) throw cellError(this.file, header, row, fieldIndex, 'a field name');
    const column = this.column(code, row);
    // Convert the value into a one-slot scratch first: a bad row must leave no trace.
    const scratch = this.scratch[code]!;
    if (!scratch.set(0, row, valueIndex)) {
      const unseen = this.long.types.has(column.name) ? undefined : `field ${column.name} was not in the rows types are inferred from: type it with --schema ${column.name}:TYPE`;
      throw scratch.error(this.file, header, row, valueIndex, unseen);
    }
    let key = String(t);
    for (let k = 0; k < this.tags.length; k++) {
      const c = tagCode(this.tags[k]!, row, this.file, header);
      this.tagCodes[k] = c;
      key += `\u0000${c}`;
    }
    const first = this.keys.get(key);
    const r = first === undefined ? this.newRow(t) : this.rowFor(first, code);
    if (r < 0) {
      // The batch is full: cut it here and place the row in the next one.
      this.emit(this.take());
      this.cells.rowReplaced = 0;
      this.add(row);
      return;
    }
    if (first === undefined) this.keys.set(key, r);
    column.copy(scratch, 0, r);
    this.written[code]![r] = 1;
    if (this.cells.mode === 'replace') {
      if (this.names.lossy(code)) this.cells.rowReplaced++;
      countLossyTags(this.tags, r, this.cells);
    }
  }

  /** A new row for the series × time of the current tag codes, or -1 when the batch is full. */
  private newRow(t: bigint): number {
    if (this.rows >= this.capacity) return -1;
    const r = this.rows++;
    this.time[r] = t;
    this.next[r] = -1;
    for (let k = 0; k < this.tags.length; k++) this.tags[k]!.codes[r] = this.tagCodes[k]!;
    return r;
  }

  /**
   * The row that takes a value of field `code` for the series × time whose first row is
   * `first`. When that row holds a value of the field already, the value is a duplicate
   * (series, time, field): it goes to the next row of the key without a value of the field,
   * or a new row of the key (-1: the batch is full), after the rows holding the earlier
   * values, as two appends of it would store it. The table's duplicate policy then folds
   * those rows like any others (last/first value of each field) or keeps them (keep), and
   * the import counts it exactly across batches (table/import-duplicates.ts).
   */
  private rowFor(first: number, code: number): number {
    const written = this.written[code]!;
    if (!written[first]) return first;
    let last = first;
    for (let r = this.next[first]!; r >= 0; r = this.next[r]!) {
      if (!written[r]) return r;
      last = r;
    }
    const r = this.newRow(this.time[first]!);
    if (r >= 0) this.next[last] = r;
    return r;
  }

  take(): RecordBatch {
    const n = this.rows;
    const columns: [string, Data][] = [];
    for (const t of this.tags) { columns.push([t.name, tagData(t.codes, n, t.interner.values)]); t.interner.reset(); }
    this.columns.forEach((c, code) => { columns.push([c.name, c.take(n)]); this.written[code]!.fill(0, 0, n); });
    this.rows = 0;
    this.keys.clear();
    this.timeCell.reset();
    return batchOf(this.plan, this.time, n, columns);
  }
}
