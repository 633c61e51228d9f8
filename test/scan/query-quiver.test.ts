/**
 * Queries through a real Quiver table (memory store, several chunks over several days and
 * flushes, pages of 1000 rows): table.query must give what the same query gives over the
 * plain rows and what DuckDB gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import type { TableSchema } from '../../src/core/types.js';
import type { QueryOptions } from '../../src/scan/query-types.js';
import { runQuery } from '../../src/scan/query.js';
import { close, duckRows, duckWith, FakeTable, makeBatch, rng, seedFromEnv, tableRows, type TestRow } from './query-fixture.test.js';

const schema: TableSchema = {
  time: 'time', timeUnit: 'ms', tags: ['host', 'dc'],
  fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }, { name: 's', type: 'utf8' }],
};

test('table.query over stored chunks equals the reference over plain rows and DuckDB', async () => {
  const seed = seedFromEnv('query-quiver');
  const random = rng(seed);
  const t0 = Date.UTC(2026, 2, 27);
  const rows: TestRow[] = [];
  for (let i = 0; i < 6000; i++) {
    rows.push({
      time: BigInt(t0 + i * 53_000 + Math.floor(random() * 1000)),
      host: `h${Math.floor(random() * 5)}`, dc: random() < 0.5 ? 'east' : 'west',
      v: random() < 0.1 ? null : Math.round(random() * 10_000) / 100,
      n: random() < 0.1 ? null : BigInt(Math.floor(random() * 1000)),
      s: random() < 0.3 ? null : `s${Math.floor(random() * 9)}`,
    });
  }
  const db = await Quiver.open(new MemoryChunkManager('query-quiver'));
  const table = await db.createTable('m', { time: 'time', timeUnit: 'ms', tags: schema.tags, fields: schema.fields, pageRows: 1000, partition: 'day' });
  // Two flushes with interleaved times: chunks overlap in time, as after two imports.
  const half = rows.filter((_, i) => i % 2 === 0), rest = rows.filter((_, i) => i % 2 === 1);
  for (const part of [half, rest]) {
    for (let i = 0; i < part.length; i += 700) await table.append(makeBatch(schema, part.slice(i, i + 700)));
    await table.flush();
  }
  assert.ok((await table.chunks()).length >= 6, 'several chunks: days × flushes');
  const reference = new FakeTable(schema, rows);
  const queries: QueryOptions[] = [
    { every: '1h', by: ['host'], agg: { v: ['count', 'mean', 'max', 'first', 'last', 'p90', 'stddev'], n: ['sum', 'min'], s: ['count', 'last'] } },
    { every: '1d', timeZone: 'Europe/Paris', by: ['dc', 'host'], agg: { v: ['sum', 'spread'], '*': 'count' } },
    { from: t0 + 3_600_000, to: t0 + 30 * 3_600_000, where: { host: ['h1', 'h3'] }, every: '15m', fill: 'linear', by: ['host'], agg: { v: 'mean' } },
    { every: '1h', by: ['host'], agg: { v: ['rate', 'derivative'] }, filter: { field: 'n', op: '<', value: 500 } },
    { agg: { '*': 'count', v: 'sum' } },
  ];
  for (const q of queries) {
    const got = tableRows(await table.query(q as never));
    const expected = tableRows(await runQuery(reference, q));
    assert.equal(got.length, expected.length, `${JSON.stringify(q)}: rows`);
    got.forEach((g, i) => {
      for (const [col, e] of Object.entries(expected[i]!)) {
        if (typeof e === 'number' && /^(mean|stddev|sum_v|rate|derivative|p90)/.test(col)) close(g[col], e, `${JSON.stringify(q)} row ${i} ${col}`);
        else assert.deepEqual(g[col], e, `${JSON.stringify(q)} row ${i} ${col}`);
      }
    });
  }
  const latest = tableRows(await table.query({ latest: true } as never));
  assert.deepEqual(latest, tableRows(await runQuery(reference, { latest: true })));
  // And one against DuckDB directly, through the stored table.
  const duck = await duckWith(schema, rows);
  try {
    const got = tableRows(await table.query({ every: '6h', by: ['dc'], agg: { v: ['max', 'mean'], n: 'sum' } } as never));
    const expected = await duckRows(duck.conn, `SELECT epoch_ms(time_bucket(INTERVAL '6 hours', ts)) AS time, dc, max(v) AS max_v, avg(v) AS mean_v, sum(n) AS sum_n
      FROM d GROUP BY ALL ORDER BY dc, time`);
    assert.equal(got.length, expected.length);
    got.forEach((g, i) => {
      const e = expected[i]!;
      assert.equal(g.time, BigInt(e.time as number));
      assert.equal(g.dc, e.dc);
      close(g.max_v, e.max_v, `row ${i} max`, 0);
      close(g.mean_v, e.mean_v, `row ${i} mean`);
      assert.equal(String(g.sum_n), String(e.sum_n));
    });
  } finally {
    duck.close();
  }
  await db.close();
});
