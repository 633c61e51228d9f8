import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import type { ByteRange, ChunkManager, ListOptions, PutOptions } from '../../src/chunk-manager/chunk-manager.js';
import { LEASE_CLOCK_SKEW_MS, LEASE_TTL_MS, LeaseKeeper, LeaseLostError, leaseKey } from '../../src/table/lease.js';

// Writers in flight are visible to vacuum (leases), and a commit checks its chunks exist.
const T0 = Date.UTC(2026, 0, 1);
const rows = (n: number, host = 'a', from = 0) => Array.from({ length: n }, (_, i) => ({ time: T0 + from + i * 1000, host, v: i }));
/** Vacuum's clock once every lease written now has expired (its writer died). */
const afterExpiry = () => Date.now() + LEASE_TTL_MS + LEASE_CLOCK_SKEW_MS + 1;

async function setup(store: ChunkManager = new MemoryChunkManager()) {
  const db = await Quiver.open(store, { autoCompact: 0 });
  const t = await db.createTable('t', { tags: ['host'], rowsPerChunkMax: 100 });
  await t.append(rows(50, 'base'));
  await t.flush();
  // Another process: the vacuum.
  const other = await (await Quiver.open(store)).table('t');
  return { store, db, t, other };
}

test('an import open longer than the grace period: vacuum keeps its chunks, the commit lands, every row reads', async () => {
  const { store, t, other } = await setup();
  const writer = t.writer();
  await writer.append(rows(350));
  const pending = (await store.list('t/chunks/')).length - 1;
  assert.ok(pending >= 3, 'the writer has written chunks, none committed');
  // The grace period (shortened to 0) has passed for every chunk of the writer.
  const vacuumed = await other.vacuum({ olderThanMs: 0 });
  assert.deepEqual(vacuumed.deletedChunks, []);
  assert.equal(vacuumed.liveLeases, 1);
  const committed = await writer.commit();
  assert.equal(committed.rows, 350);
  await other.refresh();
  assert.equal((await other.query({})).numRows, 400);
  assert.ok((await other.verify()).every((c) => c.ok));
  assert.deepEqual(await store.list('t/_leases/'), [], 'the writer released its lease');
});

test('a commit whose chunk file is gone is refused; the table is unchanged', async () => {
  const { store, t, other } = await setup();
  const writer = t.writer();
  await writer.append(rows(250));
  const before = new Set((await other.chunks()).map((c) => c.key));
  const written = (await store.list('t/chunks/')).filter((k) => !before.has(k));
  await store.delete([written[1]!]);
  await assert.rejects(writer.commit(), /refused: 1 of its 3 chunk file\(s\) are not as written .*is missing.*nothing was committed/);
  await other.refresh();
  assert.equal(other.version, 2);
  assert.equal((await other.query({})).numRows, 50);
  assert.ok((await other.verify()).every((c) => c.ok));
  assert.deepEqual((await store.list('t/chunks/')).sort(), [...before].sort(), 'the refused writer deleted its chunks');
  // A truncated (replaced) chunk file is refused too.
  const w2 = t.writer();
  await w2.append(rows(150, 'b'));
  const mine = (await store.list('t/chunks/')).filter((k) => !before.has(k));
  await store.put(mine[0]!, (await store.get(mine[0]!)).subarray(0, 100));
  await assert.rejects(w2.commit(), /holds 100 bytes/);
});

test('a dead writer\'s lease expires: vacuum then collects its chunks and the lease; a commit after that is refused', async () => {
  const { store, t, other } = await setup();
  const writer = t.writer();
  await writer.append(rows(250));
  assert.equal((await store.list('t/_leases/')).length, 1);
  const vacuumed = await other.vacuum({ olderThanMs: 0, now: afterExpiry() });
  assert.equal(vacuumed.deletedChunks.length, 2, 'the two chunks the writer spilled');
  assert.equal(vacuumed.expiredLeases.length, 1);
  assert.deepEqual(await store.list('t/_leases/'), []);
  await assert.rejects(writer.commit(), /nothing was committed/);
  await other.refresh();
  assert.equal((await other.query({})).numRows, 50);
});

test('a writer refuses to commit once its own lease lapsed (paused longer than the lease lifetime)', async () => {
  const store = new MemoryChunkManager();
  let now = Date.now();
  const keeper = new LeaseKeeper(store, 't', 30_000, () => now);
  const hold = keeper.begin();
  await keeper.ensure();
  const [key] = await store.list('t/_leases/');
  const first = JSON.parse(new TextDecoder().decode(await store.get(key!)));
  now += 11_000; // more than ttl/3: check() renews
  await keeper.check();
  const renewed = JSON.parse(new TextDecoder().decode(await store.get(key!)));
  assert.equal(renewed.renewedAt, first.renewedAt + 11_000);
  assert.equal(renewed.since, first.since, 'since is when the operation began');
  now += 30_001; // a pause longer than the ttl
  await assert.rejects(keeper.check(), LeaseLostError);
  await hold.end({ release: true });
  assert.deepEqual(await store.list('t/_leases/'), []);
  assert.equal(key, leaseKey('t', first.id));
});

/** The memory store, but the first listing of t/_manifest/ after a chunk put waits for `release` (a writer between its chunks and its commit). */
class PausingStore implements ChunkManager {
  private armed?: { reached: () => void; release: Promise<void>; chunkPut: boolean };
  constructor(readonly inner: MemoryChunkManager) {}
  get url() { return this.inner.url; }
  /** Resolves when a writer has put a chunk and is about to commit; it goes on when `release` resolves. */
  pauseBeforeCommit(release: Promise<void>): Promise<void> {
    return new Promise((reached) => { this.armed = { reached, release, chunkPut: false }; });
  }
  get(key: string) { return this.inner.get(key); }
  getRange(key: string, offset: number, length: number) { return this.inner.getRange(key, offset, length); }
  getRanges(key: string, ranges: readonly ByteRange[]) { return this.inner.getRanges(key, ranges); }
  size(key: string) { return this.inner.size(key); }
  exists(key: string) { return this.inner.exists(key); }
  async put(key: string, bytes: Uint8Array, options?: PutOptions) {
    await this.inner.put(key, bytes, options);
    if (this.armed && key.endsWith('.qvr')) this.armed.chunkPut = true;
  }
  async list(prefix: string, options?: ListOptions) {
    const armed = this.armed;
    if (armed?.chunkPut && prefix.endsWith('/_manifest/')) {
      this.armed = undefined;
      armed.reached();
      await armed.release;
    }
    return this.inner.list(prefix, options);
  }
  delete(keys: readonly string[]) { return this.inner.delete(keys); }
  close() { return this.inner.close(); }
}

for (const op of ['flush', 'compact'] as const) {
  test(`a ${op} between its chunk puts and its commit holds a lease that vacuum respects`, async () => {
    const inner = new MemoryChunkManager();
    const paused = new PausingStore(inner);
    const { t, other } = await setup(paused);
    if (op === 'compact') for (let i = 1; i <= 3; i++) { await t.append(rows(10, `c${i}`)); await t.flush(); }
    if (op === 'compact') { await t.append(rows(20, 'late')); await t.flush(); }
    await t.leases.close(); // only the operation under test holds a lease
    let release!: () => void;
    const reached = paused.pauseBeforeCommit(new Promise<void>((r) => { release = r; }));
    if (op === 'flush') await t.append(rows(20, 'late'));
    const running = op === 'flush' ? t.flush() : t.compact();
    await reached;
    const vacuumed = await other.vacuum({ olderThanMs: 0 });
    assert.equal(vacuumed.liveLeases, 1);
    release();
    await running;
    await other.refresh();
    assert.equal((await other.query({})).numRows, op === 'flush' ? 70 : 100);
    assert.ok((await other.verify()).every((c) => c.ok));
  });
}

test('Quiver.close() deletes the leases of its tables', async () => {
  const { store, db } = await setup();
  assert.equal((await store.list('t/_leases/')).length, 1, 'a flush leaves its lease for the next refresh');
  await db.close();
  assert.deepEqual(await store.list('t/_leases/'), []);
});
