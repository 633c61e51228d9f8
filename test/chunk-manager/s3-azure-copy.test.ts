import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { S3ChunkManager } from '../../src/chunk-manager/s3.js';
import { AzureChunkManager } from '../../src/chunk-manager/azure.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import { LocalChunkManager } from '../../src/chunk-manager/local.js';
import { copyObjects } from '../../src/chunk-manager/copy.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { s3Env } from './s3-env.js';

// copyObjects between real servers: local directory → Ceph RGW → Azurite → local again,
// byte for byte, with read-back verification, manifests last. Servers as for s3/azure tests.
const run = randomBytes(3).toString('hex');

test('copyObjects: local → S3 (RGW) → Azure (Azurite) → local keeps every byte, manifests last, requests counted', async () => {
  const env = s3Env();
  const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!cs) throw new Error('this test needs Azurite: run it through `npm test` or set AZURE_STORAGE_CONNECTION_STRING');
  const dir = mkdtempSync(join(tmpdir(), 'quiver-copy-'));
  try {
    const local = new LocalChunkManager(join(dir, 'a'));
    const seed = Number.parseInt(run, 16);
    console.log(`seed ${seed}`);
    const objects = new Map<string, Uint8Array>();
    for (let i = 0; i < 40; i++) {
      const size = (Math.imul(seed ^ i, 2654435761) >>> 0) % (300 * 1024);
      objects.set(`cpu/chunks/2026-01-01/${String(i).padStart(4, '0')}.qvr`, new Uint8Array(size).map((_, j) => (j * 13 + i) & 0xff));
    }
    objects.set('cpu/_manifest/00000000000000000001.json', new TextEncoder().encode('{"version":1}'));
    for (const [k, v] of objects) await local.put(k, v);

    const s3 = new CountingChunkManager(new S3ChunkManager({ ...env, bucket: `quiver-copy-${run}`, prefix: 'backup' }));
    const az = new CountingChunkManager(await AzureChunkManager.fromUrl(new URL(`az://quiver-copy-${run}/backup`)));
    const back = new LocalChunkManager(join(dir, 'b'));

    const r1 = await copyObjects(local, s3, 'cpu/', { verify: true, concurrency: 8 });
    assert.deepEqual({ copied: r1.copied, manifests: r1.manifests }, { copied: 41, manifests: 1 });
    // 41 puts and, with verify, 41 read-backs: one request each, nothing more.
    assert.equal(s3.stats().requests.put, 41);
    assert.equal(s3.stats().requests.get, 41);
    const r2 = await copyObjects(s3, az, 'cpu/', { verify: true });
    assert.equal(r2.bytes, r1.bytes);
    assert.equal(az.stats().requests.put, 41);
    await copyObjects(az, back, 'cpu/');

    assert.deepEqual(await back.list('cpu/'), [...objects.keys()].sort());
    for (const [k, v] of objects) assert.equal(Buffer.compare(Buffer.from(await back.get(k)), Buffer.from(v)), 0, k);

    // Run again: the manifest is already there with the same bytes (skipped), the chunks too.
    const again = await copyObjects(local, s3, 'cpu/', { skipExisting: true });
    assert.deepEqual({ copied: again.copied, skipped: again.skipped }, { copied: 0, skipped: 41 });

    await s3.delete(await s3.list(''));
    await az.delete(await az.list(''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
