import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AzureChunkManager } from '../../src/chunk-manager/azure.js';
import { openStore } from '../../src/chunk-manager/url.js';
import { StoreError } from '../../src/errors.js';
import { chunkManagerContract } from './contract.js';

// A real Azure-compatible server: started by `npm test` (Azurite on 127.0.0.1) or named by
// AZURE_STORAGE_CONNECTION_STRING. No server, no pass.
function connectionString(): string {
  const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!cs) throw new Error('Azure tests need a server: run them through `npm test` (starts Azurite) or set AZURE_STORAGE_CONNECTION_STRING');
  return cs;
}

const container = `quiver-test-${randomBytes(3).toString('hex')}`;

chunkManagerContract('azure', async () => {
  connectionString();
  const cm = await AzureChunkManager.fromUrl(new URL(`az://${container}/contract`));
  return { cm, cleanup: async () => cm.close() };
});

test('azure: prefixes keep stores apart in one container', async () => {
  connectionString();
  const a = await openStore(`az://${container}/a`);
  const b = await openStore(`az://${container}/b`);
  await a.put('t/x', new Uint8Array([5]));
  assert.deepEqual(await a.list('t/'), ['t/x']);
  assert.deepEqual(await b.list('t/'), []);
  assert.deepEqual(await a.get('t/x'), new Uint8Array([5]));
});

test('azure: a server that is not there is a retryable StoreError naming store and key', async () => {
  const env = { AZURE_STORAGE_CONNECTION_STRING: connectionString().replace(/127\.0\.0\.1:\d+/, '127.0.0.1:9') };
  const cm = await AzureChunkManager.fromUrl(new URL('az://nowhere/p'), env);
  await assert.rejects(cm.get('some/key'), (e: unknown) => {
    assert.ok(e instanceof StoreError, String(e));
    assert.equal(e.retryable, true);
    assert.match(e.message, /some\/key/);
    assert.match(e.message, /az:\/\/nowhere/);
    return true;
  });
});
