import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { runCli } from './in-process.js';

const T0 = Date.UTC(2026, 0, 1);

/** A local store with table cpu: fields a float64, n int64, s utf8; two appends, two versions. */
async function store(): Promise<{ dir: string; cleanup(): void; versions: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-alter-cli-'));
  const db = await Quiver.open(dir);
  const cpu = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'a', type: 'float64' }, { name: 'n', type: 'int64' }, { name: 's', type: 'utf8' }] });
  await cpu.append([{ time: T0, host: 'h1', a: 1.5, n: 10n, s: 'x' }, { time: T0 + 1000, host: 'h2', a: 2.5, n: 20n, s: 'y' }]);
  await cpu.flush();
  const first = cpu.version;
  await db.close();
  return { dir, versions: [first], cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const lines = (out: string) => out.trim().split('\n');

let outputs = 0;
/** Runs a scan/query/export-like command with --out FILE.csv: its code, and the file's lines (or the messages). */
async function csv(dir: string, ...args: string[]): Promise<{ code: number; out: string; rows: string[] }> {
  const file = join(dir, `out-${outputs++}.csv`);
  const r = await runCli(dir, ...args, '--out', file);
  return { ...r, rows: r.code === 0 ? lines(readFileSync(file, 'utf8')) : [] };
}

test('quiver alter: drop, rename, widen; scan, query, export and sql read old chunks through it; --version reads before it', async () => {
  const s = await store();
  try {
    const altered = await runCli(s.dir, 'alter', 'cpu', '--drop-field', 's', '--rename-field', 'a=usage', '--widen', 'n:float64');
    assert.equal(altered.code, 0, altered.out);
    assert.match(altered.out, /altered cpu \(version 3\): dropped s, renamed a to usage, widened n from int64 to float64/);
    const db = await Quiver.open(s.dir);
    const cpu = await db.table('cpu');
    await cpu.append([{ time: T0 + 2000, host: 'h1', usage: 3.25, n: 0.5, s: 'new' }]);
    await cpu.flush();
    await db.close();

    const scan = await csv(s.dir, 'scan', 'cpu');
    assert.equal(scan.code, 0, scan.out);
    assert.deepEqual(scan.rows, ['time,host,usage,n,s', '2026-01-01T00:00:00Z,h1,1.5,10,', '2026-01-01T00:00:01Z,h2,2.5,20,', '2026-01-01T00:00:02Z,h1,3.25,0.5,new']);
    const old = await csv(s.dir, 'scan', 'cpu', '--version', String(s.versions[0]));
    assert.deepEqual(old.rows, ['time,host,a,n,s', '2026-01-01T00:00:00Z,h1,1.5,10,x', '2026-01-01T00:00:01Z,h2,2.5,20,y']);
    const query = await csv(s.dir, 'query', 'cpu', '--agg', 'sum:n,max:usage');
    assert.deepEqual(query.rows, ['time,sum_n,max_usage', '2026-01-01T00:00:00Z,30.5,3.25']);
    const queryOld = await csv(s.dir, 'query', 'cpu', '--agg', 'sum:n', '--version', String(s.versions[0]));
    assert.deepEqual(queryOld.rows, ['time,sum_n', '2026-01-01T00:00:00Z,30']);

    const out = join(s.dir, 'out.csv');
    const exported = await runCli(s.dir, 'export', 'cpu', '--out', out);
    assert.equal(exported.code, 0, exported.out);
    assert.deepEqual(lines(readFileSync(out, 'utf8')), scan.rows);
    const sql = await csv(s.dir, 'sql', 'select host, usage, n from cpu order by time');
    assert.equal(sql.code, 0, sql.out);
    assert.deepEqual(sql.rows, ['host,usage,n', 'h1,1.5,10', 'h2,2.5,20', 'h1,3.25,0.5']);
    const verify = await runCli(s.dir, 'verify', 'cpu');
    assert.equal(verify.code, 0, verify.out);

    // Refusals name the reason and exit non-zero.
    const tag = await runCli(s.dir, 'alter', 'cpu', '--drop-field', 'host');
    assert.notEqual(tag.code, 0);
    assert.match(tag.out, /host is a tag/);
    const bad = await runCli(s.dir, 'alter', 'cpu', '--rename-field', 'usage');
    assert.equal(bad.code, 2);
    assert.match(bad.out, /OLD=NEW/);
  } finally {
    s.cleanup();
  }
});

test('quiver scan/query --as-of and inspect --versions', async () => {
  const s = await store();
  try {
    const db = await Quiver.open(s.dir);
    const cpu = await db.table('cpu');
    const versions = await cpu.versions();
    const firstAt = versions.at(-1)!.committedAt;
    // Commit times have millisecond precision: wait for the clock to pass the first commit (a real wait on the clock, not on another task).
    while (new Date().toISOString() <= firstAt) await new Promise((r) => setImmediate(r));
    await cpu.append([{ time: T0 + 5000, host: 'h3', a: 9, n: 90n, s: 'z' }]);
    await cpu.flush();
    await cpu.alter({ renameField: { from: 'a', to: 'usage' } });
    await db.close();

    const asOf = await csv(s.dir, 'scan', 'cpu', '--as-of', firstAt);
    assert.equal(asOf.code, 0, asOf.out);
    assert.equal(asOf.rows.length, 3, 'header and the two rows of the first version');
    const asOfMs = await csv(s.dir, 'query', 'cpu', '--agg', 'count', '--as-of', String(Date.parse(firstAt)));
    assert.deepEqual(asOfMs.rows, ['time,count', '2026-01-01T00:00:00Z,2']);
    const now = await csv(s.dir, 'scan', 'cpu', '--as-of', new Date(Date.now() + 60_000).toISOString());
    assert.equal(now.rows[0], 'time,host,usage,n,s', 'the latest version: after the rename');
    assert.equal(now.rows.length, 4);
    const early = await runCli(s.dir, 'scan', 'cpu', '--as-of', '2000-01-01T00:00:00Z');
    assert.equal(early.code, 1);
    assert.match(early.out, /no version committed at or before 2000-01-01T00:00:00.000Z: the earliest retained is version 1/);
    const both = await runCli(s.dir, 'scan', 'cpu', '--as-of', firstAt, '--version', '1');
    assert.equal(both.code, 2);
    const missing = await runCli(s.dir, 'scan', 'cpu', '--version', '99');
    assert.equal(missing.code, 1);
    assert.match(missing.out, /no version 99/);

    const listed = await runCli(s.dir, 'inspect', 'cpu', '--versions', '--json');
    assert.equal(listed.code, 0, listed.out);
    const doc = JSON.parse(listed.out) as { versions: { version: number; operation: string; rows: number; change: { rows: number; chunksAdded: number }; summary: string }[] };
    assert.deepEqual(doc.versions.map((v) => v.operation), ['create', 'append', 'append', 'alter']);
    assert.deepEqual(doc.versions.map((v) => v.change.rows), [0, 2, 1, 0]);
    assert.equal(doc.versions[0]!.summary, 'fields a:float64, n:int64, s:utf8');
    assert.equal(doc.versions[1]!.summary, '+1 chunk(s), +2 row(s)');
    assert.equal(doc.versions[2]!.summary, '+1 chunk(s), +1 row(s)');
    assert.equal(doc.versions[3]!.summary, 'renamed field a to usage');
    const text = await runCli(s.dir, 'inspect', 'cpu', '--versions');
    assert.match(text.out, /alter .*renamed field a to usage/);
  } finally {
    s.cleanup();
  }
});
