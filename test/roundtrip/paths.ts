/**
 * The write paths of the round-trip property test: each takes a generated table into a
 * fresh Quiver table (library append of plain rows or of a RecordBatch; CSV, Parquet
 * written by parquet-wasm, Arrow IPC file and stream, through importFiles or the CLI), and
 * the comparison of what a scan returns with what went in, value by value.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Data, Field, makeData, RecordBatch, Schema, Struct, Table as ArrowTable, Timestamp, tableToIPC, Type,
} from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles, type ImportOptions } from '../../src/io/import.js';
import { CSV_SAMPLE_ROWS } from '../../src/io/csv/reader.js';
import { ARROW_TIME_UNIT } from '../../src/core/arrow-schema.js';
import type { Table } from '../../src/table/table.js';
import type { CreateTableSpec, Row } from '../../src/core/types.js';
import type { TimeUnit } from '../../src/format/types.js';
import { runCli } from '../cli/in-process.js';
import { CAPABILITIES } from './capabilities.js';
import { CANONICAL_NAN, isNanBits, Rand, tagData, type GenTable, type Value } from './generate.js';

export const PATHS = ['rows', 'batch', 'csv', 'parquet', 'arrow-file', 'arrow-stream'] as const;
export type PathName = (typeof PATHS)[number];

const NS_PER: Record<TimeUnit, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };

/** What a path does to a value by design (documented policy), or the value itself. */
function expectedValue(path: PathName, type: string, v: Value): Value {
  // NaN payload policy: binary paths keep a NaN's bits; CSV text says only "NaN", which is the
  // canonical quiet NaN 0x7ff8000000000000.
  if (type === 'float64' && path === 'csv' && isNanBits(v as bigint)) return CANONICAL_NAN;
  return v;
}

/** Rows a path cannot take exactly yet (CAPABILITIES), left out of its input and expectation. */
function takes(path: PathName, table: GenTable, i: number): boolean {
  if (path === 'csv' && !CAPABILITIES.csvEmptyString) {
    for (const f of table.fields) if (f.kind.type === 'utf8' && f.values[i] === '') return false;
  }
  return true;
}

/** The table restricted to the rows the path takes. */
export function restrict(path: PathName, table: GenTable): GenTable {
  const keep: number[] = [];
  for (let i = 0; i < table.time.length; i++) if (takes(path, table, i)) keep.push(i);
  if (keep.length === table.time.length) return table;
  return {
    ...table,
    time: keep.map((i) => table.time[i]!),
    tags: table.tags.map((t) => ({ name: t.name, values: keep.map((i) => t.values[i]!) })),
    fields: table.fields.map((f) => ({ ...f, values: keep.map((i) => f.values[i]!) })),
  };
}

/** The Arrow schema of the table's batches: Timestamp in the table's unit, tags plain or dictionary. */
export function arrowSchema(table: GenTable, dictionaryTags: boolean): Schema {
  return new Schema([
    new Field('time', new Timestamp(ARROW_TIME_UNIT[table.unit], null), false),
    ...table.tags.map((t) => new Field(t.name, tagData([], dictionaryTags).type, true)),
    ...table.fields.map((f) => new Field(f.name, f.kind.arrowType(), true)),
  ]);
}

/** The whole table as the columns of an Arrow RecordBatch of `schema` (arrowSchema). */
export function toColumns(table: GenTable, schema: Schema): Data[] {
  const n = table.time.length;
  const children: Data[] = [makeData({ type: schema.fields[0]!.type as Timestamp, length: n, nullCount: 0, data: BigInt64Array.from(table.time) as never })];
  table.tags.forEach((tag, k) => {
    // The schema's own dictionary type (one id) on every batch, as an IPC writer needs.
    children.push(tagData(tag.values, schema.fields[1 + k]!.type.typeId === Type.Dictionary).clone(schema.fields[1 + k]!.type as never));
  });
  for (const f of table.fields) children.push(f.kind.data(f.values));
  return children;
}

/**
 * Batches of random sizes covering the table, slices of one set of columns (so the batches of
 * an IPC file share their dictionaries, and offset slices get tested).
 */
function batches(table: GenTable, r: Rand): RecordBatch[] {
  const out: RecordBatch[] = [];
  const n = table.time.length;
  const schema = arrowSchema(table, r.chance(0.5));
  const columns = toColumns(table, schema);
  for (let at = 0; at < n;) {
    const size = Math.min(n - at, r.chance(0.5) ? n : 1 + r.int(n));
    out.push(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: size, nullCount: 0, children: columns.map((c) => c.slice(at, size)) })));
    at += size;
  }
  return out;
}

function tableSpec(table: GenTable, r: Rand, unit = table.unit): CreateTableSpec {
  const small = r.chance(0.5);
  return {
    timeUnit: unit,
    tags: table.tags.map((t) => t.name),
    fields: table.fields.map((f) => ({ name: f.name, type: f.kind.type })),
    partition: r.pick(['day', 'month', 'none', 'hour'] as const),
    // The generator repeats times on purpose: every row must come back, so duplicates are kept.
    duplicates: 'keep',
    ...(small ? { pageRows: r.pick([16, 100, 1000]), rowsPerChunkMax: r.pick([50, 500, 5000]), bufferRowsMax: r.pick([7, 100, 3000]) } : {}),
  };
}

function plainRows(table: GenTable, from: number, to: number): Row[] {
  const rows: Row[] = [];
  for (let i = from; i < to; i++) {
    const row: Row = { time: table.time[i]! * NS_PER[table.unit] };
    for (const t of table.tags) row[t.name] = t.values[i]!;
    for (const f of table.fields) { const v = f.values[i]!; if (v !== null) row[f.name] = f.kind.row(v) as never; else if (i % 2) row[f.name] = null; }
    rows.push(row);
  }
  return rows;
}

function csvCell(text: string, forceQuote: boolean): string {
  return forceQuote || text === '' || /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

function isoOf(t: bigint, unit: TimeUnit): string | null {
  const ns = t * NS_PER[unit];
  const sec = ns >= 0n ? ns / 1_000_000_000n : -((-ns + 999_999_999n) / 1_000_000_000n);
  const frac = ns - sec * 1_000_000_000n;
  if (sec < -62_135_596_800n || sec > 253_402_300_799n) return null; // years 0001–9999
  const iso = new Date(Number(sec) * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(frac).padStart(9, '0')}Z`;
}

export interface CsvFile { text: string; options: Pick<ImportOptions, 'tags' | 'schema' | 'timeFormat'> }

/** The table as CSV text and the import options it needs (--schema only where inference cannot know). */
export function toCsv(table: GenTable, r: Rand): CsvFile {
  const n = table.time.length;
  const isos = r.chance(0.5) ? table.time.map((t) => isoOf(t, table.unit)) : [];
  const iso = isos.length > 0 && isos.every((s) => s !== null);
  const quoteAll = r.chance(0.2);
  const lines = [['time', ...table.tags.map((t) => t.name), ...table.fields.map((f) => f.name)].join(',')];
  const cells = table.fields.map((f) => f.values.map((v) => (v === null ? null : f.kind.csv(v))));
  for (let i = 0; i < n; i++) {
    const line = [iso ? isos[i]! : String(table.time[i])];
    for (const t of table.tags) line.push(t.values[i] === null ? '' : csvCell(t.values[i]!, quoteAll));
    table.fields.forEach((f, k) => {
      const c = cells[k]![i]!;
      line.push(c === null ? '' : csvCell(c, quoteAll || (f.kind.type === 'utf8' && CAPABILITIES.csvEmptyString && c === '')));
    });
    lines.push(line.join(','));
  }
  const schema: Record<string, string> = {};
  table.fields.forEach((f, k) => {
    const sample = cells[k]!.slice(0, CSV_SAMPLE_ROWS).map((c) => c ?? '');
    if (r.chance(0.3) || !f.kind.csvInferable(sample)) schema[f.name] = f.kind.type;
  });
  return {
    text: `${lines.join(r.chance(0.3) ? '\r\n' : '\n')}\n`,
    options: { tags: table.tags.map((t) => t.name), ...(Object.keys(schema).length ? { schema } : {}), timeFormat: iso ? 'iso' : table.unit },
  };
}

/** Parquet bytes written by parquet-wasm (arrow-rs) with a random codec. */
async function toParquet(table: GenTable, r: Rand): Promise<Uint8Array> {
  const pq = await import('parquet-wasm/node');
  const arrow = new ArrowTable(batches(table, r));
  const wasmTable = pq.Table.fromIPCStream(tableToIPC(arrow, 'stream'));
  const codec = r.pick([pq.Compression.UNCOMPRESSED, pq.Compression.SNAPPY, pq.Compression.GZIP, pq.Compression.ZSTD, pq.Compression.LZ4_RAW, pq.Compression.BROTLI]);
  let builder = new pq.WriterPropertiesBuilder().setCompression(codec);
  if (r.chance(0.5)) builder = builder.setMaxRowGroupSize(1 + r.int(Math.max(1, table.time.length)));
  if (r.chance(0.3)) builder = builder.setDictionaryEnabled(false);
  if (r.chance(0.5)) builder = builder.setWriterVersion(r.chance(0.5) ? pq.WriterVersion.V1 : pq.WriterVersion.V2);
  return pq.writeParquet(wasmTable, builder.build());
}

export interface Written { db: Quiver; table: Table; unit: TimeUnit; how: string }

/**
 * Writes the table through a path into a fresh store: library calls on an in-memory store, or
 * (file paths) importFiles or the CLI, into a new table or one created first with small pages
 * and chunks (import --append).
 */
export async function write(path: PathName, table: GenTable, r: Rand, dir: string): Promise<Written> {
  const n = table.time.length;
  if (path === 'rows' || path === 'batch') {
    const db = await Quiver.open(new MemoryChunkManager());
    const t = await db.createTable('t', tableSpec(table, r));
    if (path === 'rows') {
      for (let at = 0; at < n;) { const size = 1 + r.int(n); await t.append(plainRows(table, at, Math.min(n, at + size))); at += size; }
    } else {
      for (const b of batches(table, r)) await t.append(b);
    }
    await t.flush();
    return { db, table: t, unit: table.unit, how: path };
  }
  // Files: into a finer unit when every time fits in it (no loss), else the table's own.
  const finer = (['ms', 'us', 'ns'] as const).filter((u) => NS_PER[u] < NS_PER[table.unit]
    && table.time.every((t) => { const v = (t * NS_PER[table.unit]) / NS_PER[u]; const [lo, hi] = CAPABILITIES.timeRange(u); return v >= lo && v <= hi; }));
  const unit = finer.length > 0 && r.chance(0.3) ? r.pick(finer) : table.unit;
  let file: string;
  let options: Pick<ImportOptions, 'tags' | 'schema' | 'timeFormat'> = { tags: table.tags.map((t) => t.name) };
  if (path === 'csv') {
    const csv = toCsv(table, r);
    file = join(dir, 'in.csv');
    writeFileSync(file, csv.text);
    options = csv.options;
  } else if (path === 'parquet') {
    file = join(dir, 'in.parquet');
    writeFileSync(file, await toParquet(table, r));
  } else {
    file = join(dir, path === 'arrow-file' ? 'in.arrow' : 'in.arrows');
    writeFileSync(file, tableToIPC(new ArrowTable(batches(table, r)), path === 'arrow-file' ? 'file' : 'stream'));
  }
  const cli = r.chance(0.25);
  const store = join(dir, 'store');
  const db = cli ? await Quiver.open(store) : await Quiver.open(new MemoryChunkManager());
  // The CLI cannot say "no tags" (string columns become tags): Parquet and Arrow files with
  // utf8 fields and no tags go into a table created first.
  const precreate = r.chance(0.4) || (cli && path !== 'csv' && table.tags.length === 0 && table.fields.some((f) => f.kind.type === 'utf8'));
  if (precreate) await db.createTable('t', tableSpec(table, r, unit));
  let how = `${path} ${cli ? 'cli' : 'importFiles'}${precreate ? ' --append into a created table' : ''} unit ${unit}`;
  if (cli) {
    await db.close();
    const args = ['import', file, '--table', 't', '--time-unit', unit];
    if (options.tags?.length) args.push('--tags', options.tags.join(','));
    // Without --tags the CLI makes string columns tags: name utf8 fields' type then.
    const schema = { ...options.schema };
    if (!options.tags?.length && path === 'csv') for (const f of table.fields) if (f.kind.type === 'utf8') schema[f.name] = 'utf8';
    if (Object.keys(schema).length) args.push('--schema', Object.entries(schema).map(([k, v]) => `${k}:${v}`).join(','));
    if (options.timeFormat) args.push('--time-format', options.timeFormat);
    args.push(...(precreate ? ['--append'] : ['--duplicates', 'keep']));
    how += ` (quiver ${args.slice(2).join(' ')})`;
    const result = await runCli(store, ...args);
    assert.equal(result.code, 0, `${how}: ${result.out}`);
    const reopened = await Quiver.open(store);
    return { db: reopened, table: await reopened.table('t'), unit, how };
  }
  how += ` ${JSON.stringify(options)}`;
  await importFiles(db, [file], { table: 't', ...options, timeUnit: unit, append: precreate, ...(precreate ? {} : { duplicates: 'keep' as const }) });
  return { db, table: await db.table('t'), unit, how };
}

/** Series key → sorted row keys (time and every field, exact). */
type Multiset = Map<string, string[]>;

function add(set: Multiset, series: string, row: string): void {
  let rows = set.get(series);
  if (!rows) set.set(series, (rows = []));
  rows.push(row);
}

const tagKey = (v: string | null): string => (v === null ? 'null' : Buffer.from(v).toString('hex'));

/** A scanned tag value's key from its bytes (Arrow JS's Vector.get would decode them). */
function tagBytes(data: Data, i: number): string {
  if (!data.getValid(i)) return 'null';
  assert.equal(data.type.typeId, Type.Dictionary);
  const dictionary = data.dictionary!.data[0]!;
  const code = (data.values as Int32Array)[i]!;
  const offsets = dictionary.valueOffsets as Int32Array;
  const bytes = dictionary.values as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset + offsets[code]!, offsets[code + 1]! - offsets[code]!).toString('hex');
}

/** What went in, in the table unit `unit`, as the path should give it back. */
export function expected(path: PathName, table: GenTable, unit: TimeUnit): Multiset {
  const set: Multiset = new Map();
  const scale = NS_PER[table.unit] / NS_PER[unit];
  for (let i = 0; i < table.time.length; i++) {
    const series = table.tags.map((t) => tagKey(t.values[i]!)).join('/');
    const fields = table.fields.map((f) => { const v = f.values[i]!; return v === null ? 'null' : f.kind.key(expectedValue(path, f.kind.type, v)); });
    add(set, series, [String(table.time[i]! * scale), ...fields].join('|'));
  }
  for (const rows of set.values()) rows.sort();
  return set;
}

/** What a full scan returns, checking on the way that each series comes in time order. */
export async function scanned(written: Written, table: GenTable): Promise<Multiset> {
  const set: Multiset = new Map();
  const last = new Map<string, bigint>();
  for await (const batch of written.table.scan({})) {
    const time = batch.getChildAt(0)!;
    assert.equal(time.type.typeId, Type.Timestamp);
    const times = time.data[0]!.values as BigInt64Array;
    const tags = table.tags.map((t) => batch.getChild(t.name)!.data[0]!);
    const fields = table.fields.map((f) => {
      const child = batch.getChild(f.name);
      assert.ok(child, `scan has no column ${f.name}`);
      assert.equal(child.data.length, 1);
      return child.data[0]!;
    });
    for (let i = 0; i < batch.numRows; i++) {
      const series = tags.map((t) => tagBytes(t, i)).join('/');
      const t = times[i]!;
      const previous = last.get(series);
      assert.ok(previous === undefined || previous <= t, `series ${series}: time ${t} after ${previous}`);
      last.set(series, t);
      const row = [String(t), ...table.fields.map((f, k) => (fields[k]!.getValid(i) ? f.kind.scanKey(fields[k]!, i) : 'null'))];
      add(set, series, row.join('|'));
    }
  }
  for (const rows of set.values()) rows.sort();
  return set;
}

/** The first difference between two multisets, as a message naming series, column and values (null when equal). */
export function difference(table: GenTable, want: Multiset, got: Multiset): string | null {
  const columns = ['time', ...table.fields.map((f) => f.name)];
  const describe = (row: string | undefined) => (row === undefined ? 'no row' : row.split('|').map((v, k) => `${columns[k]}=${v}`).join(' '));
  for (const series of new Set([...want.keys(), ...got.keys()])) {
    const a = want.get(series) ?? [];
    const b = got.get(series) ?? [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i] === b[i]) continue;
      const extra = b.filter((x) => !a.includes(x)).slice(0, 1)[0];
      const lost = a.filter((x) => !b.includes(x)).slice(0, 1)[0];
      return `series [${series}] (tags as UTF-8 hex): ${a.length} rows in, ${b.length} out; in but not out: ${describe(lost)}; out but not in: ${describe(extra)} (floats as bit hex, strings as UTF-8 hex)`;
    }
  }
  return null;
}
