/**
 * Every aggregation against DuckDB's answer on the same generated rows: hourly buckets with
 * gaps, nulls, series starting mid-bucket, several chunks and random batch sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TableSchema } from '../../src/core/types.js';
import { runQuery } from '../../src/scan/query.js';
import { close, duckRows, duckWith, FakeTable, rng, seedFromEnv, tableRows, type TestRow } from './query-fixture.test.js';

const schema: TableSchema = {
  time: 'time', timeUnit: 'ms', tags: ['host', 'region'],
  fields: [
    { name: 'usage', type: 'float64' },
    { name: 'counter', type: 'float64' },
    { name: 'n', type: 'int64' },
    { name: 'ok', type: 'bool' },
    { name: 'note', type: 'utf8' },
  ],
};
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const HOUR = 3_600_000;

function generate(seed: number): TestRow[] {
  const random = rng(seed);
  const rows: TestRow[] = [];
  for (let h = 0; h < 6; h++) {
    const host = `host_${h}`;
    const region = h % 2 ? 'eu' : 'us';
    // Series start mid-bucket, step 7..97 s, and skip hour 3 entirely (a gap).
    let t = T0 + h * 17 * 60_000 + 13_000 + h; // + h ms: no two series share a time
    let counter = 0;
    const step = (7 + h * 18) * 1000;
    while (t < T0 + 8 * HOUR) {
      if (Math.floor((t - T0) / HOUR) !== 3) {
        counter += Math.floor(random() * 100);
        if (random() < 0.01) counter = Math.floor(random() * 10); // a reset
        rows.push({
          time: BigInt(t), host, region,
          usage: random() < 0.1 ? null : Math.round(random() * 10000) / 100,
          counter,
          n: random() < 0.05 ? null : BigInt(Math.floor(random() * 2000) - 1000),
          ok: random() < 0.1 ? null : random() < 0.5,
          note: random() < 0.2 ? null : `n${Math.floor(random() * 50)}`,
        });
      }
      t += step;
    }
  }
  return rows;
}

const seed = seedFromEnv('aggregate-duckdb');
const rows = generate(seed);
const table = new FakeTable(schema, rows, { chunks: 3, batchRowsMax: 500, seed });

async function withDuck<T>(fn: (q: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  const duck = await duckWith(schema, rows);
  try { return await fn((sql) => duckRows(duck.conn, sql)); } finally { duck.close(); }
}

function key(row: Record<string, unknown>, cols: string[]): string {
  return cols.map((c) => String(row[c])).join('|');
}

test('hourly float aggregations by host match DuckDB (nulls, gaps, mid-bucket starts)', async () => {
  const result = await runQuery(table, {
    every: '1h', by: ['host'],
    agg: { usage: ['count', 'sum', 'min', 'max', 'mean', 'first', 'last', 'stddev', 'p50', 'p90', 'p95', 'p99', 'percentile:0.999', 'spread'], '*': 'count' },
  });
  assert.deepEqual(result.schema.fields.map((f) => f.name), [
    'time', 'host', 'count_usage', 'sum_usage', 'min_usage', 'max_usage', 'mean_usage', 'first_usage', 'last_usage',
    'stddev_usage', 'p50_usage', 'p90_usage', 'p95_usage', 'p99_usage', 'p99.9_usage', 'spread_usage', 'count']);
  const got = tableRows(result);
  const expected = await withDuck((q) => q(`
    SELECT epoch_ms(time_bucket(INTERVAL '1 hour', ts)) AS time, host,
      count(usage) AS count_usage, sum(usage) AS sum_usage, min(usage) AS min_usage, max(usage) AS max_usage,
      avg(usage) AS mean_usage,
      arg_min(usage, t) FILTER (WHERE usage IS NOT NULL) AS first_usage,
      arg_max(usage, t) FILTER (WHERE usage IS NOT NULL) AS last_usage,
      stddev_samp(usage) AS stddev_usage,
      quantile_cont(usage, 0.5) AS p50_usage, quantile_cont(usage, 0.9) AS p90_usage,
      quantile_cont(usage, 0.95) AS p95_usage, quantile_cont(usage, 0.99) AS p99_usage,
      quantile_cont(usage, 0.999) AS "p99.9_usage", max(usage) - min(usage) AS spread_usage, count(*) AS count
    FROM d GROUP BY ALL ORDER BY host, time`));
  assert.equal(got.length, expected.length, 'row count');
  assert.ok(got.length > 30, `enough buckets: ${got.length}`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, e = expected[i]!;
    assert.equal(key(g, ['host', 'time']), key(e, ['host', 'time']), `row ${i} group/time`);
    for (const col of ['count_usage', 'min_usage', 'max_usage', 'first_usage', 'last_usage', 'count']) close(g[col], e[col], `row ${i} ${col}`, 0);
    for (const col of ['sum_usage', 'mean_usage', 'stddev_usage', 'p50_usage', 'p90_usage', 'p95_usage', 'p99_usage', 'p99.9_usage', 'spread_usage']) {
      close(g[col], e[col], `row ${i} ${col}`);
    }
  }
  // The gap hour is absent (fill 'none').
  assert.ok(!got.some((r) => Number(r.time) === T0 + 3 * HOUR));
});

test('int64, bool and utf8 aggregations match DuckDB exactly', async () => {
  const result = await runQuery(table, {
    every: '2h', by: ['region'],
    agg: { n: ['count', 'sum', 'min', 'max', 'first', 'last', 'mean'], ok: ['count', 'first', 'last'], note: ['count', 'first', 'last'] },
  });
  const types = Object.fromEntries(result.schema.fields.map((f) => [f.name, String(f.type)]));
  assert.equal(types.min_n, 'Int64');
  assert.equal(types.first_ok, 'Bool');
  assert.equal(types.last_note, 'Utf8');
  assert.equal(types.count_n, 'Int64');
  const got = tableRows(result);
  const expected = await withDuck((q) => q(`
    SELECT epoch_ms(time_bucket(INTERVAL '2 hours', ts)) AS time, region,
      count(n) AS count_n, sum(n) AS sum_n, min(n) AS min_n, max(n) AS max_n,
      arg_min(n, (t, host)) FILTER (WHERE n IS NOT NULL) AS first_n, arg_max(n, t) FILTER (WHERE n IS NOT NULL) AS last_n, avg(n) AS mean_n,
      count(ok) AS count_ok, arg_min(ok, t) FILTER (WHERE ok IS NOT NULL) AS first_ok, arg_max(ok, t) FILTER (WHERE ok IS NOT NULL) AS last_ok,
      count(note) AS count_note, arg_min(note, t) FILTER (WHERE note IS NOT NULL) AS first_note, arg_max(note, t) FILTER (WHERE note IS NOT NULL) AS last_note
    FROM d GROUP BY ALL ORDER BY region, time`));
  assert.equal(got.length, expected.length);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, e = expected[i]!;
    assert.equal(key(g, ['region', 'time']), key(e, ['region', 'time']));
    for (const col of ['count_n', 'sum_n', 'min_n', 'max_n', 'count_ok', 'count_note']) close(g[col], e[col], `row ${i} ${col}`, 0);
    close(g.mean_n, e.mean_n, `row ${i} mean_n`);
    assert.equal(String(g.sum_n), String(e.sum_n), `row ${i} sum_n exact`);
    // first/last: unique times within a series, but two series of a region may share a time.
    for (const col of ['first_ok', 'last_ok', 'first_note', 'last_note', 'first_n', 'last_n']) {
      assert.equal(typeof g[col] === 'bigint' ? Number(g[col]) : g[col], e[col] === null ? null : typeof e[col] === 'bigint' ? Number(e[col]) : e[col], `row ${i} ${col}`);
    }
  }
});

test('rate and derivative match DuckDB window arithmetic (counter resets, per series, summed per group)', async () => {
  const result = await runQuery(table, { every: '1h', by: ['region'], agg: { counter: ['rate', 'derivative'] } });
  const got = tableRows(result);
  const expected = await withDuck((q) => q(`
    WITH p AS (
      SELECT region, host, t, ts, counter AS v, lag(counter) OVER w AS pv, lag(t) OVER w AS pt
      FROM d WHERE counter IS NOT NULL WINDOW w AS (PARTITION BY host, region ORDER BY t)),
    s AS (
      SELECT region, host, time_bucket(INTERVAL '1 hour', ts) AS b,
        sum(CASE WHEN v < pv THEN v ELSE v - pv END) AS dr, sum(v - pv) AS dd, sum(t - pt) / 1000.0 AS dt
      FROM p WHERE pv IS NOT NULL GROUP BY ALL)
    SELECT epoch_ms(b) AS time, region, sum(dr / dt) AS rate_counter, sum(dd / dt) AS derivative_counter
    FROM s WHERE dt > 0 GROUP BY ALL ORDER BY region, time`));
  const byKey = new Map(expected.map((e) => [key(e, ['region', 'time']), e]));
  let compared = 0;
  for (const g of got) {
    const e = byKey.get(key(g, ['region', 'time']));
    if (!e) { assert.equal(g.rate_counter, null, `no pairs → null at ${key(g, ['region', 'time'])}`); continue; }
    close(g.rate_counter, e.rate_counter, `rate ${key(g, ['region', 'time'])}`);
    close(g.derivative_counter, e.derivative_counter, `derivative ${key(g, ['region', 'time'])}`);
    compared++;
  }
  assert.equal(compared, expected.length);
  assert.ok(got.some((g) => g.rate_counter !== g.derivative_counter), 'a reset makes rate differ from derivative');
});

test('no every: one row per group; time is `from`; two group tags; where and time range', async () => {
  const from = T0 + HOUR, to = T0 + 6 * HOUR;
  const result = await runQuery(table, { from, to, by: ['region', 'host'], where: { region: 'eu' }, agg: { usage: ['mean', 'max'], '*': 'count' } });
  const got = tableRows(result);
  const expected = await withDuck((q) => q(`
    SELECT region, host, avg(usage) AS mean_usage, max(usage) AS max_usage, count(*) AS count FROM d
    WHERE t >= ${from} AND t < ${to} AND region = 'eu' GROUP BY ALL ORDER BY region, host`));
  assert.equal(got.length, 3);
  assert.equal(got.length, expected.length);
  got.forEach((g, i) => {
    const e = expected[i]!;
    assert.equal(g.time, BigInt(from));
    assert.equal(key(g, ['region', 'host']), key(e, ['region', 'host']));
    close(g.mean_usage, e.mean_usage, 'mean');
    close(g.max_usage, e.max_usage, 'max', 0);
    close(g.count, e.count, 'count', 0);
  });
  const total = tableRows(await runQuery(table, { agg: { '*': 'count', usage: 'sum' } }));
  assert.equal(total.length, 1);
  assert.equal(total[0]!.count, BigInt(rows.length));
  assert.equal(total[0]!.time, rows.reduce((m, r) => (r.time < m ? r.time : m), rows[0]!.time), 'time is the earliest row without from');
});

test('empty result and a single row', async () => {
  const empty = await runQuery(table, { from: T0 - 10 * HOUR, to: T0 - 9 * HOUR, every: '1h', by: ['host'], agg: { usage: 'max' } });
  assert.equal(empty.numRows, 0);
  assert.deepEqual(empty.schema.fields.map((f) => f.name), ['time', 'host', 'max_usage']);
  const one = new FakeTable(schema, [{ time: BigInt(T0 + 5), host: 'a', region: 'x', usage: 2.5, counter: 1, n: 7n, ok: true, note: 'z' }]);
  const got = tableRows(await runQuery(one, { every: '1m', agg: { usage: ['count', 'mean', 'stddev', 'p50', 'first', 'last', 'rate'], n: ['min', 'sum'] } }));
  assert.equal(got.length, 1);
  assert.equal(got[0]!.time, BigInt(T0));
  assert.equal(got[0]!.count_usage, 1n);
  assert.equal(got[0]!.mean_usage, 2.5);
  assert.equal(got[0]!.stddev_usage, null, 'sample stddev of one value is null');
  assert.equal(got[0]!.p50_usage, 2.5);
  assert.equal(got[0]!.first_usage, 2.5);
  assert.equal(got[0]!.rate_usage, null, 'rate needs two points');
  assert.equal(got[0]!.min_n, 7n);
  assert.equal(got[0]!.sum_n, 7n, 'sum of an int64 field is an exact Int64');
});

test('latest returns the last row of every series like DuckDB arg_max', async () => {
  const result = await runQuery(table, { latest: true, columns: ['usage', 'n', 'note'] });
  assert.deepEqual(result.schema.fields.map((f) => f.name), ['time', 'host', 'region', 'usage', 'n', 'note']);
  const got = tableRows(result);
  const expected = await withDuck((q) => q(`
    SELECT host, region, max(t) AS time, arg_max(usage, t) AS usage, arg_max(n, t) AS n, arg_max(note, t) AS note
    FROM (SELECT * FROM d) GROUP BY ALL ORDER BY host, region`));
  // arg_max skips null values; the latest row's own value may be null, so compare through the rows.
  assert.equal(got.length, expected.length);
  got.forEach((g, i) => {
    assert.equal(key(g, ['host', 'region']), key(expected[i]!, ['host', 'region']));
    assert.equal(g.time, BigInt(expected[i]!.time as number));
    const row = rows.find((r) => r.host === g.host && r.time === g.time)!;
    assert.equal(g.usage, row.usage);
    assert.equal(g.n, row.n);
    assert.equal(g.note, row.note);
  });
  const perRegion = tableRows(await runQuery(table, { latest: true, by: ['region'], columns: ['usage'] }));
  assert.deepEqual(perRegion.map((r) => r.region), ['eu', 'us']);
});

test('query filter keeps rows where the predicate is true, like a SQL WHERE', async () => {
  const filter = { or: [{ and: [{ field: 'usage', op: '>=', value: 20 }, { not: { field: 'ok', op: '=', value: true } }] }, { field: 'note', op: 'isNull' }] } as const;
  const got = tableRows(await runQuery(table, { every: '4h', by: ['host'], filter: filter as never, agg: { '*': 'count', usage: 'sum', n: 'max' } }));
  const expected = await withDuck((q) => q(`
    SELECT epoch_ms(time_bucket(INTERVAL '4 hours', ts)) AS time, host, count(*) AS count, sum(usage) AS sum_usage, max(n) AS max_n
    FROM d WHERE (usage >= 20 AND NOT (ok = true)) OR note IS NULL GROUP BY ALL ORDER BY host, time`));
  assert.equal(got.length, expected.length);
  got.forEach((g, i) => {
    const e = expected[i]!;
    assert.equal(key(g, ['host', 'time']), key(e, ['host', 'time']));
    close(g.count, e.count, 'count', 0);
    close(g.sum_usage, e.sum_usage, 'sum');
    close(g.max_n, e.max_n, 'max', 0);
  });
});

test('int64 and uint64 sums are exact beyond 2^53, like DuckDB hugeint sums; overflow is an error', async () => {
  const big: TableSchema = { time: 'time', timeUnit: 'ms', tags: ['host'], fields: [{ name: 'i', type: 'int64' }, { name: 'u', type: 'uint64' }] };
  const random = rng(seed);
  const bigRows: TestRow[] = Array.from({ length: 3000 }, (_, r) => ({
    time: BigInt(T0 + r * 1000), host: `h${r % 3}`,
    i: random() < 0.05 ? null : BigInt(Math.floor((random() - 0.4) * 2 ** 52)) * 3n + BigInt(r),
    u: random() < 0.05 ? null : (1n << 50n) * BigInt(Math.floor(random() * 64)) + BigInt(r),
  }));
  const got = tableRows(await runQuery(new FakeTable(big, bigRows, { chunks: 2, batchRowsMax: 400, seed }), { every: '10m', by: ['host'], agg: { i: ['sum', 'mean'], u: ['sum', 'max'] } }));
  const duck = await duckWith(big, bigRows);
  try {
    const expected = await duckRows(duck.conn, `SELECT epoch_ms(time_bucket(INTERVAL '10 minutes', ts)) AS time, host, sum(i) AS sum_i, avg(i) AS mean_i, sum(u) AS sum_u, max(u) AS max_u
      FROM d GROUP BY ALL ORDER BY host, time`);
    assert.equal(got.length, expected.length);
    got.forEach((g, r) => {
      const e = expected[r]!;
      assert.equal(String(g.sum_i), String(e.sum_i), `row ${r} sum_i`);
      assert.equal(String(g.sum_u), String(e.sum_u), `row ${r} sum_u`);
      assert.equal(String(g.max_u), String(e.max_u), `row ${r} max_u`);
      close(g.mean_i, e.mean_i, `row ${r} mean_i`);
    });
    assert.ok(got.some((g) => (g.sum_u as bigint) > 2n ** 53n), 'sums beyond 2^53 exercised');
  } finally {
    duck.close();
  }
  const overflow: TestRow[] = [{ time: 1n, host: 'a', i: (1n << 62n), u: 1n }, { time: 2n, host: 'a', i: (1n << 62n), u: 1n }];
  await assert.rejects(runQuery(new FakeTable(big, overflow), { agg: { i: 'sum' } }), /sum of int64 field i/);
});
