import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import type { PutOptions } from '../../src/chunk-manager/chunk-manager.js';
import { ConflictError } from '../../src/errors.js';
import { copyTableTo } from '../../src/table/copy-table.js';
import { loadManifest, manifestKey, MANIFEST_DIR } from '../../src/table/manifest.js';

// Copies racing at the target (copy-table.ts): two copies of one table at once, or a table
// created there meanwhile, leave one whole table (the copy or the other) and a clear error
// on the other side, never a mix of both.

const T0 = Date.UTC(2026, 0, 1);

/** A memory store that runs `after` once a put of `key` has landed (the moment another writer acts). */
class InterleavedStore extends MemoryChunkManager {
  hook?: { key: string; after: () => Promise<void> };
  override async put(key: string, bytes: Uint8Array, options?: PutOptions): Promise<void> {
    await super.put(key, bytes, options);
    const hook = this.hook;
    if (hook && hook.key === key) { this.hook = undefined; await hook.after(); }
  }
}

/** A source table with three versions: created, 10 rows, 20 rows. */
async function source(): Promise<{ store: MemoryChunkManager; db: Quiver }> {
  const store = new MemoryChunkManager('src');
  const db = await Quiver.open(store);
  const t = await db.createTable('cpu', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  for (let k = 0; k < 2; k++) {
    await t.append(Array.from({ length: 10 }, (_, i) => ({ time: T0 + k * 10 + i, host: `h${i % 3}`, v: k * 10 + i })) as never);
    await t.flush();
  }
  return { store, db };
}

const values = async (db: Quiver) => Array.from((await (await db.table('cpu')).query({})).getChild('v')!.toArray() as Float64Array).sort((a, b) => a - b);
const versionsAt = async (store: MemoryChunkManager) => (await store.list(`cpu/${MANIFEST_DIR}/`)).map((k) => Number(/(\d{20})\.json$/.exec(k)![1]));

test('two copies of one table to one target at once: one copies, the other is told the table exists', async () => {
  const { store, db } = await source();
  const dst = new MemoryChunkManager('dst');
  const m = await loadManifest(store, 'cpu', 3);
  const outcomes = await Promise.allSettled([copyTableTo(m, store, dst, 4), copyTableTo(m, store, dst, 4)]);
  assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
  const failed = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
  assert.match(String(failed.reason), /table cpu already exists in memory:\/\/dst/);
  assert.deepEqual(await versionsAt(dst), [1, 3], 'the copy (version 3) and its claim of the name (version 1)');
  const copied = await Quiver.open(dst);
  assert.deepEqual(await values(copied), await values(db));
  assert.equal((await (await copied.table('cpu')).query({ version: 1 })).numRows, 0, 'version 1 is a creation record');
});

test('two copies of different versions at once: the one that claims the name first is the table, the other withdraws and fails', async () => {
  const { store } = await source();
  const dst = new MemoryChunkManager('dst');
  const [m2, m3] = [await loadManifest(store, 'cpu', 2), await loadManifest(store, 'cpu', 3)];
  const outcomes = await Promise.allSettled([copyTableTo(m2, store, dst, 4), copyTableTo(m3, store, dst, 4)]);
  assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected'], outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok')).join('; '));
  const won = outcomes[0]!.status === 'fulfilled' ? 2 : 3;
  const failed = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
  assert.ok(failed.reason instanceof ConflictError, String(failed.reason));
  assert.match(String(failed.reason), /created there by another writer during the copy.*withdrawn/);
  assert.deepEqual(await versionsAt(dst), [1, won], 'the winner\'s version and its claim; nothing of the other');
  assert.equal((await values(await Quiver.open(dst))).length, won === 2 ? 10 : 20);
});

test('a table created at the target while the copy lands: the target keeps that table, the copy is withdrawn with an error; a creator after the copy is refused', async () => {
  const { store, db } = await source();
  // The other writer's version 1: what createManifest puts once its check found no table.
  const scratch = new MemoryChunkManager('scratch');
  await (await Quiver.open(scratch)).createTable('cpu', { tags: ['dc'], fields: [{ name: 'w', type: 'int64' }] });
  const created = await scratch.get(manifestKey('cpu', 1));
  const dst = new InterleavedStore('dst');
  dst.hook = { key: manifestKey('cpu', 3), after: () => dst.put(manifestKey('cpu', 1), created, { ifAbsent: true }) };
  await assert.rejects(db.copyTable('cpu', await Quiver.open(dst)), (e: Error) => e instanceof ConflictError && /its version 1 came first/.test(e.message));
  assert.deepEqual(await versionsAt(dst), [1], 'the copy\'s version 3 was withdrawn');
  const other = await (await Quiver.open(dst)).table('cpu');
  assert.deepEqual(other.schema.fields.map((f) => f.name), ['w']);
  assert.equal((await other.query({})).numRows, 0);

  // The claim first: a creator then finds the table (and the copy stands).
  const dst2 = new InterleavedStore('dst2');
  const late = await Quiver.open(dst2);
  let refused: unknown;
  dst2.hook = { key: manifestKey('cpu', 1), after: async () => { await late.createTable('cpu', { tags: ['dc'], fields: [{ name: 'w', type: 'int64' }] }).catch((e: unknown) => { refused = e; }); } };
  await db.copyTable('cpu', late);
  assert.match(String(refused), /exists/);
  assert.deepEqual(await versionsAt(dst2), [1, 3]);
  assert.deepEqual(await values(await Quiver.open(dst2)), await values(db));
});
