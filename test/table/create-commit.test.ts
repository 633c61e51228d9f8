import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { ConflictError, SchemaError } from '../../src/errors.js';
import { importFiles } from '../../src/io/import.js';
import { loadManifest } from '../../src/table/manifest.js';

// A table and its first data are one commit: a failed or killed first write leaves no table.
const T0 = Date.UTC(2026, 0, 1);
const rows = (n: number, host = 'a') => Array.from({ length: n }, (_, i) => ({ time: T0 + i * 1000, host, v: i }));

test('createTable lazy: nothing is visible until the first commit, which is version 1 holding the data', async () => {
  const store = new MemoryChunkManager();
  const db = await Quiver.open(store);
  const t = await db.createTable('t', { tags: ['host'], rowsPerChunkMax: 100 }, { lazy: true });
  assert.equal(await db.hasTable('t'), false);
  const w = t.writer();
  await w.append(rows(250));
  assert.equal(await db.hasTable('t'), false, 'chunks written, table still absent');
  await w.abort();
  assert.equal(await db.hasTable('t'), false);
  assert.deepEqual(await store.list('t/'), [], 'an aborted first write leaves nothing');
  const w2 = t.writer();
  await w2.append(rows(250));
  assert.equal((await w2.commit()).version, 1);
  const v1 = await loadManifest(store, 't', 1);
  assert.equal(v1.chunks.reduce((s, c) => s + c.rows, 0), 250);
  assert.equal((await (await Quiver.open(store)).table('t')).version, 1);
  // A lazy table's flush() creates it too; close() flushes lazy tables.
  const u = await db.createTable('u', { tags: ['host'] }, { lazy: true });
  await u.append(rows(3));
  await db.close();
  assert.equal((await (await (await Quiver.open(store)).table('u')).query({})).numRows, 3);
});

test('two writers creating one table: the first commit creates it; then ifExists fail → ConflictError, append → added, other shape → SchemaError', async () => {
  const store = new MemoryChunkManager();
  const spec = { tags: ['host'], rowsPerChunkMax: 100 };
  const writers = await Promise.all(['fail', 'append', 'append'].map(async (ifExists, k) => {
    const db = await Quiver.open(store);
    const t = await db.createTable('t', k === 2 ? { ...spec, tags: ['rack'] } : spec, { lazy: true, ifExists: ifExists as 'fail' | 'append' });
    const w = t.writer();
    await w.append(k === 2 ? rows(150).map(({ host, ...r }) => ({ ...r, rack: host })) : rows(150, `w${k}`));
    return w;
  }));
  const creator = (await (await Quiver.open(store)).createTable('t', spec, { lazy: true })).writer();
  await creator.append(rows(10, 'creator'));
  assert.equal((await creator.commit()).version, 1);
  await assert.rejects(writers[0]!.commit(), (e: unknown) => e instanceof ConflictError && /created .* by another writer/.test((e as Error).message));
  assert.equal((await writers[1]!.commit()).version, 2);
  await assert.rejects(writers[2]!.commit(), (e: unknown) => e instanceof SchemaError && /tags are \["host"\], the chunks' are \["rack"\]/.test((e as Error).message));
  const t = await (await Quiver.open(store)).table('t');
  assert.equal((await t.query({})).numRows, 160);
  assert.ok((await t.verify()).every((c) => c.ok));
  assert.deepEqual((await store.list('t/chunks/')).sort(), (await t.chunks()).map((c) => c.key).sort(), 'the refused writers deleted their chunks');
});

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'quiver-create-'));
}

test('an import into a new table that fails leaves no table and no chunk; re-running succeeds', async () => {
  const dir = tmp();
  try {
    const store = new MemoryChunkManager();
    const db = await Quiver.open(store);
    const good = join(dir, 'a.csv');
    const bad = join(dir, 'b.csv');
    writeFileSync(good, 'time,host,v\n' + rows(500).map((r) => `${new Date(r.time).toISOString()},${r.host},${r.v}`).join('\n') + '\n');
    writeFileSync(bad, 'time,host,v\n2026-01-02T00:00:00Z,a,1\n2026-01-02T00:00:01Z,a,oops\n');
    await assert.rejects(importFiles(db, [good, bad], { table: 't', memoryBytes: 1 << 20 }), /oops/);
    assert.equal(await db.hasTable('t'), false);
    assert.deepEqual(await store.list('t/chunks/'), []);
    const ok = await importFiles(db, [good], { table: 't' });
    assert.equal(ok.version, 1);
    assert.equal(ok.rows, 500);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a failed import's rollback never drops a table another writer committed to meanwhile", async () => {
  const dir = tmp();
  try {
    const store = new MemoryChunkManager();
    const good = join(dir, 'a.csv');
    writeFileSync(good, 'time,host,v\n' + rows(100).map((r) => `${new Date(r.time).toISOString()},${r.host},${r.v}`).join('\n') + '\n');
    // The import's second input is a pipe: it blocks there, after its first file, until we write.
    const fifo = join(dir, 'pipe.csv');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const importer = await Quiver.open(store);
    let firstFileDone!: () => void;
    const firstFile = new Promise<void>((r) => { firstFileDone = r; });
    const running = importFiles(importer, [good, fifo], {
      table: 't', append: true, parallel: false,
      onProgress: (p) => { if (p.file === fifo || p.rows >= 100) firstFileDone(); },
    });
    running.catch(() => {});
    await firstFile;
    // Meanwhile another writer creates the table (or, before single-commit creation, finds it) and commits.
    const other = await Quiver.open(store);
    const t = (await other.hasTable('t')) ? await other.table('t') : await other.createTable('t', { tags: ['host'], fields: [{ name: 'v', type: 'int64' }] });
    await t.append(rows(7, 'other'));
    await t.flush();
    const pipe = createWriteStream(fifo);
    pipe.end('time,host,v\n2026-01-02T00:00:00Z,a,not-a-number\n');
    await once(pipe, 'finish');
    await assert.rejects(running, /not-a-number/);
    const after = await (await Quiver.open(store)).table('t');
    assert.equal((await after.query({ where: { host: 'other' } })).numRows, 7, 'the other writer\'s rows are still there');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
