/**
 * Seeded random queries (buckets, groups, aggregations, ranges, tag filters, field filters)
 * against a plain in-memory reference written the obvious way: rows → groups → sorted values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TableSchema } from '../../src/core/types.js';
import type { AggSpec, FieldPredicate, QueryOptions } from '../../src/scan/query-types.js';
import { runQuery } from '../../src/scan/query.js';
import { makeBucketer } from '../../src/scan/bucket.js';
import { close, FakeTable, rng, seedFromEnv, tableRows, type TestRow } from './query-fixture.test.js';

const FNS: AggSpec[] = ['count', 'sum', 'min', 'max', 'mean', 'first', 'last', 'stddev', 'p50', 'percentile:0.3', 'spread'];
const EVERY = [undefined, '1s', '7s', '1m', '1h', '1d', '1w'];
const QUERIES = 60;

function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  const pos = q * (sorted.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function reference(schema: TableSchema, rows: TestRow[], q: QueryOptions, from: bigint | null, to: bigint | null): Record<string, unknown>[] {
  const bucketer = q.every ? makeBucketer(q.every, schema.timeUnit) : null;
  const by = q.by ?? [];
  const groups = new Map<string, { tags: (string | null)[]; start: bigint; rows: TestRow[] }>();
  const filter = q.filter as { field: string; op: '>'; value: number } | undefined;
  let timeMin: bigint | null = null;
  for (const r of rows) {
    if (from !== null && r.time < from) continue;
    if (to !== null && r.time >= to) continue;
    if (q.where && Object.entries(q.where).some(([t, v]) => r[t] !== v)) continue;
    if (filter && !((r[filter.field] as number | null) !== null && (r[filter.field] as number) > filter.value)) continue;
    if (timeMin === null || r.time < timeMin) timeMin = r.time;
    const start = bucketer ? bucketer.locate(r.time).start : 0n;
    const tags = by.map((t) => r[t] as string | null);
    const key = JSON.stringify([tags, String(start)]);
    let g = groups.get(key);
    if (!g) groups.set(key, g = { tags, start, rows: [] });
    g.rows.push(r);
  }
  const out = [...groups.values()].map((g) => {
    const row: Record<string, unknown> = { time: bucketer ? g.start : (from ?? timeMin) };
    by.forEach((t, i) => { row[t] = g.tags[i]; });
    for (const [field, specs] of Object.entries(q.agg!)) {
      const present = g.rows.filter((r) => r[field] !== null).sort((a, b) => (a.time < b.time ? -1 : 1));
      const vals = present.map((r) => Number(r[field]));
      const sorted = [...vals].sort((a, b) => a - b);
      const n = vals.length;
      const sum = vals.reduce((a, b) => a + b, 0);
      const mean = n ? sum / n : null;
      for (const spec of specs as AggSpec[]) {
        const name = spec === 'percentile:0.3' ? `p30_${field}` : `${spec}_${field}`;
        const v: Record<string, unknown> = {
          count: n, sum: n ? sum : null, mean, min: n ? sorted[0] : null, max: n ? sorted[n - 1] : null,
          first: n ? present[0]![field] : null, last: n ? present[n - 1]![field] : null,
          stddev: n >= 2 ? Math.sqrt(vals.reduce((a, x) => a + (x - mean!) ** 2, 0) / (n - 1)) : null,
          p50: quantile(sorted, 0.5), 'percentile:0.3': quantile(sorted, 0.3), spread: n ? sorted[n - 1]! - sorted[0]! : null,
        };
        row[name] = v[spec];
      }
    }
    return row;
  });
  const cmp = (a: unknown, b: unknown) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : (a as string) < (b as string) ? -1 : 1);
  out.sort((a, b) => {
    for (const t of by) { const c = cmp(a[t], b[t]); if (c) return c; }
    return (a.time as bigint) < (b.time as bigint) ? -1 : (a.time as bigint) > (b.time as bigint) ? 1 : 0;
  });
  return out;
}

test('seeded random queries agree with an in-memory reference', async () => {
  const seed = seedFromEnv('query-random');
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  let compared = 0;
  for (let round = 0; round < 4; round++) {
    const unit = pick(['ms', 'us', 'ns'] as const);
    const perMs = { ms: 1n, us: 1000n, ns: 1_000_000n }[unit];
    const schema: TableSchema = {
      time: 'time', timeUnit: unit, tags: ['a', 'b'],
      fields: [{ name: 'x', type: 'float64' }, { name: 'y', type: 'int64' }],
    };
    const count = Math.floor(random() * 3000);
    const base = BigInt(Date.UTC(2026, 0, 1)) + BigInt(Math.floor(random() * 1e9));
    const stepMs = pick([10, 1000, 60_000, 600_000]);
    const rows: TestRow[] = Array.from({ length: count }, (_, i) => ({
      // Unique times (first/last have no ties), unique µs/ns digits too.
      time: (base + BigInt(i * stepMs)) * perMs + BigInt(Math.floor(random() * Number(perMs))),
      a: pick(['p', 'q', 'r']),
      b: random() < 0.1 ? null : pick(['u', 'v']),
      x: random() < 0.1 ? null : Math.round((random() - 0.3) * 1e6) / 1e3,
      y: random() < 0.1 ? null : BigInt(Math.floor((random() - 0.5) * 1e6)),
    }));
    const table = new FakeTable(schema, rows, { chunks: 1 + Math.floor(random() * 4), batchRowsMax: 1 + Math.floor(random() * 700), seed });
    for (let k = 0; k < QUERIES / 4; k++) {
      const agg: Record<string, AggSpec[]> = {};
      for (const f of ['x', 'y']) if (random() < 0.7 || !Object.keys(agg).length) agg[f] = [...new Set(FNS.filter(() => random() < 0.4).concat('count'))];
      const q: QueryOptions = { agg, every: pick(EVERY), by: pick([[], ['a'], ['b'], ['a', 'b'], ['b', 'a']]) };
      const span = BigInt(count * stepMs);
      let from: bigint | null = null, to: bigint | null = null;
      if (random() < 0.5 && count) {
        const fromMs = base + BigInt(Math.floor(random() * Number(span) / 2));
        const toMs = fromMs + BigInt(Math.floor(random() * Number(span)));
        q.from = Number(fromMs); q.to = Number(toMs);
        from = fromMs * perMs; to = toMs * perMs;
      }
      if (random() < 0.3) q.where = { a: pick(['p', 'q']) };
      if (random() < 0.3) q.filter = { field: 'x', op: '>', value: 0 } as FieldPredicate;
      const what = `seed ${seed} round ${round} query ${k}: ${JSON.stringify(q)} unit ${unit}`;
      const got = tableRows(await runQuery(table, q));
      const expected = reference(schema, rows, q, from, to);
      assert.equal(got.length, expected.length, `${what}: rows`);
      compared += got.length;
      got.forEach((g, i) => {
        const e = expected[i]!;
        assert.equal(g.time, e.time, `${what}: row ${i} time`);
        for (const t of q.by!) assert.equal(g[t], e[t], `${what}: row ${i} ${t}`);
        for (const [col, ev] of Object.entries(e)) {
          if (col === 'time' || q.by!.includes(col)) continue;
          const exact = /^(count|min|max|first|last)_/.test(col);
          close(g[col], ev, `${what}: row ${i} ${col}`, exact ? 0 : 1e-9);
        }
      });
    }
  }
  assert.ok(compared > 0, `seed ${seed}: every query came back empty`);
});
