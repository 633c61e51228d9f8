import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { RetryingChunkManager } from '../../src/chunk-manager/retry.js';
import { CachingChunkManager } from '../../src/chunk-manager/cache.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import { LocalChunkManager } from '../../src/chunk-manager/local.js';
import { openStore } from '../../src/chunk-manager/url.js';
import { NotFoundError, StoreError, UsageError } from '../../src/errors.js';
import type { ChunkManager } from '../../src/chunk-manager/chunk-manager.js';

/** A store whose next `failures` gets fail with the given error. */
function flaky(inner: ChunkManager, failures: number, error: () => Error) {
  let left = failures;
  let calls = 0;
  const cm = Object.create(inner) as ChunkManager & { calls: () => number };
  cm.get = async (key: string) => {
    calls++;
    if (left-- > 0) throw error();
    return inner.get(key);
  };
  cm.calls = () => calls;
  return cm;
}

test('retry: retryable store errors are retried with growing, jittered, capped delays', async () => {
  const mem = new MemoryChunkManager();
  await mem.put('k', new Uint8Array([1]));
  const inner = flaky(mem, 4, () => new StoreError('mem', 'k', 'get', 'slow down', 503, true));
  const delays: number[] = [];
  const cm = new RetryingChunkManager(inner, { delayBaseMs: 100, delayMaxMs: 300, sleep: async (ms) => { delays.push(ms); }, random: () => 1 });
  assert.deepEqual(await cm.get('k'), new Uint8Array([1]));
  assert.equal(inner.calls(), 5);
  assert.deepEqual(delays, [100, 200, 300, 300]);
});

test('retry: gives up after attemptsMax, and non-retryable errors surface at once', async () => {
  const mem = new MemoryChunkManager();
  const always = flaky(mem, 100, () => new StoreError('mem', 'k', 'get', 'boom', 500, true));
  const cm = new RetryingChunkManager(always, { attemptsMax: 3, sleep: async () => {} });
  await assert.rejects(cm.get('k'), /boom/);
  assert.equal(always.calls(), 3);
  const denied = flaky(mem, 100, () => new StoreError('mem', 'k', 'get', 'access denied', 403, false));
  await assert.rejects(new RetryingChunkManager(denied, { sleep: async () => {} }).get('k'), /access denied/);
  assert.equal(denied.calls(), 1);
  await assert.rejects(new RetryingChunkManager(mem, { sleep: async () => {} }).get('missing'), NotFoundError);
});

test('cache: a second read is served from memory; put invalidates; the budget evicts', async () => {
  const counting = new CountingChunkManager(new MemoryChunkManager());
  const cm = new CachingChunkManager(counting, { bytesMax: 1000, entryBytesMax: 600 });
  await cm.put('a', new Uint8Array(400).fill(1));
  await cm.put('b', new Uint8Array(400).fill(2));
  await cm.get('a');
  await cm.get('a');
  assert.equal(counting.stats().requests.get, 1);
  await cm.getRange('b', 10, 20);
  await cm.getRange('b', 10, 20);
  assert.equal(counting.stats().requests.getRange, 1);
  await cm.put('a', new Uint8Array(400).fill(3));
  assert.deepEqual((await cm.get('a'))[0], 3);
  assert.equal(counting.stats().requests.get, 2);
  await cm.put('c', new Uint8Array(500).fill(4));
  await cm.get('c'); // 400 (a) + 20 (b range) + 500 (c) > 1000: the oldest entry goes
  assert.ok(cm.cachedBytes <= 1000);
  await cm.get('c');
  assert.equal(counting.stats().requests.get, 3);
});

test('counting: requests and bytes per operation and per key', async () => {
  const cm = new CountingChunkManager(new MemoryChunkManager());
  await cm.put('x', new Uint8Array(100));
  await cm.getRanges('x', [{ offset: 0, length: 10 }, { offset: 50, length: 5 }]);
  await cm.get('x');
  const s = cm.stats();
  assert.equal(s.requests.put, 1);
  assert.equal(s.requests.getRange, 2);
  assert.equal(s.requests.get, 1);
  assert.equal(s.bytesRead, 115);
  assert.equal(s.bytesWritten, 100);
  assert.equal(s.keysRead.get('x'), 115);
  cm.reset();
  assert.equal(cm.stats().bytesRead, 0);
});

test('openStore: paths, file:// and memory:// URLs; unknown schemes are usage errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-url-'));
  try {
    const local = await openStore(dir);
    assert.ok(local instanceof LocalChunkManager);
    await local.put('k', new Uint8Array([7]));
    const viaUrl = await openStore(`file://${dir}`);
    assert.deepEqual(await viaUrl.get('k'), new Uint8Array([7]));
    const m1 = await openStore('memory://shared-test');
    await m1.put('k', new Uint8Array([9]));
    const m2 = await openStore('memory://shared-test');
    assert.deepEqual(await m2.get('k'), new Uint8Array([9]));
    await assert.rejects(openStore('ftp://host/x'), UsageError);
    await assert.rejects(openStore(''), UsageError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('disk cache: chunk files are fetched once, served from disk after, survive a restart, and respect the budget', async () => {
  const { DiskCacheChunkManager } = await import('../../src/chunk-manager/disk-cache.js');
  const dir = mkdtempSync(join(tmpdir(), 'quiver-diskcache-'));
  try {
    const counting = new CountingChunkManager(new MemoryChunkManager());
    const data = (n: number, v: number) => new Uint8Array(n).fill(v);
    await counting.put('t/chunks/a.qvr', data(1000, 1));
    await counting.put('t/chunks/b.qvr', data(1000, 2));
    await counting.put('t/_manifest/1.json', data(10, 3));
    counting.reset();
    const cache = new DiskCacheChunkManager(counting, { dir, bytesMax: 1500 });
    assert.deepEqual(await cache.getRange('t/chunks/a.qvr', 10, 5), data(5, 1));
    assert.deepEqual(await cache.getRanges('t/chunks/a.qvr', [{ offset: 0, length: 3 }]), [data(3, 1)]);
    assert.equal(counting.stats().requests.get, 1, 'one whole-object download, then disk');
    assert.equal(counting.stats().requests.getRange, 0);
    await cache.get('t/_manifest/1.json');
    await cache.get('t/_manifest/1.json');
    assert.equal(counting.stats().requests.get, 3, 'manifests always go to the store');
    await cache.get('t/chunks/b.qvr'); // 2000 bytes > 1500: a.qvr is evicted
    assert.equal(cache.cachedBytes, 1000);
    const again = new DiskCacheChunkManager(counting, { dir, bytesMax: 1500 });
    counting.reset();
    assert.deepEqual(await again.get('t/chunks/b.qvr'), data(1000, 2));
    assert.equal(counting.stats().requests.get, 0, 'a restarted cache finds its files');
    await again.put('t/chunks/b.qvr', data(1000, 9));
    assert.deepEqual(await again.get('t/chunks/b.qvr'), data(1000, 9), 'a put through the cache invalidates it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('disk cache: a cached file removed from disk under it (the cache directory deleted, another process evicting) is fetched again', async () => {
  const { DiskCacheChunkManager } = await import('../../src/chunk-manager/disk-cache.js');
  const dir = mkdtempSync(join(tmpdir(), 'quiver-diskcache-'));
  try {
    const counting = new CountingChunkManager(new MemoryChunkManager());
    const data = new Uint8Array(1000).map((_, i) => i * 3);
    await counting.put('t/chunks/a.qvr', data);
    const cache = new DiskCacheChunkManager(counting, { dir });
    assert.deepEqual(await cache.getRange('t/chunks/a.qvr', 10, 5), data.subarray(10, 15));
    counting.reset();
    for (const read of [() => cache.get('t/chunks/a.qvr'), () => cache.getRange('t/chunks/a.qvr', 10, 5), async () => (await cache.getRanges('t/chunks/a.qvr', [{ offset: 10, length: 5 }]))[0]!]) {
      rmSync(dir, { recursive: true, force: true });
      const bytes = await read();
      assert.deepEqual(bytes, bytes.length === 5 ? data.subarray(10, 15) : data);
    }
    assert.equal(counting.stats().requests.get, 3, 'each read after a removal downloads the file again');
    assert.deepEqual(await cache.get('t/chunks/a.qvr'), data);
    assert.equal(counting.stats().requests.get, 3, 'and serves it from disk after');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
