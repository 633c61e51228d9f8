import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RecordBatch } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { mergeGroups } from '../../src/scan/scan.js';
import type { ChunkEntry, Row } from '../../src/core/types.js';
import { rng, seedFromEnv } from '../format/helpers.js';

// Scans yield each series' rows in time order (order: 'series', the default), merging chunks
// that overlap in time and share series; order: 'any' yields chunk by chunk.

type Point = { host: string; region: string; t: bigint; v: number | null };

async function collect(batches: AsyncIterable<RecordBatch>): Promise<{ points: Point[]; batches: number }> {
  const points: Point[] = [];
  let count = 0;
  for await (const b of batches) {
    count++;
    const time = b.getChild('time')!.data[0]!.values as BigInt64Array;
    for (let i = 0; i < b.numRows; i++) {
      points.push({ host: b.getChild('host')!.get(i) as string, region: b.getChild('region')!.get(i) as string, t: time[i]!, v: b.getChild('v')!.get(i) as number | null });
    }
  }
  return { points, batches: count };
}

/** Index of the first row whose series went back in time, or -1. */
function firstDisorder(points: Point[]): number {
  const last = new Map<string, bigint>();
  for (let i = 0; i < points.length; i++) {
    const key = `${points[i]!.host}\u0000${points[i]!.region}`;
    const prev = last.get(key);
    if (prev !== undefined && points[i]!.t < prev) return i;
    last.set(key, points[i]!.t);
  }
  return -1;
}

const canonical = (points: Point[]) => points.map((p) => `${p.host}|${p.region}|${p.t}|${p.v}`).sort();

test('late data: the default scan merges overlapping chunks into per-series time order; order any does not', async () => {
  const db = await Quiver.open(new MemoryChunkManager(), { autoCompact: 0 });
  // Policy keep: rows come back as appended, so order any streams them chunk by chunk (a
  // folding policy merges overlapping chunks whatever the order).
  const t = await db.createTable('m', { tags: ['host', 'region'], fields: [{ name: 'v', type: 'float64' }], timeUnit: 'ms', duplicates: 'keep' });
  const seed = seedFromEnv('scan order');
  const random = rng(seed);
  const appended: Point[] = [];
  // Three flushes; each later one brings rows that belong before earlier ones (late data).
  for (let flush = 0; flush < 3; flush++) {
    const rows: Row[] = [];
    for (let i = 0; i < 300; i++) {
      const host = `h${Math.floor(random() * 4)}`;
      const region = random() < 0.5 ? 'eu' : 'us';
      const time = 1_000_000 + Math.floor(random() * 100_000) - flush * 20_000;
      const v = random() < 0.1 ? null : Math.round(random() * 1000) / 10;
      rows.push({ time, host, region, v });
      appended.push({ host, region, t: BigInt(time), v });
    }
    await t.append(rows);
    await t.flush();
  }
  assert.equal((await t.chunks()).length, 3);
  const ordered = await collect(t.scan({}));
  assert.equal(firstDisorder(ordered.points), -1, `seed ${seed}: a series went back in time`);
  assert.deepEqual(canonical(ordered.points), canonical(appended));
  const any = await collect(t.scan({ order: 'any' }));
  assert.deepEqual(canonical(any.points), canonical(appended));
  assert.notEqual(firstDisorder(any.points), -1, `seed ${seed}: chunk-by-chunk order happened to be sorted; the merge was not exercised`);
  // Filters and projection apply before the merge; the output keeps only the asked columns.
  const filtered = [] as { t: bigint }[];
  for await (const b of t.scan({ where: { host: 'h1' }, columns: ['v'], from: 990_000 })) {
    assert.deepEqual(b.schema.fields.map((f) => f.name), ['time', 'v']);
    const time = b.getChild('time')!.data[0]!.values as BigInt64Array;
    for (let i = 0; i < b.numRows; i++) filtered.push({ t: time[i]! });
  }
  const expected = appended.filter((p) => p.host === 'h1' && p.t >= 990_000n);
  assert.equal(filtered.length, expected.length);
  await db.close();
});

test('chunks cut from one sorted run share series only at the cut and are chained, not merged', async () => {
  const db = await Quiver.open(new MemoryChunkManager(), { autoCompact: 0 });
  const t = await db.createTable('m', { tags: ['host', 'region'], fields: [{ name: 'v', type: 'float64' }], timeUnit: 'ms', rowsPerChunkMax: 1000 });
  const rows: Row[] = [];
  for (let i = 0; i < 6000; i++) rows.push({ time: i * 1000, host: `h${i % 7}`, region: 'eu', v: i });
  await t.append(rows);
  await t.flush();
  const chunks = (await t.chunks()).length;
  assert.ok(chunks >= 6, `${chunks} chunks`);
  const { points, batches } = await collect(t.scan({}));
  assert.equal(points.length, 6000);
  assert.equal(firstDisorder(points), -1);
  assert.equal(batches, chunks, 'a merge would have yielded one batch for the group');
  await db.close();
});

test('mergeGroups: time overlap and possibly shared series group chunks; disjoint tag values or times do not', () => {
  const e = (key: string, min: number, max: number, hosts?: string[]): ChunkEntry => ({
    key, partition: 'p', rows: 1, bytes: 1, rawBytes: 1, timeMin: String(min), timeMax: String(max),
    tagValues: hosts ? { host: hosts } : {}, columns: {}, lineage: [], createdAt: '',
  } as unknown as ChunkEntry);
  const groups = (entries: ChunkEntry[]) => mergeGroups(entries, ['host']).map((g) => g.map((x) => x.key).join('+'));
  assert.deepEqual(groups([e('a', 0, 10, ['x']), e('b', 5, 20, ['y']), e('c', 30, 40, ['x'])]), ['a', 'b', 'c']);
  assert.deepEqual(groups([e('a', 0, 10, ['x']), e('b', 5, 20, ['x', 'y']), e('c', 15, 40, ['y'])]), ['a+b+c']);
  assert.deepEqual(groups([e('a', 0, 10, ['x']), e('b', 11, 20, ['x'])]), ['a', 'b']);
  assert.deepEqual(groups([e('a', 0, 10), e('b', 10, 20, ['q'])]), ['a+b'], 'unknown values may share series');
});
