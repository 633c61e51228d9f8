/**
 * -0 in the text formats: CSV (scan, query, export) and the table format print it as "-0",
 * so a CSV written by Quiver reads back with the sign bit (String(-0) is "0"). (A column of
 * whole numbers only, -0 among them, is inferred int64 on import, where -0 is 0: the
 * fraction in this column keeps it float64.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Quiver } from '../../src/quiver.js';
import { runCli } from './in-process.js';

const BIN = join(resolve(import.meta.dirname, '..', '..', '..'), 'bin', 'quiver.js');
function quiver(store: string, ...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--store', store], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('-0 prints as -0 in CSV and table output and survives export to CSV and re-import', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-negzero-'));
  try {
    const store = join(dir, 'store');
    const db = await Quiver.open(store);
    const t = await db.createTable('z', { tags: [], fields: [{ name: 'x', type: 'float64' }] });
    await t.append([{ time: Date.UTC(2026, 0, 1), x: -0 }, { time: Date.UTC(2026, 0, 1, 0, 0, 1), x: 0.5 }]);
    await db.close();

    const csv = quiver(store, 'scan', 'z', '--format', 'csv');
    assert.equal(csv.code, 0, csv.out);
    assert.deepEqual(csv.out.trimEnd().split('\n'), ['time,x', '2026-01-01T00:00:00Z,-0', '2026-01-01T00:00:01Z,0.5']);
    const table = quiver(store, 'scan', 'z');
    assert.match(table.out, /00:00:00Z\s+-0\n/);
    const q = quiver(store, 'query', 'z', '--agg', 'first:x', '--every', '1s', '--format', 'csv');
    assert.equal(q.out.trimEnd().split('\n')[1], '2026-01-01T00:00:00Z,-0');

    const out = join(dir, 'z.csv');
    const exp = await runCli(store, 'export', 'z', '--out', out);
    assert.equal(exp.code, 0, exp.out);
    assert.equal(readFileSync(out, 'utf8').split('\n')[1], '2026-01-01T00:00:00Z,-0');
    const imp = await runCli(store, 'import', out, '--table', 'back');
    assert.equal(imp.code, 0, imp.out);
    const back = await Quiver.open(store);
    const xs: number[] = [];
    for await (const b of (await back.table('back')).scan()) xs.push(...(b.getChild('x')!.toArray() as Float64Array));
    await back.close();
    assert.equal(xs.length, 2);
    assert.ok(Object.is(xs[0], -0), `re-imported ${xs[0]}`);
    assert.equal(xs[1], 0.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
