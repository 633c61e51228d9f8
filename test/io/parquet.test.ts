import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { InputError } from '../../src/errors.js';
import { importFiles } from '../../src/io/import.js';
import { readParquetFile } from '../../src/io/parquet.js';
import { rejection, rowsOf } from './helpers.js';
import { fieldTypeInfo, formatValue, valueAt } from '../../src/format/field-types.js';

const ROWS = 5000;

/** Every column type a time-series table takes, with nulls, in several row groups. */
const SELECT = `SELECT
  TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (k) SECOND AS time,
  'host_' || (k % 7) AS host,
  ((k % 3) - CASE WHEN k % 11 = 0 THEN 5000 ELSE 0 END)::INTEGER AS rack,
  (CASE k % 4 WHEN 0 THEN -5 WHEN 1 THEN 8589934599 WHEN 2 THEN 70000 + k % 2 ELSE k % 5 END)::BIGINT AS zone,
  TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL (k * 61) SECOND AS tz,
  CAST(TIMESTAMP '2025-12-31 23:59:59.987' + INTERVAL (k) SECOND AS TIMESTAMP_MS) AS ms,
  CAST(TIMESTAMP '1969-12-31 23:00:00' + INTERVAL (k) MINUTE AS TIMESTAMP_S) AS s,
  CAST(TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (k) MICROSECOND AS TIMESTAMP_NS) + INTERVAL (k * 7) MICROSECOND AS ns,
  DATE '2026-01-01' + (k % 100)::INTEGER AS d,
  k::BIGINT AS k,
  CASE WHEN k % 5 = 0 THEN NULL ELSE (k * 400009 - 1000000000)::INTEGER END AS i32,
  (k % 60000 - 30000)::SMALLINT AS i16,
  (k % 100 - 50)::TINYINT AS i8,
  (k * 7)::UINTEGER AS u32,
  (18446744073709551615 - k)::UBIGINT AS u64,
  (k / 7.0)::FLOAT AS f32,
  CASE WHEN k % 9 = 0 THEN NULL ELSE k / 3.0 - 100 END AS f64,
  CASE WHEN k % 4 = 0 THEN NULL ELSE k % 2 = 0 END AS b,
  (k * 1.25 - 300)::DECIMAL(9,2) AS dec9,
  (k * 3.3333 + 0.0001)::DECIMAL(18,4) AS dec18,
  (k * 1234567.891011 - 7)::DECIMAL(30,6) AS dec30,
  CASE WHEN k % 6 = 0 THEN NULL ELSE 'note ' || k || ' ✓' END AS note,
  ('00000000-0000-4000-8000-' || lpad(k::VARCHAR, 12, '0'))::UUID AS id,
  ('blob' || k)::BLOB AS bl
FROM range(${ROWS}) t(k)`;

/**
 * The values DuckDB reads back, in the units the Quiver table holds: the time column in ns;
 * other timestamps in their own unit (DuckDB writes TIMESTAMP_S, and TIMESTAMP_NS + INTERVAL is, in microseconds), dates in
 * days, decimals as text, UUIDs and blobs as base64 of their bytes.
 */
const REFERENCE = `SELECT k, epoch_ns(time) AS time, host, rack::VARCHAR AS rack, zone::VARCHAR AS zone, epoch_us(tz) AS tz, epoch_ms(ms) AS ms, epoch_us(s) AS s,
  epoch_us(ns) AS ns, (d - DATE '1970-01-01')::BIGINT AS d, i32::BIGINT AS i32, i16::BIGINT AS i16, i8::BIGINT AS i8, u32::BIGINT AS u32, u64,
  f32::DOUBLE AS f32, f64, b, dec9::VARCHAR AS dec9, dec18::VARCHAR AS dec18, dec30::VARCHAR AS dec30, note,
  to_base64(unhex(replace(id::VARCHAR, '-', ''))) AS id, to_base64(bl) AS bl
FROM read_parquet(?) ORDER BY k`;

const CODECS = ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4', 'brotli'];

/** Runs `body` with a DuckDB connection and a scratch directory, both gone afterwards. */
async function withDuck(body: (duck: DuckDBConnection, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-io-parquet-'));
  const instance = await DuckDBInstance.create(':memory:');
  const duck = await instance.connect();
  try {
    await body(duck, dir);
  } finally {
    duck.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('Parquet written by DuckDB in every codec and with v2 encodings imports with the values DuckDB reads', () => withDuck(async (duck, dir) => {
  const files: [string, string][] = [];
  for (const codec of CODECS) files.push([codec, `(FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 2048)`]);
  files.push(['v2 zstd', '(FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION v2, ROW_GROUP_SIZE 2048)']);
  files.push(['v2 snappy dictionary', '(FORMAT parquet, COMPRESSION snappy, PARQUET_VERSION v2, ROW_GROUP_SIZE 4096)']);
  for (const [label, options] of files) {
    const path = join(dir, `${label.replaceAll(' ', '-')}.parquet`);
    await duck.run(`COPY (${SELECT}) TO '${path}' ${options}`);
    const reader = await duck.runAndReadAll(REFERENCE, [path]);
    const reference = reader.getRowObjectsJS() as Record<string, unknown>[];
    const db = await Quiver.open(new MemoryChunkManager());
    const summary = await importFiles(db, [path], { table: 't', tags: ['host', 'rack', 'zone'] });
    assert.equal(summary.rows, ROWS, label);
    const t = await db.table('t');
    assert.equal(t.schema.timeUnit, 'ns');
    assert.deepEqual(t.schema.fields.map((f) => `${f.name}:${f.type}`), [
      'tz:timestamp(us,UTC)', 'ms:timestamp(ms)', 's:timestamp(us)', 'ns:timestamp(us)', 'd:date32', 'k:int64', 'i32:int64', 'i16:int64', 'i8:int64', 'u32:int64', 'u64:uint64',
      'f32:float64', 'f64:float64', 'b:bool', 'dec9:decimal(9,2)', 'dec18:decimal(18,4)', 'dec30:decimal(30,6)', 'note:utf8', 'id:fixed_binary(16)', 'bl:binary',
    ], label);
    // Types beyond the numbers as their stored integers or text (formatValue), the rest as Arrow gives them.
    const batches = (await t.query({})).batches;
    const typed = new Map(t.schema.fields.filter((f) => fieldTypeInfo(f.type).int || fieldTypeInfo(f.type).bytes).map((f) => [f.name, fieldTypeInfo(f.type)] as const));
    const rows = rowsOf(batches).map((r, i) => {
      const out: Record<string, unknown> = { ...r };
      for (const [name, info] of typed) {
        const batch = batches.find((_, b) => batches.slice(0, b + 1).reduce((n, x) => n + x.numRows, 0) > i)!;
        const row = i - batches.slice(0, batches.indexOf(batch)).reduce((n, x) => n + x.numRows, 0);
        const data = batch.getChild(name)!.data[0]!;
        out[name] = data.getValid(row) ? (info.family === 'decimal' || info.bytes ? formatValue(info, valueAt(info, data, row)) : valueAt(info, data, row)) : null;
      }
      return out;
    }).sort((a, b) => Number((a.k as bigint) - (b.k as bigint)));
    assert.equal(rows.length, ROWS);
    // Column by column (one deepEqual each): the row of a mismatch shows in the diff.
    const big = (v: unknown) => (v === null || v === undefined ? null : BigInt(v as bigint));
    const column = (c: string, f: (v: unknown) => unknown) => [rows.map((q) => q[c] ?? null), reference.map((r) => f(r[c]))];
    for (const c of ['time', 'tz', 'ms', 's', 'ns', 'd', 'i32', 'i16', 'i8', 'u32', 'u64']) {
      const [q, r] = column(c, big);
      assert.deepEqual(q, r, `${label} ${c}`);
    }
    // Decimals exactly, as DuckDB's decimal text; blobs and UUIDs byte for byte.
    for (const c of ['host', 'rack', 'zone', 'b', 'note', 'id', 'bl', 'f32', 'f64', 'dec9', 'dec18', 'dec30']) {
      const [q, r] = column(c, (v) => v ?? null);
      assert.deepEqual(q, r, `${label} ${c}`);
    }
  }
}));

test('Parquet of the types read as views into WebAssembly memory (ints, floats, timestamps, bools, strings) imports the values DuckDB reads', () => withDuck(async (duck, dir) => {
  const path = join(dir, 'views.parquet');
  await duck.run(`COPY (SELECT TIMESTAMP '2026-01-01' + INTERVAL (k) SECOND AS time, 'host_' || (k % 7) AS host, (k % 3)::BIGINT AS rack,
    CASE WHEN k % 5 = 0 THEN NULL ELSE (k * 0.25)::DOUBLE END AS f, k * 1000003 AS i, k % 2 = 0 AS b, CASE WHEN k % 4 = 0 THEN NULL ELSE 'n' || k END AS note
    FROM range(${ROWS}) t(k)) TO '${path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)`);
  const reference = (await duck.runAndReadAll(`SELECT epoch_ns(time) AS time, host, rack::VARCHAR AS rack, f, i, b, note FROM read_parquet(?) ORDER BY time`, [path])).getRowObjectsJS() as Record<string, unknown>[];
  // What the reader yields owns its buffers: none lies in WebAssembly memory, which the
  // next batch's decoding reuses.
  const { wasmMemory } = await import('parquet-wasm/node');
  for await (const b of readParquetFile(path, { bytes: 0 }, { tags: ['host', 'rack'], parallel: false })) {
    for (const d of b.batch.data.children) {
      for (const view of [d.values, d.valueOffsets, d.nullBitmap, ...(d.dictionary?.data.map((x) => x.values) ?? [])]) {
        assert.ok(view === undefined || view === null || view.buffer !== wasmMemory().buffer, `column ${String(b.batch.schema.fields[b.batch.data.children.indexOf(d)]?.name)} views WebAssembly memory`);
      }
    }
  }
  const db = await Quiver.open(new MemoryChunkManager());
  await importFiles(db, [path], { table: 't', tags: ['host', 'rack'] });
  const rows = rowsOf((await (await db.table('t')).query({})).batches).sort((a, b) => Number((a.time as bigint) - (b.time as bigint)));
  assert.equal(rows.length, ROWS);
  for (const c of ['time', 'host', 'rack', 'f', 'i', 'b', 'note']) {
    const norm = (v: unknown) => (v === undefined || v === null ? null : typeof v === 'bigint' ? v.toString() : typeof v === 'number' && c === 'i' ? String(v) : v);
    assert.deepEqual(rows.map((q) => norm(q[c])), reference.map((r) => norm(r[c])), c);
  }
}));

test('Parquet decoded in a worker thread gives the same batches, rows and byte count as inline', () => withDuck(async (duck, dir) => {
  const path = join(dir, 'w.parquet');
  await duck.run(`COPY (${SELECT}) TO '${path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)`);
  const read = async (parallel: boolean) => {
    const counter = { bytes: 0 };
    const batches = [];
    const starts = [];
    for await (const b of readParquetFile(path, counter, { tags: ['host'], parallel })) { batches.push(b.batch); starts.push(b.rowStart); }
    return { rows: rowsOf(batches), starts, bytes: counter.bytes };
  };
  const inline = await read(false);
  const worker = await read(true);
  assert.equal(inline.rows.length, ROWS);
  assert.deepEqual(inline.starts, [0, 2048, 4096]);
  assert.deepEqual(worker, inline);
  assert.equal(inline.bytes, statSync(path).size);
  // A consumer stopping early (the writer failed) terminates the worker.
  for await (const b of readParquetFile(path, { bytes: 0 }, { parallel: true })) { void b; break; }
  const broken = join(dir, 'broken.parquet');
  writeFileSync(broken, Buffer.from('PAR1 this is not parquet PAR1'));
  const error = await rejection((async () => { for await (const b of readParquetFile(broken, { bytes: 0 }, { parallel: true })) void b; })());
  assert.ok(error instanceof InputError);
  assert.match(error.message, /broken\.parquet: not a readable Parquet file \(29 bytes\)/);
}));

test('Parquet: nested columns and broken files are InputErrors naming the column or the file', () => withDuck(async (duck, dir) => {
  const nested = join(dir, 'nested.parquet');
  await duck.run(`COPY (SELECT TIMESTAMP '2026-01-01' + INTERVAL (k) SECOND AS time, k::DOUBLE AS v, [k, k + 1] AS pair FROM range(10) t(k)) TO '${nested}' (FORMAT parquet)`);
  const db = await Quiver.open(new MemoryChunkManager());
  const error = await rejection(importFiles(db, [nested], { table: 'n' }));
  assert.ok(error instanceof InputError);
  assert.match(error.message, new RegExp(`^${nested.replaceAll('.', '\\.')}: column pair has the nested type List<.*>; flatten it \\(one column per leaf\\) before import$`));
  assert.equal(await db.hasTable('n'), false);
  const broken = join(dir, 'broken.parquet');
  writeFileSync(broken, Buffer.from('PAR1 this is not parquet PAR1'));
  const bad = await rejection(importFiles(db, [broken], { table: 'n' }));
  assert.ok(bad instanceof InputError);
  assert.match(bad.message, /broken\.parquet: not a readable Parquet file \(29 bytes\)/);
}));
