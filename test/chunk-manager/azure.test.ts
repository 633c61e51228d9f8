import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AzureChunkManager } from '../../src/chunk-manager/azure.js';
import { openStore } from '../../src/chunk-manager/url.js';
import { RetryingChunkManager } from '../../src/chunk-manager/retry.js';
import { AlreadyExistsError, StoreError } from '../../src/errors.js';
import { chunkManagerContract } from './contract.js';

// A real Azure-compatible server: started by `npm test` (Azurite on 127.0.0.1) or named by
// AZURE_STORAGE_CONNECTION_STRING. No server, no pass.
function connectionString(): string {
  const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!cs) throw new Error('Azure tests need a server: run them through `npm test` (starts Azurite) or set AZURE_STORAGE_CONNECTION_STRING');
  return cs;
}

const container = `quiver-test-${randomBytes(3).toString('hex')}`;

// Through the retry layer every Quiver store has (openStore wraps it so): Azurite resets
// connections now and then on a loaded machine (ECONNRESET, a retryable StoreError, which the
// raw manager's own test below checks), and the contract is about what a store does, not
// whether one TCP connection survived.
chunkManagerContract('azure', async () => {
  connectionString();
  const cm = new RetryingChunkManager(await AzureChunkManager.fromUrl(new URL(`az://${container}/contract`)));
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

test('azure: HTTP statuses map to StoreError with the status: 5xx and 429 retryable, 4xx not; 409 on a conditional create is AlreadyExistsError', async () => {
  const { createServer } = await import('node:http');
  const statuses: Record<string, number> = { 'bad-gateway': 502, unavailable: 503, throttled: 429, internal: 500, forbidden: 403, 'bad-request': 400, exists: 409, precondition: 412 };
  const server = createServer((req, res) => {
    const name = req.url!.split('?')[0]!.split('/').pop()!;
    // exists/precondition answer only the conditional PUT; reading them back finds nothing.
    const status = req.method !== 'PUT' && (name === 'exists' || name === 'precondition') ? 404 : statuses[name] ?? 404;
    const code = status === 409 ? 'BlobAlreadyExists' : status === 412 ? 'ConditionNotMet' : `Status${status}`;
    const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>test says ${status}</Message></Error>`;
    res.writeHead(status, { 'content-type': 'application/xml', 'x-ms-error-code': code, 'content-length': Buffer.byteLength(body) }).end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  try {
    const env = { AZURE_STORAGE_CONNECTION_STRING: connectionString().replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`) };
    const cm = await AzureChunkManager.fromUrl(new URL('az://fake/p'), env);
    (cm as unknown as { containerReady: Promise<void> }).containerReady = Promise.resolve();
    for (const [key, status, retryable] of [['bad-gateway', 502, true], ['unavailable', 503, true], ['throttled', 429, true], ['internal', 500, true], ['forbidden', 403, false], ['bad-request', 400, false]] as const) {
      await assert.rejects(cm.get(key), (e: unknown) => {
        assert.ok(e instanceof StoreError, `${key}: ${String(e)}`);
        assert.equal(e.status, status, `${key}: ${e.message}`);
        assert.equal(e.retryable, retryable, `${key}: ${e.message}`);
        assert.match(e.message, new RegExp(`get ${key} on az://fake/p failed \\(status ${status}\\)`));
        return true;
      });
    }
    for (const key of ['exists', 'precondition']) await assert.rejects(cm.put(key, new Uint8Array(1), { ifAbsent: true }), AlreadyExistsError);
    await assert.rejects(cm.put('exists', new Uint8Array(1)), (e: unknown) => e instanceof StoreError && e.status === 409 && !e.retryable);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('azure: deletes go 256 keys per batch request; a credential that cannot batch (403) falls back to one request per key', async () => {
  connectionString();
  const cm = await AzureChunkManager.fromUrl(new URL(`az://${container}/batch`));
  const keys = Array.from({ length: 300 }, (_, i) => `d/${i % 3}/k${i}`);
  for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => cm.put(k, new Uint8Array([i & 0xff]))));
  const containerClient = (cm as unknown as { container: { getBlobBatchClient(): { deleteBlobs(c: unknown[]): Promise<unknown> } } }).container;
  const original = containerClient.getBlobBatchClient.bind(containerClient);
  const batchSizes: number[] = [];
  containerClient.getBlobBatchClient = () => {
    const client = original();
    const deleteBlobs = client.deleteBlobs.bind(client);
    client.deleteBlobs = (clients: unknown[]) => { batchSizes.push(clients.length); return deleteBlobs(clients); };
    return client;
  };
  await cm.delete([...keys.slice(0, 290), 'd/never-there']);
  assert.deepEqual(batchSizes.sort((a, b) => b - a), [256, 35]);
  assert.deepEqual(await cm.list('d/'), keys.slice(290).sort());

  // A service SAS cannot batch: the service answers 403; the store falls back and remembers.
  containerClient.getBlobBatchClient = () => ({
    deleteBlobs: async () => { throw Object.assign(new Error('This request is not authorized to perform this operation.'), { statusCode: 403, code: 'AuthorizationFailure' }); },
  });
  await cm.delete(keys.slice(290));
  assert.deepEqual(await cm.list('d/'), []);
  assert.equal((cm as unknown as { batchDelete: boolean }).batchDelete, false);
});

test('azure: a conditional create whose response is lost and is retried still wins; a rival with other bytes still loses', async () => {
  connectionString();
  const { RetryingChunkManager } = await import('../../src/chunk-manager/retry.js');
  const { BlockBlobClient } = await import('@azure/storage-blob');
  const cm = await AzureChunkManager.fromUrl(new URL(`az://${container}/lost-response`));
  await cm.put('warmup', new Uint8Array(1)); // the container exists before uploads are broken
  const upload = BlockBlobClient.prototype.upload;
  let uploads = 0;
  // The first Put Blob lands; the connection drops before the answer arrives.
  BlockBlobClient.prototype.upload = async function (this: InstanceType<typeof BlockBlobClient>, ...a: Parameters<typeof upload>) {
    const first = ++uploads === 1;
    const r = await upload.apply(this, a);
    if (first) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    return r;
  };
  try {
    const store = new RetryingChunkManager(cm, { sleep: async () => {} });
    const mine = new TextEncoder().encode('{"version":7,"writer":"a"}');
    await store.put('t/_manifest/00000000000000000007.json', mine, { ifAbsent: true });
    assert.equal(uploads, 2, 'the first attempt was lost and retried');
    assert.deepEqual(await store.get('t/_manifest/00000000000000000007.json'), mine);
    await assert.rejects(store.put('t/_manifest/00000000000000000007.json', new TextEncoder().encode('{"version":7,"writer":"b"}'), { ifAbsent: true }), AlreadyExistsError);
  } finally {
    BlockBlobClient.prototype.upload = upload;
  }
});
