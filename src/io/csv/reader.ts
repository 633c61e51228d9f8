import { Field, makeData, RecordBatch, Schema, Struct, Timestamp, type Data } from 'apache-arrow';
import type { FieldType, TimeUnit } from '../../format/types.js';
import { InputError, SchemaError, UsageError } from '../../errors.js';
import { ARROW_TIME_UNIT } from '../../table/arrow-schema.js';
import type { TableSchema } from '../../table/types.js';
import { CSV_ROW_BYTES_MAX, CsvTokenizer, detectDelimiter, fieldText, type RowView } from './tokenizer.js';
import { epochUnitOf, parseIsoBytes, type TimeFormat } from './values.js';
import { SMI_MASK, TagInterner, TimeCell, cellError, fieldCountError } from './cells.js';
import { FieldColumn, expectedText, tagData } from './columns.js';
import { TAG_VALUE_BYTES_MAX, tagValueError } from '../../table/tag-values.js';

/** A tag cell over TAG_VALUE_BYTES_MAX is an error at its line and column (its raw bytes bound the unescaped ones). */
function checkTagCell(file: string, header: readonly string[], row: RowView, j: number): void {
  if (j < 0 || row.ends[j]! - row.starts[j]! <= TAG_VALUE_BYTES_MAX) return;
  const text = fieldText(row, j);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > TAG_VALUE_BYTES_MAX) throw tagValueError(`${file}:${row.line}:${j + 1}`, header[j] ?? `#${j + 1}`, text, bytes, file, row.line);
}

/** Rows per Arrow batch handed to the table writer. */
export const CSV_BATCH_ROWS = 65_536;
/** Rows read to infer types. */
export const CSV_SAMPLE_ROWS = 2_000;
/** Bytes read to plan (header + sample rows). */
export const CSV_PLAN_BYTES = 1 << 20;
/** Column names taken as the time column, in this order of preference. */
export const TIME_NAMES = ['time', 'timestamp', 'ts', 'datetime', 'date', '_time', 'event_time'];
const FIELD_TYPES = ['float64', 'int64', 'uint64', 'bool', 'utf8'];

export interface CsvOptions {
  /** One character; default detected among , ; tab | from the header line. */
  delimiter?: string;
  /** Column names when the file has no header row. */
  columns?: string[];
  time?: string;
  tags?: string[];
  timeFormat?: TimeFormat;
  /** Table time unit (new tables). Default 'ns'. */
  timeUnit?: TimeUnit;
  /** Type overrides: float64, int64, uint64, bool, utf8 (a field), string (a tag). Long layout: keyed by field name. */
  schema?: Record<string, string>;
  /** 'long': one row per series × time × field, with `fieldColumn` and `valueColumn`; pivoted to wide. */
  layout?: 'wide' | 'long';
  fieldColumn?: string;
  valueColumn?: string;
  /** Bytes sampled to plan (default CSV_PLAN_BYTES). */
  planBytes?: number;
  /** Rows per batch (default CSV_BATCH_ROWS). */
  batchRows?: number;
  /** Skip up to this many bad rows (default 0: the first bad row fails the import). */
  maxErrors?: number;
  /** Called for each skipped row; `file` is set when one reader serves several files (the worker). */
  onReject?: (reject: { line: number; reason: string; text: string; file?: string }) => void;
}

/** What the reader found in the file: column roles, formats and the table schema it implies. */
export interface CsvPlan {
  delimiter: number;
  header: string[];
  timeIndex: number;
  timeFormat: TimeFormat;
  /** Tag columns; index -1 = a table tag absent from the file (empty value). */
  tags: { name: string; index: number }[];
  /** Field columns (wide layout). */
  fields: { name: string; index: number; type: FieldType }[];
  /** Long layout: the field-name and value columns and the type of each field name. */
  long?: { fieldIndex: number; valueIndex: number; types: Map<string, FieldType> };
  schema: TableSchema;
}

export interface CsvBatch {
  batch: RecordBatch;
  /** 0-based data row of the file where this batch starts. */
  rowStart: number;
  plan: CsvPlan;
}

const decimalPattern = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$/i;

/** The narrowest type every sample value fits: int64 → float64 → bool → utf8. */
export function inferType(values: readonly string[]): FieldType {
  const present = values.map((v) => v.trim()).filter((v) => v !== '');
  if (present.length === 0) return 'float64';
  if (present.every((v) => /^[+-]?\d{1,18}$/.test(v))) return 'int64';
  if (present.every((v) => decimalPattern.test(v))) return 'float64';
  if (present.every((v) => /^(true|false)$/i.test(v))) return 'bool';
  return 'utf8';
}

export function delimiterByte(d: string): number {
  const text = d === '\\t' || d === 'tab' ? '\t' : d;
  if (text.length !== 1 || text.charCodeAt(0) > 0x7f || '"\r\n'.includes(text)) throw new UsageError(`--delimiter must be one ASCII character other than a quote or newline, got ${JSON.stringify(d)}`);
  return text.charCodeAt(0);
}

function isoText(text: string): bigint | null {
  const b = Buffer.from(text);
  return parseIsoBytes(b, 0, b.length);
}

/** Thrown by the sampling tokenizer callback to stop once enough rows are in. */
const SAMPLE_FULL = Symbol('sample full');

/** Samples the head of a file and decides columns, types and the time format. */
export function planCsv(file: string, head: Buffer, options: CsvOptions, table: TableSchema | undefined, whole = false): CsvPlan {
  const delimiter = options.delimiter !== undefined ? delimiterByte(options.delimiter) : detectDelimiter(head);
  // Sample rows as strings, only of the columns whose type is still to decide: all of them
  // for a new table; with a table (append, or the second file of an import), the time
  // column (its format) and columns the table lacks. Stop after CSV_SAMPLE_ROWS rows.
  const rows: string[][] = [];
  let headerRow: string[] | undefined = options.columns ? [...options.columns] : undefined;
  let keep: boolean[] | undefined;
  const known = table ? new Set([table.time, ...table.tags, ...table.fields.map((f) => f.name)]) : undefined;
  const t = new CsvTokenizer(delimiter, file, (row) => {
    if (!headerRow) { headerRow = Array.from({ length: row.count }, (_, j) => fieldText(row, j).trim()); return; }
    keep ??= headerRow.map((name) => !known || name === table!.time || !known.has(name));
    const cells = new Array<string>(row.count);
    for (let j = 0; j < row.count; j++) cells[j] = keep[j] !== false ? fieldText(row, j) : '';
    rows.push(cells);
    if (rows.length >= CSV_SAMPLE_ROWS) throw SAMPLE_FULL;
  });
  // The head ends mid-row; a malformed sample row is reported by the real pass, with its line.
  try {
    t.feed(head);
    if (whole) t.end();
  } catch (error) {
    if (error !== SAMPLE_FULL && !(error instanceof InputError)) throw error;
  }
  if (!headerRow) throw new InputError(`${file}: empty file (expected a header row)`, file, 1);
  const header: string[] = headerRow;
  const empty = header.indexOf('');
  if (empty >= 0) throw new InputError(`${file}:1:${empty + 1}: the header has an empty column name`, file, 1);
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new InputError(`${file}:1:${header.lastIndexOf(dup) + 1}: column ${JSON.stringify(dup)} appears twice in the header`, file, 1, dup);
  const sample = rows.filter((r) => r.length === header.length);
  const missing = (what: string, name: string) => new UsageError(`${what} names ${JSON.stringify(name)}, which is not a column of ${file} (columns: ${header.join(', ')})`);
  const long = options.layout === 'long';
  let fieldIndex = -1;
  let valueIndex = -1;
  if (long) {
    if (!options.fieldColumn || !options.valueColumn) throw new UsageError('the long layout needs --field-column and --value-column');
    fieldIndex = header.indexOf(options.fieldColumn);
    valueIndex = header.indexOf(options.valueColumn);
    if (fieldIndex < 0) throw missing('--field-column', options.fieldColumn);
    if (valueIndex < 0) throw missing('--value-column', options.valueColumn);
  }
  const overrides = options.schema ?? {};
  for (const [name, type] of Object.entries(overrides)) {
    if (!long && !header.includes(name)) throw missing('--schema', name);
    if (![...FIELD_TYPES, 'string'].includes(type)) throw new UsageError(`--schema ${name}:${type}: the type must be float64, int64, uint64, bool, utf8 or string`);
    if (long && type === 'string') throw new UsageError(`--schema ${name}:string: in the long layout the override types field values (float64, int64, uint64, bool, utf8)`);
  }
  const timeName = table?.time ?? options.time ?? header.find((h) => TIME_NAMES.includes(h.toLowerCase()))
    ?? header.find((_, j) => sample.length > 0 && sample.every((r) => isoText(r[j]!) !== null));
  if (timeName === undefined || !header.includes(timeName)) {
    throw new InputError(`${file}: no time column${timeName ? ` ${JSON.stringify(timeName)}` : ''} (columns: ${header.join(', ')}; name one with --time)`, file, 1);
  }
  const timeIndex = header.indexOf(timeName);
  let timeFormat: TimeFormat = options.timeFormat ?? 'iso';
  if (!options.timeFormat) {
    const values = sample.map((r) => r[timeIndex]!.trim()).filter((v) => v !== '');
    if (values.length && values.every((v) => /^-?\d{1,19}$/.test(v))) timeFormat = epochUnitOf(values.map((v) => BigInt(v))) ?? 'ns';
  }
  for (const tag of options.tags ?? []) if (!header.includes(tag)) throw missing('--tags', tag);
  const tagSet = new Set(table?.tags ?? options.tags ?? []);
  const inferTags = !table && options.tags === undefined;
  const tags: CsvPlan['tags'] = [];
  const fields: CsvPlan['fields'] = [];
  header.forEach((name, index) => {
    if (index === timeIndex || index === fieldIndex || index === valueIndex) return;
    if (tagSet.has(name) || overrides[name] === 'string' || (long && inferTags)) { tags.push({ name, index }); return; }
    if (long) throw new InputError(`${file}: column ${name} is neither the time, a tag, the field nor the value column of the long layout (tags: ${[...tagSet].join(', ')})`, file, 1, name);
    const known = table?.fields.find((f) => f.name === name);
    if (known && overrides[name] && overrides[name] !== known.type) throw new SchemaError(`${file}: column ${name} is ${overrides[name]} (--schema) but ${known.type} in the table`);
    const type = known?.type ?? (overrides[name] as FieldType | undefined) ?? inferType(sample.map((r) => r[index]!));
    if (!known && !overrides[name] && type === 'utf8' && inferTags) tags.push({ name, index });
    else fields.push({ name, index, type });
  });
  if (table) for (const tag of table.tags) if (!header.includes(tag)) tags.push({ name: tag, index: -1 });
  let longPlan: CsvPlan['long'];
  if (long) {
    const types = new Map<string, FieldType>();
    const byField = new Map<string, string[]>();
    for (const r of sample) {
      const name = r[fieldIndex]!;
      if (!byField.has(name)) byField.set(name, []);
      byField.get(name)!.push(r[valueIndex]!);
    }
    for (const [name, values] of byField) {
      types.set(name, table?.fields.find((f) => f.name === name)?.type ?? (overrides[name] as FieldType | undefined) ?? inferType(values));
    }
    longPlan = { fieldIndex, valueIndex, types };
  }
  const schema: TableSchema = table ?? {
    time: timeName,
    timeUnit: options.timeUnit ?? 'ns',
    tags: tags.map((c) => c.name),
    fields: long ? [...longPlan!.types].map(([name, type]) => ({ name, type, nullable: true })) : fields.map((c) => ({ name: c.name, type: c.type, nullable: true })),
  };
  return { delimiter, header, timeIndex, timeFormat, tags, fields, ...(longPlan ? { long: longPlan } : {}), schema };
}

/** Turns rows into batches; `add` throws InputError for a bad row and leaves no trace of it. */
interface Builder {
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

/** Wide layout: one row in, one row out; every cell converted from bytes. */
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
class WideBuilder implements Builder {
  rows = 0;
  private readonly time: BigInt64Array;
  private readonly timeCell: TimeCell;
  private readonly tags: { name: string; index: number; codes: Int32Array; interner: TagInterner }[];
  private readonly fields: { index: number; column: FieldColumn }[];
  /**
   * When the tag columns sit next to each other in the file, a row's tag cells are one
   * byte span, equal for every row of a series: one hash and one compare per row give all
   * its tag codes (instead of one lookup per tag cell).
   */
  private readonly span: { first: number; last: number } | undefined;
  private series = new Map<number, SeriesEntry | SeriesEntry[]>();
  private viewOf: Uint8Array | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));

  constructor(private readonly plan: CsvPlan, private readonly file: string, capacity: number) {
    this.time = new BigInt64Array(capacity);
    this.timeCell = new TimeCell(plan.timeFormat, plan.schema.timeUnit, file, plan.header);
    this.tags = plan.tags.map((t) => ({ ...t, codes: new Int32Array(capacity), interner: new TagInterner() }));
    this.fields = plan.fields.map((f) => ({ index: f.index, column: new FieldColumn(f.name, f.type, capacity) }));
    const idx = plan.tags.map((t) => t.index);
    const contiguous = idx.length > 1 && idx.every((v, k) => v >= 0 && (k === 0 || v === idx[k - 1]! + 1));
    this.span = contiguous ? { first: idx[0]!, last: idx[idx.length - 1]! } : undefined;
  }

  add(row: RowView): void {
    if (row.count !== this.plan.header.length) throw fieldCountError(this.file, this.plan.header, row);
    for (const t of this.tags) checkTagCell(this.file, this.plan.header, row, t.index);
    const r = this.rows;
    this.time[r] = this.timeCell.parse(row, this.plan.timeIndex);
    for (const f of this.fields) {
      if (!f.column.set(r, row, f.index)) throw cellError(this.file, this.plan.header, row, f.index, expectedText(f.column.type));
    }
    if (this.span) this.spanTags(row, r, this.span.first, this.span.last);
    else for (const t of this.tags) t.codes[r] = t.index < 0 ? t.interner.text('') : t.interner.cell(row, t.index);
    this.rows++;
  }

  private spanTags(row: RowView, r: number, first: number, last: number): void {
    const buf = row.buf;
    const s = row.starts[first]!, e = row.ends[last]!;
    // The same span bytes tokenize the same way, except for whether the first cell was quoted.
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
      for (let k = 0; k < tags.length; k++) codes[k] = tags[k]!.interner.cell(row, tags[k]!.index);
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
 * new series × time, so neighbours are never split. A repeated field of one series × time
 * keeps the last value.
 */
class LongBuilder implements Builder {
  rows = 0;
  private readonly time: BigInt64Array;
  private readonly timeCell: TimeCell;
  private readonly tags: { name: string; index: number; codes: Int32Array; interner: TagInterner }[];
  private readonly names = new TagInterner();
  private readonly columns: FieldColumn[] = [];
  private readonly keys = new Map<string, number>();
  private readonly scratch: FieldColumn[] = [];
  private readonly tagCodes: number[];
  private readonly long: NonNullable<CsvPlan['long']>;

  constructor(private readonly plan: CsvPlan, private readonly file: string, private readonly capacity: number, private readonly emit: (batch: RecordBatch) => void) {
    this.long = plan.long!;
    this.time = new BigInt64Array(capacity);
    this.timeCell = new TimeCell(plan.timeFormat, plan.schema.timeUnit, file, plan.header);
    this.tags = plan.tags.map((t) => ({ ...t, codes: new Int32Array(capacity), interner: new TagInterner() }));
    this.tagCodes = new Array(this.tags.length).fill(0);
  }

  private column(code: number, row: RowView): FieldColumn {
    let column = this.columns[code];
    if (!column) {
      const name = this.names.values[code]!;
      if (name === '') throw cellError(this.file, this.plan.header, row, this.long.fieldIndex, 'a field name');
      const type = this.long.types.get(name) ?? 'float64';
      column = this.columns[code] = new FieldColumn(name, type, this.capacity);
      this.scratch[code] = new FieldColumn(name, type, 1);
    }
    return column;
  }

  add(row: RowView): void {
    const { header } = this.plan;
    if (row.count !== header.length) throw fieldCountError(this.file, header, row);
    const t = this.timeCell.parse(row, this.plan.timeIndex);
    for (const tag of this.tags) checkTagCell(this.file, header, row, tag.index);
    const code = this.names.cell(row, this.long.fieldIndex);
    const column = this.column(code, row);
    // Convert the value into a one-slot scratch first: a bad row must leave no trace.
    const scratch = this.scratch[code]!;
    if (!scratch.set(0, row, this.long.valueIndex)) {
      const hint = this.long.types.has(column.name) ? '' : ` for field ${column.name} (unseen in the sample; type it with --schema ${column.name}:TYPE)`;
      throw cellError(this.file, header, row, this.long.valueIndex, expectedText(column.type) + hint);
    }
    let key = String(t);
    for (let k = 0; k < this.tags.length; k++) {
      const tag = this.tags[k]!;
      const c = tag.index < 0 ? tag.interner.text('') : tag.interner.cell(row, tag.index);
      this.tagCodes[k] = c;
      key += `\u0000${c}`;
    }
    let r = this.keys.get(key);
    if (r === undefined) {
      if (this.rows >= this.capacity) {
        this.emit(this.take());
        this.add(row);
        return;
      }
      r = this.rows++;
      this.keys.set(key, r);
      this.time[r] = t;
      for (let k = 0; k < this.tags.length; k++) this.tags[k]!.codes[r] = this.tagCodes[k]!;
    }
    column.set(r, row, this.long.valueIndex);
  }

  take(): RecordBatch {
    const n = this.rows;
    const columns: [string, Data][] = [];
    for (const t of this.tags) { columns.push([t.name, tagData(t.codes, n, t.interner.values)]); t.interner.reset(); }
    for (const c of this.columns) if (c) columns.push([c.name, c.take(n)]);
    this.rows = 0;
    this.keys.clear();
    this.timeCell.reset();
    return batchOf(this.plan, this.time, n, columns);
  }
}

/**
 * Streams a CSV into Arrow batches in the table's schema: plan from the head of the file
 * (header, delimiter, types, time format), then tokenize and convert every row from bytes.
 * `table`, when given, fixes the time column, tags and known field types (append).
 */
export async function* readCsv(input: AsyncIterable<Buffer | Uint8Array>, file: string, options: CsvOptions = {}, table?: TableSchema): AsyncGenerator<CsvBatch> {
  const iterator = input[Symbol.asyncIterator]();
  const headChunks: Buffer[] = [];
  let headBytes = 0;
  let done = false;
  const planBytes = options.planBytes ?? CSV_PLAN_BYTES;
  // At least planBytes, and at least one line end (the header row) unless the input ends.
  let newline = false;
  let lastCr = false;
  while (headBytes < planBytes || (!newline && headBytes < CSV_ROW_BYTES_MAX)) {
    const next = await iterator.next();
    if (next.done) { done = true; break; }
    const b = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    headChunks.push(b);
    headBytes += b.length;
    // A CR ends a line only once the next byte shows it is not the first half of CRLF.
    newline ||= b.includes(0x0a) || (b.length > 0 && (lastCr || b.indexOf(0x0d) >= 0 && b.indexOf(0x0d) < b.length - 1));
    if (b.length > 0) lastCr = b[b.length - 1] === 0x0d;
  }
  let head = Buffer.concat(headChunks);
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) head = head.subarray(3);
  const plan = planCsv(file, head, options, table, done);
  const capacity = options.batchRows ?? CSV_BATCH_ROWS;
  const ready: CsvBatch[] = [];
  let dataRows = 0;
  let batchStart = 0;
  const emit = (batch: RecordBatch) => {
    ready.push({ batch, rowStart: batchStart, plan });
  };
  // A long batch is cut inside add(), before the row that starts the next one.
  const builder: Builder = plan.long ? new LongBuilder(plan, file, capacity, (batch) => { emit(batch); batchStart = dataRows; }) : new WideBuilder(plan, file, capacity);
  let headerSkipped = options.columns !== undefined;
  let errors = 0;
  const maxErrors = options.maxErrors ?? 0;
  const tokenizer = new CsvTokenizer(plan.delimiter, file, (row) => {
    if (!headerSkipped) { headerSkipped = true; return; }
    if (builder.rows === 0) batchStart = dataRows;
    try {
      builder.add(row);
    } catch (error) {
      if (!(error instanceof InputError) || errors >= maxErrors) throw error;
      errors++;
      options.onReject?.({ line: row.line, reason: error.message, text: rowText(row, plan.delimiter) });
    }
    dataRows++;
    if (!plan.long && builder.rows >= capacity) emit(builder.take());
  });
  tokenizer.header = plan.header;
  // The pieces as they came (the tokenizer strips the BOM itself), not the joined head.
  for (const piece of headChunks) {
    tokenizer.feed(piece);
    for (const b of ready.splice(0)) yield b;
  }
  for (const b of ready.splice(0)) yield b;
  while (!done) {
    const next = await iterator.next();
    if (next.done) break;
    tokenizer.feed(next.value);
    for (const b of ready.splice(0)) yield b;
  }
  tokenizer.end();
  if (builder.rows > 0) emit(builder.take());
  for (const b of ready.splice(0)) yield b;
}

/** A row as CSV text again (for the rejects file): fields re-quoted when needed. */
function rowText(row: RowView, delimiter: number): string {
  const d = String.fromCharCode(delimiter);
  return Array.from({ length: row.count }, (_, j) => {
    const text = fieldText(row, j);
    return text.includes(d) || /["\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  }).join(d);
}
