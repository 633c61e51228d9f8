import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import { runQuery } from '../../src/scan/query.js';
import type { QueryOptions } from '../../src/scan/query-types.js';
import type { Table } from '../../src/table/table.js';
import type { Row } from '../../src/core/types.js';
import { rng } from '../../bench/rng.js';

// Aggregates answered from page statistics must equal the same aggregates over decoded rows.

const T0 = Date.UTC(2026, 2, 27); // a DST change in Europe/Paris falls inside
const HOSTS = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5'];

async function setup() {
  const counting = new CountingChunkManager(new MemoryChunkManager());
  const db = await Quiver.open(counting, { decodedCacheBytes: 0 });
  const t = await db.createTable('m', { tags: ['host', 'region'], fields: [{ name: 'v', type: 'float64' }, { name: 'w', type: 'float64' }, { name: 'n', type: 'int64' }, { name: 'big', type: 'int64' }, { name: 'x', type: 'float64' }], pageRows: 64 });
  const random = rng(9);
  const rows: Row[] = [];
  for (const [i, host] of HOSTS.entries()) {
    for (let m = 0; m < 3 * 24 * 60; m += 2) {
      const r = random();
      rows.push({
        time: T0 + m * 60_000, host, region: i % 2 ? 'eu' : 'us',
        v: r < 0.05 ? null : r < 0.07 ? NaN : Math.round((random() - 0.5) * 1e5) / 100,
        w: random() < 0.5 ? -0 : 0, n: BigInt(Math.floor(random() * 1000)),
        x: random() < 0.05 ? null : Math.round(random() * 1e6) / 100 - 3000,
        big: random() < 0.03 ? null : 2n ** 45n + BigInt(Math.floor(random() * 1e6)) - 500_000n,
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

/**
 * Equal rows: exact for everything but float sums and means, which add page by page from the
 * statistics and row by row when decoded (equal within 1e-12 relative; NaN equals NaN).
 */
function assertSameRows(actual: { toArray(): unknown[] }, expected: { toArray(): unknown[] }, what: string): void {
  const a = JSON.parse(json(actual.toArray())) as Record<string, unknown>[];
  const e = JSON.parse(json(expected.toArray())) as Record<string, unknown>[];
  assert.equal(a.length, e.length, what);
  for (let i = 0; i < e.length; i++) {
    assert.deepEqual(Object.keys(a[i]!), Object.keys(e[i]!), what);
    for (const [k, ev] of Object.entries(e[i]!)) {
      const av = a[i]![k];
      const close = typeof av === 'number' && typeof ev === 'number' && (k.startsWith('sum_') || k.startsWith('mean_'))
        && Math.abs(av - ev) <= 1e-12 * Math.max(1, Math.abs(ev));
      if (!close) assert.deepEqual(av, ev, `${what}: row ${i} ${k}`);
    }
  }
}

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
    { agg: { '*': 'count', v: ['sum', 'mean'], x: ['sum', 'mean', 'min'], n: ['sum', 'mean', 'min', 'max'], big: ['sum', 'min', 'max', 'count'] } },
    { every: '1d', by: ['region'], agg: { v: ['sum', 'mean', 'count'], x: ['sum', 'mean'], big: 'sum', w: 'sum' } },
    { from: T0 + day / 2, every: '12h', by: ['host'], agg: { n: ['sum', 'max'], big: 'mean', x: 'sum' }, where: { region: 'us' } },
  ];
  await t.explain({}); // open every footer first: only column bytes are compared below
  for (const q of queries) {
    counting.reset();
    const fromStats = await t.query(q as never);
    const statsBytes = chunkBytes(counting);
    counting.reset();
    const decoded = await runQuery(decodedOnly(t), q);
    const decodedBytes = chunkBytes(counting);
    assertSameRows(fromStats, decoded, JSON.stringify(q));
    assert.ok(statsBytes <= decodedBytes, `${JSON.stringify(q)}: ${statsBytes} > ${decodedBytes} bytes`);
  }
  counting.reset();
  await t.query({ every: '1d', by: ['host'], agg: { v: ['min', 'max', 'count'] } } as never);
  const stats = chunkBytes(counting);
  counting.reset();
  await runQuery(decodedOnly(t), { every: '1d', by: ['host'], agg: { v: ['min', 'max', 'count'] } });
  assert.ok(stats * 2 < chunkBytes(counting), `daily min/max/count read ${stats} bytes from stats vs ${chunkBytes(counting)} decoding`);
  // Whole-table count, sum and mean: every page is answered by its footer, no column is read.
  counting.reset();
  const totals = await t.query({ agg: { '*': 'count', v: ['sum', 'mean'], big: ['sum', 'max'] } } as never);
  assert.equal(chunkBytes(counting), 0, 'whole-table sums read column bytes');
  assert.equal(totals.numRows, 1);
});
