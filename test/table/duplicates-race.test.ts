import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Quiver } from '../../src/quiver.js';

// Imports of overlapping points racing compactions, each in its own process, on a 'last'
// table: every point survives exactly once, with every field ever written for it (field by
// field), its v from the import committed last, and compaction changes no answer.
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');
const T0 = Date.UTC(2026, 4, 1);
const HOSTS = 5;
const IMPORTS = 4;
/** Import k writes times [k * SHIFT, k * SHIFT + SPAN) seconds: neighbours overlap. */
const SHIFT = 60, SPAN = 200;

function quiver(args: string[]): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += String(d); });
  child.stderr.on('data', (d) => { out += String(d); });
  return once(child, 'exit').then(([code]) => ({ code: code as number, out }));
}

test('racing imports and compactions from several processes keep every point exactly once, resolved by write order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-dup-race-'));
  try {
    const store = join(dir, 'store');
    const db = await Quiver.open(store);
    await db.createTable('t', { tags: ['host'], fields: [{ name: 'v', type: 'int64' }], rowsPerChunkMax: 200, duplicates: 'last' });
    await db.close();
    const files: string[] = [];
    for (let k = 0; k < IMPORTS; k++) {
      const lines = [`time,host,v,f${k}`];
      for (let s = k * SHIFT; s < k * SHIFT + SPAN; s++) for (let h = 0; h < HOSTS; h++) lines.push(`${new Date(T0 + s * 1000).toISOString()},h${h},${k},${k}`);
      files.push(join(dir, `import-${k}.csv`));
      writeFileSync(files[k]!, lines.join('\n') + '\n');
    }
    const imports = files.map((f) => quiver(['import', f, '--table', 't', '--append', '--tags', 'host', '--no-progress', '--store', store]));
    const compactions = [0, 1].map(async () => {
      const results = [];
      for (let i = 0; i < 2; i++) results.push(await quiver(['compact', 't', '--small-rows', '150', '--store', store]));
      return results;
    });
    for (const r of await Promise.all(imports)) assert.equal(r.code, 0, r.out);
    for (const r of (await Promise.all(compactions)).flat()) {
      // A compaction that lost the race for the same chunks fails with a conflict, changing nothing.
      if (r.code !== 0) assert.match(r.out, /no longer holds|changed under/, r.out);
    }

    const reopened = await Quiver.open(store);
    const t = await reopened.table('t');
    // The commit order of the imports, from the versions' operations and their chunks' lineage.
    const order: number[] = [];
    let previous = new Set<string>();
    for (const { version, operation } of await t.versions()) {
      const chunks = await t.chunks(version);
      if (operation === 'import') {
        const sources = new Set(chunks.filter((c) => !previous.has(c.key)).flatMap((c) => c.lineage.map((l) => l.source)));
        assert.equal(sources.size, 1, `version ${version} added one import's chunks`);
        order.push(files.indexOf([...sources][0]!));
      }
      previous = new Set(chunks.map((c) => c.key));
    }
    assert.deepEqual([...order].sort(), [0, 1, 2, 3]);
    const expected = new Map<string, { v: number; fields: number[] }>();
    for (const k of order) {
      for (let s = k * SHIFT; s < k * SHIFT + SPAN; s++) {
        for (let h = 0; h < HOSTS; h++) {
          const key = `${T0 + s * 1000}|h${h}`;
          const e = expected.get(key) ?? { v: -1, fields: [] };
          e.v = k;
          e.fields.push(k);
          expected.set(key, e);
        }
      }
    }
    const check = async () => {
      const rows = (await t.query({})).toArray().map((r) => r.toJSON() as Record<string, unknown>);
      assert.equal(rows.length, expected.size, 'every point once');
      for (const r of rows) {
        const e = expected.get(`${r['time']}|${r['host']}`);
        assert.ok(e, `${r['time']} ${r['host']} was written`);
        assert.equal(Number(r['v']), e.v, `v of ${r['time']} ${r['host']}: the import committed last`);
        for (let k = 0; k < IMPORTS; k++) assert.equal(r[`f${k}`] === null || r[`f${k}`] === undefined ? null : Number(r[`f${k}`]), e.fields.includes(k) ? k : null);
      }
      const count = (await t.query({ agg: { v: ['count', 'sum'] } })).toArray()[0]!.toJSON() as Record<string, unknown>;
      assert.equal(Number(count['count_v']), expected.size);
      assert.equal(Number(count['sum_v']), [...expected.values()].reduce((n, e) => n + e.v, 0));
    };
    await check();
    await t.compact();
    assert.equal(t.currentManifest.chunks.reduce((n, c) => n + c.rows, 0), expected.size, 'one stored row per point after compaction');
    await check();
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
