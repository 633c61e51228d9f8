import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { CachingChunkManager } from '../../src/chunk-manager/cache.js';
import { openStore, registerStore } from '../../src/chunk-manager/url.js';
import { Quiver } from '../../src/quiver.js';
import { UsageError } from '../../src/errors.js';
import { chunkManagerContract } from './contract.js';

/**
 * A toy store (what docs/extending.md, "Add a store", describes): objects in process memory
 * under a `toy://name` URL. The one registration line below is all openStore needs.
 */
class ToyChunkManager extends MemoryChunkManager {
  static opened: ToyChunkManager[] = [];
  override readonly url: string;
  constructor(url: URL) {
    super(url.host);
    this.url = `toy://${url.host}`;
    ToyChunkManager.opened.push(this);
  }
}

registerStore('toy', { remote: true, open: (url) => new ToyChunkManager(new URL(url)) });

chunkManagerContract('toy store opened by URL', async () => ({ cm: await openStore('toy://contract'), cleanup: async () => {} }));

test('a registered store opens by URL, wrapped like a remote store, and holds a table', async () => {
  const store = await openStore('TOY://wrapped');
  assert.ok(store instanceof CachingChunkManager, 'a remote provider gets the retry and cache wrappers');
  const db = await Quiver.open('toy://tables');
  const backend = ToyChunkManager.opened.at(-1)!;
  assert.equal(backend.url, 'toy://tables');
  const table = await db.createTable('cpu', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  await table.append([{ time: 1n, host: 'a', v: 1.5 }, { time: 2n, host: 'b', v: -0 }]);
  await table.flush();
  const keys = await backend.list('cpu/');
  assert.ok(keys.some((k) => k.startsWith('cpu/chunks/')) && keys.some((k) => k.includes('_manifest')), keys.join(', '));
  const rows = (await table.query()).toArray().map((r) => [r.host, r.v]);
  assert.deepEqual(rows, [['a', 1.5], ['b', -0]]);
  await db.close();
});

test('registerStore refuses a scheme taken or malformed; unknown schemes name the registered ones', async () => {
  assert.throws(() => registerStore('toy', { remote: false, open: () => new MemoryChunkManager() }), UsageError);
  assert.throws(() => registerStore('s3', { remote: false, open: () => new MemoryChunkManager() }), UsageError);
  assert.throws(() => registerStore('no scheme', { remote: false, open: () => new MemoryChunkManager() }), UsageError);
  await assert.rejects(openStore('nope://x'), (e: unknown) => e instanceof UsageError && /toy:\/\//.test(e.message) && /az:\/\//.test(e.message));
});
