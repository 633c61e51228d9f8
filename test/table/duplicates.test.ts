import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles } from '../../src/io/import.js';
import { planCompaction } from '../../src/table/compact.js';
import { createManifest } from '../../src/table/manifest.js';
import type { ChunkEntry, DuplicatePolicy, Row } from '../../src/core/types.js';
import { runCli } from '../cli/in-process.js';
import type { QueryOptions } from '../../src/scan/query-types.js';
import { importTwice, rowsText, writeCsv, HOSTS, TIMES } from './duplicates-cases.js';

// The duplicate policy of a table (issue 15): rows of one (series, time) fold into one, field by
// field, under 'last' (default for new tables) and 'first'; 'keep' stores them all.

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-dup-'));
  try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(String(v).replace('n', '')));
const plain = (t: { toArray(): { toJSON(): Record<string, unknown> }[] }) => t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === 'bigint' ? `${v}n` : v))) as Record<string, unknown>);

for (const policy of ['last', 'first', 'keep'] as const) {
  test(`local store: the same CSV imported twice under '${policy}' (counts, winners, statistics, compaction)`, async () => {
    await withDir(async (dir) => importTwice(await Quiver.open(join(dir, 'store')), dir, policy));
  });
}

test('new tables default to last; a manifest without the option reads as keep', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  assert.equal(t.options.duplicates, 'last');
  await assert.rejects(db.createTable('bad', { duplicates: 'newest' as DuplicatePolicy }), /duplicates "newest" is not last, first or keep/);
  // A table created before policies: its manifest has no duplicates member.
  const { options } = t.currentManifest;
  const { duplicates: _, ...before } = options;
  await createManifest(db.store, 'old', t.schema, before);
  const old = await db.table('old');
  assert.equal(old.options.duplicates, undefined);
  await old.append([{ time: 1, host: 'a', v: 1 }, { time: 1, host: 'a', v: 2 }]);
  await old.flush();
  assert.equal((await old.query({})).numRows, 2, 'kept as before');
  assert.equal((await old.query({ agg: { v: 'count' } })).getChild('count_v')!.get(0), 2n);
});

test('last vs first, field by field: the union of fields, each the last / first non-null value written', async () => {
  for (const policy of ['last', 'first'] as const) {
    const db = await Quiver.open(new MemoryChunkManager());
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'a', type: 'float64' }, { name: 'b', type: 'int64' }, { name: 's', type: 'utf8' }], duplicates: policy });
    await t.append([{ time: 1000, host: 'x', a: 1, b: null, s: 'one' }]);
    await t.flush();
    await t.append([{ time: 1000, host: 'x', a: null, b: 2n, s: null }]);
    await t.flush();
    await t.append([{ time: 1000, host: 'x', a: 3, b: null, s: 'three' }, { time: 2000, host: 'x', a: 9, b: 9n, s: 'nine' }]);
    await t.flush();
    const expected = policy === 'last' ? { a: 3, b: '2n', s: 'three' } : { a: 1, b: '2n', s: 'one' };
    assert.deepEqual(plain(await t.query({ to: 2000 })), [{ time: 1000, host: 'x', ...expected }], policy);
    // A projection folds the same way (each field on its own).
    assert.deepEqual(plain(await t.query({ to: 2000, columns: ['b'] })), [{ time: 1000, b: '2n' }], policy);
    assert.deepEqual(plain(await t.query({ latest: true, where: { host: 'x' } })).map((r) => r['a']), [9]);
  }
});

test('duplicates inside one chunk (one flush holds the same point twice) fold at write; keep stores both', async () => {
  for (const policy of ['last', 'first', 'keep'] as const) {
    const db = await Quiver.open(new MemoryChunkManager());
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }], duplicates: policy });
    const rows: Row[] = [];
    for (let i = 0; i < 50; i++) rows.push({ time: 1000 + (i % 10), host: i % 2 ? 'a' : 'b', v: i });
    await t.append(rows);
    await t.flush();
    assert.equal(t.currentManifest.chunks.length, 1);
    assert.equal(t.currentManifest.chunks[0]!.rows, policy === 'keep' ? 50 : 10);
    const got = plain(await t.query({}));
    if (policy === 'keep') { assert.equal(got.length, 50); continue; }
    // Rows (time 1000+k, host) hold i ≡ k (mod 10): the first written is i = k, the last i = k + 40.
    for (const r of got) {
      const k = (r['time'] as number) - 1000;
      assert.equal(r['v'], policy === 'last' ? k + 40 : k, JSON.stringify(r));
    }
    const sums = plain(await t.query({ agg: { v: ['count', 'sum', 'min', 'max'] } }));
    assert.deepEqual(sums, [{ time: 1000, count_v: '10n', sum_v: policy === 'last' ? 445 : 45, min_v: policy === 'last' ? 40 : 0, max_v: policy === 'last' ? 49 : 9 }]);
    assert.ok((await t.explainQuery({ agg: { v: 'sum' } })).pagesFromStatistics > 0, 'a lone chunk holds no duplicate: its statistics answer');
  }
});

test('across chunks, write order (seq) decides, not time order: a later chunk starting earlier still wins under last', async () => {
  for (const policy of ['last', 'first'] as const) {
    const db = await Quiver.open(new MemoryChunkManager(), { autoCompact: 0 });
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }], duplicates: policy });
    await t.append([{ time: 100, host: 'x', v: 1 }, { time: 200, host: 'x', v: 1 }]);
    await t.flush();
    // Later write, earlier timeMin: scans order it first by time.
    await t.append([{ time: 50, host: 'x', v: 2 }, { time: 200, host: 'x', v: 2 }]);
    await t.flush();
    await t.append([{ time: 200, host: 'x', v: 3 }, { time: 300, host: 'x', v: 3 }]);
    await t.flush();
    const seqs = t.currentManifest.chunks.map((c) => c.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a! - b!));
    for (const order of ['series', 'any'] as const) {
      assert.deepEqual(plain(await t.query({ order })), [
        { time: 50, host: 'x', v: 2 }, { time: 100, host: 'x', v: 1 }, { time: 200, host: 'x', v: policy === 'last' ? 3 : 1 }, { time: 300, host: 'x', v: 3 },
      ], `${policy} ${order}`);
    }
    assert.deepEqual(plain(await t.query({ agg: { v: ['count', 'sum', 'max'] } }))[0], { time: 50, count_v: '4n', sum_v: policy === 'last' ? 9 : 7, max_v: 3 });
    const explained = await t.explainQuery({ agg: { v: ['count', 'sum', 'max'] } });
    assert.equal(explained.pagesFromStatistics, 0, 'every chunk is in one merge group');
    const before = plain(await t.query({}));
    await t.compact();
    assert.equal(t.currentManifest.chunks.length, 1);
    assert.equal(t.currentManifest.chunks[0]!.seq, Math.max(...seqs.map(Number)));
    assert.deepEqual(plain(await t.query({})), before);
  }
});

test('compaction groups are closed over chunks of their seq range that may share a point (else the output seq is wrong), in write order', () => {
  const entry = (key: string, seq: number, min: number, max: number, rows: number, hosts: string[]): ChunkEntry => ({
    key, partition: 'p', rows, bytes: 10, rawBytes: 10, timeMin: String(min), timeMax: String(max), tagValues: { host: hosts },
    columns: {}, lineage: [], createdAt: '', seq,
  });
  const chunks = [
    entry('A', 1, 0, 100, 80, ['a']), entry('B', 3, 50, 150, 80, ['a']), entry('C', 2, 120, 130, 10, ['a']),
    entry('D', 4, 0, 100, 10, ['z']), entry('E', 5, 500, 600, 10, ['a']), entry('F', 6, 700, 800, 10, ['a']),
  ];
  const groups = planCompaction(chunks, 100, 50, undefined, { tags: ['host'] });
  // A, B and C overlap (B bridges C): all three, oldest write first, though A and B are not small.
  assert.deepEqual(groups.map((g) => g.inputs), [['A', 'C', 'B'], ['D', 'E', 'F']]);
  // Small chunks packed in write order take in every chunk of their seq range that may share a
  // point with them (Q), unless the recorded key ranges say it cannot.
  const packed = [entry('P', 1, 0, 10, 10, ['a']), entry('Q', 2, 0, 10, 80, ['a']), entry('R', 3, 0, 10, 10, ['a'])];
  assert.deepEqual(planCompaction(packed, 100, 50, undefined, { tags: ['host'] }).map((g) => g.inputs), [['P', 'Q', 'R']]);
  const key = (host: string, time: number) => ({ tags: [host], time: String(time) });
  packed[0]!.keys = { first: key('a', 0), last: key('a', 3) };
  packed[1]!.keys = { first: key('a', 4), last: key('a', 6) };
  packed[2]!.keys = { first: key('a', 7), last: key('a', 10) };
  assert.deepEqual(planCompaction(packed, 100, 50, undefined, { tags: ['host'] }).map((g) => g.inputs), [['P', 'R']]);
  // Without a folding policy, only small chunks, by time.
  assert.deepEqual(planCompaction(chunks, 100, 50).map((g) => g.inputs), [['D', 'C', 'E', 'F']]);
});

test('repeated imports of the same data converge: compaction folds big overlapping chunks into one row per point', async () => {
  await withDir(async (dir) => {
    const db = await Quiver.open(join(dir, 'store'));
    const file = writeCsv(join(dir, 'a.csv'), 0);
    const points = HOSTS.length * TIMES;
    await db.createTable('t', { time: 'time', tags: ['host'], fields: [{ name: 'a', type: 'float64' }, { name: 'b', type: 'int64' }], rowsPerChunkMax: 100 });
    for (let k = 0; k < 3; k++) await importFiles(db, [file], { table: 't', append: true, parallel: false });
    const t = await db.table('t');
    assert.equal(t.currentManifest.chunks.reduce((n, c) => n + c.rows, 0), 3 * points);
    const before = rowsText(await t.query({}));
    assert.equal(before.length, points);
    const result = await t.compact();
    assert.equal(result.groups.length, 1);
    assert.equal(result.groups[0]!.rowsAfter, points);
    assert.equal(t.currentManifest.chunks.length, points / 100);
    assert.deepEqual(rowsText(await t.query({})), before);
    assert.equal((await t.compact()).groups.length, 0, 'nothing left to fold');
  });
});

test('quiver query answers count/sum/min/max deduplicated, and --explain says no page came from statistics', async () => {
  await withDir(async (dir) => {
    const store = join(dir, 'store');
    const one = writeCsv(join(dir, '1.csv'), 0);
    assert.equal((await runCli(store, 'import', one, '--table', 't', '--tags', 'host', '--no-progress')).code, 0);
    const second = await runCli(store, 'import', writeCsv(join(dir, '2.csv'), 1), '--table', 't', '--append', '--no-progress');
    assert.equal(second.code, 0, second.out);
    assert.match(second.out, /\n {2}300 row\(s\) of a \(series, time\) already written; 557 duplicate \(series, time, field\) value\(s\) replaced the earlier values \(policy last\)\n/);
    const query = ['query', 't', '--agg', 'count:a,sum:a,min:a,max:a,count:b,sum:b'];
    const out = join(dir, 'q.json');
    const answer = async () => {
      assert.equal((await runCli(store, ...query, '--out', out)).code, 0);
      return JSON.parse(readFileSync(out, 'utf8'));
    };
    const got = await answer();
    const db = await Quiver.open(store);
    const expected = plain(await (await db.table('t')).query({ agg: { a: ['count', 'sum', 'min', 'max'], b: ['count', 'sum'] }, filter: { field: 'b', op: '>=', value: -1 } }));
    assert.equal(got.length, 1);
    assert.equal(Number(got[0].count_b), 300);
    assert.equal(got[0].sum_b, Number(String(expected[0]!['sum_b']).replace('n', '')));
    assert.equal(got[0].sum_a, expected[0]!['sum_a']);
    assert.equal(got[0].max_a, expected[0]!['max_a']);
    const explain = JSON.parse((await runCli(store, ...query, '--explain', '--json')).out);
    assert.equal(explain.pagesFromStatistics, 0);
    const refused = await runCli(store, 'import', one, '--table', 't', '--append', '--duplicates', 'keep', '--no-progress');
    assert.equal(refused.code, 2);
    assert.match(refused.out, /--duplicates keep applies when the import creates the table; t exists with duplicate policy last/);
    assert.equal((await runCli(store, 'compact', 't')).code, 0);
    assert.deepEqual(await answer(), got);
    assert.ok(JSON.parse((await runCli(store, ...query, '--explain', '--json')).out).pagesFromStatistics > 0);
  });
});

test('the import counts duplicates exactly across batches: the long layout beyond 65,536 rows, wide rows across chunks', async () => {
  await withDir(async (dir) => {
    // 80,000 long rows: (host, time, field) unique, then 1,000 of the first repeated at the end
    // (another CSV batch and another chunk), and 5 repeated at once (same batch).
    const lines = ['time,host,field,value'];
    const line = (i: number, value: number) => `${new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 20) * 1000).toISOString()},h${i % 10},${(i >> 1) % 2 ? 'cpu' : 'mem'},${value}`;
    // i ↦ (time i/20, host i%10, field bit 1 of i): every i below 80,000 names another point.
    for (let i = 0; i < 80_000; i++) {
      lines.push(line(i, i));
      if (i < 5) lines.push(line(i, -i));
    }
    for (let i = 0; i < 1000; i++) lines.push(line(i, 1_000_000 + i));
    const file = join(dir, 'long.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    for (const policy of ['last', 'first', 'keep'] as const) {
      const db = await Quiver.open(new MemoryChunkManager());
      await db.createTable(`l_${policy}`, { tags: ['host'], rowsPerChunkMax: 8_000, duplicates: policy });
      const summary = await importFiles(db, [file], { table: `l_${policy}`, append: true, layout: 'long', fieldColumn: 'field', valueColumn: 'value', parallel: false });
      assert.equal(summary.duplicates, 1005, policy);
      assert.ok(summary.chunks > 1, 'several chunks');
      const t = await db.table(`l_${policy}`);
      const first = plain(await t.query({ to: Date.UTC(2026, 0, 1) + 1000, where: { host: ['h0', 'h1', 'h2'] } }));
      if (policy === 'keep') assert.equal(first.length > 3, true);
      else {
        // At time 0: h0 has mem from i = 0 and cpu from i = 10, h1 mem 1 and cpu 11, h2 cpu 2 and
        // mem 12; i < 1000 was written again last (1,000,000 + i), i < 5 also at once (-i).
        const value = (i: number) => (policy === 'last' && i < 1000 ? 1_000_000 + i : i);
        assert.deepEqual(first.map((r) => [r['host'], num(r['cpu']), num(r['mem'])]), [['h0', value(10), value(0)], ['h1', value(11), value(1)], ['h2', value(2), value(12)]]);
        assert.equal(num(plain(await t.query({ agg: { '*': 'count' } }))[0]!['count']), 40_000);
      }
    }
  });
});

test('writers under keep: rows of a point already written are counted and kept', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('k', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }], duplicates: 'keep' });
  const w = t.writer();
  await w.append([{ time: 1, host: 'a', v: 1 }, { time: 1, host: 'a', v: 2 }]);
  const c = await w.commit();
  assert.deepEqual([c.duplicateRows, c.duplicateValues], [1, 1]);
  const w2 = t.writer();
  await w2.append([{ time: 1, host: 'a', v: 3 }, { time: 2, host: 'a', v: null }]);
  const c2 = await w2.commit();
  assert.deepEqual([c2.duplicateRows, c2.duplicateValues], [1, 1]);
  assert.equal((await t.query({})).numRows, 4);
  assert.deepEqual(plain(await t.query(STATS_QUERY_V)), [{ time: 1, count_v: '3n', sum_v: 6 }]);
});

const STATS_QUERY_V: QueryOptions = { agg: { v: ['count', 'sum'] } };
