import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { UsageError } from '../../src/errors.js';
import type { TimeUnit } from '../../src/format/types.js';

/**
 * Buckets of times at the ends of a unit's int64 range. A bucket is numbered from
 * 2000-01-03 and starts at or before its first time: near the ends the number passes 2^53
 * (once, three seconds of an 's' table fell into one bucket, labelled with a fourth) or the
 * start lies before the unit's first time (once, it wrapped to year +292277026596). Either is
 * a typed error naming the time, never a merged or wrapped bucket.
 */
const EXTREMES: Record<Exclude<TimeUnit, 'ns'>, { max: string; min: string }> = {
  s: { max: '+292277026596-12-04T15:30:07Z', min: '-292277022657-01-27T08:29:52Z' },
  ms: { max: '+292278994-08-17T07:12:55.807Z', min: '-292275055-05-16T16:47:04.192Z' },
  us: { max: '+294247-01-10T04:00:54.775807Z', min: '-290308-12-21T19:59:05.224192Z' },
};

/** A result's bucket times as raw int64 counts (toJSON converts through a double). */
const times = (t: { getChild(name: string): { data: readonly { values: unknown }[] } | null }) => (t.getChild('time')?.data ?? []).flatMap((d) => Array.from(d.values as BigInt64Array, String)).join(' ');

for (const unit of ['s', 'ms', 'us'] as const) {
  test(`buckets at the int64 ends of a table in ${unit}: each time counted once in a bucket that holds it, or a typed error`, async () => {
    const db = await Quiver.open(new MemoryChunkManager(`bucket-extremes-${unit}`));
    try {
      const t = await db.createTable('x', { timeUnit: unit, tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
      const { max, min } = EXTREMES[unit];
      await t.append([{ time: min, host: 'a', v: 1 }, { time: '1970-01-01T00:00:00Z', host: 'a', v: 2 }]);
      await t.flush();
      for (const every of ['1s', '1d', '1mo']) {
        await assert.rejects(t.query({ every, agg: { v: ['count'] } }), (e: unknown) => e instanceof UsageError && /bucket/.test((e as Error).message) && /outside|before|beyond/.test((e as Error).message),
          `every ${every}: the bucket of ${min} starts before the unit's range`);
        // Without the extreme row the same query answers.
        const ok = await t.query({ every, from: '1969-01-01T00:00:00Z', agg: { v: ['count'] } });
        assert.equal(ok.numRows, 1);
      }
      const y = await db.createTable('y', { timeUnit: unit, tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
      await y.append([{ time: max, host: 'a', v: 1 }]);
      await y.flush();
      for (const every of ['1s', '1mo', '1d']) {
        const tz = every === '1d' ? 'Europe/Paris' : undefined;
        let answer;
        try { answer = await y.query({ every, agg: { v: ['count'] }, ...(tz ? { timeZone: tz } : {}) }); } catch (e) {
          assert.ok(e instanceof UsageError, `every ${every}: ${String(e)}`);
          continue;
        }
        assert.equal(answer.numRows, 1, `every ${every}: ${times(answer)}`);
      }
    } finally {
      await db.close();
    }
  });
}

test('every 1s over the last seconds of a table in s: one bucket per second, or a typed error', async () => {
  const db = await Quiver.open(new MemoryChunkManager('bucket-extremes-merge'));
  try {
    const t = await db.createTable('x', { timeUnit: 's', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    await t.append([
      { time: '+292277026596-12-04T15:30:07Z', host: 'a', v: 1 },
      { time: '+292277026596-12-04T15:30:06Z', host: 'a', v: 2 },
      { time: '+292277026596-12-04T15:16:40Z', host: 'a', v: 3 },
    ]);
    await t.flush();
    let answer;
    try { answer = await t.query({ every: '1s', agg: { v: ['count', 'max'] } }); } catch (e) {
      assert.ok(e instanceof UsageError && /bucket/.test((e as Error).message), String(e));
      return;
    }
    assert.equal(answer.numRows, 3, times(answer));
  } finally {
    await db.close();
  }
});
