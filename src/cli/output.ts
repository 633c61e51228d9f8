import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { formatTimestamp, TimeZoneFormat } from './text.js';
import { jsonNumber } from './json.js';
import { AsyncByteQueue, RecordBatchStreamWriter, Type, TimeUnit as ArrowTimeUnit, type RecordBatch, type Schema, type Vector } from 'apache-arrow';
import { utf8DataAt, utf8VectorAt } from '../format/utf8.js';
import { fieldTypeInfo, formatValue, importFieldTypeOf, valueAt } from '../format/field-types.js';

/** Output formats of `quiver scan` / `quiver query`. */
export const OUTPUT_FORMATS = ['table', 'csv', 'jsonl', 'arrow'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const UNIT_PER_SECOND: Record<number, bigint> = {
  [ArrowTimeUnit.SECOND]: 1n,
  [ArrowTimeUnit.MILLISECOND]: 1_000n,
  [ArrowTimeUnit.MICROSECOND]: 1_000_000n,
  [ArrowTimeUnit.NANOSECOND]: 1_000_000_000n,
};

type Cell = string | number | bigint | boolean | null;

/** One accessor per column: row index → plain value (timestamps as ISO strings). */
function cellReaders(batch: RecordBatch, zone?: TimeZoneFormat): ((row: number) => Cell)[] {
  return batch.schema.fields.map((field, j) => {
    const vector = batch.getChildAt(j) as Vector;
    if (field.type.typeId === Type.Timestamp) {
      const perSecond = UNIT_PER_SECOND[(field.type as { unit: number }).unit]!;
      const data = vector.data[0]!;
      const values = data.values as BigInt64Array; // sliced with the data (data.offset addresses bitmaps only)
      return (row: number) => (vector.isValid(row) ? formatTimestamp(values[row]!, perSecond, zone) : null);
    }
    // Strings decoded from their bytes (Vector.get would drop a leading U+FEFF, see format/utf8.ts).
    if (vector.data.length === 1 && field.type.typeId === Type.Utf8) {
      const data = vector.data[0]!;
      return (row: number) => (data.getValid(row) ? utf8DataAt(data, row) : null);
    }
    if (vector.data.length === 1 && field.type.typeId === Type.Dictionary) {
      const data = vector.data[0]!;
      return (row: number) => (data.getValid(row) ? utf8VectorAt(data.dictionary!, Number((data.values as Int32Array)[row]!)) : null);
    }
    const typed = typedFormatter(field.type);
    if (typed !== null) {
      const data = vector.data[0]!;
      return (row: number) => (vector.isValid(row) ? typed(data, row) : null);
    }
    return (row: number) => (vector.isValid(row) ? (vector.get(row) as Cell) : null);
  });
}

/**
 * Text of the field types beyond the numbers, bool and utf8 (docs/types.md): dates
 * `YYYY-MM-DD`, times `HH:MM:SS.ffffff`, decimals with their scale's digits, binary in base64
 * (strings in every format); durations as their integer count of the unit (a JSON number when
 * safe). Null for the other types.
 */
function typedFormatter(type: Schema['fields'][number]['type']): ((data: import('apache-arrow').Data, row: number) => Cell) | null {
  const mapped = importFieldTypeOf(type);
  if (mapped === null || typeof mapped === 'string' || type.typeId === Type.Dictionary) return null;
  const info = fieldTypeInfo(mapped.type);
  if (!info.int && !info.bytes) return null;
  if (info.family === 'duration') return (data, row) => valueAt(info, data, row) as bigint;
  return (data, row) => formatValue(info, valueAt(info, data, row));
}

/** A cell's text: String() but -0 as "-0" (String(-0) is "0", which would read back as +0). */
function cellText(value: Exclude<Cell, null>): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

/** CSV: null is an empty field, "" a quoted empty field (as RFC 4180 readers, DuckDB and pandas tell them apart). */
function csvCell(value: Cell): string {
  if (value === null) return '';
  const text = cellText(value);
  if (text === '') return '""';
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Table format: null shows as null, "" as "" (an empty cell would hide it). */
function tableCell(value: Cell): string {
  if (value === null) return 'null';
  const text = cellText(value);
  return text === '' ? '""' : text;
}

/**
 * A cell as JSON text: 64-bit integers as numbers with all their digits (never rounded, the
 * same for every value of a column; JavaScript's JSON.parse rounds beyond 2^53, so read them
 * with a bigint-aware parser), NaN and ±Infinity as the strings "NaN", "Infinity",
 * "-Infinity" (JSON has no such numbers), -0 as -0.
 */
function jsonCell(value: Cell): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return jsonNumber(value);
  return JSON.stringify(value);
}

/** A row object as one line of JSON (keys in column order). */
function jsonRow(names: readonly string[], cells: readonly Cell[]): string {
  let out = '{';
  for (let j = 0; j < names.length; j++) out += `${j ? ',' : ''}${JSON.stringify(names[j])}:${jsonCell(cells[j]!)}`;
  return `${out}}`;
}

/** Writes to a file or stdout, honouring back-pressure. */
export class Sink {
  private readonly stream: NodeJS.WritableStream | WriteStream;
  /** A file, process.stdout (no path), or any writable stream (an HTTP response). */
  constructor(path?: string | NodeJS.WritableStream) {
    this.stream = typeof path === 'string' ? createWriteStream(path) : path ?? process.stdout;
  }
  async write(text: string | Uint8Array): Promise<void> {
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
  async end(): Promise<void> {
    if (this.stream === process.stdout) return;
    (this.stream as WriteStream).end();
    await once(this.stream, 'finish');
  }
  get raw(): NodeJS.WritableStream { return this.stream; }
}

/**
 * The byte queue an Arrow stream writer writes into, collected synchronously: after each
 * batch the caller takes exactly the bytes that batch added (its dictionaries and record
 * batch message), so each is written once. (apache-arrow's own queue keeps every byte, and
 * toUint8Array(true) returns all of them again after each batch.)
 */
class ArrowBytes extends AsyncByteQueue<Uint8Array> {
  private parts: Uint8Array[] = [];
  private bytes = 0;
  override write(value: ArrayBufferView | ArrayBufferLike): void {
    const part = ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
    if (part.byteLength === 0) return;
    this.parts.push(part);
    this.bytes += part.byteLength;
  }
  /** The bytes written since the last take, as one array. */
  take(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let at = 0;
    for (const p of this.parts) { out.set(p, at); at += p.byteLength; }
    this.parts = [];
    this.bytes = 0;
    return out;
  }
}

/** Streams batches as one Arrow IPC stream: the schema, each batch once, end of stream; a schema-only stream when there is none. */
async function writeArrow(batches: AsyncIterable<RecordBatch>, sink: Sink, schema: Schema | undefined): Promise<number> {
  const bytes = new ArrowBytes();
  const writer = new RecordBatchStreamWriter();
  writer.reset(bytes);
  let rows = 0;
  for await (const batch of batches) {
    writer.write(batch);
    rows += batch.numRows;
    await sink.write(bytes.take());
  }
  // No batch: the schema alone (reset with a schema writes its message).
  if (rows === 0 && schema && bytes.take().byteLength === 0) writer.reset(bytes, schema);
  writer.finish();
  await sink.write(bytes.take());
  return rows;
}

const TABLE_WIDTH_SAMPLE_ROWS = 1000;

/** Options of the text formats (table, csv, jsonl, json). */
export interface TextOptions {
  /** Print times in this zone's local time with its offset (default UTC, `Z`). */
  timeZone?: TimeZoneFormat;
}

/**
 * Streams batches in one of the output formats; returns the number of rows written. With no
 * batch at all, `schema` gives CSV and table output their header row and Arrow its schema
 * message (JSON lines print nothing).
 */
export async function writeBatches(batches: AsyncIterable<RecordBatch>, format: OutputFormat, sink: Sink, schema?: Schema, options: TextOptions = {}): Promise<number> {
  if (format === 'arrow') return writeArrow(batches, sink, schema);
  let rows = 0;
  let header: string[] | undefined;
  let pending: string[][] = [];
  let widths: number[] | undefined;
  // Column widths come from the first TABLE_WIDTH_SAMPLE_ROWS rows; later rows stream through.
  const flushTable = async () => {
    if (!header) return;
    if (!widths) {
      widths = header.map((h, j) => Math.max(h.length, ...pending.map((r) => r[j]!.length)));
      await sink.write(header.map((h, j) => h.padEnd(widths![j]!)).join('  ').trimEnd() + '\n');
    }
    if (pending.length) await sink.write(pending.map((r) => r.map((c, j) => c.padEnd(widths![j]!)).join('  ').trimEnd()).join('\n') + '\n');
    pending = [];
  };
  const start = async (names: string[]) => {
    header = names;
    if (format === 'csv') await sink.write(names.map(csvCell).join(',') + '\n');
  };
  for await (const batch of batches) {
    const names = batch.schema.fields.map((f) => f.name);
    const readers = cellReaders(batch, options.timeZone);
    if (!header) await start(names);
    const lines: string[] = [];
    for (let i = 0; i < batch.numRows; i++) {
      const cells = readers.map((read) => read(i));
      rows++;
      if (format === 'csv') lines.push(cells.map(csvCell).join(','));
      else if (format === 'jsonl') lines.push(jsonRow(names, cells));
      else {
        pending.push(cells.map(tableCell));
        if (pending.length >= TABLE_WIDTH_SAMPLE_ROWS) await flushTable();
      }
    }
    if (lines.length) await sink.write(lines.join('\n') + '\n');
  }
  if (!header && schema) await start(schema.fields.map((f) => f.name));
  if (format === 'table') await flushTable();
  return rows;
}

export { formatTimestamp, renderTable, TimeZoneFormat } from './text.js';
export { toJson } from './json.js';

export type { Schema };
