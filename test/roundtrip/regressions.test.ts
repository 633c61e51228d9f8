/**
 * Focused regression tests for failures the round-trip property test found (each failed
 * before its fix; the seed that found it is named).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';

test('a table without tags is one series: scans return it in time order across overlapping chunks (roundtrip seed 29)', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('t', { timeUnit: 's', fields: [{ name: 'x', type: 'int64' }] });
  // Two flushes: two chunks whose time ranges overlap.
  await t.append([{ time: 10n * 1_000_000_000n, x: 1n }, { time: 30n * 1_000_000_000n, x: 3n }]);
  await t.flush();
  await t.append([{ time: 20n * 1_000_000_000n, x: 2n }, { time: 5n * 1_000_000_000n, x: 0n }]);
  await t.flush();
  const times: bigint[] = [];
  const xs: bigint[] = [];
  for await (const b of t.scan({})) {
    times.push(...(b.getChild('time')!.data[0]!.values as BigInt64Array));
    xs.push(...(b.getChild('x')!.data[0]!.values as BigInt64Array));
  }
  assert.deepEqual(times, [5n, 10n, 20n, 30n]);
  assert.deepEqual(xs, [0n, 1n, 2n, 3n]);
  await db.close();
});
