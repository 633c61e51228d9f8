import type { Readable } from 'node:stream';
import { Bool, Dictionary, Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct, Timestamp, Uint64, Utf8, vectorFromArray, type Data, type Vector } from 'apache-arrow';
import type { FieldType, TimeUnit } from '../../format/types.js';
import { InputError, UsageError } from '../../errors.js';
import { ARROW_TIME_UNIT } from '../../table/arrow-schema.js';
import type { TableSchema } from '../../table/types.js';
import { CsvTokenizer, detectDelimiter, fieldText, type RowView } from './tokenizer.js';
import { epochUnitOf, isNanSpelling, parseBoolText, parseEpochBytes, parseFloatBytes, parseIntBytes, parseIsoBytes, type TimeFormat } from './values.js';

/** Rows per Arrow batch handed to the table writer. */
export const CSV_BATCH_ROWS = 65_536;
/** Rows read to infer types. */
export const CSV_SAMPLE_ROWS = 2_000;
const TIME_NAMES = ['time', 'timestamp', 'ts', 'datetime', 'date', '_time', 'event_time'];

export interface CsvOptions {
  delimiter?: string;
  /** Column names when the file has no header row. */
  columns?: string[];
  time?: string;
  tags?: string[];
  timeFormat?: TimeFormat;
  /** Table time unit (new tables). Default 'ns'. */
  timeUnit?: TimeUnit;
  /** Type overrides: float64, int64, uint64, bool, utf8 (a field), string (a tag). */
  schema?: Record<string, string>;
  /** Skip up to this many bad rows (default 0: the first bad row fails the import). */
  maxErrors?: number;
  onReject?: (reject: { line: number; reason: string; text: string }) => void;
}

type ColumnRole = { name: string; index: number } & (
  | { kind: 'time' } | { kind: 'tag' } | { kind: 'field'; type: FieldType } | { kind: 'skip' });

/** What the reader found in the file: the table schema it implies (for a new table). */
export interface CsvPlan {
  delimiter: number;
  header: string[];
  columns: ColumnRole[];
  timeFormat: TimeFormat;
  schema: TableSchema;
}

export interface CsvBatch {
  batch: RecordBatch;
  /** 0-based data row of the file where this batch starts. */
  rowStart: number;
}

/** Samples the head of a file and decides columns, types and the time format. */
function plan(file: string, head: Buffer, options: CsvOptions, table: TableSchema | undefined): CsvPlan {
  const delimiter = options.delimiter !== undefined ? delimiterByte(options.delimiter) : detectDelimiter(head);
  const rows: string[][] = [];
  const lines: number[] = [];
  const t = new CsvTokenizer(delimiter, file, (row) => {
    if (rows.length <= CSV_SAMPLE_ROWS) { rows.push(Array.from({ length: row.count }, (_, j) => fieldText(row, j))); lines.push(row.line); }
  });
  try { t.feed(head); } catch (error) { if (!(error instanceof InputError)) throw error; }
  if (rows.length === 0 && !options.columns) throw new InputError(`${file}: empty file (expected a header row)`, file, 1);
  const header = options.columns ?? rows.shift()!.map((h) => h.trim());
  if (!options.columns) lines.shift();
  if (header.some((h) => h === '')) throw new InputError(`${file}:1: the header has an empty column name (column ${header.indexOf('') + 1})`, file, 1);
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup) throw new InputError(`${file}:1: column ${JSON.stringify(dup)} appears twice in the header`, file, 1);
  const sample = rows.filter((r) => r.length === header.length);
  const overrides = options.schema ?? {};
  for (const name of Object.keys(overrides)) {
    if (!header.includes(name)) throw new UsageError(`--schema names ${JSON.stringify(name)}, which is not a column of ${file} (columns: ${header.join(', ')})`);
    if (!['float64', 'int64', 'uint64', 'bool', 'utf8', 'string'].includes(overrides[name]!)) throw new UsageError(`--schema ${name}:${overrides[name]}: the type must be float64, int64, uint64, bool, utf8 or string`);
  }
  const timeName = table?.time ?? options.time ?? header.find((h) => TIME_NAMES.includes(h.toLowerCase()))
    ?? header.find((_, j) => sample.length > 0 && sample.every((r) => parseIsoText(r[j]!) !== null));
  if (timeName === undefined || !header.includes(timeName)) {
    throw new InputError(`${file}: no time column${timeName ? ` ${JSON.stringify(timeName)}` : ''} (columns: ${header.join(', ')}; name one with --time)`, file, 1);
  }
  const timeIndex = header.indexOf(timeName);
  let timeFormat: TimeFormat = options.timeFormat ?? 'iso';
  if (!options.timeFormat) {
    const values = sample.map((r) => r[timeIndex]!).filter((v) => v !== '');
    if (values.length && values.every((v) => /^-?\d+$/.test(v.trim()))) {
      timeFormat = epochUnitOf(values.map((v) => BigInt(v.trim()))) ?? 'ns';
    }
  }
  const tagSet = new Set(table?.tags ?? options.tags ?? []);
  for (const tag of options.tags ?? []) if (!header.includes(tag)) throw new UsageError(`--tags names ${JSON.stringify(tag)}, which is not a column of ${file} (columns: ${header.join(', ')})`);
  const inferTags = !table && options.tags === undefined;
  const columns: ColumnRole[] = header.map((name, index) => {
    if (index === timeIndex) return { name, index, kind: 'time' };
    if (tagSet.has(name) || overrides[name] === 'string') return { name, index, kind: 'tag' };
    const known = table?.fields.find((f) => f.name === name);
    if (known) return { name, index, kind: 'field', type: known.type };
    const forced = overrides[name];
    if (forced) return { name, index, kind: 'field', type: forced as FieldType };
    const type = inferType(sample.map((r) => r[index]!));
    if (type === 'utf8' && inferTags) return { name, index, kind: 'tag' };
    return { name, index, kind: 'field', type };
  });
  if (table) {
    for (const tag of table.tags) if (!header.includes(tag)) columns.push({ name: tag, index: -1, kind: 'tag' });
  }
  const schema: TableSchema = table ?? {
    time: timeName,
    timeUnit: options.timeUnit ?? 'ns',
    tags: columns.filter((c) => c.kind === 'tag').map((c) => c.name),
    fields: columns.filter((c): c is ColumnRole & { kind: 'field'; type: FieldType } => c.kind === 'field').map((c) => ({ name: c.name, type: c.type, nullable: true })),
  };
  return { delimiter, header, columns, timeFormat, schema };
}

function parseIsoText(text: string): bigint | null {
  const b = Buffer.from(text);
  return parseIsoBytes(b, 0, b.length);
}

function inferType(values: string[]): FieldType {
  const present = values.map((v) => v.trim()).filter((v) => v !== '');
  if (present.length === 0) return 'float64';
  if (present.every((v) => /^[+-]?\d{1,18}$/.test(v))) return 'int64';
  if (present.every((v) => !Number.isNaN(Number(v)) || /^[+-]?(nan|inf|infinity)$/i.test(v))) return 'float64';
  if (present.every((v) => /^(true|false)$/i.test(v))) return 'bool';
  return 'utf8';
}

function delimiterByte(d: string): number {
  const text = d === '\\t' || d === 'tab' ? '\t' : d;
  if (text.length !== 1 || text.charCodeAt(0) > 0x7f || '"\r\n'.includes(text)) throw new UsageError(`--delimiter must be one ASCII character other than a quote or newline, got ${JSON.stringify(d)}`);
  return text.charCodeAt(0);
}

/** Column builders for one batch: typed arrays filled straight from bytes. */
class BatchBuilder {
  rows = 0;
  private time = new BigInt64Array(CSV_BATCH_ROWS);
  private readonly cols: { role: ColumnRole; values: Float64Array | BigInt64Array | BigUint64Array | Uint8Array | Int32Array | string[]; valid: Uint8Array; dict?: Map<string, number>; dictValues?: string[]; byHash?: Map<number, { bytes: Buffer; code: number }[]> }[];
  private lastTimeStart = -1;
  private lastTimeBytes: Buffer | null = null;
  private lastTime = 0n;
  private readonly unitDivisor: bigint;

  constructor(private readonly plan: CsvPlan, private readonly file: string) {
    this.cols = plan.columns.filter((c) => c.kind === 'tag' || c.kind === 'field').map((role) => {
      if (role.kind === 'tag') return { role, values: new Int32Array(CSV_BATCH_ROWS), valid: new Uint8Array(0), dict: new Map(), dictValues: [] };
      const type = (role as { type: FieldType }).type;
      const values = type === 'float64' ? new Float64Array(CSV_BATCH_ROWS) : type === 'int64' ? new BigInt64Array(CSV_BATCH_ROWS)
        : type === 'uint64' ? new BigUint64Array(CSV_BATCH_ROWS) : type === 'bool' ? new Uint8Array(CSV_BATCH_ROWS) : [] as string[];
      return { role, values, valid: new Uint8Array(CSV_BATCH_ROWS) };
    });
    this.unitDivisor = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n }[plan.schema.timeUnit];
  }

  private fail(row: RowView, j: number, expected: string): never {
    const name = this.plan.header[j] ?? `#${j + 1}`;
    const text = fieldText(row, j);
    throw new InputError(`${this.file}:${row.line}:${j + 1} (column ${name}): expected ${expected}, got ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)}`, this.file, row.line, name);
  }

  /** Converts one row into slot `rows`; throws InputError (the slot is then simply reused). */
  add(row: RowView): void {
    const width = this.plan.header.length;
    if (row.count !== width) {
      throw new InputError(`${this.file}:${row.line}: expected ${width} fields, got ${row.count}`, this.file, row.line);
    }
    const r = this.rows;
    const buf = row.buf;
    for (const col of this.plan.columns) {
      if (col.kind !== 'time') continue;
      const j = col.index;
      const s = row.starts[j]!, e = row.ends[j]!;
      // Rows of many series often share a timestamp: reuse the last parse for equal bytes.
      let t: bigint | null;
      if (this.lastTimeBytes && sameBytes(this.lastTimeBytes, buf, s, e)) t = this.lastTime;
      else {
        t = this.plan.timeFormat === 'iso' ? parseIsoBytes(buf, s, e) : parseEpochBytes(buf, s, e, this.plan.timeFormat);
        if (t === null) this.fail(row, j, this.plan.timeFormat === 'iso' ? 'an ISO-8601 timestamp' : `epoch ${this.plan.timeFormat}`);
        if (this.unitDivisor !== 1n) {
          const q = t / this.unitDivisor;
          t = t < 0n && q * this.unitDivisor !== t ? q - 1n : q;
        }
        this.lastTimeBytes = Buffer.from(buf.subarray(s, e));
        this.lastTime = t;
        this.lastTimeStart = s;
      }
      this.time[r] = t;
    }
    for (const col of this.cols) {
      const j = col.role.index;
      if (col.role.kind === 'tag') {
        (col.values as Int32Array)[r] = j < 0 ? this.internText(col, '') : this.internBytes(col, row, j);
        continue;
      }
      const s = row.starts[j]!, e = row.ends[j]!;
      if (s === e) { col.valid[r] = 0; continue; }
      col.valid[r] = 1;
      switch ((col.role as { type: FieldType }).type) {
        case 'float64': {
          const v = parseFloatBytes(buf, s, e);
          if (Number.isNaN(v) && !isNanSpelling(buf, s, e)) {
            if (buf.subarray(s, e).every((c) => c === 0x20)) { col.valid[r] = 0; break; }
            this.fail(row, j, 'float64');
          }
          (col.values as Float64Array)[r] = v;
          break;
        }
        case 'int64': case 'uint64': {
          const v = parseIntBytes(buf, s, e);
          const type = (col.role as { type: FieldType }).type;
          if (v === null || (type === 'int64' && v >= 2n ** 63n) || (type === 'uint64' && v < 0n)) this.fail(row, j, type);
          (col.values as BigInt64Array)[r] = BigInt.asIntN(64, v);
          break;
        }
        case 'bool': {
          const v = parseBoolText(fieldText(row, j));
          if (v === null) this.fail(row, j, 'bool (true/false)');
          (col.values as Uint8Array)[r] = v ? 1 : 0;
          break;
        }
        case 'utf8':
          (col.values as string[])[r] = fieldText(row, j);
          break;
      }
    }
    this.rows++;
  }

  private internText(col: BatchBuilder['cols'][number], text: string): number {
    let code = col.dict!.get(text);
    if (code === undefined) { code = col.dictValues!.length; col.dict!.set(text, code); col.dictValues!.push(text); }
    return code;
  }

  /**
   * Tag values interned by their bytes (FNV-1a hash, then a byte compare): no string is
   * made for a value already seen, which is nearly every cell of a tag column.
   */
  private internBytes(col: BatchBuilder['cols'][number], row: RowView, j: number): number {
    if (row.escaped[j]) return this.internText(col, fieldText(row, j));
    const buf = row.buf;
    const s = row.starts[j]!, e = row.ends[j]!;
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const byHash = (col.byHash ??= new Map());
    const candidates = byHash.get(h);
    if (candidates) {
      for (const c of candidates) {
        if (sameBytes(c.bytes, buf, s, e)) return c.code;
      }
    }
    const code = this.internText(col, fieldText(row, j));
    const entry = { bytes: Buffer.from(buf.subarray(s, e)), code };
    if (candidates) candidates.push(entry); else byHash.set(h, [entry]);
    return code;
  }

  get full(): boolean {
    return this.rows >= CSV_BATCH_ROWS;
  }

  /** The rows so far as an Arrow batch (time as Timestamp, tags as Dictionary); resets. */
  take(): RecordBatch {
    const n = this.rows;
    const fields: Field[] = [];
    const children: Data[] = [];
    const schema = this.plan.schema;
    const timeType = new Timestamp(ARROW_TIME_UNIT[schema.timeUnit], null);
    fields.push(new Field(schema.time, timeType, false));
    children.push(makeData({ type: timeType, length: n, nullCount: 0, data: this.time.slice(0, n) as never }));
    for (const col of this.cols) {
      const name = col.role.name;
      if (col.role.kind === 'tag') {
        const type = new Dictionary(new Utf8(), new Int32());
        fields.push(new Field(name, type, true));
        children.push(makeData({ type, length: n, nullCount: 0, data: (col.values as Int32Array).slice(0, n), dictionary: vectorFromArray(col.dictValues!, new Utf8()) as Vector<Utf8> }));
        col.dict!.clear();
        col.dictValues = [];
        col.byHash = undefined;
        continue;
      }
      let nulls = 0;
      const bitmap = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) { if (col.valid[i]) bitmap[i >> 3]! |= 1 << (i & 7); else nulls++; }
      const nullBitmap = nulls ? bitmap : undefined;
      const type = (col.role as { type: FieldType }).type;
      let data: Data;
      if (type === 'float64') data = makeData({ type: new Float64(), length: n, nullCount: nulls, nullBitmap, data: (col.values as Float64Array).slice(0, n) });
      else if (type === 'int64') data = makeData({ type: new Int64(), length: n, nullCount: nulls, nullBitmap, data: (col.values as BigInt64Array).slice(0, n) as never });
      else if (type === 'uint64') data = makeData({ type: new Uint64(), length: n, nullCount: nulls, nullBitmap, data: new BigUint64Array((col.values as BigInt64Array).buffer.slice(0, n * 8)) as never });
      else if (type === 'bool') {
        const bits = new Uint8Array((n + 7) >> 3);
        const src = col.values as Uint8Array;
        for (let i = 0; i < n; i++) if (src[i]) bits[i >> 3]! |= 1 << (i & 7);
        data = makeData({ type: new Bool(), length: n, nullCount: nulls, nullBitmap, data: bits });
      } else {
        const src = col.values as string[];
        data = vectorFromArray(Array.from({ length: n }, (_, i) => (col.valid[i] ? src[i] ?? '' : null)), new Utf8()).data[0]!;
        col.values = [];
      }
      fields.push(new Field(name, data.type, true));
      children.push(data);
    }
    this.rows = 0;
    this.lastTimeBytes = null;
    return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
  }
}

/** Whether buf[s, e) equals `bytes` (a JS loop: short values, no native call). */
function sameBytes(bytes: Uint8Array, buf: Uint8Array, s: number, e: number): boolean {
  if (bytes.length !== e - s) return false;
  for (let k = 0; k < bytes.length; k++) if (bytes[k] !== buf[s + k]) return false;
  return true;
}

/** Bytes read to plan (header + sample rows). */
const PLAN_BYTES = 1 << 20;

/**
 * Streams a CSV into Arrow batches in the table's schema: plan from the head of the file
 * (header, delimiter, types, time format), then tokenize and convert every row from bytes.
 * `table`, when given, fixes the time column, tags and known field types (append).
 */
export async function* readCsv(input: AsyncIterable<Buffer | Uint8Array>, file: string, options: CsvOptions = {}, table?: TableSchema): AsyncGenerator<CsvBatch & { plan: CsvPlan }> {
  const iterator = input[Symbol.asyncIterator]();
  const headChunks: Buffer[] = [];
  let headBytes = 0;
  let done = false;
  while (headBytes < PLAN_BYTES) {
    const next = await iterator.next();
    if (next.done) { done = true; break; }
    const b = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    headChunks.push(b);
    headBytes += b.length;
  }
  let head = Buffer.concat(headChunks);
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) head = head.subarray(3);
  const p = plan(file, head, options, table);
  const builder = new BatchBuilder(p, file);
  const ready: CsvBatch[] = [];
  let dataRows = 0;
  let batchStart = 0;
  let headerSkipped = options.columns !== undefined;
  let errors = 0;
  const maxErrors = options.maxErrors ?? 0;
  const tokenizer = new CsvTokenizer(p.delimiter, file, (row) => {
    if (!headerSkipped) { headerSkipped = true; return; }
    try {
      builder.add(row);
      dataRows++;
    } catch (error) {
      if (!(error instanceof InputError) || errors >= maxErrors) throw error;
      errors++;
      options.onReject?.({ line: row.line, reason: error.message, text: Array.from({ length: row.count }, (_, j) => fieldText(row, j)).join(',') });
      return;
    }
    if (builder.full) { ready.push({ batch: builder.take(), rowStart: batchStart }); batchStart = dataRows; }
  });
  tokenizer.feed(head);
  for (const b of ready.splice(0)) yield { ...b, plan: p };
  while (!done) {
    const next = await iterator.next();
    if (next.done) break;
    tokenizer.feed(next.value);
    for (const b of ready.splice(0)) yield { ...b, plan: p };
  }
  tokenizer.end();
  if (builder.rows > 0) ready.push({ batch: builder.take(), rowStart: batchStart });
  for (const b of ready.splice(0)) yield { ...b, plan: p };
}

export type { Readable };
