import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { rng } from '../format/helpers.js';
import { dayRows, DAY, lines, modelLines, T0, type ModelRow } from './delete-scenario.js';

// kill -9 of a deleting process at points of its work: before and after each store write (the
// flush's chunk, leases, the two commits) and at random store operations besides. Each commit is a switch:
// the table is as before, or holds the flushed rows, or holds them with the delete applied;
// never anything in between, and it verifies.
const quiverModule = new URL('../../src/quiver.js', import.meta.url).href;
const localModule = new URL('../../src/chunk-manager/local.js', import.meta.url).href;

/**
 * A child that opens `store` through a proxy counting events (before and after each store
 * operation: 2i and 2i+1 for operation i) and dying with SIGKILL at event `killAt`, appends
 * rows and deletes. It prints its operations when it ends.
 */
function deleter(store: string, killAt: number, extra: ModelRow[]) {
  const script = `
    import { Quiver } from ${JSON.stringify(quiverModule)};
    import { LocalChunkManager } from ${JSON.stringify(localModule)};
    let events = 0;
    const ops = [];
    const tick = () => { if (events++ === ${killAt}) process.kill(process.pid, 'SIGKILL'); };
    const local = new LocalChunkManager(${JSON.stringify(store)});
    const store = new Proxy(local, { get(target, prop) {
      const v = target[prop];
      if (typeof v !== 'function' || prop === 'constructor') return v;
      return async (...args) => { ops.push(prop); tick(); const r = await v.apply(target, args); tick(); return r; };
    } });
    const db = await Quiver.open(store, { autoCompact: 0 });
    const t = await db.table('k');
    await t.append(${JSON.stringify(extra.map((r) => ({ ...r, n: String(r.n) })))}.map((r) => ({ ...r, n: BigInt(r.n) })));
    const result = await t.delete({ from: ${T0 + 3_600_000}, to: ${T0 + DAY + 3_600_000}, where: { host: ['a', 'c'] } });
    await db.close();
    console.log(JSON.stringify({ ops, version: result.version }));
  `;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
}

test('kill -9 of a deleting process before or after any store write, and at random points, leaves the old state or a committed one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'quiver-delete-kill-'));
  try {
    const store = join(root, 'store');
    const base = [...dayRows(0), ...dayRows(1)];
    const extra = dayRows(0, 3).filter((r) => r.host === 'c');
    const doomed = (r: ModelRow) => r.time >= T0 + 3_600_000 && r.time < T0 + DAY + 3_600_000 && (r.host === 'a' || r.host === 'c');
    const states = new Map<string, string>([
      ['old', JSON.stringify(modelLines(base))],
      ['flushed', JSON.stringify(modelLines([...base, ...extra]))],
      ['deleted', JSON.stringify(modelLines([...base, ...extra].filter((r) => !doomed(r))))],
    ]);
    const prepared = join(root, 'prepared');
    const db = await Quiver.open(prepared, { autoCompact: 0 });
    const t = await db.createTable('k', { tags: ['host', 'region'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }], timeUnit: 'ms', duplicates: 'keep' });
    for (const day of [0, 1]) { await t.append(dayRows(day) as never); await t.flush(); }
    await db.close();
    // A run without a kill lists the operations; kills come before and after each write, and at random events.
    cpSync(prepared, store, { recursive: true });
    const full = deleter(store, -1, extra);
    assert.equal(full.status, 0, full.stderr);
    const ops = (JSON.parse(full.stdout) as { ops: string[] }).ops;
    const writes = ops.flatMap((op, i) => (op === 'put' || op === 'delete' ? [2 * i, 2 * i + 1] : []));
    assert.ok(ops.filter((op) => op === 'put').length >= 3, `the flush's chunk and two commits are puts: ${ops.join(' ')}`);
    const random = rng(Date.now() % 1_000_000);
    const points = [...new Set([0, ...writes, ...Array.from({ length: 6 }, () => Math.floor(random() * 2 * ops.length))])].sort((a, b) => a - b);
    const seen = new Set<string>();
    for (const killAt of points) {
      rmSync(store, { recursive: true, force: true });
      cpSync(prepared, store, { recursive: true });
      const r = deleter(store, killAt, extra);
      assert.equal(r.signal, 'SIGKILL', `event ${killAt} of ${2 * ops.length}: ${r.stderr}`);
      const killAfter = killAt;
      const after = await Quiver.open(store);
      const table = await after.table('k');
      const content = JSON.stringify(lines(await table.query({})));
      const state = [...states].find(([, v]) => v === content)?.[0];
      assert.ok(state, `after a kill at store operation ${killAfter}: the table is in no committed state (${table.version})`);
      seen.add(state);
      assert.deepEqual((await table.verify()).filter((c) => !c.ok), [], `kill at ${killAfter}`);
      if (state === 'deleted') assert.equal(table.currentManifest.operation, 'delete');
      await after.close();
    }
    assert.deepEqual([...seen].sort(), ['deleted', 'flushed', 'old'], 'kills before, between and after the commits');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
