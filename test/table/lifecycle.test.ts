import { test } from 'node:test';
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import assert from 'node:assert/strict';
import { setRetention } from '../../src/table/retention.js';
import { assertSameAnswer, DAY, NOW, openAt, randomRows, retentionCase, rollupCase } from './lifecycle-cases.js';

// Retention and rollups on the local store (the same cases run on S3 and Azure in test/remote/lifecycle.test.ts).
function lister(dir: string) {
  return async (prefix: string) => {
    const out: string[] = [];
    const walk = (d: string) => { for (const e of readdirSync(d)) { const p = join(d, e); if (statSync(p).isDirectory()) walk(p); else out.push(relative(dir, p)); } };
    if (existsSync(join(dir, prefix))) walk(join(dir, prefix));
    return out.filter((k) => k.endsWith('.qvr'));
  };
}

test('local: retention by the wall clock, a future point, drops by commit, vacuum frees, import skips old rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-lc-'));
  try { await retentionCase(dir, lister(dir)); } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('local: rollups kept up to date, equal to raw, explained, with their own retention', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-lc-'));
  try { await rollupCase(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a rollup left behind (a crash between the source commit and the rollup commit) is not used until it catches up', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-lc-'));
  try {
    const clock = { now: NOW };
    const db = await openAt(dir, clock);
    const cpu = await db.createTable('cpu', { tags: ['host', 'region'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }] });
    await cpu.append(randomRows(3, NOW - 5 * DAY - (NOW % DAY), 3, 200) as never);
    await cpu.flush();
    const rollup = await db.createRollup('cpu_1h', { source: 'cpu', every: '1h', by: ['host'], agg: { v: ['mean', 'max'] } });
    const q = { every: '1d', by: ['host'], agg: { v: ['mean', 'max'] } };
    assert.equal((await cpu.explainQuery(q)).answeredFrom, 'cpu_1h');
    // The state a kill -9 after the source's commit leaves: the rollup's marks are older than the source's chunks.
    await rollup.commitEdit('rollup', (next) => { next.rollupMarks = Object.create(null) as Record<string, number>; });
    const behind = await cpu.explainQuery(q);
    assert.equal(behind.answeredFrom, undefined);
    assert.match(behind.rollupSkipped ?? '', /cpu_1h: behind the source in partition\(s\)/);
    const raw = await cpu.query({ ...q, rollups: false });
    assertSameAnswer(await cpu.query(q), raw, 'answered from raw while behind');
    const refreshed = await db.refreshRollups('cpu');
    assert.equal(refreshed[0]!.partitions.length, 3);
    assert.equal((await cpu.explainQuery(q)).answeredFrom, 'cpu_1h');
    assertSameAnswer(await cpu.query(q), raw, 'answered from the caught-up rollup');
    assert.deepEqual((await db.refreshRollups('cpu'))[0]!.partitions, [], 'nothing left to do');
    // Retention drops the source's old partitions: the rollup keeps them and stays in use at once.
    const { dropped } = await setRetention(cpu, '3d');
    assert.ok(dropped.length > 0);
    assert.equal((await cpu.explainQuery(q)).answeredFrom, 'cpu_1h', (await cpu.explainQuery(q)).rollupSkipped);
    assert.equal((await cpu.query(q)).numRows, raw.numRows, 'every day still answered from the rollup');
    assert.ok((await cpu.query({ ...q, rollups: false })).numRows < raw.numRows);
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
