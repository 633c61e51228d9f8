/**
 * A decode buffer lent by the pool (src/format/buffer-pool.ts) is uninitialised memory or a
 * previous read's values. The decoders must write every slot, null slots included: a null
 * slot must read 0 (false for booleans), never a value of another table left in the buffer.
 * Arrow leaves null slots unspecified, but exports and IPC write them out as they are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { decodeBuffers, releaseBatch } from '../../src/format/buffer-pool.js';
import type { Row } from '../../src/core/types.js';

const T0 = Date.UTC(2026, 0, 1);
const FIELDS = [{ name: 'v', type: 'float64' }, { name: 'i', type: 'int64' }, { name: 'u', type: 'uint64' }, { name: 'b', type: 'bool' }] as const;

function rows(n: number, nullish: boolean): Row[] {
  const out: Row[] = [];
  for (let r = 0; r < n; r++) {
    const none = nullish && r % 3 !== 0;
    out.push({ time: T0 + r, host: 'x', v: none ? null : 1234.5 + r, i: none ? null : BigInt(r) * -7n - 1n, u: none ? null : BigInt(r) + 99n, b: none ? null : true });
  }
  return out;
}

test('null slots of pooled decode buffers are written (0), never a previous read\'s values', async () => {
  const db = await Quiver.open(new MemoryChunkManager('pool-nulls'), { decodedCacheBytes: 0, decodeThreads: 0 });
  try {
    const full = await db.createTable('full', { timeUnit: 'ms', tags: ['host'], fields: [...FIELDS], pageRows: 1024 });
    const sparse = await db.createTable('sparse', { timeUnit: 'ms', tags: ['host'], fields: [...FIELDS], pageRows: 1024 });
    await full.append(rows(20_000, false)); await full.flush();
    await sparse.append(rows(20_000, true)); await sparse.flush();
    const reusedBefore = decodeBuffers.reused;
    for (let round = 0; round < 3; round++) {
      for await (const batch of full.scan({})) releaseBatch(batch);
      let nulls = 0;
      for await (const batch of sparse.scan({})) {
        for (const { name } of FIELDS) {
          const d = batch.getChild(name)!.data[0]!;
          const values = d.values as ArrayLike<number | bigint>;
          for (let r = 0; r < d.length; r++) {
            if (d.getValid(r)) continue;
            nulls++;
            const stale = name === 'b' ? ((Number(values[(d.offset + r) >> 3]) >> ((d.offset + r) & 7)) & 1) !== 0 : values[d.offset + r] != 0;
            assert.ok(!stale, `round ${round}: null slot ${r} of ${name} holds ${String(values[d.offset + r])}`);
          }
        }
        releaseBatch(batch);
      }
      assert.ok(nulls > 40_000, `the sparse table's null slots were checked (${nulls})`);
    }
    assert.ok(decodeBuffers.reused > reusedBefore, 'the scans decoded into reused buffers');
  } finally {
    await db.close();
  }
});
