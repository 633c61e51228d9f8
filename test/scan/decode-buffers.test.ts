import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordBatch } from 'apache-arrow';
import { Quiver, type QuiverOptions } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { DecodeBufferPool, decodeBuffers, releaseBatch } from '../../src/format/buffer-pool.js';
import { decodePage } from '../../src/format/encodings/registry.js';
import { ByteWriter } from '../../src/format/encodings/bytes.js';
import { encodeInts } from '../../src/format/encodings/ints.js';
import type { Table } from '../../src/table/table.js';
import type { Row } from '../../src/core/types.js';
import { rng } from '../format/helpers.js';

/** The decode buffer pool (src/format/buffer-pool.ts) and its release protocol through scans. */

const T0 = Date.UTC(2026, 0, 1);
const HOSTS = ['a', 'b', 'c', 'd'];

async function setup(options: QuiverOptions): Promise<Table> {
  const store = new MemoryChunkManager();
  const writer = await Quiver.open(store);
  const t0 = await writer.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }], pageRows: 512 });
  const random = rng(7);
  const rows: Row[] = [];
  for (let d = 0; d < 2; d++) for (const host of HOSTS) for (let i = 0; i < 3000; i++) {
    rows.push({ time: T0 + d * 86_400_000 + i * 10_000, host, v: Math.round(random() * 1e4) / 100, n: BigInt(i * 3) });
  }
  await t0.append(rows);
  await t0.flush();
  const db = await Quiver.open(store, { decodeThreads: 0, ...options });
  return db.table('m');
}

async function collect(t: Table, options: object = {}): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const batch of t.scan(options as never)) out.push(batch);
  return out;
}

const dump = (batches: readonly RecordBatch[]) => JSON.stringify(batches.map((b) => b.toArray()), (_k, v) => (typeof v === 'bigint' ? String(v) : v));

function buffersOf(batches: readonly RecordBatch[]): Set<ArrayBufferLike> {
  const out = new Set<ArrayBufferLike>();
  for (const b of batches) for (const child of b.data.children) if (ArrayBuffer.isView(child.values)) out.add(child.values.buffer);
  return out;
}

test('decode buffer pool: give takes back only what it lent, once; idle bytes stay bounded', () => {
  const pool = new DecodeBufferPool(3 * 1024);
  const a = pool.take(1024);
  assert.equal(a.length, 1024);
  assert.equal(pool.give(new ArrayBuffer(1024)), false, 'a buffer the pool never lent');
  assert.equal(pool.give(a.buffer), true);
  assert.equal(pool.give(a.buffer), false, 'a second give of the same buffer');
  const b = pool.take(1024);
  const c = pool.take(1024);
  assert.equal(b.buffer, a.buffer, 'the given-back buffer is reused');
  assert.notEqual(c.buffer, b.buffer, 'never lent twice at once');
  assert.equal(pool.take(2048).buffer === a.buffer, false, 'sizes are matched exactly');
  const big = [pool.take(2048), pool.take(2048)];
  for (const x of [b, c, ...big]) pool.give(x.buffer);
  assert.ok(pool.idleBytes <= 3 * 1024, `idle ${pool.idleBytes}`);
});

test('decode buffers: a batch still held is never overwritten by later scans that release theirs', async () => {
  const t = await setup({ decodedCacheBytes: 0 });
  const held = await collect(t);
  const expected = dump(held);
  const heldBuffers = buffersOf(held);
  assert.ok([...heldBuffers].some((b) => decodeBuffers.isLent(b)), 'the held batches decode into pooled buffers (the test exercises the pool)');
  const reusedBefore = decodeBuffers.reused;
  for (let r = 0; r < 4; r++) {
    const options = [{}, { columns: ['v'] }, { from: T0 + 3_600_000, to: T0 + 7_200_000 }, { where: { host: 'b' } }][r]!;
    for await (const batch of t.scan(options as never)) {
      for (const buffer of buffersOf([batch])) assert.ok(!heldBuffers.has(buffer), 'a held batch\'s buffer is handed to another batch');
      releaseBatch(batch);
      releaseBatch(batch); // twice: ignored
    }
  }
  assert.ok(decodeBuffers.reused > reusedBefore, 'released buffers were reused');
  assert.equal(dump(held), expected, 'held batches unchanged');
});

test('decode buffers: batches released twice are never lent to two live batches', async () => {
  const t = await setup({ decodedCacheBytes: 0 });
  const reference = dump(await collect(t));
  for (const batch of await collect(t)) { releaseBatch(batch); releaseBatch(batch); }
  const first = await collect(t);
  const second = await collect(t);
  const shared = [...buffersOf(first)].filter((b) => buffersOf(second).has(b));
  assert.deepEqual(shared, [], 'two live scans share no buffer');
  assert.equal(dump(first), reference);
  assert.equal(dump(second), reference);
});

test('decode buffers: filtered scans give back the decoded buffers they copied rows out of', async () => {
  const t = await setup({ decodedCacheBytes: 0 });
  const options = { from: T0 + 3_600_000, to: T0 + 30_000_000 };
  const reference = dump(await collect(t, options));
  const reusedBefore = decodeBuffers.reused;
  for (let r = 0; r < 3; r++) assert.equal(dump(await collect(t, options)), reference);
  assert.ok(decodeBuffers.reused > reusedBefore, 'the scan handed its decoded buffers back by itself');
});

test('decode buffers: with the decoded-page cache nothing is lent, so releasing changes nothing', async () => {
  const t = await setup({});
  const first = await collect(t);
  const expected = dump(first);
  for (const batch of first) assert.equal(releaseBatch(batch), 0, 'cached pages are not the pool\'s');
  for (let r = 0; r < 2; r++) for (const batch of await collect(t)) releaseBatch(batch);
  assert.equal(dump(first), expected);
  assert.equal(dump(await collect(t)), expected);
});

test('tag codes of an rle page are checked against the dictionary while decoding', () => {
  const w = new ByteWriter(64);
  encodeInts('rle', Float64Array.from([0, 0, 1, 1, 2, 2]), w);
  const bytes = w.finish();
  const ok = decodePage('rle', bytes, 'i32', 6, undefined, 4, 3);
  assert.deepEqual(ok.kind === 'i32' ? [...ok.values] : null, [0, 0, 1, 1, 2, 2]);
  assert.throws(() => decodePage('rle', bytes, 'i32', 6, undefined, 4, 2), /rle value 2 out of range/);
});
