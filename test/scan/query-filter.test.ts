/** Field predicates: applyFilter on every column type against DuckDB's WHERE (three-valued logic). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TableSchema } from '../../src/core/types.js';
import { applyFilter, evaluatePredicate, TRUE, UNKNOWN, FALSE } from '../../src/scan/predicate.js';
import type { FieldPredicate } from '../../src/scan/query-types.js';
import { SchemaError, UsageError } from '../../src/errors.js';
import { duckRows, duckWith, makeBatch, rng, seedFromEnv, tableRows, type TestRow } from './query-fixture.test.js';
import { Table } from 'apache-arrow';

const schema: TableSchema = {
  time: 'time', timeUnit: 'ms', tags: ['host'],
  fields: [
    { name: 'f', type: 'float64' }, { name: 'i', type: 'int64' }, { name: 'u', type: 'uint64' },
    { name: 'b', type: 'bool' }, { name: 's', type: 'utf8' },
  ],
};
const seed = seedFromEnv('query-filter');
const random = rng(seed);
const rows: TestRow[] = Array.from({ length: 400 }, (_, r) => ({
  time: BigInt(1_700_000_000_000 + r * 1000),
  host: random() < 0.1 ? null : `h${Math.floor(random() * 4)}`,
  f: random() < 0.15 ? null : Math.round(random() * 200 - 100) / 4,
  i: random() < 0.15 ? null : BigInt(Math.floor(random() * 20) - 10) * 1_000_000_000_000n,
  u: random() < 0.15 ? null : BigInt(Math.floor(random() * 20)),
  b: random() < 0.15 ? null : random() < 0.5,
  s: random() < 0.15 ? null : `s${Math.floor(random() * 6)}`,
}));

const cases: { p: FieldPredicate; sql: string }[] = [
  { p: { field: 'f', op: '<', value: 0 }, sql: 'f < 0' },
  { p: { field: 'f', op: '>=', value: 12.5 }, sql: 'f >= 12.5' },
  { p: { field: 'f', op: '!=', value: 0.25 }, sql: 'f != 0.25' },
  { p: { field: 'f', op: 'between', low: -10, high: 10 }, sql: 'f BETWEEN -10 AND 10' },
  { p: { field: 'i', op: '=', value: 3_000_000_000_000n }, sql: 'i = 3000000000000' },
  { p: { field: 'i', op: '<=', value: -2_000_000_000_000 }, sql: 'i <= -2000000000000' },
  { p: { field: 'i', op: '>', value: 1.5 }, sql: 'i > 1.5' },
  { p: { field: 'u', op: '>', value: 10n }, sql: 'u > 10' },
  { p: { field: 'b', op: '=', value: true }, sql: 'b = true' },
  { p: { field: 's', op: '<', value: 's3' }, sql: `s < 's3'` },
  { p: { field: 'host', op: '=', value: 'h2' }, sql: `host = 'h2'` },
  { p: { field: 'host', op: '!=', value: 'h2' }, sql: `host != 'h2'` },
  { p: { field: 's', op: 'isNull' }, sql: 's IS NULL' },
  { p: { field: 'f', op: 'isNotNull' }, sql: 'f IS NOT NULL' },
  { p: { not: { field: 'f', op: '<', value: 0 } }, sql: 'NOT (f < 0)' },
  { p: { or: [{ field: 'f', op: '<', value: 0 }, { field: 'b', op: '=', value: true }] }, sql: 'f < 0 OR b = true' },
  { p: { not: { or: [{ field: 'f', op: '<', value: 0 }, { field: 'b', op: '=', value: true }] } }, sql: 'NOT (f < 0 OR b = true)' },
  { p: { and: [{ field: 'u', op: '>=', value: 5 }, { not: { field: 's', op: '=', value: 's1' } }, { field: 'i', op: 'isNotNull' }] }, sql: `u >= 5 AND NOT (s = 's1') AND i IS NOT NULL` },
  { p: { and: [] }, sql: 'true' },
  { p: { or: [] }, sql: 'false' },
];

test('applyFilter keeps exactly the rows DuckDB WHERE keeps, with every column intact', async () => {
  const duck = await duckWith(schema, rows);
  try {
    // Batches sliced at odd offsets: the Data offset must be honoured.
    const whole = makeBatch(schema, rows);
    const sliced = whole.slice(3, 397);
    for (const c of cases) {
      const filtered = applyFilter(sliced, c.p);
      const got = tableRows(new Table([filtered]));
      const expected = await duckRows(duck.conn, `SELECT t FROM d WHERE t >= ${rows[3]!.time} AND t < ${rows[397]!.time} AND (${c.sql}) ORDER BY t`);
      assert.deepEqual(got.map((r) => r.time), expected.map((e) => BigInt(e.t as number)), c.sql);
      for (const g of got) {
        const src = rows.find((r) => r.time === g.time)!;
        for (const col of ['host', 'f', 'i', 'u', 'b', 's']) assert.equal(g[col], src[col], `${c.sql}: ${col} at ${g.time}`);
      }
    }
  } finally {
    duck.close();
  }
});

test('three-valued logic: comparisons with null are unknown, NOT unknown stays unknown', () => {
  const batch = makeBatch(schema, [
    { time: 1n, host: 'a', f: null, i: 1n, u: 1n, b: true, s: 'x' },
    { time: 2n, host: 'a', f: 5, i: 1n, u: 1n, b: true, s: 'x' },
    { time: 3n, host: 'a', f: -5, i: 1n, u: 1n, b: true, s: 'x' },
  ]);
  assert.deepEqual([...evaluatePredicate(batch, { field: 'f', op: '>', value: 0 })], [UNKNOWN, TRUE, FALSE]);
  assert.deepEqual([...evaluatePredicate(batch, { not: { field: 'f', op: '>', value: 0 } })], [UNKNOWN, FALSE, TRUE]);
  assert.deepEqual([...evaluatePredicate(batch, { or: [{ field: 'f', op: '>', value: 0 }, { field: 'b', op: '=', value: true }] })], [TRUE, TRUE, TRUE]);
  assert.deepEqual([...evaluatePredicate(batch, { and: [{ field: 'f', op: '>', value: 0 }, { field: 'b', op: '=', value: false }] })], [FALSE, FALSE, FALSE]);
  assert.equal(applyFilter(batch, { field: 'b', op: '=', value: true }), batch, 'all rows kept: the batch itself');
});

test('bad predicates are typed errors naming the field', () => {
  const batch = makeBatch(schema, [{ time: 1n, host: 'a', f: 1, i: 1n, u: 1n, b: true, s: 'x' }]);
  assert.throws(() => applyFilter(batch, { field: 'f', op: '=', value: 'x' }), SchemaError);
  assert.throws(() => applyFilter(batch, { field: 'nope', op: '=', value: 1 }), /column "nope" missing/);
  assert.throws(() => applyFilter(batch, { field: 'f', op: '~' as never, value: 1 }), UsageError);
});
