/**
 * One NaN policy for every aggregate, DuckDB's: NaN is the largest value. max of a group
 * holding NaN is NaN, min ignores NaN unless every value is NaN, sums and means with NaN are
 * NaN, percentiles sort NaN last; ±Infinity, -0, nulls, all-null and all-NaN groups alike.
 * Checked against DuckDB on the decoded path and on the page-statistics path (fresh chunks,
 * and chunks as written before pages counted their NaN: footers without nanCount, or without
 * sums either).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { runQuery } from '../../src/scan/query.js';
import type { QueryableTable, QueryOptions } from '../../src/scan/query-types.js';
import type { ChunkFooter } from '../../src/format/types.js';
import type { Row } from '../../src/core/types.js';
import type { Table } from '../../src/table/table.js';
import { rng, seedFromEnv, tableRows } from './query-fixture.test.js';

const T0 = Date.UTC(2026, 0, 5);
const seed = seedFromEnv('nan-policy');

/** Groups with a purpose each; values drawn from their pool (null = a null value). */
const GROUPS: Record<string, (number | null)[]> = {
  finite: [1.5, -2.25, 3, 7.75, -0.5],
  someNaN: [1.5, -2.25, 3, NaN],
  allNaN: [NaN],
  allNull: [null],
  nanAndNull: [NaN, null],
  inf: [1, 2, Infinity],
  negInf: [-Infinity, 4, 5],
  bothInf: [Infinity, -Infinity, 1],
  negInfNaN: [-Infinity, NaN, 3],
  zeros: [-0, 0, -0],
  mixed: [NaN, Infinity, -Infinity, -0, 0, 2.5, null],
};

interface Point { time: number; host: string; v: number | null }

function generate(): Point[] {
  const random = rng(seed);
  const points: Point[] = [];
  for (const [host, pool] of Object.entries(GROUPS)) {
    const n = 40 + Math.floor(random() * 60);
    for (let i = 0; i < n; i++) points.push({ time: T0 + i * 60_000 + Math.floor(random() * 30_000), host, v: pool[Math.floor(random() * pool.length)]! });
    // Every value of the pool at least once, so each group is what its name says.
    pool.forEach((v, k) => points.push({ time: T0 + (n + k) * 60_000, host, v }));
  }
  return points;
}

const sqlDouble = (v: number | null) => (v === null ? 'NULL' : Number.isNaN(v) ? "'nan'::DOUBLE" : v === Infinity ? "'inf'::DOUBLE" : v === -Infinity ? "'-inf'::DOUBLE" : Object.is(v, -0) ? '(-0.0)::DOUBLE' : `${v}::DOUBLE`);

async function duckExpected(points: Point[], finiteHosts: string[]): Promise<Map<string, Record<string, unknown>>> {
  const duck = await DuckDBInstance.create(':memory:');
  const conn = await duck.connect();
  try {
    await conn.run('CREATE TABLE d (t BIGINT, host VARCHAR, v DOUBLE)');
    for (let i = 0; i < points.length; i += 500) {
      await conn.run(`INSERT INTO d VALUES ${points.slice(i, i + 500).map((p) => `(${p.time}, '${p.host}', ${sqlDouble(p.v)})`).join(', ')}`);
    }
    const rows = (await conn.runAndReadAll(`SELECT host, count(v) AS count_v, sum(v) AS sum_v, min(v) AS min_v, max(v) AS max_v, avg(v) AS mean_v,
        arg_min(v, t) FILTER (WHERE v IS NOT NULL) AS first_v, arg_max(v, t) FILTER (WHERE v IS NOT NULL) AS last_v,
        quantile_cont(v, 0.5) AS p50_v, quantile_cont(v, 0.9) AS p90_v, quantile_cont(v, 0.25) AS p25_v, max(v) - min(v) AS spread_v, count(*) AS count
      FROM d GROUP BY host`)).getRowObjectsJS();
    // DuckDB's stddev_samp raises "out of range" on a non-finite result; ours is NaN there.
    const sd = (await conn.runAndReadAll(`SELECT host, stddev_samp(v) AS stddev_v FROM d WHERE host IN (${finiteHosts.map((h) => `'${h}'`).join(', ')}) GROUP BY host`)).getRowObjectsJS();
    const rates = (await conn.runAndReadAll(`WITH p AS (SELECT host, t, v, lag(v) OVER w AS pv, lag(t) OVER w AS pt FROM d WHERE v IS NOT NULL WINDOW w AS (PARTITION BY host ORDER BY t))
      SELECT host, sum(CASE WHEN v < pv THEN v ELSE v - pv END) / (sum(t - pt) / 1000.0) AS rate_v, sum(v - pv) / (sum(t - pt) / 1000.0) AS derivative_v
      FROM p WHERE pv IS NOT NULL GROUP BY host`)).getRowObjectsJS();
    const out = new Map<string, Record<string, unknown>>();
    for (const r of rows) out.set(r.host as string, { ...r, stddev_v: null, rate_v: null, derivative_v: null });
    for (const r of sd) out.get(r.host as string)!.stddev_v = r.stddev_v;
    for (const r of rates) Object.assign(out.get(r.host as string)!, { rate_v: r.rate_v, derivative_v: r.derivative_v });
    return out;
  } finally {
    conn.closeSync();
    duck.closeSync();
  }
}

/** Equal as numbers: NaN equals NaN, -0 equals 0 (IEEE and DuckDB compare them equal), floats within 1e-9 relative where `exact` is false. */
function same(actual: unknown, expected: unknown, exact: boolean, what: string): void {
  if (expected === null || expected === undefined) { assert.equal(actual, null, `${what}: expected null, got ${String(actual)}`); return; }
  assert.notEqual(actual, null, `${what}: expected ${String(expected)}, got null`);
  const a = Number(actual), e = Number(expected);
  if (Number.isNaN(e) || !Number.isFinite(e)) { assert.ok(Object.is(a, e), `${what}: expected ${e}, got ${a}`); return; }
  if (exact) assert.ok(a === e, `${what}: expected ${e}, got ${a}`);
  else assert.ok(Math.abs(a - e) <= 1e-9 * Math.max(1, Math.abs(e)), `${what}: expected ${e}, got ${a}`);
}

const AGG: QueryOptions['agg'] = { v: ['count', 'sum', 'min', 'max', 'mean', 'first', 'last', 'stddev', 'p50', 'p90', 'percentile:0.25', 'spread', 'rate', 'derivative'], '*': 'count' };
const EXACT = new Set(['count_v', 'min_v', 'max_v', 'first_v', 'last_v', 'count', 'spread_v']);

/** The table's scan, with each chunk footer passed through `edit` before the statistics see it; counts pages answered from them. */
function withFooters(t: Table, edit: (f: ChunkFooter) => ChunkFooter, counter: { answered: number; withNaN: number }): QueryableTable {
  return {
    schema: t.schema,
    scan: (o) => t.scan(o),
    scanWithSummaries: (o, summarize) => t.scanWithSummaries(o, (footer, pages) => {
      const edited = edit(footer);
      const rest = summarize(edited, pages);
      const v = footer.columns.find((c) => c.name === 'v')!; // the page as written: did it hold NaN?
      for (const p of pages) if (!rest.includes(p)) { counter.answered++; if ((v.pages[p]!.nanCount ?? 0) > 0) counter.withNaN++; }
      return rest;
    }),
  };
}

const strip = (keys: ('nanCount' | 'sum')[]) => (footer: ChunkFooter): ChunkFooter => ({
  ...footer,
  columns: footer.columns.map((c) => ({ ...c, pages: c.pages.map((p) => { const q = { ...p }; for (const k of keys) delete q[k]; return q; }) })),
});

test('every aggregate follows DuckDB\'s NaN order (NaN largest) on decoded pages and on page statistics, old footers included', async () => {
  const points = generate();
  const db = await Quiver.open(new MemoryChunkManager(), { decodedCacheBytes: 0 });
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }], pageRows: 16, timeUnit: 'ms' });
  await t.append(points.map((p): Row => ({ time: p.time, host: p.host, v: p.v })));
  await t.flush();
  const finite = Object.entries(GROUPS).filter(([, pool]) => pool.every((v) => v === null || Number.isFinite(v))).map(([h]) => h);
  const expected = await duckExpected(points, finite);
  // The pre-fix symptoms, as DuckDB answers them: all-NaN groups have NaN extremes.
  assert.ok(Number.isNaN(expected.get('allNaN')!.min_v as number) && Number.isNaN(expected.get('allNaN')!.max_v as number));
  assert.equal(expected.get('someNaN')!.min_v, -2.25);

  const full = { answered: 0, withNaN: 0 }, old = { answered: 0, withNaN: 0 }, older = { answered: 0, withNaN: 0 };
  const paths: [string, QueryableTable][] = [
    ['decoded', { schema: t.schema, scan: (o) => t.scan(o) }],
    ['statistics', withFooters(t, (f) => f, full)],
    ['statistics without nanCount', withFooters(t, strip(['nanCount']), old)],
    ['statistics without nanCount and sums', withFooters(t, strip(['nanCount', 'sum']), older)],
  ];
  for (const [path, table] of paths) {
    for (const options of [{ every: '1d', by: ['host'], agg: AGG }, { every: '1d', by: ['host'], agg: { v: ['min', 'max', 'count', 'sum', 'mean'] } }, { every: '1d', by: ['host'], agg: { v: ['max', 'min'] } }] as QueryOptions[]) {
      const got = tableRows(await runQuery(table, options));
      assert.equal(got.length, Object.keys(GROUPS).length, path);
      for (const row of got) {
        const e = expected.get(row.host as string)!;
        for (const [k, v] of Object.entries(row)) {
          if (k === 'time' || k === 'host' || (k === 'stddev_v' && !finite.includes(row.host as string))) continue;
          same(v, e[k], EXACT.has(k), `${path}: ${row.host} ${k}`);
        }
        if (!finite.includes(row.host as string) && 'stddev_v' in row && row.count_v as bigint >= 2n) {
          assert.ok(Number.isNaN(row.stddev_v as number), `${path}: ${row.host} stddev over NaN or ±Infinity is NaN`);
        }
      }
    }
  }
  console.log('pages answered from statistics', { full, old, older });
  assert.ok(full.answered > 20 && full.withNaN > 0, `statistics answered ${full.answered} pages, ${full.withNaN} holding NaN`);
  assert.ok(old.answered > 0 && old.answered < full.answered, `without nanCount, pages with a NaN sum decode (${old.answered} of ${full.answered} answered)`);
  assert.ok(old.withNaN === 0 && older.withNaN === 0, 'without nanCount no page holding NaN is answered from its statistics');
  await db.close();
});
