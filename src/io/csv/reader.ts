import { Field, makeData, RecordBatch, Schema, Struct, Timestamp, type Data } from 'apache-arrow';
import type { FieldType, TimeUnit } from '../../format/types.js';
import { InputError, SchemaError, UsageError } from '../../errors.js';
import { ARROW_TIME_UNIT } from '../../core/arrow-schema.js';
import type { TableSchema } from '../../core/types.js';
import { validateColumnName } from '../../table/names.js';
import { CSV_ROW_BYTES_MAX, CsvTokenizer, detectDelimiter, fieldText, rowBytes, type RowView } from './tokenizer.js';
import { epochUnitOf, parseIsoBytes, type TimeFormat } from './values.js';
import { CellText, INVALID_TAG, NULL_TAG, SMI_MASK, TagInterner, TimeCell, cellError, fieldCountError, utf8Error, valueError, type InvalidUtf8 } from './cells.js';
import { DECIMAL_LITERAL, FieldColumn, INTEGER_LITERAL, INT_RANGE, tagData } from './columns.js';
import { TAG_VALUE_BYTES_MAX, tagValueError } from '../../table/tag-values.js';
import { canonicalFieldType, FIELD_TYPE_NAMES } from '../../format/field-types.js';

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
/**
 * Bytes read to plan (header + sample rows): planning reads at least this much, or to the
 * end of the first data row when that ends later (a row is never typed from a part of it;
 * a row longer than CSV_ROW_BYTES_MAX is an error naming its line).
 */
export const CSV_PLAN_BYTES = 1 << 20;
/** Column names taken as the time column, in this order of preference. */
export const TIME_NAMES = ['time', 'timestamp', 'ts', 'datetime', 'date', '_time', 'event_time'];

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
  /** Type overrides: a field type (docs/types.md) or string (a tag). Long layout: keyed by field name. */
  schema?: Record<string, string>;
  /** 'long': one row per series × time × field, with `fieldColumn` and `valueColumn`; pivoted to wide. */
  layout?: 'wide' | 'long';
  fieldColumn?: string;
  valueColumn?: string;
  /**
   * Bytes that are not UTF-8 in a header, a tag or a utf8 field: 'error' (default: the
   * import stops at file:line:column) or 'replace' them with U+FFFD (each batch counts the
   * values so changed in `replaced`).
   */
  invalidUtf8?: InvalidUtf8;
  /** Bytes sampled to plan (default CSV_PLAN_BYTES). */
  planBytes?: number;
  /** Rows per batch (default CSV_BATCH_ROWS). */
  batchRows?: number;
  /** Skip up to this many bad rows (default 0: the first bad row fails the import). */
  maxErrors?: number;
  /**
   * Called for each skipped row: `text` is the row as text (invalid bytes replaced), `bytes`
   * the row exactly as in the file (quotes included, line end excluded); `file` is set when
   * one reader serves several files (the worker).
   */
  onReject?: (reject: { line: number; reason: string; text: string; bytes: Uint8Array; file?: string }) => void;
}

/** What the reader found in the file: column roles, formats and the table schema it implies. */
export interface CsvPlan {
  delimiter: number;
  header: string[];
  timeIndex: number;
  timeFormat: TimeFormat;
  /** Tag columns of the file (a table tag the file lacks is left out of the batches: the table fills it). */
  tags: { name: string; index: number }[];
  /** Field columns (wide layout); `exact`: see FieldColumn (false where --schema typed the column float64). */
  fields: { name: string; index: number; type: FieldType; exact: boolean }[];
  /** Long layout: the field-name and value columns, the type of each field name, and those typed float64 by --schema. */
  long?: { fieldIndex: number; valueIndex: number; types: Map<string, FieldType>; rounded: Set<string> };
  schema: TableSchema;
}

export interface CsvBatch {
  batch: RecordBatch;
  /** 0-based data row of the file where this batch starts. */
  rowStart: number;
  plan: CsvPlan;
  /** Long layout: values of a (series, time, field) seen before in the pivot, kept as rows of their own (since the previous batch). */
  duplicates: number;
  /** Values stored with invalid UTF-8 replaced by U+FFFD (invalidUtf8 'replace'; header names included; since the previous batch). */
  replaced: number;
}

/**
 * The type of a new column from its first rows (`values`, the text of each, and the line
 * each is on), or an InputError when the sample does not say and guessing would change
 * values or the table's shape:
 *
 * - no value (all cells empty): float64;
 * - only whole numbers: int64 when all fit, else uint64 when all fit, else an error at the
 *   first that does not (never float64: that would round them);
 * - only numbers, some with a fraction or an exponent (or spelled nan/inf/infinity): float64;
 * - only true/false (any case): bool;
 * - otherwise, when at least half the values are numbers: an error at the first value that
 *   is not (a dirty numeric column is not made text, nor a tag; --schema or --tags says what
 *   is meant);
 * - otherwise utf8 (a tag, unless --tags names the tags).
 *
 * `column`/`j` locate the cells (the value column in the long layout); `name` is what
 * --schema would name (the field).
 */
export function inferType(values: readonly string[], lines: readonly number[] = [], file = '', column = '', j = 0, name = column): FieldType {
  let present = 0, ints = 0, decimals = 0, bools = 0, firstOther = -1;
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    if (v.trim() === '') continue;
    present++;
    if (INTEGER_LITERAL.test(v)) ints++;
    else if (DECIMAL_LITERAL.test(v)) decimals++;
    else {
      if (/^ *(true|false) *$/i.test(v)) bools++;
      if (firstOther < 0) firstOther = k;
    }
  }
  if (present === 0) return 'float64';
  const fail = (k: number, expected: string, detail: string): never => { throw valueError(file, lines[k] ?? 0, j, column, expected, values[k]!, detail); };
  if (ints === present) {
    let negative = -1, overInt = -1, overUint = -1;
    for (let k = 0; k < values.length; k++) {
      if (values[k]!.trim() === '') continue;
      const v = BigInt(values[k]!.trim());
      if (v < 0n && negative < 0) negative = k;
      if (v > 2n ** 63n - 1n && overInt < 0) overInt = k;
      if ((v > 2n ** 64n - 1n || v < -(2n ** 63n)) && overUint < 0) overUint = k;
    }
    if (overInt < 0 && overUint < 0) return 'int64';
    if (negative < 0 && overUint < 0) return 'uint64';
    // With a negative value the column could only be int64: the first value outside int64
    // fails; without one it could be uint64: the first value beyond uint64 fails.
    const type = negative >= 0 ? 'int64' : 'uint64';
    const int64Min = -(2n ** 63n), int64Max = 2n ** 63n - 1n, uint64Max = 2n ** 64n - 1n;
    const at = values.findIndex((text) => {
      if (text.trim() === '') return false;
      const v = BigInt(text.trim());
      return type === 'int64' ? v < int64Min || v > int64Max : v > uint64Max;
    });
    return fail(at, `${type} (${INT_RANGE[type]})`, `the column holds whole numbers only and is not made float64 silently: import ${name} with --schema ${name}:float64 (the nearest double) or ${name}:utf8 (the digits as text)`);
  }
  if (ints + decimals === present) return 'float64';
  if (bools === present) return 'bool';
  if ((ints + decimals) * 2 >= present) {
    return fail(firstOther, `a number (${ints + decimals} of the ${present} values in the first ${values.length} rows are)`,
      `say what the column is: --schema ${name}:float64 (with --max-errors to skip rows like this one)${name === column ? `, --schema ${name}:utf8 for text, or --tags ${name} for a tag` : ` or --schema ${name}:utf8 for text`}`);
  }
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

/**
 * The head of a file as planning sees it, fed piece by piece: the header (names decoded
 * under the invalid-UTF-8 policy) and up to CSV_SAMPLE_ROWS whole data rows as text, with
 * the line each starts on. Only the columns whose type is still to decide are kept: all of
 * them for a new table; with a table (append, or the second file of an import), the time
 * column (its format) and columns the table lacks.
 */
class CsvSampler {
  header: string[] | undefined;
  readonly rows: string[][] = [];
  readonly lines: number[] = [];
  /** Header names stored with invalid UTF-8 replaced. */
  replaced = 0;
  /** An invalid header name under the 'error' policy, thrown once sampling is over. */
  headerError: InputError | undefined;
  bytes = 0;
  private full = false;
  /** The sampler's tokenizer met a malformed row: the real pass reports it, with its line. */
  private stopped = false;
  private keep: boolean[] | undefined;
  private readonly tokenizer: CsvTokenizer;

  constructor(private readonly file: string, delimiter: number, options: CsvOptions, table: TableSchema | undefined, cells: CellText) {
    this.header = options.columns ? [...options.columns] : undefined;
    const known = table ? new Set([table.time, ...table.tags, ...table.fields.map((f) => f.name)]) : undefined;
    this.tokenizer = new CsvTokenizer(delimiter, file, (row) => {
      if (!this.header) { this.header = this.headerOf(row, cells); return; }
      const header = this.header;
      this.keep ??= header.map((name) => !known || name === table!.time || !known.has(name));
      const keep = this.keep;
      const values = new Array<string>(row.count);
      for (let j = 0; j < row.count; j++) values[j] = keep[j] !== false ? fieldText(row, j) : '';
      this.rows.push(values);
      this.lines.push(row.line);
      if (this.rows.length >= CSV_SAMPLE_ROWS) throw SAMPLE_FULL;
    });
  }

  private headerOf(row: RowView, cells: CellText): string[] {
    const names: string[] = [];
    for (let j = 0; j < row.count; j++) {
      const name = cells.cell(row, j);
      if (name === null) { this.headerError ??= utf8Error(this.file, [], row, j); names.push(fieldText(row, j).trim()); continue; }
      if (cells.lossy) this.replaced++;
      names.push(name.trim());
    }
    return names;
  }

  /** Whether planning has what it needs: a full sample, or planBytes and a whole data row. */
  enough(planBytes: number): boolean {
    return this.full || this.stopped || (this.bytes >= planBytes && this.rows.length > 0);
  }

  feed(piece: Uint8Array): void {
    this.bytes += piece.length;
    if (!this.full && !this.stopped) this.run(() => this.tokenizer.feed(piece));
  }

  end(): void {
    if (!this.full && !this.stopped) this.run(() => this.tokenizer.end());
  }

  private run(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (error === SAMPLE_FULL) this.full = true;
      else if (error instanceof InputError && !this.headerError) this.stopped = true;
      else throw error;
    }
  }
}

/** Tracks whether the bytes seen so far hold the end of the first line outside quotes (where the delimiter is detected). */
class FirstLine {
  private quoted = false;
  private bytes = 0;
  ended = false;

  feed(b: Uint8Array): void {
    for (let i = 0; i < b.length && !this.ended; i++) {
      const c = b[i]!;
      if (c === 0x22) this.quoted = !this.quoted;
      else if (!this.quoted && (c === 0x0a || c === 0x0d)) this.ended = true;
    }
    this.bytes += b.length;
    if (this.bytes > CSV_ROW_BYTES_MAX) this.ended = true; // the tokenizer reports the over-long row
  }
}

/** Decides columns, types and the time format from the sample. */
function planCsv(file: string, sample: CsvSampler, delimiter: number, options: CsvOptions, table: TableSchema | undefined): CsvPlan {
  if (sample.headerError) throw sample.headerError;
  if (!sample.header) throw new InputError(`${file}: empty file (expected a header row)`, file, 1);
  const header: string[] = sample.header;
  const empty = header.indexOf('');
  if (empty >= 0) throw new InputError(`${file}:1:${empty + 1}: the header has an empty column name`, file, 1);
  header.forEach((name, j) => {
    try { validateColumnName(name); } catch (error) { throw new InputError(`${file}:1:${j + 1}: ${(error as Error).message}`, file, 1, name); }
  });
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new InputError(`${file}:1:${header.lastIndexOf(dup) + 1}: column ${JSON.stringify(dup)} appears twice in the header`, file, 1, dup);
  const rows: string[][] = [];
  const lines: number[] = [];
  sample.rows.forEach((r, k) => { if (r.length === header.length) { rows.push(r); lines.push(sample.lines[k]!); } });
  const column = (j: number) => rows.map((r) => r[j]!);
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
  // Keyed by user-supplied names: a Map, so `constructor` or `__proto__` are names like any other.
  const overrides = new Map<string, string>(Object.entries(options.schema ?? {}));
  for (const [name, given] of overrides) {
    if (!long && !header.includes(name)) throw missing('--schema', name);
    // Any field type (docs/types.md) in its canonical spelling (`date` → `date32`), or string (a tag).
    let type = given;
    if (type !== 'string') {
      try { type = canonicalFieldType(type); } catch { throw new UsageError(`--schema ${name}:${given}: the type must be a field type (${FIELD_TYPE_NAMES}) or string`); }
      overrides.set(name, type);
    }
    if (long && type === 'string') throw new UsageError(`--schema ${name}:string: in the long layout the override types field values (a field type, not a tag)`);
    if (!long && type !== 'string' && options.tags?.includes(name)) throw new UsageError(`--schema ${name}:${type} and --tags ${name} disagree: a tag is a string (--schema ${name}:string)`);
  }
  const timeName = table?.time ?? options.time ?? header.find((h) => TIME_NAMES.includes(h.toLowerCase()))
    ?? header.find((_, j) => rows.length > 0 && rows.every((r) => isoText(r[j]!) !== null));
  if (timeName === undefined || !header.includes(timeName)) {
    throw new InputError(`${file}: no time column${timeName ? ` ${JSON.stringify(timeName)}` : ''} (columns: ${header.join(', ')}; name one with --time)`, file, 1);
  }
  if (!long && overrides.has(timeName)) throw new UsageError(`--schema ${timeName}:${overrides.get(timeName)}: ${timeName} is the time column (its format is --time-format)`);
  const timeIndex = header.indexOf(timeName);
  let timeFormat: TimeFormat = options.timeFormat ?? 'iso';
  if (!options.timeFormat) {
    const values = column(timeIndex).map((v) => v.trim()).filter((v) => v !== '');
    if (values.length && values.every((v) => /^-?\d{1,19}$/.test(v))) timeFormat = epochUnitOf(values.map((v) => BigInt(v))) ?? 'ns';
  }
  for (const tag of options.tags ?? []) if (!header.includes(tag)) throw missing('--tags', tag);
  const tagSet = new Set(table?.tags ?? options.tags ?? []);
  const inferTags = !table && options.tags === undefined;
  const tags: CsvPlan['tags'] = [];
  const fields: CsvPlan['fields'] = [];
  header.forEach((name, index) => {
    if (index === timeIndex || index === fieldIndex || index === valueIndex) return;
    const override = overrides.get(name);
    if (tagSet.has(name) || override === 'string' || (long && inferTags)) { tags.push({ name, index }); return; }
    if (long) throw new InputError(`${file}: column ${name} is neither the time, a tag, the field nor the value column of the long layout (tags: ${[...tagSet].join(', ')})`, file, 1, name);
    const known = table?.fields.find((f) => f.name === name);
    if (known && override && override !== known.type) throw new SchemaError(`${file}: column ${name} is ${override} (--schema) but ${known.type} in the table`);
    const type = known?.type ?? (override as FieldType | undefined) ?? inferType(column(index), lines, file, name, index);
    if (!known && !override && type === 'utf8' && inferTags) tags.push({ name, index });
    else fields.push({ name, index, type, exact: override !== 'float64' });
  });
  let longPlan: CsvPlan['long'];
  if (long) {
    const types = new Map<string, FieldType>();
    const byField = new Map<string, { values: string[]; lines: number[] }>();
    rows.forEach((r, k) => {
      const name = r[fieldIndex]!;
      let entry = byField.get(name);
      if (!entry) byField.set(name, entry = { values: [], lines: [] });
      entry.values.push(r[valueIndex]!);
      entry.lines.push(lines[k]!);
    });
    for (const [name, { values, lines: at }] of byField) {
      types.set(name, table?.fields.find((f) => f.name === name)?.type ?? (overrides.get(name) as FieldType | undefined)
        ?? inferType(values, at, file, header[valueIndex]!, valueIndex, name));
    }
    const rounded = new Set([...overrides].filter(([, type]) => type === 'float64').map(([name]) => name));
    longPlan = { fieldIndex, valueIndex, types, rounded };
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
  /** Duplicate (series, time, field) values since the reader last read it (long layout). */
  duplicates: number;
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
class WideBuilder implements Builder {
  rows = 0;
  duplicates = 0;
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
class LongBuilder implements Builder {
  rows = 0;
  duplicates = 0;
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
   * (series, time, field), counted, and this is the one place that decides what becomes of
   * it: tables keep duplicates (policy `keep`, as two appends of it would store two rows),
   * so it goes to the next row of the key without a value of the field, or a new row of the
   * key (-1: the batch is full); a table-level policy (`first`/`last`) would decide here.
   */
  private rowFor(first: number, code: number): number {
    const written = this.written[code]!;
    if (!written[first]) return first;
    // Counted once: when the batch is full, the value starts a new key in the next one.
    this.duplicates++;
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

/**
 * Streams a CSV into Arrow batches in the table's schema: plan from the head of the file
 * (header, delimiter, types, time format), then tokenize and convert every row from bytes.
 * `table`, when given, fixes the time column, tags and known field types (append).
 */
export async function* readCsv(input: AsyncIterable<Buffer | Uint8Array>, file: string, options: CsvOptions = {}, table?: TableSchema): AsyncGenerator<CsvBatch> {
  const iterator = input[Symbol.asyncIterator]();
  const cells = new CellText(options.invalidUtf8 ?? 'error');
  const planBytes = options.planBytes ?? CSV_PLAN_BYTES;
  // Read the head piece by piece until the sample is whole rows enough to plan from (the
  // pieces are kept to be parsed again by the real pass). The delimiter, when not given,
  // is detected once the header line has ended.
  const headChunks: Buffer[] = [];
  let done = false;
  let delimiter = options.delimiter !== undefined ? delimiterByte(options.delimiter) : undefined;
  const firstLine = new FirstLine();
  let sampler: CsvSampler | undefined;
  const startSampler = (d: number) => {
    sampler = new CsvSampler(file, d, options, table, cells);
    for (const piece of headChunks) sampler.feed(piece);
    return sampler;
  };
  if (delimiter !== undefined) startSampler(delimiter);
  while (!sampler?.enough(planBytes)) {
    const next = await iterator.next();
    if (next.done) { done = true; break; }
    const b = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    headChunks.push(b);
    if (sampler) sampler.feed(b);
    else {
      firstLine.feed(b);
      if (firstLine.ended) startSampler(delimiter = detectDelimiter(Buffer.concat(headChunks)));
    }
  }
  if (!sampler) startSampler(delimiter = detectDelimiter(Buffer.concat(headChunks)));
  if (done) sampler!.end();
  const plan = planCsv(file, sampler!, delimiter!, options, table);
  const capacity = options.batchRows ?? CSV_BATCH_ROWS;
  const ready: CsvBatch[] = [];
  let dataRows = 0;
  let batchStart = 0;
  let replaced = sampler!.replaced;
  const emit = (batch: RecordBatch) => {
    ready.push({ batch, rowStart: batchStart, plan, duplicates: builder.duplicates, replaced });
    builder.duplicates = 0;
    replaced = 0;
  };
  // A long batch is cut inside add(), before the row that starts the next one.
  const builder: Builder = plan.long
    ? new LongBuilder(plan, file, capacity, cells, (batch) => { emit(batch); batchStart = dataRows; })
    : new WideBuilder(plan, file, capacity, cells);
  let headerSkipped = options.columns !== undefined;
  let errors = 0;
  const maxErrors = options.maxErrors ?? 0;
  const tokenizer = new CsvTokenizer(plan.delimiter, file, (row) => {
    if (!headerSkipped) { headerSkipped = true; return; }
    if (builder.rows === 0) batchStart = dataRows;
    cells.rowReplaced = 0;
    try {
      builder.add(row);
      replaced += cells.rowReplaced;
    } catch (error) {
      if (!(error instanceof InputError) || errors >= maxErrors) throw error;
      errors++;
      const bytes = rowBytes(row);
      options.onReject?.({ line: row.line, reason: error.message, text: Buffer.from(bytes).toString('utf8'), bytes });
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
