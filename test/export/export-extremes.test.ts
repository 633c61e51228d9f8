import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { InputError } from '../../src/errors.js';
import { I64_MAX, I64_MIN, timesOf } from './helpers.js';

/**
 * A table holding the first and last time of its unit exports whole. Each partition is read
 * with its [start, next start) as scan bounds: the last day's end (and the first day's start)
 * lie outside the unit's int64 range, and once made every export of such a table fail with
 * "to: … is outside the representable range" (in s the file cannot hold them: Parquet has no
 * second unit, and as ms they pass int64, which is its own error).
 */
const ENDS = {
  s: ['-292277022657-01-27T08:29:52Z', '+292277026596-12-04T15:30:07Z'],
  ms: ['-292275055-05-16T16:47:04.192Z', '+292278994-08-17T07:12:55.807Z'],
  us: ['-290308-12-21T19:59:05.224192Z', '+294247-01-10T04:00:54.775807Z'],
} as const;

for (const unit of ['s', 'ms', 'us'] as const) {
  test(`export of a table in ${unit} holding the unit's first and last time: every row, exactly`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-export-ends-'));
    const db = await Quiver.open(new MemoryChunkManager(`export-ends-${unit}`));
    try {
      const t = await db.createTable('x', { timeUnit: unit, tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
      await t.append([{ time: ENDS[unit][0], host: 'a', v: 1 }, { time: '1970-01-01T00:00:00Z', host: 'a', v: 2 }, { time: ENDS[unit][1], host: 'a', v: 3 }]);
      await t.flush();
      const file = join(dir, 'x.parquet');
      if (unit === 's') {
        // Parquet has no second unit: as milliseconds these times exceed int64, which the export says.
        await assert.rejects(db.export('x', file), (e: unknown) => e instanceof InputError && /column time: .* cannot be written to Parquet/.test((e as Error).message));
        return;
      }
      const result = await db.export('x', file);
      assert.equal(result.rows, 3);
      assert.deepEqual(timesOf(readFileSync(file)), [I64_MIN, 0n, I64_MAX]);
      const ranged = join(dir, 'ranged.parquet');
      assert.equal((await db.export('x', ranged, { from: '1969-12-31T00:00:00Z' })).rows, 2);
      assert.deepEqual(timesOf(readFileSync(ranged)), [0n, I64_MAX]);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
