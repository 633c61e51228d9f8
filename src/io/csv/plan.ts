// `x[i]!` in this file indexes within the bounds of its loop, on per-value paths where an
// assert() per value would cost (noUncheckedIndexedAccess); invariants elsewhere use assert()/at().
/**
 * Planning a CSV import from the head of the file: delimiter, header, column roles, types
 * (inferType) and time format, and the table schema they imply (planCsv, over the sampled
 * rows of CsvSampler). readCsv (reader.ts) plans, then converts every row with builders.ts.
 */
import type { FieldType, TimeUnit } from '../../format/types.js';
import { InputError, SchemaError, UsageError } from '../../errors.js';
import type { TableSchema } from '../../core/types.js';
import { validateColumnName } from '../../table/names.js';
import { CSV_ROW_BYTES_MAX, CsvTokenizer, fieldText, type RowView } from './tokenizer.js';
import { epochUnitOf, parseIsoBytes, type TimeFormat } from './values.js';
import { CellText, utf8Error, valueError, type InvalidUtf8 } from './cells.js';
import { DECIMAL_LITERAL, INTEGER_LITERAL, INT_RANGE } from './columns.js';
import { canonicalFieldType, FIELD_TYPE_NAMES } from '../../format/field-types.js';

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
export class CsvSampler {
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
export class FirstLine {
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
export function planCsv(file: string, sample: CsvSampler, delimiter: number, options: CsvOptions, table: TableSchema | undefined): CsvPlan {
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
