import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, existsSync, mkdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalChunkManager, MAPS_OPEN_MAX } from '../../src/chunk-manager/local.js';
import { nativeAddon, readWholeFile } from '../../src/native/addon.js';
import { NotFoundError, UsageError } from '../../src/errors.js';
import { chunkManagerContract } from './contract.js';

const temp = () => mkdtempSync(join(tmpdir(), 'quiver-local-'));

chunkManagerContract('local (mmap)', async () => {
  const dir = temp();
  const cm = new LocalChunkManager(dir);
  assert.equal(cm.usesMmap, true, 'the native addon should load after npm install');
  return { cm, cleanup: async () => { await cm.close(); rmSync(dir, { recursive: true, force: true }); } };
});

chunkManagerContract('local (pure-JS reads)', async () => {
  const dir = temp();
  const cm = new LocalChunkManager(dir, { native: false });
  assert.equal(cm.usesMmap, false);
  return { cm, cleanup: async () => { await cm.close(); rmSync(dir, { recursive: true, force: true }); } };
});

test('native mapFile + copyRange and the JS twin return the same bytes and the same error code', () => {
  const addon = nativeAddon();
  assert.ok(addon, 'native addon loads');
  const dir = temp();
  try {
    for (const size of [0, 1, 4095, 4096, 4097, 1 << 20]) {
      const path = join(dir, `f${size}`);
      const data = Buffer.alloc(size, 0).map((_, i) => (i * 13) & 0xff);
      writeFileSync(path, data);
      const whole = (p: string): Uint8Array => { const mapped = addon.mapFile(p); return addon.copyRange(mapped.map, 0, mapped.size); };
      assert.deepEqual(Buffer.from(whole(path)), Buffer.from(readWholeFile(path)));
      assert.deepEqual(Buffer.from(whole(path)), data);
    }
    const codeOf = (fn: () => unknown) => { try { fn(); return 'none'; } catch (e) { return (e as NodeJS.ErrnoException).code; } };
    assert.equal(codeOf(() => addon.mapFile(join(dir, 'missing'))), 'ENOENT');
    assert.equal(codeOf(() => readWholeFile(join(dir, 'missing'))), 'ENOENT');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a temp file left by a crashed put is invisible and collected by gcTemp', async () => {
  const dir = temp();
  try {
    const cm = new LocalChunkManager(dir);
    await cm.put('t/chunks/a.qvr', new Uint8Array([1, 2, 3]));
    const leftover = join(dir, 't', 'chunks', '.tmp-deadbeef');
    writeFileSync(leftover, 'half a chunk');
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(leftover, old, old);
    assert.deepEqual(await cm.list('t/'), ['t/chunks/a.qvr']);
    await assert.rejects(cm.get('t/chunks/.tmp-deadbeef'), UsageError);
    assert.equal(await cm.gcTemp(60_000), 1);
    assert.equal(existsSync(leftover), false);
    assert.deepEqual(readdirSync(join(dir, 't', 'chunks')), ['a.qvr']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('puts leave no temp files behind, and delete prunes emptied directories', async () => {
  const dir = temp();
  try {
    const cm = new LocalChunkManager(dir);
    await cm.put('x/y/z', new Uint8Array(10));
    await assert.rejects(cm.put('x/y/z', new Uint8Array(1), { ifAbsent: true }));
    assert.deepEqual(readdirSync(join(dir, 'x', 'y')), ['z']);
    await cm.delete(['x/y/z']);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keys cannot escape the root, even through a symlinked-looking name', async () => {
  const dir = temp();
  try {
    mkdirSync(join(dir, 'store'));
    const cm = new LocalChunkManager(join(dir, 'store'));
    for (const key of ['../outside', 'a/../../outside', '/etc/passwd']) {
      await assert.rejects(cm.put(key, new Uint8Array(1)), UsageError);
    }
    assert.deepEqual(readdirSync(dir), ['store']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mmap reads keep a map per file open (up to MAPS_OPEN_MAX) and drop the least recently used beyond it', async () => {
  const dir = temp();
  try {
    const cm = new LocalChunkManager(dir);
    // 150 files, as a scale-10 table has chunks: every one stays mapped for the next query.
    const files = 150;
    for (let i = 0; i < files; i++) writeFileSync(join(dir, `f${i}`), Buffer.alloc(100 + i, i));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < files; i++) assert.deepEqual(Buffer.from(await cm.getRange(`f${i}`, 1, 3)), Buffer.alloc(3, i));
    }
    let bytes = 0;
    for (let i = 0; i < files; i++) bytes += 100 + i;
    assert.deepEqual(cm.mapsOpen, { count: files, bytes });
    assert.ok(MAPS_OPEN_MAX >= files);
    // Past the limit the oldest maps go; reads still answer.
    for (let i = files; i < MAPS_OPEN_MAX + 10; i++) {
      writeFileSync(join(dir, `f${i}`), Buffer.alloc(8, i & 0xff));
      assert.equal((await cm.getRange(`f${i}`, 7, 1))[0], i & 0xff);
    }
    assert.equal(cm.mapsOpen.count, MAPS_OPEN_MAX);
    assert.equal((await cm.getRange('f0', 0, 1))[0], 0);
    assert.equal(cm.mapsOpen.count, MAPS_OPEN_MAX);
    // A put or delete forgets the key's map (and its bytes).
    await cm.delete(['f0']);
    assert.equal(cm.mapsOpen.count, MAPS_OPEN_MAX - 1);
    await cm.close();
    assert.deepEqual(cm.mapsOpen, { count: 0, bytes: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a key replaced or deleted by another process is read as it is now, not from a kept map', async () => {
  const dir = temp();
  try {
    // Two stores on one directory: two processes (a server and a CLI writer), each with its maps.
    const writer = new LocalChunkManager(dir);
    const reader = new LocalChunkManager(dir);
    assert.equal(reader.usesMmap, true);
    await writer.put('t/_leases/w1.json', Buffer.from('{"refreshed":1}'));
    assert.equal(Buffer.from(await reader.get('t/_leases/w1.json')).toString(), '{"refreshed":1}');
    // A lease refreshed (a put renames a new file over the key): the same size, new bytes.
    await writer.put('t/_leases/w1.json', Buffer.from('{"refreshed":2}'));
    assert.equal(Buffer.from(await reader.get('t/_leases/w1.json')).toString(), '{"refreshed":2}');
    assert.equal(Buffer.from(await reader.getRange('t/_leases/w1.json', 13, 1)).toString(), '2');
    // Deleted elsewhere: not found here either.
    await writer.delete(['t/_leases/w1.json']);
    await assert.rejects(reader.get('t/_leases/w1.json'), NotFoundError);
    await writer.close();
    await reader.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gcTemp beside puts in flight: a temp file renamed away while it walks is no error, and none is removed within the grace', async () => {
  const dir = temp();
  try {
    const cm = new LocalChunkManager(dir);
    const data = Buffer.alloc(256 * 1024, 7);
    let done = false;
    const puts = (async () => {
      try {
        for (let i = 0; i < 400; i += 8) await Promise.all(Array.from({ length: 8 }, (_, j) => cm.put(`t/chunks/c${i + j}.qvr`, data)));
      } finally {
        done = true;
      }
    })();
    let walks = 0;
    let failed: unknown;
    const removed: number[] = [];
    // Walks until the puts end (a failed walk stops walking; the puts are awaited either way).
    while (!done && failed === undefined) {
      await cm.gcTemp(3_600_000).then((n) => { removed.push(n); walks++; }, (error: unknown) => { failed = error; });
    }
    await puts;
    assert.equal(failed, undefined);
    assert.deepEqual(removed.filter((n) => n !== 0), []);
    assert.ok(walks > 0);
    assert.equal((await cm.list('t/chunks/')).length, 400);
    await cm.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
