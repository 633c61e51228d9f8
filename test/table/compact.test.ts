import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Table as ArrowTable } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { ConflictError } from '../../src/errors.js';
import { planCompaction } from '../../src/table/compact.js';
import type { Table } from '../../src/table/table.js';
import type { ChunkEntry } from '../../src/core/types.js';
import { runCli } from '../cli/in-process.js';
import { rng } from '../format/helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const HOSTS = ['a', 'b', 'c', 'd'];

/** `flushes` small flushes of random rows over two UTC days; a field `extra` appears halfway. */
async function streamed(table: Table, flushes: number, seed: number): Promise<void> {
  const random = rng(seed);
  for (let f = 0; f < flushes; f++) {
    const rows = [];
    for (let i = 0; i < 25; i++) {
      const row: Record<string, unknown> = {
        time: T0 + Math.floor(random() * 2 * 86_400_000),
        host: HOSTS[Math.floor(random() * HOSTS.length)]!,
        v: random() < 0.1 ? null : Math.round(random() * 10_000) / 100,
      };
      if (f >= flushes / 2) row['extra'] = BigInt(Math.floor(random() * 1000));
      rows.push(row);
    }
    await table.append(rows as never);
    await table.flush();
  }
}

/** Every row as a string, sorted: the table's content as a multiset (times are whole ms here, so get() is exact). */
function content(t: ArrowTable): string[] {
  const names = t.schema.fields.map((f) => f.name).sort();
  const out: string[] = [];
  for (let i = 0; i < t.numRows; i++) {
    out.push(names.map((n) => {
      const c = t.getChild(n)!;
      return c.isValid(i) ? String(c.get(i)) : 'null';
    }).join('|'));
  }
  return out.sort();
}

async function rowsOf(table: Table, version?: number): Promise<string[]> {
  return content(await table.query(version === undefined ? {} : { version }));
}

test('compaction merges each partition\'s small chunks into one, rows unchanged, old version still readable', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  await streamed(t, 12, 1);
  const before = await rowsOf(t);
  const versionBefore = t.version;
  const chunksBefore = await t.chunks();
  assert.equal(new Set(chunksBefore.map((c) => c.partition)).size, 2);
  assert.ok(chunksBefore.length >= 20, `expected many small chunks, got ${chunksBefore.length}`);

  const result = await t.compact();
  const after = await t.chunks();
  assert.equal(after.length, 2, 'one chunk per partition');
  assert.equal(result.chunksAfter, 2);
  assert.equal(result.groups.reduce((s, g) => s + g.inputs.length, 0), chunksBefore.length);
  assert.deepEqual(await rowsOf(t), before, 'same rows after compaction');
  assert.deepEqual(await rowsOf(t, versionBefore), before, 'the pre-compaction version still reads');
  assert.equal(after.reduce((s, c) => s + c.rows, 0), before.length);
  for (const c of after) {
    const day = new Date(Number(BigInt(c.timeMin) / 1_000_000n)).toISOString().slice(0, 10);
    assert.equal(c.partition, day);
    assert.equal(new Date(Number(BigInt(c.timeMax) / 1_000_000n)).toISOString().slice(0, 10), day, 'a merged chunk stays inside its partition');
  }
  assert.ok((await t.verify()).every((r) => r.ok));
  assert.ok(after.reduce((s, c) => s + c.bytes, 0) < chunksBefore.reduce((s, c) => s + c.bytes, 0), 'fewer, larger chunks are smaller in total');

  const again = await t.compact();
  assert.equal(again.groups.length, 0, 'nothing left to compact');
  assert.equal(again.version, t.version, 'a no-op compaction commits nothing');
});

test('merged chunks are sorted by series then time and keep the lineage of their inputs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-compact-'));
  try {
    const db = await Quiver.open(dir);
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }], partition: 'none' });
    const w1 = t.writer();
    await w1.append([{ time: T0 + 5, host: 'b', v: 1 }, { time: T0 + 1, host: 'a', v: 2 }] as never, { source: 'one.csv', rowStart: 0 });
    await w1.commit();
    const w2 = t.writer();
    await w2.append([{ time: T0 + 2, host: 'b', v: 3 }, { time: T0 + 3, host: 'a', v: 4 }] as never, { source: 'two.csv', rowStart: 10 });
    await w2.commit();
    await t.compact();
    const [chunk] = await t.chunks();
    assert.deepEqual(chunk!.lineage.map((l) => [l.source, l.rowStart, l.rowEnd]).sort(), [['one.csv', 0, 2], ['two.csv', 10, 12]]);
    const out = await t.query({});
    assert.deepEqual(out.getChild('host')!.toArray(), ['a', 'a', 'b', 'b']);
    assert.deepEqual(Array.from(out.getChild('v')!.toArray() as Float64Array), [2, 4, 3, 1]);
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('planCompaction packs small chunks oldest first into groups of at most rowsPerChunkMax rows, never a group of one', () => {
  const chunk = (key: string, partition: string, rows: number, timeMin: number): ChunkEntry =>
    ({ key, partition, rows, timeMin: String(timeMin), timeMax: String(timeMin), bytes: rows, rawBytes: rows, tagValues: {}, columns: {}, lineage: [], createdAt: '' });
  const chunks = [
    chunk('p1/c', 'p1', 40, 3), chunk('p1/a', 'p1', 40, 1), chunk('p1/b', 'p1', 40, 2), chunk('p1/big', 'p1', 90, 0),
    chunk('p2/x', 'p2', 10, 1), chunk('p3/y', 'p3', 10, 1), chunk('p3/z', 'p3', 10, 2),
  ];
  const groups = planCompaction(chunks, 100, 50);
  assert.deepEqual(groups.map((g) => [g.partition, g.inputs, g.rows]), [
    ['p1', ['p1/a', 'p1/b'], 80],
    ['p3', ['p3/y', 'p3/z'], 20],
  ]);
  assert.deepEqual(planCompaction(chunks, 100, 50, ['p3']).map((g) => g.partition), ['p3']);
  assert.deepEqual(planCompaction(chunks, 130, 50).map((g) => g.inputs.length), [3, 2]);
});

test('two compactions of the same chunks: exactly one lands, the other is a ConflictError, no row is doubled', async () => {
  const store = new MemoryChunkManager();
  const db1 = await Quiver.open(store);
  const t1 = await db1.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  await streamed(t1, 6, 2);
  const before = await rowsOf(t1);
  const t2 = await (await Quiver.open(store)).table('m');
  const results = await Promise.allSettled([t1.compact(), t2.compact()]);
  const ok = results.filter((r) => r.status === 'fulfilled');
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.status)));
  assert.ok(failed[0]!.reason instanceof ConflictError, String(failed[0]!.reason));
  assert.match(String(failed[0]!.reason.message), /concurrent commit removed them/);
  await t1.refresh();
  assert.deepEqual(await rowsOf(t1), before);
});

test('an append racing a compaction is kept', async () => {
  const store = new MemoryChunkManager();
  const db1 = await Quiver.open(store);
  const t1 = await db1.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  await streamed(t1, 6, 3);
  const before = await rowsOf(t1);
  const t2 = await (await Quiver.open(store)).table('m');
  await t2.append([{ time: T0 + 7, host: 'new', v: 42 }] as never);
  await Promise.all([t1.compact(), t2.flush()]);
  await t1.refresh();
  const after = await rowsOf(t1);
  assert.equal(after.length, before.length + 1);
  assert.equal(after.filter((r) => r.includes('|new|')).length, 1);
});

test('quiver compact: --dry-run plans without writing, then merges; --json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-compact-cli-'));
  try {
    const db = await Quiver.open(dir);
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    await streamed(t, 4, 4);
    const chunks = (await t.chunks()).length;
    await db.close();
    const run = (...args: string[]) => runCli(dir, ...args);
    const dry = await run('compact', 'm', '--dry-run', '--json');
    assert.equal(dry.code, 0, dry.out);
    const plan = JSON.parse(dry.out);
    assert.equal(plan.dryRun, true);
    assert.equal(plan.groups.reduce((s: number, g: { inputs: string[] }) => s + g.inputs.length, 0), chunks);
    const reopened = await Quiver.open(dir);
    assert.equal((await (await reopened.table('m')).chunks()).length, chunks, 'a dry run writes nothing');
    await reopened.close();
    const done = await run('compact', 'm');
    assert.equal(done.code, 0, done.out);
    assert.match(done.out, new RegExp(`merged ${chunks} chunks into 2`));
    assert.match((await run('compact', 'm')).out, /nothing to compact \(2 chunk\(s\)\)/);
    const history = JSON.parse((await run('inspect', 'm', '--versions', '--json')).out).versions as { version: number; operation: string; chunks: number }[];
    assert.deepEqual(history.map((v) => v.operation), ['create', 'append', 'append', 'append', 'append', 'compact']);
    assert.deepEqual(history.map((v) => v.chunks).slice(-2), [chunks, 2]);
    assert.equal((await run('compact')).code, 2);
    assert.equal((await run('compact', 'm', '--small-rows', '0')).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('auto-compaction: a streaming writer keeps each partition under the threshold; 0 disables it', async () => {
  for (const autoCompact of [4, 0]) {
    const db = await Quiver.open(new MemoryChunkManager(), { autoCompact });
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }], partition: 'none' });
    let most = 0;
    for (let i = 0; i < 10; i++) {
      await t.append([{ time: T0 + i, host: HOSTS[i % 4]!, v: i }] as never);
      await t.flush();
      most = Math.max(most, (await t.chunks()).length);
    }
    const values = Array.from((await t.query({})).getChild('v')!.toArray() as Float64Array).sort((a, b) => a - b);
    assert.deepEqual(values, Array.from({ length: 10 }, (_, i) => i));
    if (autoCompact) assert.ok(most < autoCompact, `at most ${most} chunks`);
    else assert.equal(most, 10);
  }
});

test('compaction of many series spanning the day writes a time page it can read back (steps back of a day each)', async () => {
  // Two overlapping flushes of 30 hosts, each host's times irregular (whole ms) across one
  // UTC day. Merged by series, the time page steps back almost a day 29 times: more in sum
  // than delta>gcd>rans's exceptions may hold, which once made compact() fail its own check.
  const db = await Quiver.open(new MemoryChunkManager(), { autoCompact: 0 });
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  const hosts = 30;
  const per = 32;
  for (let flush = 0; flush < 2; flush++) {
    const rows = [];
    for (let h = 0; h < hosts; h++) {
      for (let j = 0; j < per; j++) {
        const slot = 2 * j + flush;
        rows.push({ time: T0 + slot * 1_350_000 + ((slot * 7919 + h * 104729) % 1000), host: `h${h}`, v: slot });
      }
    }
    await t.append(rows as never);
    await t.flush();
  }
  const before = await rowsOf(t);
  assert.equal(before.length, hosts * per * 2);
  const result = await t.compact();
  assert.deepEqual([result.chunksBefore, result.chunksAfter], [2, 1], 'both chunks merged into one');
  assert.deepEqual(await rowsOf(t), before);
  assert.ok((await t.verify()).every((r) => r.ok));
  await db.close();
});

test('each chunk records the version that committed it (seq); a compaction output keeps its newest input\'s seq', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  await streamed(t, 4, 7);
  const before = await t.chunks();
  assert.ok(before.length >= 4);
  for (const c of before) assert.ok(c.seq !== undefined && c.seq >= 2 && c.seq <= t.version, `seq ${c.seq} of ${c.key}`);
  assert.equal(new Set(before.map((c) => c.seq)).size, 4, 'four flushes, four commits');
  const result = await t.compact({ smallRows: 1000 });
  assert.ok(result.groups.length > 0);
  const after = new Map((await t.chunks()).map((c) => [c.key, c]));
  const seqOf = new Map(before.map((c) => [c.key, c.seq!]));
  for (const g of result.groups) {
    assert.equal(after.get(g.output!)!.seq, Math.max(...g.inputs.map((k) => seqOf.get(k)!)));
  }
});
