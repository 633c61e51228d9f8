import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dictionary, Field, Float64, Int32, makeData, RecordBatch, Schema, Struct, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { loadManifest } from '../../src/table/manifest.js';
import { LEASE_CLOCK_SKEW_MS, LEASE_TTL_MS } from '../../src/table/lease.js';
import { CorruptChunkError, QuiverError, SchemaError, UsageError } from '../../src/errors.js';

const T0 = Date.UTC(2026, 0, 1);
const H = 3_600_000;

async function fresh() {
  const store = new MemoryChunkManager();
  return { store, db: await Quiver.open(store) };
}

test('every field type round-trips with nulls, through rows', async () => {
  const { db } = await fresh();
  const t = await db.createTable('m', {
    tags: ['host'],
    fields: [{ name: 'f', type: 'float64' }, { name: 'i', type: 'int64' }, { name: 'u', type: 'uint64' }, { name: 'b', type: 'bool' }, { name: 's', type: 'utf8' }],
  });
  const rows = [
    { time: T0, host: 'a', f: NaN, i: -(2n ** 63n), u: 2n ** 64n - 1n, b: true, s: 'héllo' },
    { time: T0 + 1, host: 'a', f: -0, i: 2n ** 63n - 1n, u: 0n, b: false, s: '' },
    { time: T0 + 2, host: 'b', f: Infinity, i: null, u: null, b: null, s: null },
    { time: T0 + 3, host: 'b', f: null, i: 5n, u: 7n, b: true, s: '日本' },
  ];
  await t.append(rows);
  await t.flush();
  const out = await t.query({});
  assert.equal(out.numRows, 4);
  const col = (n: string) => Array.from({ length: out.numRows }, (_, k) => (out.getChild(n)!.isValid(k) ? out.getChild(n)!.get(k) : null));
  assert.ok(Number.isNaN(col('f')[0]));
  assert.ok(Object.is(col('f')[1], -0));
  assert.equal(col('f')[2], Infinity);
  assert.equal(col('f')[3], null);
  assert.deepEqual(col('i'), [-(2n ** 63n), 2n ** 63n - 1n, null, 5n]);
  assert.deepEqual(col('u'), [2n ** 64n - 1n, 0n, null, 7n]);
  assert.deepEqual(col('b'), [true, false, null, true]);
  assert.deepEqual(col('s'), ['héllo', '', null, '日本']);
  assert.deepEqual(col('host'), ['a', 'a', 'b', 'b']);
  const times = out.getChild('time')!.data[0]!.values as BigInt64Array;
  assert.equal(times[3], BigInt(T0 + 3) * 1_000_000n);
});

test('Arrow batch input: ms timestamps convert to the ns table unit, tags as Utf8 or Dictionary', async () => {
  const { db } = await fresh();
  const t = await db.createTable('b', { tags: ['host', 'dc'] });
  const n = 3;
  const time = makeData({ type: new TimestampMillisecond(), length: n, nullCount: 0, data: BigInt64Array.from([BigInt(T0), BigInt(T0 + 1000), BigInt(T0 + 2000)]) } as never);
  const host = vectorFromArray(['x', 'y', 'x'], new Utf8()).data[0]!;
  const dcType = new Dictionary(new Utf8(), new Int32());
  const dc = makeData({ type: dcType, length: n, nullCount: 0, data: Int32Array.from([1, 0, 1]), dictionary: vectorFromArray(['eu', 'us'], new Utf8()) } as never);
  const v = makeData({ type: new Float64(), length: n, nullCount: 0, data: Float64Array.from([1, 2, 3]) });
  const fields = [new Field('time', time.type), new Field('host', host.type), new Field('dc', dcType), new Field('v', new Float64())];
  await t.append(new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children: [time, host, dc, v] })));
  await t.flush();
  assert.deepEqual(t.schema.fields.map((f) => [f.name, f.type]), [['v', 'float64']], 'a new field is added to the schema');
  const out = await t.query({ where: { dc: 'us' } });
  assert.equal(out.numRows, 2);
  const times = out.getChild('time')!.data[0]!.values as BigInt64Array;
  assert.deepEqual([...times], [BigInt(T0) * 1_000_000n, BigInt(T0 + 2000) * 1_000_000n]);
});

test('flush splits by UTC day and bounds chunk rows; schema evolution reads older chunks as nulls', async () => {
  const { db } = await fresh();
  const t = await db.createTable('p', { tags: ['h'], fields: [{ name: 'a', type: 'float64' }], rowsPerChunkMax: 25 });
  const rows = [];
  for (let i = 0; i < 90; i++) rows.push({ time: T0 + i * H, h: `h${i % 2}`, a: i });
  await t.append(rows);
  await t.flush();
  const chunks = await t.chunks();
  assert.deepEqual([...new Set(chunks.map((c) => c.partition))].sort(), ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04']);
  assert.ok(chunks.every((c) => c.rows <= 25));
  assert.equal(chunks.reduce((s, c) => s + c.rows, 0), 90);
  await t.append([{ time: T0 + 100 * H, h: 'h0', a: 1, extra: 42 }]);
  await t.flush();
  const out = await t.query({ columns: ['extra'] });
  assert.equal(out.numRows, 91);
  const extra = out.getChild('extra')!;
  const present = Array.from({ length: out.numRows }, (_, k) => extra.isValid(k)).filter(Boolean).length;
  assert.equal(present, 1);
  await assert.rejects(t.append([{ time: T0, h: 'h0', a: 'text' }]), (e: unknown) => e instanceof SchemaError && /column a is float64/.test((e as Error).message));
});

test('table names that could leave the store are rejected; duplicates and missing tables are clear errors', async () => {
  const { db, store } = await fresh();
  for (const name of ['../x', '/abs', '', '.', '..', 'a/b', 'a\\b', '\u0001x', '.hidden', 'a..b']) {
    await assert.rejects(db.createTable(name, {}), (e: unknown) => e instanceof UsageError && /table name/.test((e as Error).message), JSON.stringify(name));
  }
  assert.deepEqual(await store.list(''), []);
  await db.createTable('ok_name-1.x', {});
  await assert.rejects(db.createTable('ok_name-1.x', {}), /already exists/);
  await assert.rejects(db.table('nope'), (e: unknown) => e instanceof QuiverError && /no table named nope in memory:\/\//.test((e as Error).message));
  assert.deepEqual(await db.tables(), ['ok_name-1.x']);
  await db.dropTable('ok_name-1.x');
  assert.deepEqual(await db.tables(), []);
  assert.deepEqual(await store.list(''), []);
});

test('time travel: an old version still reads as it was', async () => {
  const { db } = await fresh();
  const t = await db.createTable('tt', { tags: ['h'] });
  await t.append([{ time: T0, h: 'a', v: 1 }]);
  await t.flush();
  const v2 = t.version;
  await t.append([{ time: T0 + 1, h: 'a', v: 2 }]);
  await t.flush();
  assert.equal((await t.query({})).numRows, 2);
  assert.equal((await t.query({ version: v2 })).numRows, 1);
  assert.equal((await t.describe()).version, v2 + 1);
});

test('8 writers on one store commit concurrently without losing or doubling anything', async () => {
  const store = new MemoryChunkManager();
  await (await Quiver.open(store)).createTable('c', { tags: ['w'] });
  const flushes = 3;
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    const db = await Quiver.open(store);
    const t = await db.table('c');
    for (let f = 0; f < flushes; f++) {
      await t.append(Array.from({ length: 10 }, (_, i) => ({ time: T0 + f * 100 + i, w: `w${w}`, v: i })));
      await t.flush();
    }
  }));
  const t = await (await Quiver.open(store)).table('c');
  assert.equal((await t.query({})).numRows, 8 * flushes * 10);
  const versions = (await store.list('c/_manifest/')).map((k) => Number(/(\d{20})/.exec(k)![1]));
  assert.deepEqual(versions, Array.from({ length: versions.length }, (_, i) => i + 1), 'contiguous versions');
  // Every flush is one version; auto-compaction (16 small chunks) may have added its own.
  const operations = await Promise.all(versions.map(async (v) => (await loadManifest(store, 'c', v)).operation));
  assert.equal(operations.filter((o) => o === 'append').length, 8 * flushes);
  assert.ok(operations.every((o) => ['create', 'append', 'compact'].includes(o)), operations.join());
});

test('bulk writer: commit is one version; abort and crashes leave the table unchanged; gcOrphans collects', async () => {
  const { db, store } = await fresh();
  const t = await db.createTable('w', { tags: ['h'], rowsPerChunkMax: 10 });
  const before = t.version;
  const w1 = t.writer();
  for (let b = 0; b < 5; b++) await w1.append(Array.from({ length: 10 }, (_, i) => ({ time: T0 + b * 10 + i, h: 'a', v: i })));
  const committed = await w1.commit();
  assert.equal(committed.version, before + 1);
  assert.equal(committed.rows, 50);
  assert.ok(committed.chunks >= 5);
  const w2 = t.writer();
  await w2.append(Array.from({ length: 30 }, (_, i) => ({ time: T0 + i, h: 'b', v: i })));
  const chunkKeys = async () => (await store.list('w/chunks/')).length;
  const withPending = await chunkKeys();
  await w2.abort();
  assert.equal(await chunkKeys(), committed.chunks);
  assert.ok(withPending > committed.chunks, 'the aborted writer had written chunks');
  const w3 = t.writer(); // never committed: a crashed import
  await w3.append(Array.from({ length: 30 }, (_, i) => ({ time: T0 + i, h: 'c', v: i })));
  assert.equal((await t.query({})).numRows, 50);
  assert.equal((await t.describe()).version, before + 1);
  assert.deepEqual(await t.gcOrphans({ olderThanMs: -1 }), [], 'an open writer\'s lease keeps its chunks');
  // Once its lease has expired (a crashed writer stops refreshing it), they are orphans.
  const removed = await t.gcOrphans({ olderThanMs: -1, now: Date.now() + LEASE_TTL_MS + LEASE_CLOCK_SKEW_MS + 1 });
  assert.ok(removed.length >= 3);
  assert.equal(await chunkKeys(), committed.chunks);
  assert.equal((await t.query({})).numRows, 50);
});

test('bulk writer: appends that overlap (not awaited one by one) lose and garble nothing', async () => {
  // A store whose writes complete later, as files and objects do, so spills overlap.
  const store = new MemoryChunkManager();
  const put = store.put.bind(store);
  store.put = async (key, bytes, options) => { await new Promise((resolve) => setImmediate(resolve)); return put(key, bytes, options); };
  const db = await Quiver.open(store);
  // Two partitions per spill: each drain makes two chunks, gathered into reused arrays.
  const t = await db.createTable('o', { tags: ['h'], rowsPerChunkMax: 64 });
  const w = t.writer();
  const expected: string[] = [];
  const appends: Promise<void>[] = [];
  for (let b = 0; b < 20; b++) {
    const rows = Array.from({ length: 40 }, (_, i) => ({ time: T0 + (i % 2) * 86_400_000 + b * 40 + i, h: `h${(b + i) % 3}`, v: b * 1000 + i }));
    for (const r of rows) expected.push(`${r.h} ${r.time} ${r.v}`);
    appends.push(w.append(rows));
  }
  await Promise.all(appends);
  const committed = await w.commit();
  assert.equal(committed.rows, 800);
  const got: string[] = [];
  for (const b of (await t.query({})).batches) {
    for (let r = 0; r < b.numRows; r++) got.push(`${b.getChild('h')!.get(r)} ${(b.getChild('time')!.data[0]!.values as BigInt64Array)[r]! / 1_000_000n} ${b.getChild('v')!.get(r)}`);
  }
  assert.deepEqual(got.sort(), expected.sort());
});

test('verify reports a corrupted chunk by key and scans refuse it', async () => {
  const { db, store } = await fresh();
  const t = await db.createTable('v', { tags: ['h'] });
  await t.append(Array.from({ length: 500 }, (_, i) => ({ time: T0 + i * 1000, h: `h${i % 3}`, v: i * 1.5 })));
  await t.flush();
  assert.ok((await t.verify()).every((r) => r.ok));
  const [chunk] = await t.chunks();
  const bytes = await store.get(chunk!.key);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x04;
  await store.put(chunk!.key, bytes);
  const report = await t.verify();
  assert.equal(report.length, 1);
  assert.equal(report[0]!.key, chunk!.key);
  assert.equal(report[0]!.ok, false);
  const fresh2 = await (await Quiver.open(store)).table('v');
  await assert.rejects(fresh2.query({}), (e: unknown) => e instanceof CorruptChunkError && (e as CorruptChunkError).path === chunk!.key);
});

test('point API: writePoint creates the metric, readPoints sees unflushed points, filters by tags', async () => {
  const { db } = await fresh();
  await db.writePoint('AAPL', T0, 101.5, { exchange: 'NASDAQ', kind: 'trade' });
  await db.writePoint('AAPL', T0 + 5, 101.75, { exchange: 'NASDAQ', kind: 'trade' });
  await db.writePoint('AAPL', T0 + 3, 99.5, { exchange: 'BATS', kind: 'trade' });
  await db.writePoint('AAPL', new Date(T0 + 10), null, { exchange: 'BATS', kind: 'trade' });
  const all = await db.readPoints('AAPL', T0, T0 + 1000);
  assert.deepEqual(all.map((p) => [p.tags.exchange, Number(p.time / 1_000_000n) - T0, p.value]), [
    ['BATS', 3, 99.5], ['BATS', 10, null], ['NASDAQ', 0, 101.5], ['NASDAQ', 5, 101.75],
  ]);
  const nasdaq = await db.readPoints('AAPL', T0 + 1, T0 + 1000, { exchange: 'NASDAQ' });
  assert.deepEqual(nasdaq.map((p) => p.value), [101.75]);
  await assert.rejects(db.writePoint('AAPL', T0, 1, { venue: 'x' }), /not one of them/);
  assert.deepEqual(await db.tables(), ['AAPL']);
});
