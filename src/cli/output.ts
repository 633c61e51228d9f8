import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { formatTime } from '../core/time.js';
import { UsageError } from '../errors.js';
import { jsonNumber } from './json.js';
import type { TimeUnit } from '../format/types.js';
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

const UNIT_OF_PER_SECOND = new Map<bigint, TimeUnit>([[1n, 's'], [1_000n, 'ms'], [1_000_000n, 'us'], [1_000_000_000n, 'ns']]);

/**
 * ISO-8601 with only the fractional digits the value needs: `2026-01-01T00:00:10.5Z` (any
 * int64, see formatTime); in `zone`'s local time with its offset when one is given
 * (`2026-01-01T01:00:10.5+01:00`).
 */
export function formatTimestamp(value: bigint, perSecond: bigint, zone?: TimeZoneFormat): string {
  const unit = UNIT_OF_PER_SECOND.get(perSecond) ?? 'ns';
  if (!zone || zone.utc) return formatTime(value, unit);
  const offset = zone.offsetSeconds(value, perSecond);
  const local = formatTime(value + BigInt(offset) * perSecond, unit);
  const abs = Math.abs(offset);
  const two = (n: number) => String(n).padStart(2, '0');
  // Local mean times before standard zones have offsets in seconds (Berlin +00:53:28): kept, as RFC 9557 allows.
  const text = `${offset < 0 ? '-' : '+'}${two(Math.floor(abs / 3600))}:${two(Math.floor(abs / 60) % 60)}${abs % 60 ? `:${two(abs % 60)}` : ''}`;
  return `${local.slice(0, -1)}${text}`;
}

/** Milliseconds JS dates can hold (±100,000,000 days around 1970): a zone's offset is looked up within them. */
const DATE_MS_MAX = 8_640_000_000_000_000n;

/**
 * A time zone for printing (`--tz`): IANA names (`Europe/Berlin`), `UTC`, or `local` (the
 * process's zone, TZ). The offset of each instant comes from the platform's tz database
 * (Intl), cached per quarter hour of UTC (a quarter hour with a transition inside is looked up per
 * instant);
 * instants beyond what a JS Date holds take the offset at the nearest one it holds.
 */
export class TimeZoneFormat {
  readonly name: string;
  readonly utc: boolean;
  private readonly parts: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();
  constructor(zone: string) {
    const resolved = zone === 'local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : zone;
    try {
      this.parts = new Intl.DateTimeFormat('en-US', {
        timeZone: resolved, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
      });
    } catch {
      throw new UsageError(`--tz ${JSON.stringify(zone)}: not a time zone (an IANA name such as Europe/Berlin, UTC, or local)`);
    }
    this.name = this.parts.resolvedOptions().timeZone;
    this.utc = this.name === 'UTC' || this.name === 'Etc/UTC';
  }

  /** Seconds east of UTC at `value` (in units of 1/perSecond s). */
  offsetSeconds(value: bigint, perSecond: bigint): number {
    if (this.utc) return 0;
    let ms = (value * 1000n) / perSecond;
    if (ms > DATE_MS_MAX) ms = DATE_MS_MAX;
    if (ms < -DATE_MS_MAX) ms = -DATE_MS_MAX;
    const quarter = Math.floor(Number(ms) / 900_000);
    let offset = this.cache.get(quarter);
    if (offset === undefined) {
      if (this.cache.size > 100_000) this.cache.clear();
      const first = this.lookup(quarter * 900_000);
      // A quarter hour with a transition inside (rare, e.g. from local mean time) is looked up per instant.
      offset = first === this.lookup(quarter * 900_000 + 899_000) ? first : NaN;
      this.cache.set(quarter, offset);
    }
    return Number.isNaN(offset) ? this.lookup(Number(ms)) : offset;
  }

  private lookup(ms: number): number {
    const p: Record<string, string> = Object.create(null);
    for (const part of this.parts.formatToParts(new Date(ms))) p[part.type] = part.value;
    const year = p.era === 'BC' || p.era === 'B' ? 1 - Number(p.year) : Number(p.year);
    const wall = new Date(0);
    wall.setUTCFullYear(year, Number(p.month) - 1, Number(p.day));
    wall.setUTCHours(Number(p.hour), Number(p.minute), Number(p.second), 0);
    // The wall clock minus the instant (whole seconds: the parts have no fraction) is the offset.
    return Math.round((wall.getTime() - (ms - (((ms % 1000) + 1000) % 1000))) / 1000);
  }
}

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

/** CSV: null is an empty field, "" a quoted empty field (as RFC 4180 readers, DuckDB and pandas tell them apart). */
function csvCell(value: Cell): string {
  if (value === null) return '';
  const text = String(value);
  if (text === '') return '""';
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Table format: null shows as null, "" as "" (an empty cell would hide it). */
function tableCell(value: Cell): string {
  if (value === null) return 'null';
  const text = String(value);
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

/** Renders plain records as an aligned text table (for inspect/tables output). */
export function renderTable(records: Record<string, unknown>[], columns?: string[]): string {
  if (records.length === 0) return '(none)\n';
  const names = columns ?? Object.keys(records[0]!);
  const cells = records.map((r) => names.map((n) => formatPlain(r[n])));
  const widths = names.map((n, j) => Math.max(n.length, ...cells.map((row) => row[j]!.length)));
  const line = (row: string[]) => row.map((c, j) => c.padEnd(widths[j]!)).join('  ').trimEnd();
  return [line(names), ...cells.map(line)].join('\n') + '\n';
}

function formatPlain(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(3);
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export { toJson } from './json.js';

export type { Schema };
