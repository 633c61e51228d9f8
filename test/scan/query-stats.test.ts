import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import { runQuery } from '../../src/scan/query.js';
import type { QueryOptions } from '../../src/scan/query-types.js';
import type { Table } from '../../src/table/table.js';
import type { Row } from '../../src/table/types.js';
import { rng } from '../../bench/rng.js';

// Aggregates answered from page statistics must equal the same aggregates over decoded rows.

const T0 = Date.UTC(2026, 2, 27); // a DST change in Europe/Paris falls inside
const HOSTS = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5'];

async function setup() {
  const counting = new CountingChunkManager(new MemoryChunkManager());
  const db = await Quiver.open(counting, { decodedCacheBytes: 0 });
  const t = await db.createTable('m', { tags: ['host', 'region'], fields: [{ name: 'v', type: 'float64' }, { name: 'w', type: 'float64' }, { name: 'n', type: 'int64' }], pageRows: 64 });
  const random = rng(9);
  const rows: Row[] = [];
  for (const [i, host] of HOSTS.entries()) {
    for (let m = 0; m < 3 * 24 * 60; m += 2) {
      const r = random();
      rows.push({
        time: T0 + m * 60_000, host, region: i % 2 ? 'eu' : 'us',
        v: r < 0.05 ? null : r < 0.07 ? NaN : Math.round((random() - 0.5) * 1e5) / 100,
        w: random() < 0.5 ? -0 : 0, n: BigInt(Math.floor(random() * 1000)),
      });
    }
  }
  await t.append(rows);
  await t.flush();
  return { counting, t };
}

/** The same table without the statistics path: every page is decoded. */
const decodedOnly = (t: Table) => ({ schema: t.schema, scan: (o: Parameters<Table['scan']>[0]) => t.scan(o) });
const json = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v));
const chunkBytes = (c: CountingChunkManager) => [...c.stats().keysRead].filter(([k]) => k.endsWith('.qvr')).reduce((s, [, b]) => s + b, 0);

test('queries answered from page statistics equal the decoded answers, and read less', async () => {
  const { counting, t } = await setup();
  const day = 86_400_000;
  const queries: QueryOptions[] = [
    { agg: { '*': 'count', v: ['count', 'min', 'max'] } },
    { every: '1d', by: ['host'], agg: { v: ['min', 'max', 'count'], w: ['min', 'max'] } },
    { every: '1d', by: ['region'], agg: { '*': 'count', v: 'max' }, where: { host: ['h1', 'h2'] } },
    { from: T0 + day / 3, to: T0 + 2 * day + 5_000, every: '6h', by: ['host', 'region'], agg: { v: 'min' } },
    { every: '1h', by: ['host'], agg: { v: 'max' } },
    { every: '1d', by: ['host'], agg: { v: 'mean', n: 'max' } },
    { every: '1d', timeZone: 'Europe/Paris', by: ['host'], agg: { '*': 'count', v: ['min', 'count'] }, fill: 'null' },
    { every: '1d', by: ['host'], agg: { v: 'max' }, where: { region: { ne: 'eu' } } },
  ];
  await t.explain({}); // open every footer first: only column bytes are compared below
  for (const q of queries) {
    counting.reset();
    const fromStats = await t.query(q as never);
    const statsBytes = chunkBytes(counting);
    counting.reset();
    const decoded = await runQuery(decodedOnly(t), q);
    const decodedBytes = chunkBytes(counting);
    assert.equal(json(fromStats.toArray()), json(decoded.toArray()), JSON.stringify(q));
    assert.ok(statsBytes <= decodedBytes, `${JSON.stringify(q)}: ${statsBytes} > ${decodedBytes} bytes`);
  }
  counting.reset();
  await t.query({ every: '1d', by: ['host'], agg: { v: ['min', 'max', 'count'] } } as never);
  const stats = chunkBytes(counting);
  counting.reset();
  await runQuery(decodedOnly(t), { every: '1d', by: ['host'], agg: { v: ['min', 'max', 'count'] } });
  assert.ok(stats * 2 < chunkBytes(counting), `daily min/max/count read ${stats} bytes from stats vs ${chunkBytes(counting)} decoding`);
});
