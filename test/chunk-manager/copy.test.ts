import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChunkManager, PutOptions } from '../../src/chunk-manager/chunk-manager.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import { copyObjects } from '../../src/chunk-manager/copy.js';
import { AlreadyExistsError, StoreError, UsageError } from '../../src/errors.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** A source store holding two tables' chunks and manifests, plus a key outside the prefix. */
async function source(): Promise<MemoryChunkManager> {
  const src = new MemoryChunkManager('copy-src');
  for (let i = 0; i < 30; i++) await src.put(`db/cpu/chunks/${String(i).padStart(3, '0')}.qvr`, enc(`chunk ${i} `.repeat(i + 1)));
  await src.put('db/cpu/_manifest/00000000000000000001.json', enc('{"version":1}'));
  await src.put('db/cpu/_manifest/00000000000000000002.json', enc('{"version":2}'));
  await src.put('db/mem/chunks/a.qvr', enc('mem chunk'));
  await src.put('db/mem/_manifest/00000000000000000001.json', enc('{"mem":1}'));
  await src.put('other/x', enc('not copied'));
  return src;
}

/** Records the order of puts and the most puts in flight at once. */
class Recording extends MemoryChunkManager {
  puts: { key: string; ifAbsent: boolean }[] = [];
  inFlight = 0;
  inFlightMax = 0;
  override async put(key: string, bytes: Uint8Array, options: PutOptions = {}): Promise<void> {
    this.inFlight++;
    this.inFlightMax = Math.max(this.inFlightMax, this.inFlight);
    await new Promise((r) => setImmediate(r)); // let other copies start, so the bound is tested
    try {
      await super.put(key, bytes, options);
      this.puts.push({ key, ifAbsent: options.ifAbsent === true });
    } finally {
      this.inFlight--;
    }
  }
}

test('copyObjects: every key under the prefix, data first, manifests last as conditional creates, bounded concurrency', async () => {
  const src = await source();
  const dst = new Recording('copy-dst');
  const result = await copyObjects(src, dst, 'db/', { concurrency: 3, verify: true });
  assert.deepEqual(await dst.list(''), await src.list('db/'));
  for (const key of await src.list('db/')) assert.deepEqual(await dst.get(key), await src.get(key), key);
  assert.equal(await dst.exists('other/x'), false);
  assert.equal(result.copied, 34);
  assert.equal(result.manifests, 3);
  assert.equal(result.skipped, 0);
  assert.ok(dst.inFlightMax <= 3 && dst.inFlightMax >= 2, `in flight at most 3, saw ${dst.inFlightMax}`);
  const firstManifest = dst.puts.findIndex((p) => p.key.includes('/_manifest/'));
  assert.equal(firstManifest, 31, 'all 31 data objects land before the first manifest');
  assert.deepEqual(dst.puts.slice(31).map((p) => p.key), [
    'db/cpu/_manifest/00000000000000000001.json', 'db/cpu/_manifest/00000000000000000002.json', 'db/mem/_manifest/00000000000000000001.json',
  ]);
  assert.ok(dst.puts.slice(31).every((p) => p.ifAbsent) && dst.puts.slice(0, 31).every((p) => !p.ifAbsent));
});

test('copyObjects: a re-run resumes (same manifests skipped, existing chunks skipped by size); a different manifest at dst is a conflict', async () => {
  const src = await source();
  const dst = new MemoryChunkManager('copy-dst-2');
  await copyObjects(src, dst, 'db/cpu/');
  const counting = new CountingChunkManager(dst);
  const again = await copyObjects(src, counting, 'db/cpu/', { skipExisting: true });
  assert.deepEqual({ copied: again.copied, skipped: again.skipped }, { copied: 0, skipped: 32 });
  assert.equal(counting.stats().bytesWritten, 0);

  await src.put('db/cpu/_manifest/00000000000000000003.json', enc('{"version":3,"src":true}'));
  await dst.put('db/cpu/_manifest/00000000000000000003.json', enc('{"version":3,"someone":"else"}'));
  await assert.rejects(copyObjects(src, dst, 'db/cpu/'), AlreadyExistsError);
  assert.deepEqual(await dst.get('db/cpu/_manifest/00000000000000000003.json'), enc('{"version":3,"someone":"else"}'));
});

test('copyObjects: verify catches a destination that stores different bytes, naming store, key and CRCs', async () => {
  const src = await source();
  class Flipping extends MemoryChunkManager {
    override async put(key: string, bytes: Uint8Array, options?: PutOptions): Promise<void> {
      const copy = bytes.slice();
      if (key.endsWith('007.qvr')) copy[3] = copy[3]! ^ 0x20;
      return super.put(key, copy, options);
    }
  }
  const dst: ChunkManager = new Flipping('flip');
  await assert.rejects(copyObjects(src, dst, 'db/', { verify: true }), (e: unknown) => {
    assert.ok(e instanceof StoreError, String(e));
    assert.match(e.message, /db\/cpu\/chunks\/007\.qvr on memory:\/\/flip/);
    assert.match(e.message, /expected 64 bytes crc32 [0-9a-f]{8}, got 64 bytes crc32 [0-9a-f]{8}/);
    return true;
  });
  assert.deepEqual(await dst.list('db/cpu/_manifest/'), [], 'no manifest is copied when a chunk failed');
  // Without verify the same copy "succeeds": verification is what caught it.
  await copyObjects(src, new Flipping('flip-2'), 'db/');
});

test('copyObjects: concurrency outside 1..64 is a usage error', async () => {
  const src = await source();
  for (const c of [0, 65, 1.5]) await assert.rejects(copyObjects(src, new MemoryChunkManager('x'), 'db/', { concurrency: c }), UsageError);
});
