import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { openChunk } from '../../src/format/index.js';
import { storeSource } from '../../src/table/table.js';
import { SchemaError } from '../../src/errors.js';
import { rng } from '../format/helpers.js';

test("compression 'small' stores random-walk floats rANS-coded and smaller; values read back exactly", async () => {
  const random = rng(5);
  let x = 50;
  const rows = Array.from({ length: 20_000 }, (_, i) => {
    const g = Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
    x = Math.round(Math.min(100, Math.max(0, x + g)) * 100) / 100;
    return { time: Date.UTC(2026, 0, 1) + i * 1000, host: 'a', v: x };
  });
  const sizes: Record<string, number> = {};
  for (const compression of ['fast', 'small'] as const) {
    const store = new MemoryChunkManager();
    const db = await Quiver.open(store);
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }], compression });
    await t.append(rows);
    await t.flush();
    const [chunk] = await t.chunks();
    const reader = await openChunk(storeSource(store, chunk!.key, chunk!.bytes));
    const encodings = new Set(reader.footer.columns.find((c) => c.name === 'v')!.pages.map((p) => p.encoding));
    assert.equal([...encodings].some((e) => e.endsWith('>rans')), compression === 'small', `${compression}: ${[...encodings].join(', ')}`);
    sizes[compression] = chunk!.columns['v']!.bytes;
    const back = Array.from((await t.query({ columns: ['v'] })).getChild('v')!.toArray() as Float64Array);
    assert.deepEqual(back, rows.map((r) => r.v));
    assert.equal((await db.table('m')).options.compression, compression, 'recorded in the manifest');
  }
  assert.ok(sizes['small']! < sizes['fast']!, JSON.stringify(sizes));
  const db = await Quiver.open(new MemoryChunkManager());
  await assert.rejects(db.createTable('x', { compression: 'tiny' as never }), SchemaError);
});
