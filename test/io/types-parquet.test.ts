import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Field, makeData, Null, Table, tableToIPC } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm/node';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { InputError } from '../../src/errors.js';
import { fieldTypeInfo, formatValue, valueAt } from '../../src/format/field-types.js';
import type { FieldType } from '../../src/format/types.js';
import { importFiles } from '../../src/io/import.js';
import { decodeThrift, encodeThrift, I32, I64, STRUCT, type ThriftStruct, type ThriftValue } from '../../src/io/parquet-footer.js';
import { expectedKeys, FIXTURE_TYPES, keysOf, timesFrom, typedBatch, typedColumns } from '../table/types-fixture.js';
import { seedFromEnv } from '../format/helpers.js';
import { rejection } from './helpers.js';

const ROWS = 3000;
const CODECS = ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4', 'brotli'];

async function withDuck(body: (duck: DuckDBConnection, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-io-types-parquet-'));
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

/** `k = 0`, `k = 1` give the extremes, every 7th row is null, the rest `other`. */
const col = (low: string, high: string, other: string) => `CASE WHEN k % 7 = 3 THEN NULL WHEN k = 0 THEN ${low} WHEN k = 1 THEN ${high} ELSE ${other} END`;
const NINES = (n: number) => '9'.repeat(n);

/**
 * Every DuckDB type that maps to a field type, with its extremes, nulls and varied values.
 * `wide32`: int32/uint32 extremes side by side. DuckDB's PARQUET_VERSION V2 writer codes
 * INT32 deltas wider than 32 bits in DELTA_BINARY_PACKED pages, which the spec forbids and
 * arrow-rs (parquet-wasm), like Arrow C++, cannot read (docs/types.md): v2 files keep them apart.
 */
const select = (wide32: boolean) => `SELECT TIMESTAMP '2026-01-01' + INTERVAL (k) SECOND AS time, k::BIGINT AS k,
  ${col(`DATE '0001-01-01'`, `DATE '9999-12-31'`, `DATE '2026-01-01' + (k * 37 % 100000 - 50000)::INTEGER`)} AS d,
  ${col(`TIME '00:00:00'`, `TIME '23:59:59.999999'`, `TIME '00:00:00' + INTERVAL (k * 7919) SECOND + INTERVAL (k * 13) MICROSECOND`)} AS t,
  ${col(`-99.99::DECIMAL(4,2)`, `99.99::DECIMAL(4,2)`, `(((k * 37 % 19999) - 9999) * 0.01)::DECIMAL(4,2)`)} AS dec4,
  ${col(`-${NINES(12)}.${NINES(6)}::DECIMAL(18,6)`, `${NINES(12)}.${NINES(6)}::DECIMAL(18,6)`, `(k * 1234567.891011 - 1000000000)::DECIMAL(18,6)`)} AS dec18,
  ${col(`-${NINES(28)}.${NINES(10)}::DECIMAL(38,10)`, `${NINES(28)}.${NINES(10)}::DECIMAL(38,10)`, `(k::DECIMAL(38,10) * 1234567890123.0123456789 - 7)::DECIMAL(38,10)`)} AS dec38,
  ${col(`''::BLOB`, `'\\xFF\\x00\\xC3\\x28'::BLOB`, `CASE WHEN k = 2 THEN repeat('x', 100000)::BLOB ELSE ('b' || k)::BLOB END`)} AS bl,
  ${col(`'00000000-0000-0000-0000-000000000000'::UUID`, `'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID`, `md5(k::VARCHAR)::UUID`)} AS id,
  ${col('(-128)::TINYINT', '127::TINYINT', '(k % 200 - 100)::TINYINT')} AS i8,
  ${col('(-32768)::SMALLINT', '32767::SMALLINT', '(k * 7 % 60000 - 30000)::SMALLINT')} AS i16,
  ${col(wide32 ? '(-2147483648)::INTEGER' : '(-1000000000)::INTEGER', wide32 ? '2147483647::INTEGER' : '1000000000::INTEGER', '(k * 400009 - 1000000000)::INTEGER')} AS i32,
  ${col('(-9223372036854775808)::BIGINT', '9223372036854775807::BIGINT', '(k * 3037000493)::BIGINT')} AS i64,
  ${col('0::UTINYINT', '255::UTINYINT', '(k % 256)::UTINYINT')} AS u8,
  ${col('0::USMALLINT', '65535::USMALLINT', '(k * 7 % 65536)::USMALLINT')} AS u16,
  ${col('0::UINTEGER', wide32 ? '4294967295::UINTEGER' : '2000000000::UINTEGER', wide32 ? '(k * 1400003)::UINTEGER' : '(k * 600001)::UINTEGER')} AS u32,
  ${col('0::UBIGINT', '18446744073709551615::UBIGINT', '(18446744073709551615 - k * 3)::UBIGINT')} AS u64,
  ${col(`'-inf'::FLOAT`, `'nan'::FLOAT`, '(k / 7.0)::FLOAT')} AS f32,
  ${col('-1.7976931348623157e308::DOUBLE', `'-0.0'::DOUBLE`, 'k / 3.0 - 100')} AS f64,
  ${col('false', 'true', 'k % 3 = 0')} AS b,
  ${col(`TIMESTAMP_MS '0001-01-01 00:00:00'`, `TIMESTAMP_MS '9999-12-31 23:59:59.999'`, `CAST(TIMESTAMP '2026-01-01' + INTERVAL (k * 61) SECOND AS TIMESTAMP_MS)`)} AS tms,
  ${col(`TIMESTAMP_NS '1677-09-22 00:00:01'`, `TIMESTAMP_NS '2262-04-11 23:47:16.854775'`, `CAST(TIMESTAMP '2026-01-01' AS TIMESTAMP_NS) + INTERVAL (k * 7) MICROSECOND`)} AS tns,
  ${col(`TIMESTAMP_S '0001-01-01 00:00:00'`, `TIMESTAMP_S '9999-12-31 23:59:59'`, `CAST(TIMESTAMP '2026-01-01' + INTERVAL (k) HOUR AS TIMESTAMP_S)`)} AS ts,
  ${col(`TIMESTAMPTZ '0001-01-01 00:00:00+00'`, `TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'`, `TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL (k * 61) SECOND`)} AS tz,
  ${col(`''`, `'日本 ✓'`, `'note ' || k`)} AS note
FROM range(${ROWS}) t(k)`;

/** The field type each column becomes (DuckDB's TIMESTAMP_S is written in microseconds). */
const TYPES: Record<string, FieldType> = {
  k: 'int64', d: 'date32', t: 'time(us)', dec4: 'decimal(4,2)', dec18: 'decimal(18,6)', dec38: 'decimal(38,10)', bl: 'binary', id: 'fixed_binary(16)',
  i8: 'int64', i16: 'int64', i32: 'int64', i64: 'int64', u8: 'int64', u16: 'int64', u32: 'int64', u64: 'uint64', f32: 'float64', f64: 'float64', b: 'bool',
  tms: 'timestamp(ms)', tns: 'timestamp(ns)', ts: 'timestamp(us)', tz: 'timestamp(us,UTC)', note: 'utf8',
};

/** DuckDB's reading of the same file, each column as the text or number the comparison uses. */
const REFERENCE = `SELECT k, (d - DATE '1970-01-01')::VARCHAR AS d, epoch_us(DATE '1970-01-01' + t)::VARCHAR AS t, dec4::VARCHAR AS dec4,
  dec18::VARCHAR AS dec18, dec38::VARCHAR AS dec38, to_base64(bl) AS bl, to_base64(unhex(replace(id::VARCHAR, '-', ''))) AS id,
  i8::VARCHAR AS i8, i16::VARCHAR AS i16, i32::VARCHAR AS i32, i64::VARCHAR AS i64, u8::VARCHAR AS u8, u16::VARCHAR AS u16, u32::VARCHAR AS u32, u64::VARCHAR AS u64,
  f32::DOUBLE AS f32, f64, b, epoch_ms(tms)::VARCHAR AS tms, epoch_ns(tns)::VARCHAR AS tns, epoch_us(ts)::VARCHAR AS ts, epoch_us(tz)::VARCHAR AS tz, note
FROM read_parquet(?) ORDER BY k`;

/** A scanned value as the reference shows it: integers of dates and times, decimal text, base64 of bytes. */
function quiverText(type: FieldType, data: import('apache-arrow').Data, row: number): unknown {
  if (!data.getValid(row)) return null;
  const info = fieldTypeInfo(type);
  if (info.family === 'decimal' || info.bytes) return formatValue(info, valueAt(info, data, row));
  if (info.int) return valueAt(info, data, row).toString();
  const v = (data.values as ArrayLike<unknown>)[row];
  if (type === 'int64' || type === 'uint64') return String(type === 'uint64' ? BigInt.asUintN(64, v as bigint) : v);
  if (type === 'bool') return (((data.values as Uint8Array)[(data.offset + row) >> 3]! >> ((data.offset + row) & 7)) & 1) === 1;
  if (type === 'utf8') {
    const o = data.valueOffsets as Int32Array;
    return Buffer.from((data.values as Uint8Array).subarray(o[row]!, o[row + 1]!)).toString('utf8');
  }
  return v;
}

async function importedColumns(path: string): Promise<{ types: Record<string, FieldType>; rows: Record<string, unknown>[] }> {
  const db = await Quiver.open(new MemoryChunkManager());
  await importFiles(db, [path], { table: 't', tags: [] });
  const t = await db.table('t');
  const out = await t.query({});
  const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, f.type]));
  const rows: Record<string, unknown>[] = [];
  for (let r = 0; r < out.numRows; r++) rows.push({});
  for (const f of t.schema.fields) {
    let row = 0;
    for (const data of out.getChild(f.name)!.data) for (let i = 0; i < data.length; i++) rows[row++]![f.name] = quiverText(f.type, data, i);
  }
  rows.sort((a, b) => Number(BigInt(a.k as string) - BigInt(b.k as string)));
  return { types, rows };
}

test('Parquet written by DuckDB, every codec and both page versions, every type it writes: imported exactly as DuckDB reads it', () => withDuck(async (duck, dir) => {
  for (const codec of CODECS) {
    for (const v2 of [false, true]) {
      const label = `${codec}${v2 ? ' v2' : ''}`;
      const path = join(dir, `${codec}${v2 ? '-v2' : ''}.parquet`);
      await duck.run(`COPY (${select(!v2)}) TO '${path}' (FORMAT PARQUET, COMPRESSION ${codec}${v2 ? ', PARQUET_VERSION V2' : ''}, ROW_GROUP_SIZE 1024)`);
      const reference = (await duck.runAndReadAll(REFERENCE, [path])).getRowObjectsJS() as Record<string, unknown>[];
      const { types, rows } = await importedColumns(path);
      assert.deepEqual(types, TYPES, label);
      assert.equal(rows.length, ROWS, label);
      for (const c of Object.keys(TYPES)) {
        const expected = reference.map((r) => (r[c] === undefined ? null : typeof r[c] === 'bigint' ? String(r[c]) : r[c]));
        const got = rows.map((r) => r[c] ?? null);
        if (c === 'f32' || c === 'f64') {
          // Bit for bit: -0 and NaN included.
          assert.ok(got.every((g, i) => Object.is(g, expected[i])), `${label} ${c}`);
        } else {
          assert.deepEqual(got, expected, `${label} ${c}`);
        }
      }
    }
  }
}));

test('aggregates of dates, times, timestamps and decimals equal DuckDB\'s over the same Parquet (decimal sums exact)', () => withDuck(async (duck, dir) => {
  const path = join(dir, 'agg.parquet');
  await duck.run(`COPY (${select(true)}) TO '${path}' (FORMAT PARQUET, ROW_GROUP_SIZE 1024)`);
  const [ref] = (await duck.runAndReadAll(`SELECT count(d) AS n, (min(d) - DATE '1970-01-01')::VARCHAR AS dmin, (max(d) - DATE '1970-01-01')::VARCHAR AS dmax,
    epoch_us(DATE '1970-01-01' + min(t))::VARCHAR AS tmin, epoch_us(DATE '1970-01-01' + max(t))::VARCHAR AS tmax,
    sum(dec4)::VARCHAR AS s4, sum(dec18)::VARCHAR AS s18, min(dec38)::VARCHAR AS m38, max(dec38)::VARCHAR AS x38,
    sum(dec38 - CASE WHEN k < 2 THEN dec38 ELSE 0 END)::VARCHAR AS s38, epoch_ms(min(tms))::VARCHAR AS tmsmin, epoch_us(max(tz))::VARCHAR AS tzmax
    FROM read_parquet(?)`, [path])).getRowObjectsJS() as Record<string, unknown>[];
  const db = await Quiver.open(new MemoryChunkManager());
  await importFiles(db, [path], { table: 't', tags: [] });
  const t = await db.table('t');
  // dec38's extremes would overflow decimal(38,10) in a sum: sum the rest (k ≥ 2) apart.
  // From page statistics, and (a filter makes every page decode) from the values.
  for (const filter of [undefined, { field: 'k', op: '>=' as const, value: 0 }]) {
    const q = await t.query({ agg: { d: ['count', 'min', 'max'], t: ['min', 'max'], dec4: 'sum', dec18: 'sum', dec38: ['min', 'max'], tms: 'min', tz: 'max' }, ...(filter ? { filter } : {}) });
    const text = (name: string, type: FieldType) => {
      const data = q.getChild(name)!.data[0]!;
      const info = fieldTypeInfo(type);
      return info.family === 'decimal' ? formatValue(info, valueAt(info, data, 0)) : valueAt(info, data, 0).toString();
    };
    assert.equal(String(q.getChild('count_d')!.get(0)), String(ref!.n));
    assert.equal(text('min_d', 'date32'), ref!.dmin);
    assert.equal(text('max_d', 'date32'), ref!.dmax);
    assert.equal(text('min_t', 'time(us)'), ref!.tmin);
    assert.equal(text('max_t', 'time(us)'), ref!.tmax);
    assert.equal(text('sum_dec4', 'decimal(38,2)'), ref!.s4);
    assert.equal(text('sum_dec18', 'decimal(38,6)'), ref!.s18);
    assert.equal(text('min_dec38', 'decimal(38,10)'), ref!.m38);
    assert.equal(text('max_dec38', 'decimal(38,10)'), ref!.x38);
    assert.equal(text('min_tms', 'timestamp(ms)'), ref!.tmsmin);
    assert.equal(text('max_tz', 'timestamp(us,UTC)'), ref!.tzmax);
  }
  const rest = await t.query({ agg: { dec38: 'sum' }, from: '2026-01-01T00:00:02Z' });
  const info = fieldTypeInfo('decimal(38,10)');
  assert.equal(formatValue(info, valueAt(info, rest.getChild('sum_dec38')!.data[0]!, 0)), ref!.s38);
}));

test('Parquet written by parquet-wasm (arrow-rs) of every field type imports value by value', () => withDuck(async (_duck, dir) => {
  const seed = seedFromEnv('types parquet-wasm');
  // Parquet has no negative decimal scale: decimal(5,-2) stays an Arrow-only type.
  const types = FIXTURE_TYPES.filter((t) => t !== 'decimal(5,-2)');
  const columns = typedColumns(seed, 1500, types);
  const times = timesFrom(1_767_225_600_000_000_000n, 1500);
  const nothing = { field: new Field('nothing', new Null(), true), data: makeData({ type: new Null(), length: 1500, nullCount: 1500 }) };
  const table = new Table([typedBatch(columns, times, 0, 1500, [nothing])]);
  const path = join(dir, 'wasm.parquet');
  writeFileSync(path, parquetWasm.writeParquet(parquetWasm.Table.fromIPCStream(tableToIPC(table, 'stream'))));
  const db = await Quiver.open(new MemoryChunkManager());
  await importFiles(db, [path], { table: 't' });
  const t = await db.table('t');
  assert.deepEqual(t.schema.fields.map((f) => f.type), columns.map((c) => c.type), 'a Null column adds no field');
  const out = await t.query({});
  for (const c of columns) assert.deepEqual(keysOf(out, c.name, c.type), expectedKeys(c), `${c.type} seed ${seed}`);
}));

/** The file with its footer changed by `change` (a Thrift tree of FileMetaData). */
function rewriteFooter(path: string, out: string, change: (footer: ThriftStruct) => void): void {
  const bytes = readFileSync(path);
  const length = bytes.readUInt32LE(bytes.length - 8);
  const footer = decodeThrift(bytes.subarray(bytes.length - 8 - length, bytes.length - 8));
  change(footer);
  const encoded = encodeThrift(footer);
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(encoded.length, 0);
  tail.write('PAR1', 4, 'latin1');
  writeFileSync(out, Buffer.concat([bytes.subarray(0, bytes.length - 8 - length), encoded, tail]));
}

const field = (s: ThriftStruct, id: number) => s.find((f) => f.id === id);
const items = (v: ThriftValue | undefined) => (v as { items: ThriftValue[] }).items as ThriftStruct[];

test('Parquet footers: the Thrift codec gives the bytes back; a dictionary_page_offset of 0 (parquet-mr 1.8, some writers) reads as DuckDB reads it', () => withDuck(async (duck, dir) => {
  const path = join(dir, 'dict.parquet');
  await duck.run(`COPY (SELECT TIMESTAMP '2026-01-01' + INTERVAL (k) SECOND AS time, 'v' || (k % 5) AS s, k AS x, 'n' || k AS note FROM range(5000) t(k)) TO '${path}' (FORMAT PARQUET, ROW_GROUP_SIZE 2048)`);
  const bytes = readFileSync(path);
  const length = bytes.readUInt32LE(bytes.length - 8);
  const footer = bytes.subarray(bytes.length - 8 - length, bytes.length - 8);
  assert.ok(Buffer.from(encodeThrift(decodeThrift(footer))).equals(footer), 'decode then encode is the identity');
  const chunks = (tree: ThriftStruct) => items(field(tree, 4)?.value).flatMap((group) => items(field(group, 1)?.value)).map((chunk) => field(chunk, 3)!.value as ThriftStruct);
  // parquet-mr 1.8: the dictionary page first, at data_page_offset, and dictionary_page_offset 0.
  const mr = join(dir, 'mr.parquet');
  rewriteFooter(path, mr, (tree) => {
    for (const meta of chunks(tree)) {
      const dictionary = field(meta, 11);
      if (dictionary) { field(meta, 9)!.value = dictionary.value; dictionary.value = 0n; }
    }
  });
  // A writer that marks "no dictionary" with a 0.
  const zero = join(dir, 'zero.parquet');
  rewriteFooter(path, zero, (tree) => {
    for (const meta of chunks(tree)) {
      if (!field(meta, 11)) { meta.push({ id: 11, type: I64, value: 0n }); meta.sort((a, b) => a.id - b.id); }
    }
  });
  for (const file of [mr, zero]) {
    const reference = (await duck.runAndReadAll(`SELECT epoch_ns(time)::VARCHAR AS time, s, x::VARCHAR AS x, note FROM read_parquet(?) ORDER BY time`, [file])).getRowObjectsJS();
    const db = await Quiver.open(new MemoryChunkManager());
    await importFiles(db, [file], { table: 't', tags: ['s'] });
    const out = await (await db.table('t')).query({ order: 'any' } as never);
    const rows = Array.from({ length: out.numRows }, (_, i) => ({
      time: String((out.getChild('time')!.data[0]!.values as BigInt64Array)[i]), s: out.getChild('s')!.get(i), x: String(out.getChild('x')!.get(i)), note: out.getChild('note')!.get(i),
    })).sort((a, b) => (BigInt(a.time) < BigInt(b.time) ? -1 : 1));
    assert.equal(rows.length, 5000, file);
    assert.deepEqual(rows, reference, file);
  }
}));

test('invalid UTF-8 in a Parquet string column is an error naming the file, row and column (arrow-rs would abort); an interval column is refused by name', () => withDuck(async (duck, dir) => {
  const path = join(dir, 'bytes.parquet');
  await duck.run(`COPY (SELECT TIMESTAMP '2026-01-01' + INTERVAL (k) SECOND AS time, CASE WHEN k = 2500 THEN '\\xC3\\x28'::BLOB ELSE ('ok ' || k)::BLOB END AS s, k::DOUBLE AS v
    FROM range(3000) t(k)) TO '${path}' (FORMAT PARQUET, ROW_GROUP_SIZE 1024)`);
  // The bytes annotated as UTF-8 text, as a writer that does not check them would.
  const text = join(dir, 'text.parquet');
  rewriteFooter(path, text, (tree) => {
    for (const element of items(field(tree, 2)?.value)) {
      if (Buffer.from(field(element, 4)!.value as Uint8Array).toString() !== 's') continue;
      element.push({ id: 6, type: I32, value: 0 }, { id: 10, type: STRUCT, value: [{ id: 1, type: STRUCT, value: [] }] });
      element.sort((a, b) => a.id - b.id);
    }
  });
  assert.equal(((await duck.runAndReadAll(`SELECT typeof(s) FROM read_parquet(?) LIMIT 1`, [text])).getRows()[0] ?? [])[0], 'VARCHAR');
  for (const tags of [['s'], []]) {
    const db = await Quiver.open(new MemoryChunkManager());
    const error = await rejection(importFiles(db, [text], { table: 't', tags }));
    assert.ok(error instanceof InputError, String(error));
    assert.equal(error.message, `${text}: row 2501 (column s): invalid UTF-8 in a string column`);
    assert.equal(await db.hasTable('t'), false);
  }
  // Valid text in the same shape imports as strings.
  const good = join(dir, 'good.parquet');
  await duck.run(`COPY (SELECT TIMESTAMP '2026-01-01' + INTERVAL (k) SECOND AS time, 'ok ' || k AS s FROM range(10) t(k)) TO '${good}' (FORMAT PARQUET)`);
  const db = await Quiver.open(new MemoryChunkManager());
  await importFiles(db, [good], { table: 't', tags: [] });
  assert.deepEqual((await db.table('t')).schema.fields, [{ name: 's', type: 'utf8', nullable: true }]);
  const interval = join(dir, 'interval.parquet');
  await duck.run(`COPY (SELECT TIMESTAMP '2026-01-01' AS time, INTERVAL 90 MINUTE AS span) TO '${interval}' (FORMAT PARQUET)`);
  const refused = await rejection(importFiles(await Quiver.open(new MemoryChunkManager()), [interval], { table: 't' }));
  assert.ok(refused instanceof InputError);
  assert.match(refused.message, /interval\.parquet: column span has the type Interval<DAY_TIME>: an interval \(months, days and a time\) has no single length or order; store it as a duration/);
}));
