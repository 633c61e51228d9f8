import { open } from 'node:fs/promises';
import { parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { Bool, Dictionary, Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct, Timestamp, Uint64, Utf8, vectorFromArray, type Data, type Vector } from 'apache-arrow';
import { InputError } from '../errors.js';
import type { FieldType } from '../format/types.js';
import { ARROW_TIME_UNIT } from '../table/arrow-schema.js';
import { convertTime } from '../table/time.js';
import type { TableSchema } from '../table/types.js';

/** A timestamp decoded by our parsers: epoch nanoseconds, exact. */
class Ns {
  constructor(readonly ns: bigint) {}
}

const PARSERS = {
  timestampFromMilliseconds: (v: bigint) => new Ns(v * 1_000_000n),
  timestampFromMicroseconds: (v: bigint) => new Ns(v * 1_000n),
  timestampFromNanoseconds: (v: bigint) => new Ns(v),
  dateFromDays: (d: number) => new Ns(BigInt(d) * 86_400_000_000_000n),
};

const TIME_NAMES = ['time', 'timestamp', 'ts', 'datetime', 'date', '_time'];

/**
 * Parquet files through hyparquet (+ hyparquet-compressors: snappy, gzip, zstd, lz4,
 * brotli), row group by row group, so memory holds one row group at a time. Timestamps of
 * every unit (and INT96, dates) come back as exact nanoseconds; decimals and floats as
 * float64; strings as tags or utf8 fields; nested columns are refused by name.
 */
export async function* readParquetFile(file: string, counter: { bytes: number }, options: { time?: string; tags?: string[] }, table?: TableSchema): AsyncGenerator<{ batch: RecordBatch; rowStart: number; schema?: TableSchema }> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const buffer = {
      byteLength: size,
      async slice(start: number, end?: number): Promise<ArrayBuffer> {
        const length = (end ?? size) - start;
        const out = new Uint8Array(length);
        await handle.read(out, 0, length, start);
        counter.bytes += length;
        return out.buffer;
      },
    };
    let metadata;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (error) {
      throw new InputError(`${file}: not a readable Parquet file: ${(error as Error).message}`, file);
    }
    const root = parquetSchema(metadata);
    for (const child of root.children) {
      if (child.children.length > 0) throw new InputError(`${file}: column ${child.element.name} is nested (${child.children.length} children); flatten it before import`, file, undefined, child.element.name);
    }
    const names = root.children.map((c) => c.element.name);
    let rowStart = 0;
    let schema = table;
    for (const group of metadata.row_groups) {
      const rows = Number(group.num_rows);
      const columns = new Map<string, unknown[]>();
      await parquetRead({
        file: buffer, metadata, rowStart, rowEnd: rowStart + rows, compressors, parsers: PARSERS as never,
        onChunk: (chunk) => {
          const arr = (columns.get(chunk.columnName) ?? new Array(rows)) as unknown[];
          const data = chunk.columnData as ArrayLike<unknown>;
          for (let i = 0; i < data.length; i++) {
            const at = chunk.rowStart + i - rowStart;
            if (at >= 0 && at < rows) arr[at] = data[i];
          }
          columns.set(chunk.columnName, arr);
        },
      });
      schema ??= inferSchema(file, names, columns, options);
      yield { batch: toBatch(file, schema, names, columns, rows, rowStart), rowStart, schema };
      rowStart += rows;
    }
  } finally {
    await handle.close();
  }
}

function inferSchema(file: string, names: string[], columns: Map<string, unknown[]>, options: { time?: string; tags?: string[] }): TableSchema {
  const first = (name: string) => columns.get(name)?.find((v) => v !== null && v !== undefined);
  const time = options.time ?? names.find((n) => first(n) instanceof Ns) ?? names.find((n) => TIME_NAMES.includes(n.toLowerCase()));
  if (!time || !names.includes(time)) throw new InputError(`${file}: no time column (a timestamp column, or name one with --time)`, file);
  const tags = options.tags ?? names.filter((n) => n !== time && typeof first(n) === 'string');
  const fields = names.filter((n) => n !== time && !tags.includes(n)).map((name) => {
    const v = first(name);
    const type: FieldType = typeof v === 'bigint' ? 'int64' : typeof v === 'boolean' ? 'bool' : typeof v === 'string' ? 'utf8' : 'float64';
    return { name, type, nullable: true };
  });
  return { time, timeUnit: 'ns', tags, fields };
}

function toBatch(file: string, schema: TableSchema, names: string[], columns: Map<string, unknown[]>, n: number, rowStart: number): RecordBatch {
  const fields: Field[] = [];
  const children: Data[] = [];
  const timeValues = columns.get(schema.time);
  if (!timeValues) throw new InputError(`${file}: no column ${schema.time} (the table's time column)`, file);
  const time = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const v = timeValues[i];
    let ns: bigint;
    if (v instanceof Ns) ns = v.ns;
    else if (typeof v === 'bigint') ns = v;
    else if (typeof v === 'number' && Number.isFinite(v)) ns = BigInt(Math.round(v)) * 1_000_000n;
    else throw new InputError(`${file}: row ${rowStart + i + 1} (column ${schema.time}): expected a timestamp, got ${String(v)}`, file, rowStart + i + 1, schema.time);
    time[i] = convertTime(ns, 'ns', schema.timeUnit);
  }
  const timeType = new Timestamp(ARROW_TIME_UNIT[schema.timeUnit], null);
  fields.push(new Field(schema.time, timeType, false));
  children.push(makeData({ type: timeType, length: n, nullCount: 0, data: time as never }));
  for (const tag of schema.tags) {
    const values = columns.get(tag);
    const strings = Array.from({ length: n }, (_, i) => (values?.[i] === null || values?.[i] === undefined ? '' : String(values[i])));
    const dict = new Map<string, number>();
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) { let c = dict.get(strings[i]!); if (c === undefined) { c = dict.size; dict.set(strings[i]!, c); } codes[i] = c; }
    const type = new Dictionary(new Utf8(), new Int32());
    fields.push(new Field(tag, type, true));
    children.push(makeData({ type, length: n, nullCount: 0, data: codes, dictionary: vectorFromArray([...dict.keys()], new Utf8()) as Vector<Utf8> }));
  }
  for (const name of names) {
    if (name === schema.time || schema.tags.includes(name)) continue;
    const values = columns.get(name)!;
    const known = schema.fields.find((f) => f.name === name);
    const sample = values.find((v) => v !== null && v !== undefined);
    const type: FieldType = known?.type ?? (typeof sample === 'bigint' ? 'int64' : typeof sample === 'boolean' ? 'bool' : typeof sample === 'string' ? 'utf8' : 'float64');
    const bitmap = new Uint8Array((n + 7) >> 3);
    let nulls = 0;
    for (let i = 0; i < n; i++) { if (values[i] === null || values[i] === undefined) nulls++; else bitmap[i >> 3]! |= 1 << (i & 7); }
    const nullBitmap = nulls ? bitmap : undefined;
    const bad = (i: number, expected: string): never => {
      throw new InputError(`${file}: row ${rowStart + i + 1} (column ${name}): expected ${expected}, got ${typeof values[i]} ${String(values[i])}`, file, rowStart + i + 1, name);
    };
    let data: Data;
    if (type === 'float64') {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        out[i] = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : v instanceof Ns ? Number(v.ns) : bad(i, 'a number');
      }
      data = makeData({ type: new Float64(), length: n, nullCount: nulls, nullBitmap, data: out });
    } else if (type === 'int64' || type === 'uint64') {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        out[i] = typeof v === 'bigint' ? BigInt.asIntN(64, v) : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v instanceof Ns ? v.ns : bad(i, 'an integer');
      }
      data = type === 'int64'
        ? makeData({ type: new Int64(), length: n, nullCount: nulls, nullBitmap, data: out as never })
        : makeData({ type: new Uint64(), length: n, nullCount: nulls, nullBitmap, data: new BigUint64Array(out.buffer) as never });
    } else if (type === 'bool') {
      const bits = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) { const v = values[i]; if (v === true) bits[i >> 3]! |= 1 << (i & 7); else if (v !== false && v !== null && v !== undefined) bad(i, 'a boolean'); }
      data = makeData({ type: new Bool(), length: n, nullCount: nulls, nullBitmap, data: bits });
    } else {
      data = vectorFromArray(values.map((v) => (v === null || v === undefined ? null : v instanceof Ns ? v.ns.toString() : String(v))), new Utf8()).data[0]!;
    }
    fields.push(new Field(name, data.type, true));
    children.push(data);
  }
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}
