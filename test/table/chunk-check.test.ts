import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { bufferSource, openChunk } from '../../src/format/index.js';
import { checkChunkBytes } from '../../src/table/verify.js';
import { CorruptChunkError } from '../../src/errors.js';

// Each chunk is checked from its in-memory bytes before it is put, as verify would check it.
const T0 = Date.UTC(2026, 0, 1);

test('checkChunkBytes passes a chunk as written and refuses one damaged in memory, or one that reads back other rows', async () => {
  const store = new MemoryChunkManager();
  const db = await Quiver.open(store);
  const t = await db.createTable('t', { tags: ['host'], pageRows: 64 });
  await t.append(Array.from({ length: 1000 }, (_, i) => ({ time: T0 + i, host: `h${i % 5}`, v: i * 0.5, s: `x${i}` })));
  await t.flush();
  const [entry] = await t.chunks();
  const bytes = await store.get(entry!.key);
  const footer = (await openChunk(bufferSource(bytes, entry!.key))).footer;
  await checkChunkBytes(entry!.key, bytes, footer);
  // Every 97th byte flipped in turn (pages, footer, trailer): each is refused before any put.
  let refused = 0;
  for (let at = 0; at < bytes.length; at += 97) {
    const damaged = bytes.slice();
    damaged[at]! ^= 0x10;
    await assert.rejects(checkChunkBytes(entry!.key, damaged, footer), (e: unknown) => e instanceof CorruptChunkError && e.path === entry!.key, `byte ${at}`);
    refused++;
  }
  assert.ok(refused > 10);
  await assert.rejects(checkChunkBytes(entry!.key, bytes, { ...footer, rowCount: footer.rowCount + 1 }), /reads back 1000 rows/);
});

test('a float column with nulls on some pages only: page sums are what verify recomputes (the writer checks them now)', async () => {
  const store = new MemoryChunkManager();
  const db = await Quiver.open(store);
  const t = await db.createTable('t', { pageRows: 64 });
  const values = Array.from({ length: 640 }, (_, i) => (i < 64 && i % 7 === 0 ? null : ((i * 7919) % 1000) / 100 + 0.01));
  // Precondition: summed in row order and over four lanes, some null-free page differs in its last bits.
  let differs = 0;
  for (let p = 1; p < 10; p++) {
    const page = values.slice(p * 64, p * 64 + 64) as number[];
    const lanes = [0, 0, 0, 0];
    page.forEach((v, i) => { lanes[i % 4]! += v; });
    if ((lanes[0]! + lanes[1]!) + (lanes[2]! + lanes[3]!) !== page.reduce((a, b) => a + b, 0)) differs++;
  }
  assert.ok(differs > 0);
  await t.append(values.map((x, i) => ({ time: T0 + i, x })));
  await t.flush();
  assert.deepEqual((await t.verify()).map((c) => c.error ?? 'ok'), ['ok']);
});
