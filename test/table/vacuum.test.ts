import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { QuiverError } from '../../src/errors.js';
import type { Table } from '../../src/table/table.js';
import { runCli } from '../cli/in-process.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

/** A table with `flushes` versions of one small chunk each (two partitions), then compacted. */
async function history(flushes: number): Promise<{ store: MemoryChunkManager; db: Quiver; t: Table }> {
  const store = new MemoryChunkManager();
  const db = await Quiver.open(store);
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  for (let i = 0; i < flushes; i++) {
    await t.append([{ time: T0 + (i % 2) * 86_400_000 + i, host: `h${i % 3}`, v: i }] as never);
    await t.flush();
  }
  await t.compact();
  return { store, db, t };
}

const manifests = async (store: MemoryChunkManager) => (await store.list('m/_manifest/')).map((k) => Number(/(\d{20})\.json$/.exec(k)![1]));
const chunkFiles = (store: MemoryChunkManager) => store.list('m/chunks/');
const values = async (t: Table, version?: number) =>
  Array.from((await t.query(version === undefined ? {} : { version })).getChild('v')!.toArray() as Float64Array).sort((a, b) => a - b);

test('vacuum expires superseded versions and deletes the chunks only they referenced', async () => {
  const { store, t } = await history(6);
  const latest = t.version;
  assert.equal(latest, 8, 'create + 6 appends + compact');
  const before = await values(t);
  assert.equal((await chunkFiles(store)).length, 6 + 2, 'compaction left the replaced files');

  const result = await t.vacuum({ olderThanMs: 0, now: Date.now() + 1 });
  assert.deepEqual(result.expiredVersions, [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(result.deletedChunks.length, 6);
  assert.deepEqual(await manifests(store), [latest], 'only the latest stays (version 1 expires like any other)');
  assert.deepEqual((await chunkFiles(store)).sort(), (await t.chunks()).map((c) => c.key).sort());
  assert.deepEqual(await values(t), before);
  assert.ok((await t.verify()).every((r) => r.ok));
  await assert.rejects(values(t, 4), (e: unknown) => e instanceof QuiverError && /has no version 4/.test((e as Error).message));
  await assert.rejects(values(t, 1), (e: unknown) => e instanceof QuiverError && /has no version 1/.test((e as Error).message));
});

test('vacuum keeps versions that were the latest within the grace period, and the newest retainVersions', async () => {
  const { store, t } = await history(4);
  const latest = t.version;
  const soon = await t.vacuum();
  assert.deepEqual(soon.expiredVersions, [], 'everything was the latest less than an hour ago');
  assert.equal(soon.deletedChunks.length, 0);

  const later = Date.now() + 2 * HOUR;
  const kept = await t.vacuum({ retainVersions: 3, now: later, dryRun: true });
  assert.deepEqual(kept.expiredVersions, [1, 2, 3]);
  assert.deepEqual(await manifests(store), [1, 2, 3, 4, 5, latest], 'a dry run deletes nothing');
  const preCompaction = await values(t, latest - 1);
  await t.vacuum({ retainVersions: 3, now: later });
  assert.deepEqual(await manifests(store), [4, 5, latest]);
  assert.deepEqual(await values(t, latest - 1), preCompaction, 'a retained version before the compaction still reads its chunks');
});

test('vacuum deletes orphans older than the grace period and never a young one (an import in flight)', async () => {
  const { store, t } = await history(2);
  const old = `m/chunks/2026-01-01/${(Date.now() - 2 * HOUR).toString(36).padStart(9, '0')}-aaaaaaaaaaaa.qvr`;
  const young = `m/chunks/2026-01-01/${Date.now().toString(36).padStart(9, '0')}-bbbbbbbbbbbb.qvr`;
  await store.put(old, new Uint8Array([1]));
  await store.put(young, new Uint8Array([2]));
  assert.deepEqual(await t.gcOrphans(), [old]);
  assert.ok(await store.exists(young));
  const versions = await manifests(store);
  // The table's own lease (its flushes and compaction) lingers until its next refresh finds it
  // idle; it covers chunks written since, young included. Once released, grace 0 takes it.
  assert.equal((await t.gcOrphans({ olderThanMs: 0 })).includes(young), false);
  await t.leases.close();
  assert.equal((await t.gcOrphans({ olderThanMs: 0 })).includes(young), true);
  assert.deepEqual(await manifests(store), versions, 'gcOrphans expires no version');
});

test('a vacuumed table cannot be re-created over (its version 1 expired, a later one exists)', async () => {
  const { db, t, store } = await history(3);
  await t.vacuum({ olderThanMs: 0, now: Date.now() + 1 });
  assert.deepEqual(await manifests(store), [t.version], 'version 1 expired');
  await assert.rejects(db.createTable('m', { tags: ['host'] }), /exists/);
});

test('quiver vacuum: --dry-run, --json, usage errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-vacuum-cli-'));
  try {
    const db = await Quiver.open(dir);
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    for (let i = 0; i < 3; i++) { await t.append([{ time: T0 + i, host: 'a', v: i }] as never); await t.flush(); }
    await t.compact();
    await db.close();
    const run = (...args: string[]) => runCli(dir, ...args);
    const dry = await run('vacuum', 'm', '--older-than', '0', '--dry-run', '--json');
    assert.equal(dry.code, 0, dry.out);
    assert.deepEqual(JSON.parse(dry.out).expiredVersions, [1, 2, 3, 4]);
    assert.equal(readdirSync(join(dir, 'm', '_manifest')).filter((f) => f.endsWith('.json')).length, 5, 'a dry run deletes nothing');
    const done = await run('vacuum', 'm', '--older-than', '0');
    assert.equal(done.code, 0, done.out);
    assert.match(done.out, /expired 4 version\(s\), deleted 3 chunk file\(s\); 1 version\(s\) kept/);
    assert.equal(readdirSync(join(dir, 'm', '_manifest')).filter((f) => f.endsWith('.json')).length, 1);
    assert.equal((await run('vacuum', 'm', '--older-than', 'soon')).code, 2);
    assert.equal((await run('vacuum', 'm', '--retain', '0')).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A put killed midway (SIGKILL while its temp file is being written): a child process puts
 * 64 MiB objects under scratch/ over and over and is killed once a temp file shows (polled);
 * the path of the temp file it left.
 */
async function killedPut(dir: string): Promise<string> {
  const local = new URL('../../src/chunk-manager/local.js', import.meta.url).href;
  const scratch = join(dir, 'scratch');
  const temps = () => { try { return readdirSync(scratch).filter((f) => f.startsWith('.tmp-')); } catch { return []; } };
  const before = new Set(temps());
  for (let attempt = 0; attempt < 10; attempt++) {
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      const { LocalChunkManager } = await import(${JSON.stringify(local)});
      const cm = new LocalChunkManager(${JSON.stringify(dir)});
      const bytes = new Uint8Array(64 * 1024 * 1024);
      for (let i = 0; ; i++) await cm.put('scratch/big-' + (i % 2) + '.bin', bytes);`], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    while (child.exitCode === null && !temps().some((f) => !before.has(f))) await new Promise((r) => setImmediate(r));
    child.kill('SIGKILL');
    await exited;
    const left = temps().find((f) => !before.has(f));
    if (left) return join(scratch, left);
  }
  throw new Error('no put was caught in flight in 10 attempts');
}

test('vacuum removes temp files of killed puts older than tempOlderThanMs (default 1 hour), never a young one; quiver vacuum --temp-older-than', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-vacuum-temp-'));
  try {
    let db = await Quiver.open(dir);
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    await t.append([{ time: T0, host: 'a', v: 1.5 }] as never);
    await t.flush();
    await db.close();
    const old = await killedPut(dir);
    const twoHoursAgo = new Date(Date.now() - 2 * HOUR);
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    const young = await killedPut(dir);
    db = await Quiver.open(dir);
    assert.equal((await db.store.list('scratch/')).some((k) => k.includes('.tmp-')), false, 'temp files are no keys');
    const table = await db.table('m');
    const dry = await table.vacuum({ dryRun: true });
    assert.equal(dry.tempFilesRemoved, 0);
    assert.ok(existsSync(old) && existsSync(young), 'a dry run removes no temp file');
    const result = await table.vacuum({ olderThanMs: 0 });
    assert.equal(result.tempFilesRemoved, 1);
    assert.equal(existsSync(old), false, 'the temp file older than an hour is removed');
    assert.equal(existsSync(young), true, 'a young temp file (maybe a put in flight) is kept, even with olderThanMs 0');
    assert.deepEqual(await values(table), [1.5]);
    await db.close();
    const cli = await runCli(dir, 'vacuum', 'm', '--temp-older-than', '0');
    assert.equal(cli.code, 0, cli.out);
    assert.match(cli.out, /removed 1 temp file\(s\) of unfinished writes/);
    assert.equal(existsSync(young), false);
    assert.equal((await runCli(dir, 'vacuum', 'm', '--temp-older-than', 'later')).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
