import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import type { TimeUnit } from '../../src/format/types.js';
import type { QueryOptions } from '../../src/scan/query-types.js';
import { setRetention } from '../../src/index.js';

/**
 * Rollups of tables in every time unit. A rollup's maintenance computes its partitions in the
 * table's unit and must hand scans and queries epoch nanoseconds (their bigint bounds): a
 * millisecond table once got bounds 10^6 times too small, an empty rollup marked up to date,
 * and queries answered from it with no rows.
 */
const T0 = Date.UTC(2026, 0, 1);
const json = (t: { toArray(): { toJSON(): object }[] }) => JSON.stringify(t.toArray().map((r) => r.toJSON()), (_k, v) => (typeof v === 'bigint' ? String(v) : v));

for (const unit of ['s', 'ms', 'us', 'ns'] as TimeUnit[]) {
  test(`rollup of a table in ${unit}: filled at creation, kept by appends, answers as the raw rows`, async () => {
    const db = await Quiver.open(new MemoryChunkManager(`rollup-${unit}`));
    try {
      const cpu = await db.createTable('cpu', { timeUnit: unit, tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }] });
      const rows = (day: number) => Array.from({ length: 48 }, (_, i) => ({ time: T0 + day * 86_400_000 + i * 1_800_000, host: i % 2 ? 'a' : 'b', v: i * 1.25 - 7, n: BigInt(i * 3 - 50) }));
      await cpu.append(rows(0));
      await cpu.flush();
      await db.createRollup('cpu_1h', { source: 'cpu', every: '1h', by: ['host'], agg: { v: ['mean', 'max', 'min'], n: ['sum', 'count'] } });
      await cpu.append(rows(1));
      await cpu.flush();
      const query: QueryOptions = { every: '2h', by: ['host'], agg: { v: ['mean', 'max', 'min'], n: ['sum', 'count'] } };
      const plan = await cpu.explainQuery(query);
      assert.equal(plan.answeredFrom, 'cpu_1h', `explain: ${JSON.stringify(plan.rollupSkipped)}`);
      const fromRollup = await cpu.query(query);
      const raw = await cpu.query({ ...query, rollups: false });
      assert.equal(raw.numRows, 2 * 24, '2 days of 2-hour buckets, 2 hosts');
      assert.equal(json(fromRollup), json(raw));
      const ranged: QueryOptions = { ...query, from: new Date(T0 + 86_400_000), to: new Date(T0 + 86_400_000 + 6 * 3_600_000) };
      assert.equal((await cpu.explainQuery(ranged)).answeredFrom, 'cpu_1h');
      assert.equal(json(await cpu.query(ranged)), json(await cpu.query({ ...ranged, rollups: false })));
      assert.equal((await cpu.query(ranged)).numRows, 2 * 3);
    } finally {
      await db.close();
    }
  });
}

test('an alter dropping, renaming or widening a field a rollup keeps is refused; other fields alter', async () => {
  const db = await Quiver.open(new MemoryChunkManager('rollup-alter'));
  try {
    const cpu = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }, { name: 'x', type: 'int64' }] });
    await cpu.append([{ time: T0, host: 'a', v: 1, n: 2n, x: 3n }]);
    await cpu.flush();
    await db.createRollup('cpu_1h', { source: 'cpu', every: '1h', by: ['host'], agg: { v: ['max'], n: ['sum'] } });
    const version = cpu.version;
    for (const spec of [{ dropField: 'v' }, { renameField: { from: 'v', to: 'w' } }, { widen: { field: 'n', to: 'float64' as const } }]) {
      await assert.rejects(cpu.alter(spec), /field (v|n) is kept by rollup cpu_1h.*quiver rollup drop cpu_1h/);
    }
    assert.equal(cpu.version, version, 'nothing committed');
    await cpu.alter({ renameField: { from: 'x', to: 'y' } });
    await cpu.append([{ time: T0 + 1000, host: 'a', v: 5, n: 1n, y: 4n }]);
    await cpu.flush();
    const query: QueryOptions = { every: '1h', by: ['host'], agg: { v: ['max'], n: ['sum'] } };
    assert.equal((await cpu.explainQuery(query)).answeredFrom, 'cpu_1h', 'the rollup keeps up after the other field\'s rename');
    assert.equal(json(await cpu.query(query)), json(await cpu.query({ ...query, rollups: false })));
    await db.dropRollup('cpu_1h');
    await cpu.alter({ dropField: 'v' });
    assert.deepEqual(cpu.schema.fields.map((f) => f.name), ['n', 'y']);
  } finally {
    await db.close();
  }
});

test('createRollup resumes a rollup table a killed createRollup left unlisted; another spec is refused', async () => {
  const db = await Quiver.open(new MemoryChunkManager('rollup-resume'));
  try {
    const cpu = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    await cpu.append([{ time: T0, host: 'a', v: 1 }, { time: T0 + 1000, host: 'a', v: 3 }]);
    await cpu.flush();
    const request = { source: 'cpu', every: '1h', by: ['host'], agg: { v: ['max', 'mean'] }, retention: '3650d' };
    const { schema } = await db.createRollup('cpu_1h', request);
    // What a kill after the rollup's table and before its listing leaves: a table not on the source's list.
    await db.dropRollup('cpu_1h');
    const spec = { source: 'cpu', every: '1h', by: ['host'], agg: { v: ['max', 'mean'] } };
    await db.createTable('cpu_1h', { ...schema, retention: '3650d' }, { rollupOf: spec });
    await assert.rejects(db.createRollup('cpu_1h', { ...request, every: '2h' }), /cpu_1h already exists .*as a rollup of another spec or retention/);
    await assert.rejects(db.createRollup('cpu_1h', { ...request, retention: '60d' }), /as a rollup of another spec or retention/);
    await db.createRollup('cpu_1h', request);
    assert.deepEqual((await db.table('cpu')).currentManifest.rollups, ['cpu_1h']);
    const query: QueryOptions = { every: '1h', by: ['host'], agg: { v: ['max'] } };
    assert.equal((await cpu.explainQuery(query)).answeredFrom, 'cpu_1h');
    assert.equal(json(await cpu.query(query)), json(await cpu.query({ ...query, rollups: false })));
    await assert.rejects(db.createRollup('cpu_1h', request), /already exists/, 'a listed rollup is not created twice');
  } finally {
    await db.close();
  }
});

test('a rollup whose own retention dropped buckets the source still holds does not answer for them', async () => {
  const DAY = 86_400_000;
  const now = T0 + 10 * DAY;
  const db = await Quiver.open(new MemoryChunkManager('rollup-retention'), { clock: () => now });
  try {
    const cpu = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    await cpu.append(Array.from({ length: 10 }, (_, d) => ({ time: T0 + d * DAY, host: 'a', v: d })));
    await cpu.flush();
    await db.createRollup('cpu_1h', { source: 'cpu', every: '1h', by: ['host'], agg: { v: ['max'] }, retention: '3d' });
    const query: QueryOptions = { every: '1d', by: ['host'], agg: { v: ['max'] } };
    const plan = await cpu.explainQuery(query);
    assert.equal(plan.answeredFrom, undefined);
    assert.match(String(plan.rollupSkipped), /cpu_1h: its retention dropped buckets/);
    assert.equal((await cpu.query(query)).numRows, 10, 'every day, from the raw rows');
    const recent: QueryOptions = { ...query, from: new Date(T0 + 8 * DAY) };
    assert.equal((await cpu.explainQuery(recent)).answeredFrom, 'cpu_1h', 'after the rollup\'s cutoff it answers');
    assert.equal(json(await cpu.query(recent)), json(await cpu.query({ ...recent, rollups: false })));
    // Once the source's own retention hides those days too, the rollup answers for all it holds.
    await setRetention(cpu, '2d');
    assert.equal((await cpu.explainQuery(query)).answeredFrom, 'cpu_1h');
  } finally {
    await db.close();
  }
});
