/**
 * The null tag: a row without a tag value (null, absent, a null slot of an Arrow or Parquet
 * column) keeps its null — a series of its own, distinct from "" — through the write buffer,
 * chunks, the manifest, pruning, merges, compaction, the write-ahead log, queries and the CLI.
 * Objects are refused as tag values; numbers, bigints and booleans are stored as their text,
 * the same from rows and from Arrow columns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  Bool, Dictionary, Field, Float64, Int32, Int64, makeData, RecordBatch, RecordBatchStreamWriter, Schema, Struct, TimestampMillisecond, Utf8,
  vectorFromArray, type Data, type Vector,
} from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { SchemaError } from '../../src/errors.js';
import { importFiles } from '../../src/io/import.js';
import { openChunk, bufferSource } from '../../src/format/index.js';
import type { Row } from '../../src/core/types.js';
import { rejection, rowsOf } from '../io/helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const ROOT = resolve(import.meta.dirname, '..', '..', '..');

async function fresh(options: Parameters<typeof Quiver.open>[1] = {}) {
  const store = new MemoryChunkManager();
  return { store, db: await Quiver.open(store, { autoCompact: 0, ...options }) };
}

function batchOf(columns: Record<string, Data>): RecordBatch {
  const fields = Object.entries(columns).map(([n, d]) => new Field(n, d.type, true));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: Object.values(columns)[0]!.length, nullCount: 0, children: Object.values(columns) }));
}

const ms = (values: number[]) => makeData({ type: new TimestampMillisecond(), length: values.length, nullCount: 0, data: BigInt64Array.from(values.map(BigInt)) } as never) as Data;

/** host, v of every scanned row, in scan order. */
async function scanned(t: { scan(o?: object): AsyncIterable<RecordBatch> }, options: object = {}): Promise<[unknown, unknown][]> {
  const out: [unknown, unknown][] = [];
  for await (const b of t.scan(options)) for (const r of rowsOf([b])) out.push([r.host, r.v]);
  return out;
}

test('rows: null, a missing tag and "" are three series; scans return null and ""; where selects each; nulls sort first', async () => {
  const { db, store } = await fresh();
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  const rows: Row[] = [
    { time: T0 + 3, host: 'a', v: 3 }, { time: T0 + 1, host: '', v: 1 }, { time: T0 + 2, host: null, v: 2 },
    { time: T0 + 4, v: 4 }, { time: T0 + 5, host: '', v: 5 }, { time: T0, host: 'a', v: 0 },
  ];
  const writer = t.writer();
  await writer.append(rows);
  const summary = await writer.commit();
  assert.equal(summary.series, 3, 'null, "" and a');
  // Series order: the null tag first, then "" and "a" (code-point order), each in time order.
  assert.deepEqual(await scanned(t), [[null, 2], [null, 4], ['', 1], ['', 5], ['a', 0], ['a', 3]]);
  const entry = (await t.chunks())[0]!;
  assert.deepEqual(entry.tagValues.host, [null, '', 'a'], 'the manifest lists the null tag as JSON null');
  const footer = (await openChunk(bufferSource(await store.get(entry.key), entry.key))).footer;
  const host = footer.columns.find((c) => c.name === 'host')!;
  assert.deepEqual([host.dictionary, host.nullCount, host.nullable], [['', 'a'], 2, true], 'the chunk keeps null in validity, not in the dictionary');
  const where = async (p: unknown) => (await scanned(t, { where: { host: p } })).map(([, v]) => v);
  assert.deepEqual(await where(null), [2, 4]);
  assert.deepEqual(await where(''), [1, 5]);
  assert.deepEqual(await where([null, 'a']), [2, 4, 0, 3]);
  assert.deepEqual(await where({ ne: 'a' }), [2, 4, 1, 5], 'ne keeps the null tag');
  assert.deepEqual(await where({ ne: null }), [1, 5, 0, 3]);
  assert.deepEqual(await where({ notIn: [null, ''] }), [0, 3]);
  assert.deepEqual(await where({ in: [null], eq: null }), [2, 4]);
  assert.deepEqual(await where({ prefix: '' }), [1, 5, 0, 3], 'prefix never matches null');
  assert.deepEqual(await where({ regex: '^$' }), [1, 5]);
  // Queries group the null tag as its own group (sorted last, as SQL's ORDER BY does).
  const grouped = await t.query({ by: ['host'], agg: { v: ['count', 'sum'] } });
  assert.deepEqual(rowsOf(grouped.batches).map((r) => [r.host, r.count_v, r.sum_v]), [['', 2n, 6], ['a', 2n, 3], [null, 2n, 6]]);
  const latest = await t.query({ latest: true });
  assert.deepEqual(rowsOf(latest.batches).map((r) => [r.host, r.v]), [['', 5], ['a', 3], [null, 4]]);
  assert.deepEqual((await db.readPoints('m', T0, T0 + 10, {}, { field: 'v' })).map((p) => [p.tags.host, p.value]), [[null, 2], [null, 4], ['', 1], ['', 5], ['a', 0], ['a', 3]]);
});

test('tag values that are objects are refused naming column and row; numbers, bigints and booleans are their text, from rows and Arrow alike', async () => {
  const { db } = await fresh();
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  for (const [value, shown] of [[{ a: 1 }, 'an object'], [['x'], 'an array'], [() => 1, 'a function'], [new Date(T0), 'a Date (2026-01-01T00:00:00.000Z)']] as const) {
    const error = await rejection(t.append([{ time: T0, host: 'ok', v: 1 }, { time: T0, host: value as never, v: 2 }]));
    assert.ok(error instanceof SchemaError, String(error));
    assert.equal(error.message, `row 1: tag host takes a string (numbers, bigints and booleans are stored as their text; null or a missing value is the null tag), got ${shown}`);
  }
  assert.equal(t.pendingRows, 0);
  await t.append([{ time: T0, host: 7, v: 1 }, { time: T0 + 1, host: 2n ** 64n, v: 2 }, { time: T0 + 2, host: true, v: 3 }, { time: T0 + 3, host: -0, v: 4 }, { time: T0 + 4, host: 1.5, v: 5 }]);
  // The same values as Arrow columns join the same series.
  await t.append(batchOf({ time: ms([T0 + 10, T0 + 11]), host: makeData({ type: new Int64(), length: 2, nullCount: 0, data: BigInt64Array.from([7n, 1n]) } as never), v: vectorFromArray([6, 7], new Float64()).data[0]! }));
  await t.append(batchOf({ time: ms([T0 + 20]), host: vectorFromArray([true], new Bool()).data[0]!, v: vectorFromArray([8], new Float64()).data[0]! }));
  await t.append(batchOf({ time: ms([T0 + 30, T0 + 31]), host: vectorFromArray([-0, 1.5], new Float64()).data[0]!, v: vectorFromArray([9, 10], new Float64()).data[0]! }));
  await t.flush();
  const groups = rowsOf((await t.query({ by: ['host'], agg: { v: 'count' } })).batches).map((r) => [r.host, r.count_v]);
  assert.deepEqual(groups, [['-0', 2n], ['1', 1n], ['1.5', 2n], ['18446744073709551616', 1n], ['7', 2n], ['true', 2n]]);
});

test('Arrow input: null slots of Utf8, Dictionary and integer tag columns stay null, through the library and through IPC import', async () => {
  const hosts: (string | null)[] = ['a', null, '', 'a', null];
  const utf8 = vectorFromArray(hosts, new Utf8()).data[0]!;
  const dictType = new Dictionary(new Utf8(), new Int32());
  const validity = Uint8Array.of(0b01101);
  const dict = makeData({ type: dictType, length: 5, nullCount: 2, nullBitmap: validity, data: Int32Array.from([0, 0, 1, 0, 0]), dictionary: vectorFromArray(['a', ''], new Utf8()) as Vector<Utf8> });
  const ints = makeData({ type: new Int32(), length: 5, nullCount: 2, nullBitmap: validity, data: Int32Array.from([4, 0, 9, 4, 0]) });
  const v = vectorFromArray([0, 1, 2, 3, 4], new Float64()).data[0]!;
  const time = ms([T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4]);
  // Rows 0 and 3 hold value a, row 2 value b: series order is null, then the smaller value.
  const expected = (a: string, b: string) => [[null, 1], [null, 4], ...(b < a ? [[b, 2], [a, 0], [a, 3]] : [[a, 0], [a, 3], [b, 2]])];
  for (const [name, column, a, b] of [['utf8', utf8, 'a', ''], ['dictionary', dict, 'a', ''], ['int32', ints, '4', '9']] as const) {
    const { db } = await fresh();
    const t = await db.createTable('m', { tags: ['host'] });
    await t.append(batchOf({ time, host: column as Data, v }));
    await t.flush();
    assert.deepEqual(await scanned(t), expected(a, b), `library ${name}`);
    const dir = mkdtempSync(join(tmpdir(), 'quiver-null-tags-'));
    try {
      const path = join(dir, `${name}.arrows`);
      writeFileSync(path, RecordBatchStreamWriter.writeAll([batchOf({ time, host: column as Data, v })]).toUint8Array(true));
      const db2 = (await fresh()).db;
      await importFiles(db2, [path], { table: 'i', tags: ['host'] });
      assert.deepEqual(await scanned(await db2.table('i')), expected(a, b), `import ${name}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // A batch without the tag column: every row has the null tag.
  const { db } = await fresh();
  const t = await db.createTable('m', { tags: ['host', 'dc'] });
  await t.append(batchOf({ time: ms([T0]), host: vectorFromArray(['x'], new Utf8()).data[0]!, v: vectorFromArray([1], new Float64()).data[0]! }));
  await t.flush();
  assert.deepEqual(rowsOf((await t.query({})).batches).map((r) => [r.host, r.dc]), [['x', null]]);
});

test('Parquet written by DuckDB: NULL and \'\' tags stay apart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-null-tags-'));
  try {
    const path = join(dir, 'tags.parquet');
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      await conn.run(`COPY (SELECT TIMESTAMP '2026-01-01' + INTERVAL (k) SECOND AS time, CASE k % 3 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'x' END AS host, k::DOUBLE AS v FROM range(9) t(k)) TO '${path}' (FORMAT parquet)`);
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
    const { db } = await fresh();
    await importFiles(db, [path], { table: 't', tags: ['host'] });
    const t = await db.table('t');
    assert.deepEqual(await scanned(t), [[null, 0], [null, 3], [null, 6], ['', 1], ['', 4], ['', 7], ['x', 2], ['x', 5], ['x', 8]]);
    assert.deepEqual((await t.chunks())[0]!.tagValues.host, [null, '', 'x']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pruning: chunks and pages without the null tag are skipped for where null, with listed values and with bloom filters', async () => {
  const { db } = await fresh();
  const t = await db.createTable('m', { tags: ['host'], pageRows: 100, partition: 'day' });
  const day = 86_400_000;
  // Day 0: 300 hosts (a bloom filter, no list) and no null; day 1: the same plus 100 null rows
  // in their own pages; day 2: a few listed hosts and nulls.
  const rows: Row[] = [];
  for (let i = 0; i < 600; i++) rows.push({ time: T0 + i, host: `h${i % 300}`, v: i });
  for (let i = 0; i < 600; i++) rows.push({ time: T0 + day + i, host: `h${i % 300}`, v: i });
  for (let i = 0; i < 100; i++) rows.push({ time: T0 + day + 1000 + i, host: null, v: -i });
  for (let i = 0; i < 50; i++) rows.push({ time: T0 + 2 * day + i, host: i % 2 ? 'x' : null, v: i });
  await t.append(rows);
  await t.flush();
  const chunks = await t.chunks();
  assert.deepEqual(chunks.map((c) => [c.tagValues.host === undefined, c.tagBlooms?.host !== undefined]), [[true, true], [true, true], [false, false]]);
  const plan = await t.explain({ where: { host: null } });
  assert.equal(plan.chunksPruned, 1, 'day 0 holds no null tag');
  const day1 = plan.chunks.find((c) => c.pages === 7)!;
  assert.equal(day1.pagesSelected, 1, 'only the page of null rows');
  const result = await t.query({ where: { host: null } });
  assert.equal(result.numRows, 125);
  assert.equal((await t.explain({ where: { host: 'x' } })).chunksPruned, 2);
  assert.equal((await t.query({ where: { host: { ne: null } } })).numRows, 1225);
});

test('compaction, a merge of late data and the write-ahead log keep the null tag', async () => {
  const root = mkdtempSync(join(tmpdir(), 'quiver-null-tags-'));
  try {
    const store = join(root, 'store');
    const db = await Quiver.open(store, { wal: join(root, 'wal'), autoCompact: 0 });
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    // Three flushes overlapping in time, the later ones with earlier times (late data: the scan merges them).
    for (let f = 0; f < 3; f++) {
      const rows: Row[] = [];
      for (const [host, base] of [[null, 0], ['', 10], ['b', 20]] as const) {
        rows.push({ time: T0 + 100 - f * 10, host, v: base + 2 * f }, { time: T0 + 200 - f * 10, host, v: base + 2 * f + 1 });
      }
      await t.append(rows);
      await t.flush();
    }
    const order = [4, 2, 0, 5, 3, 1];
    const expected = [...order.map((v) => [null, v]), ...order.map((v) => ['', 10 + v]), ...order.map((v) => ['b', 20 + v])];
    assert.deepEqual(await scanned(t), expected, 'merged: null series first, each in time order');
    const compacted = await t.compact({ smallRows: 1000 });
    assert.equal((await t.chunks()).length, 1);
    assert.equal(compacted.chunksBefore, 3);
    assert.deepEqual(await scanned(t), expected, 'after compaction');
    // Unflushed rows with a null tag survive a reopen through the log.
    await t.append([{ time: T0 + 500, v: 99 }]);
    await db.close();
    const again = await Quiver.open(store, { wal: join(root, 'wal'), autoCompact: 0 });
    const rows = await scanned(await again.table('m'), { from: T0 + 400 });
    assert.deepEqual(rows, [[null, 99]]);
    await again.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('CLI: --where host=\\N selects the null tag, host= the empty string; CSV and table output tell them apart', () => {
  const store = mkdtempSync(join(tmpdir(), 'quiver-null-tags-cli-'));
  try {
    const quiver = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'quiver.js'), ...args, '--store', store], { encoding: 'utf8', env: { ...process.env, QUIVER_STORE: '' } });
    const data = join(store, 'in.arrows');
    writeFileSync(data, RecordBatchStreamWriter.writeAll([batchOf({
      time: ms([T0, T0 + 1, T0 + 2, T0 + 3]), host: vectorFromArray([null, '', 'a|b', 'c\\d'], new Utf8()).data[0]!, v: vectorFromArray([1, 2, 3, 4], new Float64()).data[0]!,
    })]).toUint8Array(true));
    assert.equal(quiver('import', data, '--table', 't', '--tags', 'host').status, 0);
    const csv = (...where: string[]) => quiver('scan', 't', '--format', 'csv', '--columns', 'host,v', ...where.flatMap((w) => ['--where', w]));
    assert.equal(csv().stdout, 'time,host,v\n2026-01-01T00:00:00Z,,1\n2026-01-01T00:00:00.001Z,"",2\n2026-01-01T00:00:00.002Z,a|b,3\n2026-01-01T00:00:00.003Z,c\\d,4\n');
    const values = (...where: string[]) => csv(...where).stdout.trim().split('\n').slice(1).map((l) => l.split(',').at(-1));
    assert.deepEqual(values('host=\\N'), ['1']);
    assert.deepEqual(values('host='), ['2']);
    assert.deepEqual(values('host=\\N|'), ['1', '2']);
    assert.deepEqual(values('host=a\\|b'), ['3']);
    assert.deepEqual(values('host=c\\\\d'), ['4']);
    assert.deepEqual(values('host=a|b'), [], 'a | separates alternatives');
    const bad = quiver('scan', 't', '--where', 'host=\\x');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /a backslash escapes \|, \\ or ~, or is \\N \(the null tag\) alone, got \\x/);
    assert.equal(quiver('scan', 't', '--where', 'host=a\\N').status, 2);
    const table = quiver('scan', 't', '--columns', 'host', '--limit', '2').stdout;
    assert.deepEqual(table.trim().split('\n').map((l) => l.split(/ +/)[1]), ['host', 'null', '""']);
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
});
