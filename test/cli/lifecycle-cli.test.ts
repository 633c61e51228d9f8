import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { runCli } from './in-process.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');
const DAY = 86_400_000;
/** Rows of `quiver query … --json` (rows go to the process's stdout: run the binary). */
const rowsJson = (store: string, ...args: string[]) => JSON.parse(spawnSync(process.execPath, [BIN, 'query', ...args, '--json', '--store', store], { encoding: 'utf8' }).stdout);

/** A table `t` with rows 40, 35 and 1 day(s) old (the real clock: the CLI has no other). */
async function seed(store: string): Promise<number> {
  const db = await Quiver.open(store, { autoCompact: 0 });
  const t = await db.createTable('t', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  const now = Date.now();
  const day = (d: number) => Math.floor((now - d * DAY) / DAY) * DAY + 3_600_000;
  for (const d of [40, 35, 1]) { await t.append([{ time: day(d), host: 'a', v: d }, { time: day(d) + 1000, host: 'b', v: d }]); await t.flush(); }
  await db.close();
  return now;
}

test('quiver retention shows, sets and removes a retention; import --retention skips and counts old rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-lc-cli-'));
  try {
    const store = join(dir, 'store');
    await seed(store);
    assert.match((await runCli(store, 'retention', 't')).out, /t: no retention/);
    const set = await runCli(store, 'retention', 't', '30d', '--json');
    assert.equal(set.code, 0, set.out);
    const json = JSON.parse(set.out);
    assert.equal(json.retention, '30d');
    assert.equal(json.retentionMs, 30 * DAY);
    assert.equal(json.droppedChunks, 2);
    assert.match((await runCli(store, 'retention', 't')).out, /retention 30d: rows before \d{4}-.*Z are expired/);
    assert.equal(rowsJson(store, 't', '--agg', 'count')[0].count, 2);
    const bad = await runCli(store, 'retention', 't', '30 days');
    assert.equal(bad.code, 2);
    assert.match(bad.out, /retention: expected a duration such as 30d, 12h, 90m, 1w or 10s, got "30 days"/);
    assert.match((await runCli(store, 'retention', 't', 'none')).out, /t: no retention/);
    assert.match((await runCli(store, 'inspect', 't', '--versions')).out, /retention/);

    const csv = join(dir, 'in.csv');
    const now = Date.now();
    writeFileSync(csv, `time,host,v\n${new Date(now - 50 * DAY).toISOString()},a,1\n${new Date(now - 2 * DAY).toISOString()},a,2\n${new Date(now - 60 * DAY).toISOString()},b,3\n`);
    const imp = await runCli(store, 'import', csv, '--table', 'fresh', '--retention', '7d', '--no-progress');
    assert.equal(imp.code, 0, imp.out);
    assert.match(imp.out, /imported 1 rows/);
    assert.match(imp.out, /2 row\(s\) older than the table's retention skipped/);
    assert.match((await runCli(store, 'retention', 'fresh')).out, /retention 1w/);
    const again = await runCli(store, 'import', csv, '--table', 'fresh', '--append', '--retention', '30d', '--no-progress');
    assert.equal(again.code, 2);
    assert.match(again.out, /--retention applies when the import creates the table/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('quiver rollup create/list/refresh/drop; query --explain says which rollup answers, --raw reads raw rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-lc-cli-'));
  try {
    const store = join(dir, 'store');
    await seed(store);
    const created = await runCli(store, 'rollup', 'create', 't_1h', '--source', 't', '--every', '1h', '--by', 'host', '--agg', 'mean:v,max:v', '--retention', '365d');
    assert.equal(created.code, 0, created.out);
    assert.match(created.out, /created rollup t_1h of t \(every 1h\): 6 rows/);
    const list = JSON.parse((await runCli(store, 'rollup', 'list', '--json')).out);
    assert.deepEqual(list.map((r: { rollup: string; source: string; retention: string }) => [r.rollup, r.source, r.retention]), [['t_1h', 't', '365d']]);
    const explain = await runCli(store, 'query', 't', '--every', '1d', '--by', 'host', '--agg', 'mean:v', '--explain');
    assert.match(explain.out, /answered from rollup t_1h/);
    const raw = await runCli(store, 'query', 't', '--every', '1d', '--by', 'host', '--agg', 'mean:v', '--explain', '--raw');
    assert.doesNotMatch(raw.out, /answered from rollup/);
    const a = rowsJson(store, 't', '--every', '1d', '--by', 'host', '--agg', 'mean:v,max:v');
    const b = rowsJson(store, 't', '--every', '1d', '--by', 'host', '--agg', 'mean:v,max:v', '--raw');
    assert.deepEqual(a, b);
    assert.equal(a.length, 6);
    const refused = await runCli(store, 'rollup', 'create', 'bad', '--source', 't', '--every', '1h', '--agg', 'p99:v');
    assert.equal(refused.code, 2);
    assert.match(refused.out, /"p99" is not one of count, sum, mean, min, max/);
    assert.match((await runCli(store, 'rollup', 'refresh', 't')).out, /t_1h: up to date/);
    assert.equal((await runCli(store, 'rollup', 'drop', 't_1h')).code, 0);
    assert.match((await runCli(store, 'rollup', 'list')).out, /\(no rollups\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 while retention is set and expired chunks are dropped: the table is in its old or its new state', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-lc-kill-'));
  try {
    const store = join(dir, 'store');
    await seed(store);
    const states = new Set<string>();
    for (let k = 0; k < 8; k++) {
      const child = spawn(process.execPath, [BIN, 'retention', 't', k % 2 ? '30d' : 'none', '--store', store], { stdio: 'ignore' });
      const exited = once(child, 'exit');
      // Kill points spread over the command's run (start-up, commit, drop); some runs finish.
      await new Promise((r) => setTimeout(r, 40 + k * 45));
      child.kill('SIGKILL');
      await exited;
      const db = await Quiver.open(store);
      const t = await db.table('t');
      const count = Number((await t.query({ agg: { '*': 'count' } })).getChild('count')!.get(0));
      const retained = t.options.retention !== undefined;
      // Old state (no retention: every row not dropped before) or new (30 d: the two recent rows).
      assert.ok(retained ? count === 2 : count === 2 || count === 6, `count ${count} with retention ${String(t.options.retention)}`);
      const checks = await t.verify();
      assert.ok(checks.every((c) => c.ok), JSON.stringify(checks.filter((c) => !c.ok)));
      states.add(`${retained}:${count}`);
      await db.close();
    }
    assert.ok(states.size >= 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
