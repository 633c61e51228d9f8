import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { CorruptManifestError, UsageError } from '../../src/errors.js';
import { planCompaction } from '../../src/table/compact.js';
import { encodeManifest, manifestKey, loadManifest } from '../../src/table/manifest.js';
import type { ChunkEntry } from '../../src/core/types.js';
import { runCli } from '../cli/in-process.js';
import { dayRows, DAY, deleteScenario, lines, modelLines, T0 } from './delete-scenario.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'quiver-delete-'));
}

test('local: deletes by time, tag and both; statistics, re-writes, time travel, partition drop, compaction and vacuum', async () => {
  const dir = tmp();
  try {
    await deleteScenario(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function table(db: Quiver, name = 't') {
  return db.createTable(name, { tags: ['host', 'region'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }], timeUnit: 'ms', pageRows: 64 });
}

test('a delete without bounds is refused unless all is asked; all deletes every row (dropping the chunks)', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await table(db);
  await t.append(dayRows(0) as never);
  await t.flush();
  await assert.rejects(t.delete({}), (e: Error) => e instanceof UsageError && /all: true/.test(e.message));
  await assert.rejects(t.delete({ where: {} }), UsageError);
  await assert.rejects(t.delete({ all: true, from: T0 }), UsageError);
  await assert.rejects(t.delete({ where: { nope: 'a' } }), /not a tag/);
  await assert.rejects(t.delete({ from: T0 + 10, to: T0 }), /not before/);
  await assert.rejects(t.delete({ where: { host: { regex: /a/i } } }), /no flags/);
  await assert.rejects(t.delete({ when: 1 } as never), /unknown option/);
  const versions = t.version;
  assert.equal(t.version, versions, 'nothing was committed');
  const r = await t.delete({ all: true });
  assert.deepEqual({ dropped: r.chunksDropped, affected: r.chunksAffected, tombstone: r.tombstone }, { dropped: 1, affected: 0, tombstone: false });
  assert.equal((await t.query({})).numRows, 0);
  assert.equal(t.currentManifest.operation, 'delete');
});

test('a delete flushes the table\'s own unflushed rows first, so they are deleted too', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await table(db);
  await t.append(dayRows(0).slice(0, 100) as never); // not flushed
  assert.equal(t.pendingRows, 100);
  await t.delete({ where: { host: 'a' } });
  assert.equal(t.pendingRows, 0);
  const rows = lines(await t.query({}));
  assert.deepEqual(rows, modelLines(dayRows(0).slice(0, 100).filter((r) => r.host !== 'a')));
});

test('regex, prefix, not-in and null-tag predicates delete exactly what a scan with the same where selects', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('t', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }], timeUnit: 'ms' });
  const hosts = ['web-1', 'web-2', 'db-1', 'db-2', null, ''];
  const rows = Array.from({ length: 600 }, (_, i) => ({ time: T0 + i * 1000, host: hosts[i % hosts.length], v: i }));
  await t.append(rows as never);
  await t.flush();
  const wheres = [{ host: { regex: '^web-' } }, { host: { prefix: 'db' } }, { host: { notIn: ['web-1', null] } }, { host: null }];
  for (const where of wheres) {
    const fresh = await Quiver.open(new MemoryChunkManager());
    const u = await fresh.createTable('t', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }], timeUnit: 'ms' });
    await u.append(rows as never);
    await u.flush();
    const doomed = (await u.query({ where: where as never })).numRows;
    assert.ok(doomed > 0 && doomed < rows.length, JSON.stringify(where));
    const kept = await u.query({ where: { host: { notIn: [] } } });
    await u.delete({ where: where as never });
    assert.equal((await u.query({})).numRows, kept.numRows - doomed, JSON.stringify(where));
    assert.equal((await u.query({ where: where as never })).numRows, 0, JSON.stringify(where));
    const count = await u.query({ agg: { v: 'count' } });
    assert.equal(Number(count.getChild('count_v')!.get(0)), rows.length - doomed);
  }
});

test('rows deleted then re-written are visible; rows of another process\'s later flush survive', async () => {
  const store = new MemoryChunkManager();
  const a = await Quiver.open(store, { autoCompact: 0 });
  const b = await Quiver.open(store, { autoCompact: 0 });
  const ta = await table(a);
  const tb = await b.table('t');
  await ta.append(dayRows(0) as never);
  await ta.flush();
  await tb.append(dayRows(0, 1).filter((r) => r.host === 'c') as never); // buffered in b, not yet written
  await ta.delete({ where: { host: 'c' } });
  await tb.flush(); // written after the delete
  const c = await ta.query({ where: { host: 'c' } });
  assert.equal(c.numRows, 144, 'only the rows written after the delete');
  assert.deepEqual(lines(c), modelLines(dayRows(0, 1).filter((r) => r.host === 'c')));
});

test('compaction makes an affected chunk a candidate whatever its size; a group of one is rewritten', () => {
  const entry = (key: string, rows: number, seq: number): ChunkEntry => ({
    key, partition: 'p', rows, bytes: 1, rawBytes: 1, timeMin: String(rows), timeMax: String(rows), tagValues: {}, columns: {}, lineage: [], createdAt: '', seq,
  });
  const chunks = [entry('big', 1000, 1), entry('big2', 1000, 2), entry('small', 1, 3)];
  assert.deepEqual(planCompaction(chunks, 5000, 10), [], 'nothing small enough to merge alone');
  assert.deepEqual(planCompaction(chunks, 5000, 10, undefined, undefined, (c) => c.key === 'big').map((g) => g.inputs), [['small', 'big']]);
  assert.deepEqual(planCompaction(chunks, 1500, 10, undefined, undefined, (c) => c.key === 'big2').map((g) => g.inputs), [['small', 'big2']]);
  assert.deepEqual(planCompaction(chunks, 1500, 1, undefined, undefined, (c) => c.key === 'big2').map((g) => g.inputs), [['big2']], 'alone when nothing else is a candidate');
});

test('compaction of chunks every row of which was deleted leaves no chunk', async () => {
  const db = await Quiver.open(new MemoryChunkManager(), { autoCompact: 0 });
  const t = await table(db);
  await t.append(dayRows(0) as never);
  await t.flush();
  await t.delete({ where: { host: ['a', 'b', 'c', 'd'] } }); // hosts listed in the entry: covered, dropped
  assert.equal(t.currentManifest.chunks.length, 0);
  await t.append(dayRows(1) as never);
  await t.flush();
  await t.delete({ where: { host: { regex: '.' } } }); // a regex over every value: the chunk's tag values all match → dropped too
  assert.equal(t.currentManifest.chunks.length, 0);
  await t.append(dayRows(2) as never);
  await t.flush();
  await t.delete({ where: { host: { prefix: '' } } }); // prefix '' never matches the null tag, matches every string: covered
  assert.equal(t.currentManifest.chunks.length, 0);
  await t.append(dayRows(3) as never);
  await t.flush();
  await t.delete({ from: T0 + 3 * DAY, to: T0 + 3 * DAY + 85_800_000 }); // the last rows (23:50) stay
  const left = await t.query({});
  assert.equal(left.numRows, 4);
  await t.delete({ from: T0 + 3 * DAY + 85_800_000 });
  assert.equal((await t.query({})).numRows, 0);
  assert.equal(t.currentManifest.chunks.length, 1, 'the chunk is hidden row by row: not covered by either delete alone');
  const compacted = await t.compact({ smallRows: 1 });
  assert.equal(compacted.groups.length, 1);
  assert.equal(compacted.groups[0]!.output, undefined);
  assert.equal(t.currentManifest.chunks.length, 0);
  assert.deepEqual(t.currentManifest.deletes ?? [], []);
});

test('a manifest whose deletes are malformed is refused naming the field', async () => {
  const store = new MemoryChunkManager();
  const db = await Quiver.open(store);
  const t = await table(db);
  await t.append(dayRows(0) as never);
  await t.flush();
  await t.delete({ from: T0, to: T0 + 3_600_000, where: { host: 'a' } });
  const good = await loadManifest(store, 't', t.version);
  assert.equal(good.deletes?.length, 1);
  const bad: [unknown, RegExp][] = [
    [[{ version: t.version + 1 }], /deletes\[0\]\.version/],
    [[{ version: 1 }], /deletes\[0\]\.version/],
    [[{ version: t.version, from: '12.5' }], /deletes\[0\]\.from/],
    [[{ version: t.version, from: '10', to: '10' }], /not before/],
    [[{ version: t.version, where: { zone: 'a' } }], /not a tag/],
    [[{ version: t.version, where: { host: { like: 'a' } } }], /unknown operator/],
    [[{ version: t.version, where: { host: { regex: '(' } } }], /regular expression/],
    [[{ version: t.version, where: { host: 5 } }], /where/],
    [[{ version: t.version, when: 'now' }], /unknown member/],
    [[{ version: t.version }, { version: t.version }], /deletes\[1\]\.version/],
    [{ version: t.version }, /deletes: expected an array/],
  ];
  for (const [deletes, message] of bad) {
    await store.put(manifestKey('t', t.version), encodeManifest({ ...good, deletes } as never));
    await assert.rejects(loadManifest(store, 't', t.version), (e: Error) => e instanceof CorruptManifestError && message.test(e.message), JSON.stringify(deletes));
  }
});

test('quiver delete: refuses no bounds, prints what it did, --json, --all, --tz', async () => {
  const dir = tmp();
  try {
    const store = join(dir, 'store');
    const csv = join(dir, 'in.csv');
    writeFileSync(csv, ['time,host,v', ...Array.from({ length: 48 }, (_, i) => `${new Date(T0 + i * 3_600_000).toISOString()},h${i % 3},${i}`)].join('\n') + '\n');
    assert.equal((await runCli(store, 'import', csv, '--table', 'c', '--tags', 'host')).code, 0);
    const none = await runCli(store, 'delete', 'c');
    assert.equal(none.code, 2);
    assert.match(none.out, /--all/);
    const r = await runCli(store, 'delete', 'c', '--from', '2026-03-01T06:00Z', '--to', '2026-03-01T12:00Z', '--where', 'host=h1', '--json');
    assert.equal(r.code, 0, r.out);
    const json = JSON.parse(r.out);
    assert.deepEqual({ version: json.version, dropped: json.chunksDropped, affected: json.chunksAffected, from: json.from, where: json.where }, { version: 2, dropped: 0, affected: 1, from: '2026-03-01T06:00:00Z', where: { host: 'h1' } });
    const text = await runCli(store, 'delete', 'c', '--to', '2026-03-01T03:00Z', '--tz', 'Europe/Berlin');
    assert.equal(text.code, 0, text.out);
    assert.match(text.out, /rows in \[-∞, 2026-03-01T04:00:00\+01:00\) \(version 3\)/);
    assert.match(text.out, /1 chunk\(s\) affected/);
    const db = await Quiver.open(store);
    assert.equal((await (await db.table('c')).query({})).numRows, 48 - 3 - 2);
    await db.close();
    const all = await runCli(store, 'delete', 'c', '--all', '--json');
    assert.equal(JSON.parse(all.out).chunksDropped, 2);
    assert.equal((await runCli(store, 'delete', 'c', '--all', '--where', 'host=h1')).code, 2);
    const help = await runCli(store, 'delete', '--help');
    assert.match(help.out, /Usage: quiver delete TABLE/);
    assert.ok(JSON.parse(readFileSync(join(store, 'c', '_manifest', `${'4'.padStart(20, '0')}.json`), 'utf8')).operation === 'delete');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a copy keeps the version numbering: pending deletes stay applied, and later deletes and writes in the copy order after every copied chunk', async () => {
  const src = await Quiver.open(new MemoryChunkManager(), { autoCompact: 0 });
  const t = await table(src);
  await t.append(dayRows(0) as never);
  await t.flush();
  await t.delete({ where: { host: 'b' } });
  await t.append(dayRows(1) as never);
  await t.flush(); // a chunk with a seq above the delete's version
  const dst = await Quiver.open(new MemoryChunkManager());
  await src.copyTable('t', dst);
  const copied = await dst.table('t');
  assert.equal(copied.version, t.version, 'the copy is the source version under its own number');
  assert.deepEqual(lines(await copied.query({})), modelLines([...dayRows(0).filter((r) => r.host !== 'b'), ...dayRows(1)]));
  // A delete made in the copy must hide rows of every copied chunk, the newest included
  // (with the copy restarted at version 1 it hid none of those whose seq was above 2).
  await copied.delete({ where: { host: 'c' } });
  const kept = modelLines([...dayRows(0).filter((r) => r.host !== 'b' && r.host !== 'c'), ...dayRows(1).filter((r) => r.host !== 'c')]);
  assert.deepEqual(lines(await copied.query({})), kept);
  await copied.compact({ smallRows: 1 });
  assert.deepEqual(lines(await copied.query({})), kept);
});
