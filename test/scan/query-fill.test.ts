/** Gap filling of empty buckets: none, null, previous, linear; within [from, to) or the data's range. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TableSchema } from '../../src/core/types.js';
import { runQuery } from '../../src/scan/query.js';
import { UsageError, LimitExceededError } from '../../src/errors.js';
import { FakeTable, tableRows, type TestRow } from './query-fixture.test.js';

const schema: TableSchema = { time: 'time', timeUnit: 'us', tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'k', type: 'int64' }] };
const H = 3_600_000_000n;
const rows: TestRow[] = [
  { time: 0n * H + 5n, host: 'a', v: 1, k: 10n },
  { time: 1n * H + 5n, host: 'a', v: 3, k: 20n },
  { time: 4n * H + 5n, host: 'a', v: 9, k: 50n },
  { time: 2n * H + 7n, host: 'b', v: 5, k: 1n },
];
const table = new FakeTable(schema, rows);
const from = 0;
const to = 6 * 3_600_000; // epoch ms

async function fill(mode: 'none' | 'null' | 'previous' | 'linear', range = true) {
  const result = await runQuery(table, { every: '1h', by: ['host'], fill: mode, agg: { v: 'mean', k: 'max', '*': 'count' }, ...(range ? { from, to } : {}) });
  return tableRows(result).map((r) => ({ h: Number((r.time as bigint) / H), host: r.host, v: r.mean_v, k: r.max_k, n: r.count }));
}

test('fill none leaves gaps out', async () => {
  assert.deepEqual((await fill('none')).map((r) => `${r.host}${r.h}`), ['a0', 'a1', 'a4', 'b2']);
});

test('fill null adds every bucket of [from, to) per group, counts 0', async () => {
  const got = await fill('null');
  assert.deepEqual(got.filter((r) => r.host === 'a').map((r) => r.v), [1, 3, null, null, 9, null]);
  assert.deepEqual(got.filter((r) => r.host === 'a').map((r) => r.n), [1n, 1n, 0n, 0n, 1n, 0n]);
  assert.deepEqual(got.filter((r) => r.host === 'b').map((r) => r.v), [null, null, 5, null, null, null]);
  assert.deepEqual(got.map((r) => r.h), [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
});

test('fill previous carries the last bucket forward, null before the first', async () => {
  const got = await fill('previous');
  assert.deepEqual(got.filter((r) => r.host === 'a').map((r) => r.v), [1, 3, 3, 3, 9, 9]);
  assert.deepEqual(got.filter((r) => r.host === 'a').map((r) => r.k), [10n, 20n, 20n, 20n, 50n, 50n]);
  assert.deepEqual(got.filter((r) => r.host === 'b').map((r) => r.v), [null, null, 5, 5, 5, 5]);
});

test('fill linear interpolates in time between neighbours, null at the ends', async () => {
  const got = await fill('linear');
  assert.deepEqual(got.filter((r) => r.host === 'a').map((r) => r.v), [1, 3, 5, 7, 9, null]);
  assert.deepEqual(got.filter((r) => r.host === 'a').map((r) => r.k), [10n, 20n, 30n, 40n, 50n, null]);
  assert.deepEqual(got.filter((r) => r.host === 'b').map((r) => r.v), [null, null, 5, null, null, null]);
});

test('without from/to, fill spans the data from its first to its last bucket', async () => {
  const got = await fill('null', false);
  assert.deepEqual(got.filter((r) => r.host === 'a').map((r) => r.h), [0, 1, 2, 3, 4]);
});

test('fill needs every; runaway fills hit a named limit', async () => {
  await assert.rejects(runQuery(table, { fill: 'null', agg: { v: 'mean' } }), UsageError);
  await assert.rejects(runQuery(table, { every: '1ms', fill: 'null', from: 0, to: 10 * 24 * 3_600_000, agg: { v: 'mean' } }), LimitExceededError);
});
