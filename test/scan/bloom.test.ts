import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import { bloomMayContain, buildBloom, BLOOM_BYTES_MAX } from '../../src/core/bloom.js';
import { TAG_VALUES_IN_MANIFEST_MAX } from '../../src/table/manifest.js';
import type { Row } from '../../src/core/types.js';
import { rng } from '../format/helpers.js';

test('bloom filter: no false negatives, about 1% false positives, bounded size, malformed input answers true', () => {
  const random = rng(7);
  for (const n of [1, 10, 1000, 20_000]) {
    const values = Array.from({ length: n }, (_, i) => `device-${i}-${Math.floor(random() * 1e9)}`);
    const bloom = buildBloom(values);
    for (const v of values) assert.equal(bloomMayContain(bloom, v), true, `false negative for ${v}`);
    let positives = 0;
    const probes = 20_000;
    for (let i = 0; i < probes; i++) if (bloomMayContain(bloom, `other-${i}`)) positives++;
    assert.ok(positives / probes < 0.03, `n=${n}: false-positive rate ${positives / probes}`);
    assert.ok(Buffer.from(bloom, 'base64').length <= BLOOM_BYTES_MAX + 1);
  }
  const huge = buildBloom(Array.from({ length: 100_000 }, (_, i) => `v${i}`));
  assert.equal(Buffer.from(huge, 'base64').length, BLOOM_BYTES_MAX + 1, 'capped');
  assert.equal(bloomMayContain(huge, 'v99999'), true);
  assert.equal(bloomMayContain('', 'x'), true);
  assert.equal(bloomMayContain(Buffer.from([0, 0xff]).toString('base64'), 'x'), true, 'k = 0 is malformed: no pruning');
});

test('a high-cardinality tag filter prunes chunks from the manifest (min/max and bloom), results unchanged', async () => {
  const counting = new CountingChunkManager(new MemoryChunkManager());
  const db = await Quiver.open(counting);
  const table = await db.createTable('d', { tags: ['device'], partition: 'none', rowsPerChunkMax: 10_000 });
  const perChunk = TAG_VALUES_IN_MANIFEST_MAX * 4;
  const random = rng(3);
  // Three flushes, each with its own interleaved set of device ids (same min/max range, so
  // only the bloom filter can tell them apart).
  for (let c = 0; c < 3; c++) {
    const rows: Row[] = [];
    for (let i = 0; i < perChunk; i++) rows.push({ time: Date.UTC(2026, 0, 1) + i * 1000, device: `dev-${String(i * 3 + c).padStart(5, '0')}`, v: random() });
    await table.append(rows);
    await table.flush();
  }
  const chunks = await table.chunks();
  assert.equal(chunks.length, 3);
  for (const c of chunks) {
    assert.equal(c.tagValues['device'], undefined, 'too many values to list');
    assert.ok(c.tagBlooms?.['device'], 'a bloom filter instead');
  }
  const target = 'dev-00301'; // i = 100, c = 1: only the second chunk
  const plan = await table.explain({ where: { device: target } });
  assert.equal(plan.chunksPruned, 2);
  counting.reset();
  const out = await table.query({ where: { device: target } });
  assert.equal(out.numRows, 1);
  assert.equal(out.getChild('device')!.get(0), target);
  assert.deepEqual([...counting.stats().keysRead.keys()].filter((k) => k.endsWith('.qvr')), [chunks[1]!.key]);
  const outside = await table.explain({ where: { device: { in: ['aaa', 'zzz'] } } });
  assert.equal(outside.chunksPruned, 3, 'values outside every chunk\'s min/max');
  const prefix = await table.explain({ where: { device: { prefix: 'dev-0030' } } });
  assert.equal(prefix.chunksPruned, 0, 'open-ended filters are not pruned by blooms');
});
