/**
 * Scan-resistant admission to the decoded-page cache: a scan whose columns decode to more than
 * the cache holds reads without admitting its pages (ReadChunkOptions.uncached), so it neither
 * thrashes the cache (insert and evict every page, each run decoding everything again) nor
 * evicts what smaller queries use; smaller scans are cached as before. Answers are the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import type { Row } from '../../src/core/types.js';

const T0 = Date.UTC(2026, 0, 1);

test('a scan larger than the decoded-page cache does not fill or evict it; a small one is cached', async () => {
  const store = new MemoryChunkManager('cache-admission');
  const writer = await Quiver.open(store);
  const t0 = await writer.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }], pageRows: 512 });
  const rows: Row[] = [];
  for (const host of ['a', 'b', 'c', 'd']) for (let i = 0; i < 6000; i++) rows.push({ time: T0 + i * 10_000, host, v: (i % 97) / 4, n: BigInt(i) });
  await t0.append(rows);
  await t0.flush();
  await writer.close();

  const db = await Quiver.open(store, { decodedCacheBytes: 128 * 1024, decodeThreads: 0 });
  const reference = await Quiver.open(store, { decodedCacheBytes: 0, decodeThreads: 0 });
  try {
    const t = await db.table('m');
    const cache = db.decodedCache!;
    const whole = { every: '1h', by: ['host'], agg: { v: ['sum', 'max'], n: 'max' } };
    const small = { where: { host: 'b' }, from: new Date(T0), to: new Date(T0 + 3_600_000), every: '10m', agg: { v: 'max' } };
    const dump = async (q: object, table = t) => JSON.stringify((await table.query(q as never)).toArray(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));

    const smallAnswer = await dump(small);
    const admitted = cache.size;
    assert.ok(admitted > 0, 'a small query\'s pages are cached');
    const wholeAnswer = await dump(whole);
    assert.equal(wholeAnswer, await dump(whole, await reference.table('m')), 'the same answer as without a cache');
    assert.equal(cache.evictions, 0, 'the large scan evicted nothing');
    assert.equal(cache.size, admitted, 'nor added pages');
    const hits = cache.hits;
    assert.equal(await dump(small), smallAnswer);
    assert.ok(cache.hits > hits, 'the small query still finds its pages');
    // Scans alike (not only aggregations).
    let scanned = 0;
    for await (const b of t.scan({})) scanned += b.numRows;
    assert.equal(scanned, rows.length);
    assert.equal(cache.evictions, 0);
  } finally {
    await db.close();
    await reference.close();
  }
});
