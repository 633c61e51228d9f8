/**
 * fill linear on 64-bit integer aggregates is exact: the nearest integer to the line between
 * the neighbouring buckets (half up), computed in bigints, for values beyond 2^53 and at the
 * ends of int64 and uint64 (through a double these rounded, and near 2^64 wrapped to 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';

test('fill linear interpolates int64 and uint64 exactly, never past the type', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('t', { timeUnit: 's', fields: [{ name: 'u', type: 'uint64' }, { name: 'i', type: 'int64' }] });
  const T0 = Date.UTC(2026, 0, 1);
  await t.append([
    { time: T0, u: 2n ** 64n - 1n, i: 2n ** 63n - 1n },
    { time: T0 + 3000, u: 2n ** 64n - 4n, i: -(2n ** 63n) },
    { time: T0 + 5000, u: 2n ** 64n - 4n, i: 2n ** 53n + 1n },
    { time: T0 + 7000, u: 2n ** 64n - 3n, i: 2n ** 53n + 2n },
  ]);
  const result = await t.query({ every: '1s', fill: 'linear', agg: { u: 'first', i: 'first' } });
  const u = [...result.getChild('first_u')!].map(String);
  const i = [...result.getChild('first_i')!].map(String);
  await db.close();
  const U = 2n ** 64n, I = 2n ** 63n, B = 2n ** 53n;
  assert.deepEqual(u, [U - 1n, U - 2n, U - 3n, U - 4n, U - 4n, U - 4n, U - 3n, U - 3n].map(String));
  // int64 max → min over 3 s: steps of (2^64 − 1)/3 (exact); then −2^63 → 2^53 + 1 over 2 s
  // (the midpoint is x.5: half up); then 2^53 + 1 → 2^53 + 2 over 2 s (half up again).
  const third = (U - 1n) / 3n;
  assert.deepEqual(i, [I - 1n, I - 1n - third, I - 1n - 2n * third, -I, (B + 2n - I) / 2n, B + 1n, B + 2n, B + 2n].map(String));
});
