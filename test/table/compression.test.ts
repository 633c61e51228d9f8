import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { openChunk } from '../../src/format/index.js';
import { storeSource } from '../../src/table/store-source.js';
import { SchemaError } from '../../src/errors.js';
import { rng } from '../format/helpers.js';

test("random-walk floats are stored rANS-coded; compression 'small' also tries bitsplit and is never larger; values read back exactly", async () => {
  const random = rng(5);
  let x = 50;
  let y = 0;
  const pattern = Array.from({ length: 37 }, () => Math.round((random() - 0.5) * 10000));
  const rows = Array.from({ length: 20_000 }, (_, i) => {
    const g = Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
    x = Math.round(Math.min(100, Math.max(0, x + g)) * 100) / 100;
    // Steps repeating with a period: bitsplit's zstd planes find the repeats, rANS cannot.
    y += pattern[i % 37]!;
    return { time: Date.UTC(2026, 0, 1) + i * 1000, host: 'a', v: x, p: y };
  });
  const sizes: Record<string, Record<string, number>> = {};
  for (const compression of ['fast', 'small'] as const) {
    const store = new MemoryChunkManager();
    const db = await Quiver.open(store);
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'p', type: 'float64' }], compression });
    await t.append(rows);
    await t.flush();
    const [chunk] = await t.chunks();
    const reader = await openChunk(storeSource(store, chunk!.key, chunk!.bytes));
    const encodings = (name: string) => [...new Set(reader.footer.columns.find((c) => c.name === name)!.pages.map((p) => p.encoding))];
    assert.ok(encodings('v').every((e) => e.endsWith('>ransx')), `${compression}: ${encodings('v').join(', ')}`);
    assert.equal(encodings('p').some((e) => e.endsWith('>bitsplit')), compression === 'small', `${compression}: ${encodings('p').join(', ')}`);
    sizes[compression] = { v: chunk!.columns['v']!.bytes, p: chunk!.columns['p']!.bytes };
    const back = await t.query({ columns: ['v', 'p'] });
    assert.deepEqual(Array.from(back.getChild('v')!.toArray() as Float64Array), rows.map((r) => r.v));
    assert.deepEqual(Array.from(back.getChild('p')!.toArray() as Float64Array), rows.map((r) => r.p));
    assert.equal((await db.table('m')).options.compression, compression, 'recorded in the manifest');
  }
  assert.ok(sizes['small']!['v']! <= sizes['fast']!['v']!, JSON.stringify(sizes));
  assert.ok(sizes['small']!['p']! < sizes['fast']!['p']! / 2, JSON.stringify(sizes));
  const db = await Quiver.open(new MemoryChunkManager());
  await assert.rejects(db.createTable('x', { compression: 'tiny' as never }), SchemaError);
  await assert.rejects(db.createTable('y', { codec: 'brotli' as never }), (e: unknown) => e instanceof SchemaError && /codec "brotli" is not auto, zstd, lz4 or none/.test((e as Error).message));
});

test("tables default to codec 'auto': zstd only on the columns it shrinks; an explicit codec is kept", async () => {
  const store = new MemoryChunkManager();
  const db = await Quiver.open(store);
  const random = rng(11);
  let x = 50;
  const rows = Array.from({ length: 6000 }, (_, i) => ({ time: Date.UTC(2026, 0, 1) + i * 1000, host: 'a', v: (x = Math.round((x + (random() - 0.5) * 4) * 100) / 100), note: `status ${i % 3} ok` }));
  const codecs: Record<string, Record<string, string>> = {};
  for (const codec of [undefined, 'zstd'] as const) {
    const name = codec ?? 'default';
    const t = await db.createTable(name, { tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'note', type: 'utf8' }], ...(codec ? { codec } : {}) });
    assert.equal(t.options.codec, codec ?? 'auto', 'recorded in the manifest');
    await t.append(rows);
    await t.flush();
    const [chunk] = await t.chunks();
    const reader = await openChunk(storeSource(store, chunk!.key, chunk!.bytes));
    codecs[name] = Object.fromEntries(reader.footer.columns.map((c) => [c.name, c.codec]));
    const back = await t.query({ columns: ['v', 'note'] });
    assert.deepEqual(Array.from(back.getChild('v')!.toArray() as Float64Array), rows.map((r) => r.v));
    assert.deepEqual(Array.from({ length: back.numRows }, (_, i) => back.getChild('note')!.get(i)), rows.map((r) => r.note));
  }
  assert.deepEqual(codecs['default'], { time: 'none', host: 'none', v: 'none', note: 'zstd' });
  assert.deepEqual(codecs['zstd'], { time: 'zstd', host: 'zstd', v: 'zstd', note: 'zstd' });
});
