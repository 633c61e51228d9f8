import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CorruptChunkError } from '../../src/errors.js';
import { bufferSource, DecodePool, openChunk, POOL_COLUMN_BYTES_MIN, writeChunk } from '../../src/format/index.js';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { ByteBudget } from '../../src/scan/scan.js';
import type { Row } from '../../src/core/types.js';
import { type ColumnSpec, columnValues, makeBatches, rng, seedFromEnv } from './helpers.js';

// Pages decoded in worker threads must be exactly the pages decoded inline, errors included.

const ROWS = 120_000;

function specs(seed: number): ColumnSpec[] {
  const random = rng(seed);
  return [
    { name: 'time', kind: 'time', values: Array.from({ length: ROWS }, (_, i) => 1_700_000_000_000n + BigInt(i) * 10n) },
    { name: 'host', kind: 'tag', values: Array.from({ length: ROWS }, (_, i) => `h${Math.floor(i / 30_000)}`) },
    { name: 'v', kind: 'float64', values: Array.from({ length: ROWS }, (_, i) => (i % 97 === 0 ? null : Math.round(random() * 1e6) / 100)) },
    { name: 'n', kind: 'int64', values: Array.from({ length: ROWS }, () => BigInt(Math.floor(random() * 1e9))) },
    { name: 'ok', kind: 'bool', values: Array.from({ length: ROWS }, (_, i) => (i % 11 === 0 ? null : random() < 0.5)) },
    { name: 'msg', kind: 'utf8', values: Array.from({ length: ROWS }, (_, i) => (i % 13 === 0 ? null : `m${Math.floor(random() * 1000)}`)) },
  ];
}

describe('decode pool', () => {
  const pool = new DecodePool(2);
  before(() => pool.whenReady());
  after(() => pool.close());

  test('every column kind decodes in workers to the same values as inline, with and without a page subset', async () => {
    const seed = seedFromEnv('decode pool');
    const { bytes } = writeChunk(makeBatches(specs(seed)), { timeColumn: 'time', tags: ['host'], pageRows: 4096 });
    const inline = await openChunk(bufferSource(bytes, 'inline.qvr'));
    const pooled = await openChunk(bufferSource(bytes, 'pooled.qvr'));
    pooled.decodePool = pool;
    const names = ['time', 'host', 'v', 'n', 'ok', 'msg'];
    for (const pages of [undefined, [1, 2, 3, 5, 6, 7, 8, 20, 21, 22, 23, 24]]) {
      const before = pool.tasks;
      const a = await inline.read({ columns: names, ...(pages ? { pages } : {}) });
      const b = await pooled.read({ columns: names, ...(pages ? { pages } : {}) });
      assert.ok(pool.tasks > before, `seed ${seed}: no run went to the pool`);
      for (const name of names) assert.deepEqual(columnValues(b, name), columnValues(a, name), `seed ${seed} column ${name}`);
    }
    // A column below the threshold stays inline.
    const small = pool.tasks;
    await pooled.read({ columns: ['v'], pages: [0] });
    assert.ok(4096 * 8 < POOL_COLUMN_BYTES_MIN);
    assert.equal(pool.tasks, small);
  });

  test('a corrupt page decoded in a worker is the same CorruptChunkError as inline', async () => {
    const { bytes } = writeChunk(makeBatches(specs(7)), { timeColumn: 'time', tags: ['host'], pageRows: 4096 });
    const probe = await openChunk(bufferSource(bytes, 'probe.qvr'));
    const page = probe.footer.columns.find((c) => c.name === 'n')!.pages[3]!;
    const bad = bytes.slice();
    bad[page.offset + Math.floor(page.length / 2)]! ^= 0x10;
    const errorOf = async (usePool: boolean) => {
      const reader = await openChunk(bufferSource(bad, 'bad.qvr'));
      if (usePool) reader.decodePool = pool;
      const before = pool.tasks;
      const error = await reader.read({ columns: ['v', 'n'] }).then(() => null, (e: unknown) => e);
      assert.equal(pool.tasks > before, usePool);
      return error;
    };
    const inline = await errorOf(false);
    const pooled = await errorOf(true);
    assert.ok(pooled instanceof CorruptChunkError, String(pooled));
    assert.ok(inline instanceof CorruptChunkError);
    assert.equal(pooled.message, inline.message);
    assert.equal(pooled.path, 'bad.qvr');
    assert.equal(pooled.offset, page.offset);
  });
});

test('reads too small for the pool do not start it', async () => {
  const { bytes } = writeChunk(makeBatches(specs(5)), { timeColumn: 'time', tags: ['host'], pageRows: 4096 });
  const reader = await openChunk(bufferSource(bytes, 'small.qvr'));
  const idle = new DecodePool(1);
  reader.decodePool = idle;
  await reader.read({ columns: ['v', 'n'], pages: [0, 1] });
  assert.equal(idle.started, false);
  await reader.read({ columns: ['v'] });
  assert.equal(idle.started, true);
  await idle.close();
});

test('an adaptive pool uses only the cores free besides the reading thread: none free, all reads inline', async () => {
  const { bytes } = writeChunk(makeBatches(specs(9)), { timeColumn: 'time', tags: ['host'], pageRows: 4096 });
  let free = 0;
  const adaptive = new DecodePool(1, { freeCores: () => free });
  try {
    const reader = await openChunk(bufferSource(bytes, 'adaptive.qvr'));
    reader.decodePool = adaptive;
    const inline = await (await openChunk(bufferSource(bytes, 'inline.qvr'))).read({ columns: ['v', 'n'] });
    const busy = await reader.read({ columns: ['v', 'n'] });
    assert.equal(adaptive.started, false, 'no free core: the workers do not even start');
    assert.equal(adaptive.tasks, 0);
    for (const name of ['v', 'n']) assert.deepEqual(columnValues(busy, name), columnValues(inline, name));
    free = 1;
    await adaptive.whenReady();
    const quiet = await reader.read({ columns: ['v', 'n'] });
    assert.ok(adaptive.tasks > 0, 'a free core: runs go to the pool');
    for (const name of ['v', 'n']) assert.deepEqual(columnValues(quiet, name), columnValues(inline, name));
  } finally {
    await adaptive.close();
  }
});

describe('scans with the pool and read-ahead', () => {
  test('scans and queries equal the single-threaded ones; breaking out of a scan early is clean', async () => {
    const store = new MemoryChunkManager();
    const serial = await Quiver.open(store, { decodeThreads: 0, decodedCacheBytes: 0 });
    const t = await serial.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'w', type: 'float64' }], rowsPerChunkMax: 40_000, partition: 'none' });
    const random = rng(3);
    const rows: Row[] = [];
    for (let i = 0; i < 240_000; i++) rows.push({ time: 1_700_000_000_000 + i * 1000, host: `h${i % 4}`, v: Math.round(random() * 1e4) / 100, w: i % 9 === 0 ? null : random() });
    await t.append(rows);
    await t.flush();
    const parallel = await Quiver.open(store, { decodedCacheBytes: 0, decodeThreads: 2 });
    await parallel.decodePool!.whenReady();
    const tp = await parallel.table('m');
    const chunks = (await tp.chunks()).length;
    assert.ok(chunks >= 6, `only ${chunks} chunks`);
    // Column bytes of the whole scan: time, host codes → names, values and validity of v and w.
    const scanAll = async (table: typeof t, o: Parameters<typeof t.scan>[0]) => {
      const parts: Buffer[] = [];
      for await (const b of table.scan(o)) {
        for (const name of ['time', 'v', 'w']) {
          const data = b.getChild(name)!.data[0]!;
          parts.push(Buffer.from(data.values.buffer, data.values.byteOffset, data.values.byteLength));
          parts.push(Buffer.from(Array.from({ length: data.length }, (_, i) => (data.getValid(i) ? 1 : 0))));
        }
        parts.push(Buffer.from(b.getChild('host')!.toArray().join()));
      }
      return Buffer.concat(parts);
    };
    for (const o of [{}, { from: 1_700_000_000_000 + 77_777_000, to: 1_700_000_000_000 + 166_666_000, where: { host: ['h1', 'h3'] } }]) {
      const [a, b] = [await scanAll(tp, o), await scanAll(t, o)];
      assert.ok(a.length > 100_000 && a.equals(b), `${JSON.stringify(o)}: ${a.length} vs ${b.length} bytes`);
    }
    const q = { every: '1h', by: ['host'], agg: { v: ['mean', 'max'], w: ['stddev', 'count'] } };
    assert.deepEqual((await tp.query(q as never)).toArray().map((r) => r.toJSON()), (await t.query(q as never)).toArray().map((r) => r.toJSON()));
    assert.ok(parallel.decodePool!.tasks > 0, 'the parallel scans used no worker');
    // Break after the first batch while reads are in flight: no unhandled rejection, no hang.
    for await (const b of tp.scan({})) { assert.ok(b.numRows > 0); break; }
    await parallel.close();
    await serial.close();
  });

  test('a process that never closes its pool still exits once its work is done', () => {
    const script = `
      import { Quiver } from ${JSON.stringify(fileURLToPath(new URL('../../src/quiver.js', import.meta.url)))};
      const db = await Quiver.open('memory://', { decodeThreads: 2, decodedCacheBytes: 0 });
      const t = await db.createTable('m', { fields: [{ name: 'v', type: 'float64' }] });
      await t.append(Array.from({ length: 200000 }, (_, i) => ({ time: i * 1000, v: i })));
      await t.flush();
      await db.decodePool.whenReady();
      const r = await t.query({ agg: { v: 'stddev' } });
      console.log(db.decodePool.tasks > 0 ? 'pooled' : 'inline', r.numRows);`;
    const dir = mkdtempSync(join(tmpdir(), 'quiver-pool-'));
    writeFileSync(join(dir, 'main.mjs'), script);
    const child = spawnSync(process.execPath, [join(dir, 'main.mjs')], { encoding: 'utf8', timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'pooled 1');
  });
});

describe('ByteBudget', () => {
  test('waiters go first come first served when bytes fit; one holder always proceeds; cancel frees all', async () => {
    const budget = new ByteBudget(100);
    const order: string[] = [];
    await budget.acquire(150); // alone: proceeds although above the budget
    const a = budget.acquire(60).then(() => order.push('a'));
    const b = budget.acquire(30).then(() => order.push('b'));
    await Promise.resolve();
    assert.equal(order.join(), '');
    budget.release(150);
    await Promise.all([a, b]);
    assert.equal(order.join(), 'a,b');
    const c = budget.acquire(20).then(() => order.push('c'));
    await Promise.resolve();
    assert.equal(order.join(), 'a,b', '60 + 30 + 20 > 100 must wait');
    budget.cancel();
    await c;
    assert.equal(order.join(), 'a,b,c');
  });
});
