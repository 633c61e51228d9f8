import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Table as ArrowTable } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { importFiles } from '../../src/io/import.js';
import { openStore } from '../../src/chunk-manager/url.js';
import { AzureChunkManager } from '../../src/chunk-manager/azure.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import { RetryingChunkManager } from '../../src/chunk-manager/retry.js';
import type { ChunkManager } from '../../src/chunk-manager/chunk-manager.js';
import { ConflictError, QuiverError } from '../../src/errors.js';
import { azUrl, run, s3Url } from './urls.js';

// Tables end to end on real object stores: Ceph RGW (S3) and Azurite (Azure), started by
// `npm test` or named by S3_ENDPOINT… / AZURE_STORAGE_CONNECTION_STRING.
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const SAMPLE = join(ROOT, 'examples', 'cpu.csv');

/** Rows of a scan as sorted CSV-ish lines, for comparing two stores. */
function rowsOf(table: ArrowTable): string[] {
  const out: string[] = [];
  const cols = table.schema.fields.map((f) => table.getChild(f.name)!);
  for (let i = 0; i < table.numRows; i++) out.push(cols.map((c) => String(c.get(i))).join(','));
  return out.sort();
}

for (const [name, url] of [['s3', () => s3Url('e2e')], ['azure', () => azUrl('e2e')]] as const) {
  test(`${name}: import → scan → verify → copy round trip equals the local store`, async () => {
    const localDir = mkdtempSync(join(tmpdir(), 'quiver-remote-'));
    try {
      const local = await Quiver.open(localDir);
      const remote = await Quiver.open(url());
      const opts = { table: 'cpu', tags: ['hostname', 'region', 'service'] };
      const a = await importFiles(local, [SAMPLE], opts);
      const b = await importFiles(remote, [SAMPLE], opts);
      assert.equal(b.rows, a.rows);
      const scan = { from: '2026-01-01T01:00:00Z', to: '2026-01-01T02:30:00Z', where: { hostname: ['host_1', 'host_3'] }, columns: ['usage_user', 'usage_idle'] };
      const expected = rowsOf(await (await local.table('cpu')).query(scan));
      assert.ok(expected.length > 0);
      assert.deepEqual(rowsOf(await (await remote.table('cpu')).query(scan)), expected);
      const verify = await (await remote.table('cpu')).verify();
      assert.ok(verify.length > 0 && verify.every((v) => v.ok), JSON.stringify(verify));
      // Backup to a second prefix of the same store and read it back.
      const backup = await Quiver.open(name === 's3' ? s3Url('backup') : azUrl('backup'));
      const copied = await remote.copyTable('cpu', backup);
      assert.equal(copied.chunks, verify.length);
      assert.deepEqual(rowsOf(await (await backup.table('cpu')).query(scan)), expected);
      await Promise.all([local.close(), remote.close(), backup.close()]);
    } finally {
      rmSync(localDir, { recursive: true, force: true });
    }
  });
}

test('s3: 8 concurrent writers appending to one table lose nothing', async () => {
  const url = s3Url('concurrent');
  const creator = await Quiver.open(url);
  await creator.createTable('points', { tags: ['writer'], fields: [{ name: 'value', type: 'float64' }] });
  const rowsEach = 500;
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    const db = await Quiver.open(url, { autoCompact: 0 }); // exactly one version per flush
    const table = await db.table('points');
    for (let flush = 0; flush < 2; flush++) {
      const rows = Array.from({ length: rowsEach / 2 }, (_, i) => ({
        time: Date.UTC(2026, 0, 1) + (flush * rowsEach / 2 + i) * 1000, writer: `w${w}`, value: w * 1e6 + flush * 1e3 + i,
      }));
      await table.append(rows);
      await table.flush();
    }
    await db.close();
  }));
  const table = await (await Quiver.open(url)).table('points');
  const all = await table.query({ columns: ['writer', 'value'] });
  assert.equal(all.numRows, 8 * rowsEach);
  const perWriter = new Map<string, number>();
  const writers = all.getChild('writer')!;
  for (let i = 0; i < all.numRows; i++) perWriter.set(writers.get(i), (perWriter.get(writers.get(i)) ?? 0) + 1);
  assert.deepEqual([...perWriter.values()], Array(8).fill(rowsEach));
  const d = await table.describe();
  assert.equal(d.version, 1 + 16, 'one create plus one version per flush, none lost or doubled');
  await creator.close();
});

test('s3: a scan of one column of one day reads only that chunk\'s footer and columns', async () => {
  const counting = new CountingChunkManager(await openStore(s3Url('io-count')));
  const db = await Quiver.open(counting);
  const table = await db.createTable('cpu', { tags: ['host'], fields: [{ name: 'a', type: 'float64' }, { name: 'b', type: 'float64' }, { name: 'c', type: 'float64' }] });
  const day = 86_400_000;
  const rows = [];
  // Random doubles (incompressible) so each column is far larger than the 64 KiB footer read.
  let seed = 7;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let d = 0; d < 2; d++) for (let i = 0; i < 40_000; i++) rows.push({ time: Date.UTC(2026, 0, 1) + d * day + i * 2_000, host: `h${i % 4}`, a: rnd(), b: rnd(), c: rnd() });
  await table.append(rows);
  await table.flush();
  const chunks = await table.chunks();
  assert.equal(chunks.length, 2, 'one chunk per UTC day');
  const first = chunks.find((c) => c.partition.startsWith('2026-01-01'))!;
  counting.reset();
  const got = await table.query({ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', columns: ['a'] });
  assert.equal(got.numRows, 40_000);
  const stats = counting.stats();
  assert.deepEqual([...stats.keysRead.keys()].filter((k) => k.endsWith('.qvr')), [first.key], 'only the first day\'s chunk is opened');
  const budget = 64 * 1024 + first.columns.time!.bytes + first.columns.a!.bytes;
  assert.ok(stats.bytesRead <= budget + 4096, `read ${stats.bytesRead} bytes, expected at most footer + time + a = ${budget}`);
  assert.ok(stats.bytesRead < first.bytes, 'less than the whole chunk');
  await db.close();
});

/**
 * A TCP proxy on 127.0.0.1 in front of a real server: stopping it is, for the client, the
 * server going away mid-operation (connections reset, new ones refused), while the server
 * itself keeps its state for checking afterwards.
 */
async function startProxy(targetPort: number): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client); sockets.add(upstream);
    client.pipe(upstream); upstream.pipe(client);
    const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', drop); upstream.on('error', drop); client.on('close', drop); upstream.on('close', drop);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    async stop() {
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

test('azure: a server stopped in the middle of an import leaves the table as it was', async () => {
  const direct = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!direct) throw new Error('remote tests need AZURE_STORAGE_CONNECTION_STRING (run through `npm test`, which starts Azurite)');
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(direct)![1]);
  const proxy = await startProxy(port);
  const dir = mkdtempSync(join(tmpdir(), 'quiver-stop-'));
  const url = new URL(`az://quiver-e2e-${run}/stopped`);
  try {
    const viaProxy = { AZURE_STORAGE_CONNECTION_STRING: direct.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${proxy.port}`) };
    const store = new RetryingChunkManager(await AzureChunkManager.fromUrl(url, viaProxy), { attemptsMax: 3, delayBaseMs: 5 });
    const db = await Quiver.open(store);
    await importFiles(db, [SAMPLE], { table: 'cpu' });
    const before = await (await db.table('cpu')).describe();
    // Stop the "server" right after the import's first chunk lands, before its commit.
    let puts = 0;
    const stopping: ChunkManager = Object.create(store);
    stopping.put = async (key, bytes, options) => {
      await store.put(key, bytes, options);
      if (key.endsWith('.qvr') && ++puts === 1) await proxy.stop();
    };
    const big = join(dir, 'more.csv');
    const lines = ['time,hostname,region,service,usage_user,usage_system,usage_idle'];
    for (let i = 0; i < 30_000; i++) lines.push(`${new Date(Date.UTC(2026, 1, 1) + i * 1000).toISOString()},host_${i % 7},eu,web,${i % 100},1,2`);
    writeFileSync(big, lines.join('\n'));
    await assert.rejects(importFiles(await Quiver.open(stopping), [big], { table: 'cpu', append: true }), (e: unknown) => {
      assert.ok(e instanceof QuiverError, String(e));
      assert.match((e as Error).message, /az:\/\/quiver-e2e-[0-9a-f]+\/stopped/);
      return true;
    });
    const check = await Quiver.open(await AzureChunkManager.fromUrl(url, { AZURE_STORAGE_CONNECTION_STRING: direct }));
    const after = await (await check.table('cpu')).describe();
    assert.equal(after.version, before.version);
    assert.equal(after.rows, before.rows);
  } finally {
    await proxy.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const [name, url] of [['s3', (p: string) => s3Url(p)], ['azure', (p: string) => azUrl(p)]] as const) {
  test(`${name}: a writer open past the grace period keeps its chunks from vacuum; a commit whose chunk is gone is refused`, async () => {
    const db = await Quiver.open(url('lease'), { autoCompact: 0 });
    const t = await db.createTable('t', { tags: ['host'], rowsPerChunkMax: 100 });
    const rows = (n: number, host: string) => Array.from({ length: n }, (_, i) => ({ time: Date.UTC(2026, 0, 1) + i * 1000, host, v: i }));
    const writer = t.writer();
    await writer.append(rows(250, 'a'));
    // Another process vacuums with the grace period shortened to nothing.
    const vacuum = await (await Quiver.open(url('lease'))).table('t');
    const result = await vacuum.vacuum({ olderThanMs: 0 });
    assert.deepEqual(result.deletedChunks, []);
    assert.equal(result.liveLeases, 1);
    assert.equal((await writer.commit()).rows, 250);
    await vacuum.refresh();
    assert.equal((await vacuum.query({})).numRows, 250);
    assert.ok((await vacuum.verify()).every((c) => c.ok));
    // The commit's existence check (one size() per chunk) on this store.
    const w2 = t.writer();
    await w2.append(rows(150, 'b'));
    const committed = new Set((await t.chunks()).map((c) => c.key));
    const mine = (await db.store.list('t/chunks/')).filter((k) => !committed.has(k));
    assert.equal(mine.length, 1);
    await db.store.delete(mine);
    await assert.rejects(w2.commit(), /chunk file\(s\) are not as written.*is missing/);
    await vacuum.refresh();
    assert.equal((await vacuum.query({})).numRows, 250);
    await db.close();
  });

  test(`${name}: two imports racing to create one table: with --append both land; without, one wins and the other fails clearly`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-race-'));
    try {
      const files = [0, 1].map((k) => {
        const file = join(dir, `in${k}.csv`);
        const lines = ['time,host,v'];
        for (let i = 0; i < 20_000; i++) lines.push(`${new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString()},w${k}_${i % 5},${i}`);
        writeFileSync(file, lines.join('\n') + '\n');
        return file;
      });
      for (const append of [true, false]) {
        const table = append ? 'appended' : 'exclusive';
        const outcomes = await Promise.allSettled(files.map(async (f) => importFiles(await Quiver.open(url('race')), [f], { table, append, memoryBytes: 4 << 20 })));
        const check = await (await Quiver.open(url('race'))).table(table);
        const rows = (await check.query({})).numRows;
        if (append) {
          assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled'], JSON.stringify(outcomes));
          assert.equal(rows, 40_000);
          assert.deepEqual(outcomes.map((o) => (o as PromiseFulfilledResult<{ version: number }>).value.version).sort(), [1, 2]);
        } else {
          const won = outcomes.filter((o) => o.status === 'fulfilled');
          const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
          assert.equal(won.length, 1, JSON.stringify(outcomes));
          // Both checked for the table before either committed (the loser's commit found it created)…
          // or, should one have finished before the other began, the usual "exists" refusal.
          const reason = lost[0]!.reason as Error;
          assert.ok(reason instanceof ConflictError ? /created .* by another writer .* nothing of this write was committed/.test(reason.message) : /exists; use --append/.test(reason.message), String(reason));
          assert.equal(rows, 20_000);
          assert.equal(check.version, 1);
          assert.deepEqual((await check.store.list(`${table}/chunks/`)).sort(), (await check.chunks()).map((c) => c.key).sort(), 'the loser deleted its chunks');
        }
        assert.ok((await check.verify()).every((c) => c.ok));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
