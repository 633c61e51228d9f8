import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver, type QuiverOptions } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import type { Table } from '../../src/table/table.js';
import type { Row } from '../../src/core/types.js';
import { rng } from '../format/helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const HOSTS = ['a', 'b', 'c', 'd'];

async function setup(options: QuiverOptions = {}): Promise<{ counting: CountingChunkManager; db: Quiver; t: Table }> {
  const counting = new CountingChunkManager(new MemoryChunkManager());
  const writer = await Quiver.open(counting);
  const t0 = await writer.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }], pageRows: 512 });
  const random = rng(11);
  const rows: Row[] = [];
  for (let d = 0; d < 2; d++) for (const host of HOSTS) for (let i = 0; i < 3000; i++) {
    rows.push({ time: T0 + d * 86_400_000 + i * 10_000, host, v: random() < 0.05 ? null : Math.round(random() * 1e4) / 100, n: BigInt(i) });
  }
  await t0.append(rows);
  await t0.flush();
  const db = await Quiver.open(counting, options);
  return { counting, db, t: await db.table('m') };
}

const chunkBytesRead = (c: CountingChunkManager) => [...c.stats().keysRead].filter(([k]) => k.endsWith('.qvr')).reduce((s, [, b]) => s + b, 0);
const dump = async (t: Table, options: object) => JSON.stringify((await t.query(options as never)).toArray(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));

test('decoded-page cache: a repeated query reads no chunk bytes and decodes nothing, same answer', async () => {
  const { counting, db, t } = await setup();
  const q = { every: '1h', by: ['host'], agg: { v: ['sum', 'max', 'count'], n: 'max' } };
  const first = await dump(t, q);
  assert.ok(chunkBytesRead(counting) > 0);
  const cached = db.decodedCache!;
  const hitsBefore = cached.hits;
  counting.reset();
  assert.equal(await dump(t, q), first);
  assert.equal(chunkBytesRead(counting), 0, 'no chunk bytes read the second time');
  assert.ok(cached.hits > hitsBefore);
  const requests = counting.stats().requests;
  assert.equal(requests.get + requests.getRange, 0, `only freshness checks reach the store: ${JSON.stringify(requests)}`);
});

test('decoded-page cache: a query over a subset, then a superset, mixes cached and fresh pages correctly', async () => {
  const { t } = await setup();
  const { t: reference } = await setup({ decodedCacheBytes: 0 });
  const narrow = { from: T0 + 3_600_000, to: T0 + 5 * 3_600_000, where: { host: 'b' } };
  assert.equal(await dump(t, narrow), await dump(reference, narrow));
  for (const options of [{ where: { host: ['b', 'c'] } }, {}, { from: T0 + 86_400_000 }, { columns: ['v'] }]) {
    assert.equal(await dump(t, options), await dump(reference, options), JSON.stringify(options));
  }
});

test('decoded-page cache: the byte budget holds (evicting least recently used); 0 disables it', async () => {
  const budget = 64 * 1024;
  const { db, t } = await setup({ decodedCacheBytes: budget });
  const { t: reference } = await setup({ decodedCacheBytes: 0 });
  for (let i = 0; i < 3; i++) assert.equal(await dump(t, {}), await dump(reference, {}));
  // Queries of an hour each fit the budget (a scan larger than it is not admitted:
  // decoded-cache-admission.test.ts); together they overflow it.
  for (let d = 0; d < 2; d++) for (let h = 0; h < 8; h++) {
    const hour = { from: new Date(T0 + d * 86_400_000 + h * 3_600_000), to: new Date(T0 + d * 86_400_000 + (h + 1) * 3_600_000) };
    assert.equal(await dump(t, hour), await dump(reference, hour));
  }
  const cache = db.decodedCache!;
  assert.ok(cache.bytes <= budget, `${cache.bytes} bytes cached`);
  assert.ok(cache.evictions > 0);

  const { counting, db: off, t: uncached } = await setup({ decodedCacheBytes: 0 });
  assert.equal(off.decodedCache, undefined);
  await uncached.query({});
  counting.reset();
  await uncached.query({});
  assert.ok(chunkBytesRead(counting) > 0, 'without the cache, a repeat reads again');
});

test('manifestTtlMs: within the TTL a repeated query sends no request at all; explicit refresh() still sees new versions', async () => {
  const { counting, db, t } = await setup({ manifestTtlMs: 60_000 });
  await t.query({});
  counting.reset();
  await t.query({});
  await db.table('m');
  const r = counting.stats().requests;
  assert.equal(Object.values(r).reduce((s, n) => s + n, 0), 0, JSON.stringify(r));
  const other = await (await Quiver.open(counting)).table('m');
  await other.append([{ time: T0, host: 'z', v: 1, n: 1n }]);
  await other.flush();
  assert.equal((await t.query({ where: { host: 'z' } })).numRows, 0, 'stale within the TTL, as asked');
  await t.refresh();
  assert.equal((await t.query({ where: { host: 'z' } })).numRows, 1);
});
