import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { S3ChunkManager } from '../../src/chunk-manager/s3.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import { openStore } from '../../src/chunk-manager/url.js';
import { AlreadyExistsError, StoreError } from '../../src/errors.js';
import { chunkManagerContract } from './contract.js';
import { s3Env } from './s3-env.js';

const bucket = `quiver-test-${randomBytes(3).toString('hex')}`;

chunkManagerContract('s3', async () => {
  const env = s3Env();
  const cm = new S3ChunkManager({ ...env, bucket, prefix: 'contract' });
  return { cm, cleanup: async () => cm.close() };
});

test('s3: URLs with a prefix keep stores apart; neighbouring ranges cost one request', async () => {
  const env = s3Env();
  const a = await openStore(`s3://${bucket}/store-a?endpoint=${encodeURIComponent(env.endpoint)}`);
  const b = await openStore(`s3://${bucket}/store-b?endpoint=${encodeURIComponent(env.endpoint)}`);
  await a.put('t/x', new Uint8Array([1, 2, 3]));
  assert.deepEqual(await a.list('t/'), ['t/x']);
  assert.deepEqual(await b.list('t/'), []);
  await a.delete(['t/x']);

  const raw = new S3ChunkManager({ ...env, bucket });
  const counting = new CountingChunkManager(raw);
  const data = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
  await raw.put('ranges/obj', data);
  // Count the requests the backend really sends by wrapping its single-range read.
  let requests = 0;
  const original = raw.getRange.bind(raw);
  raw.getRange = async (key, offset, length) => { requests++; return original(key, offset, length); };
  const parts = await counting.getRanges('ranges/obj', [{ offset: 0, length: 100 }, { offset: 200, length: 100 }, { offset: 900_000, length: 10 }]);
  assert.equal(requests, 2, 'two neighbours coalesce; the far range is its own request');
  assert.deepEqual(parts[1], data.subarray(200, 300));
  assert.deepEqual(parts[2], data.subarray(900_000, 900_010));
  await raw.delete(['ranges/obj']);
});

test('s3: a large object goes up in parts and reads back whole', async () => {
  const env = s3Env();
  const cm = new S3ChunkManager({ ...env, bucket, multipartThresholdBytes: 6 * 1024 * 1024, partBytes: 5 * 1024 * 1024 });
  const big = new Uint8Array(13 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
  await cm.put('multipart/big', big);
  assert.equal(await cm.size('multipart/big'), big.length);
  const back = await cm.get('multipart/big');
  assert.equal(Buffer.compare(Buffer.from(back), Buffer.from(big)), 0);
  await cm.delete(['multipart/big']);
});

test('s3: a server that is not there is a retryable StoreError naming store and key', async () => {
  const cm = new S3ChunkManager({ endpoint: 'http://127.0.0.1:9', bucket: 'nothing', accessKey: 'x', secretKey: 'y' });
  await assert.rejects(cm.get('some/key'), (e: unknown) => {
    assert.ok(e instanceof StoreError, String(e));
    assert.equal(e.retryable, true);
    assert.match(e.message, /some\/key/);
    assert.match(e.message, /s3:\/\/nothing/);
    return true;
  });
});

test('s3: a multipart upload that fails midway is aborted: no object, no incomplete upload left', async () => {
  const env = s3Env();
  const cm = new S3ChunkManager({ ...env, bucket, prefix: 'abort', multipartThresholdBytes: 6 * 1024 * 1024, partBytes: 5 * 1024 * 1024 });
  await cm.put('warmup', new Uint8Array(1)); // the bucket exists before we break a part
  const client = (cm as unknown as { client: { uploadPart: (...a: unknown[]) => Promise<unknown>; listIncompleteUploads(b: string, p: string, r: boolean): NodeJS.ReadableStream } }).client;
  const uploadPart = client.uploadPart.bind(client);
  let parts = 0;
  client.uploadPart = async (...a: unknown[]) => {
    if (++parts === 2) throw Object.assign(new Error('connection reset by test'), { code: 'ECONNRESET' });
    return uploadPart(...a);
  };
  await assert.rejects(cm.put('big', new Uint8Array(12 * 1024 * 1024)), (e: unknown) => e instanceof StoreError && /abort\/big|big/.test((e as Error).message));
  assert.equal(await cm.exists('big'), false);
  const pending: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    const s = client.listIncompleteUploads(bucket, 'abort/', true);
    s.on('data', (u) => pending.push(u));
    s.on('error', reject);
    s.on('end', () => resolve());
  });
  assert.deepEqual(pending, [], 'the failed upload was aborted');
});

test('s3: a server that accepts but never answers fails the request as a retryable timeout', async () => {
  const { createServer } = await import('node:net');
  const sockets: import('node:net').Socket[] = [];
  const silent = createServer((s) => { sockets.push(s); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as import('node:net').AddressInfo).port;
  try {
    const cm = new S3ChunkManager({ endpoint: `http://127.0.0.1:${port}`, bucket: 'silent-bucket', accessKey: 'x', secretKey: 'y', requestIdleTimeoutMs: 200, createBucket: false });
    await assert.rejects(cm.size('k'), (e: unknown) => e instanceof StoreError && e.retryable && /no response for 200 ms/.test(e.message));
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});

test('s3: HTTP statuses map to StoreError with the status: 5xx and 429 retryable (bodies or not), 4xx not', async () => {
  const { createServer } = await import('node:http');
  const replies: Record<string, [number, string, string]> = {
    '/bkt/bad-gateway': [502, 'text/html', '<html><body>Bad Gateway</body></html>'],
    '/bkt/unavailable': [503, 'text/plain', ''],
    '/bkt/throttled': [429, 'application/xml', '<?xml version="1.0"?><Error><Code>TooManyRequests</Code><Message>slow down</Message></Error>'],
    '/bkt/internal': [500, 'text/plain', ''],
    '/bkt/forbidden': [403, 'application/xml', '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>no</Message></Error>'],
    '/bkt/bad-request': [400, 'application/xml', '<?xml version="1.0"?><Error><Code>InvalidArgument</Code><Message>bad</Message></Error>'],
    '/bkt/conflict': [409, 'application/xml', '<?xml version="1.0"?><Error><Code>ConditionalRequestConflict</Code><Message>in progress</Message></Error>'],
  };
  const server = createServer((req, res) => {
    const [status, type, body] = replies[req.url!.split('?')[0]!] ?? [404, 'text/plain', ''];
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  try {
    // Scheme-less endpoint with tls: false is plain HTTP.
    const cm = new S3ChunkManager({ endpoint: `127.0.0.1:${port}`, tls: false, bucket: 'bkt', accessKey: 'x', secretKey: 'y', createBucket: false });
    const expect = { 'bad-gateway': [502, true], unavailable: [503, true], throttled: [429, true], internal: [500, true], forbidden: [403, false], 'bad-request': [400, false] } as const;
    for (const [key, [status, retryable]] of Object.entries(expect)) {
      await assert.rejects(cm.get(key), (e: unknown) => {
        assert.ok(e instanceof StoreError, `${key}: ${String(e)}`);
        assert.equal(e.status, status, `${key}: ${e.message}`);
        assert.equal(e.retryable, retryable, `${key}: ${e.message}`);
        assert.match(e.message, new RegExp(`get ${key} on s3://bkt failed \\(status ${status}\\)`));
        return true;
      });
    }
    // AWS's 409 ConditionalRequestConflict: a rival conditional write was in flight; try again.
    await assert.rejects(cm.put('conflict', new Uint8Array(1), { ifAbsent: true }), (e: unknown) => e instanceof StoreError && e.retryable && e.status === 409);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('s3: a conditional create above the multipart threshold stays single-part, so RGW still refuses the second', async () => {
  const env = s3Env();
  const cm = new S3ChunkManager({ ...env, bucket, prefix: 'ifabsent-big', multipartThresholdBytes: 5 * 1024 * 1024, partBytes: 5 * 1024 * 1024 });
  const client = (cm as unknown as { client: { initiateNewMultipartUpload: (...a: unknown[]) => Promise<string>; partSize: number; overRidePartSize: boolean } }).client;
  // minio's putObject turns any body above its part size (64 MiB) into a multipart upload of
  // its own; shrink that size so a 7 MiB put would show it.
  client.partSize = 5 * 1024 * 1024;
  client.overRidePartSize = true;
  const initiate = client.initiateNewMultipartUpload.bind(client);
  let multipart = 0;
  client.initiateNewMultipartUpload = (...a: unknown[]) => { multipart++; return initiate(...a); };
  const big = (seed: number) => new Uint8Array(7 * 1024 * 1024).map((_, i) => (i + seed) & 0xff);
  await cm.put('manifest', big(1), { ifAbsent: true });
  await assert.rejects(cm.put('manifest', big(2), { ifAbsent: true }), AlreadyExistsError);
  assert.equal(multipart, 0, 'no multipart upload for conditional creates');
  assert.deepEqual((await cm.getRange('manifest', 0, 16)), big(1).subarray(0, 16));
  await cm.put('plain', big(3));
  assert.equal(multipart, 1, 'an unconditional put of the same size goes in parts');
  await cm.delete(['manifest', 'plain']);
});

test('s3: a scheme-less endpoint with tls=false in the URL reaches the server', async () => {
  const env = s3Env();
  const hostPort = new URL(env.endpoint).host;
  const cm = await S3ChunkManager.fromUrl(new URL(`s3://${bucket}/schemeless?endpoint=${encodeURIComponent(hostPort)}&tls=false`));
  await cm.put('k', new Uint8Array([9, 8, 7]));
  assert.deepEqual(await cm.get('k'), new Uint8Array([9, 8, 7]));
  await cm.delete(['k']);
});

test('s3: fromUrl resolves endpoint, TLS, addressing, region and keys from the URL and the standard environment variables', async () => {
  type Seen = { host: string; port: number; protocol: string; pathStyle: boolean; region: string; accessKey: string; secretKey: string; sessionToken?: string };
  const seen = async (url: string, env: NodeJS.ProcessEnv) => {
    const cm = await S3ChunkManager.fromUrl(new URL(url), env);
    const c = (cm as unknown as { client: Seen }).client;
    return { url: cm.url, prefix: cm.prefix, host: c.host, port: c.port, protocol: c.protocol, pathStyle: c.pathStyle, region: c.region, accessKey: c.accessKey, secretKey: c.secretKey, sessionToken: c.sessionToken };
  };
  // AWS: virtual-host addressing on the regional endpoint, the SDKs' variable names.
  assert.deepEqual(await seen('s3://logs/a/b/', { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK', AWS_SESSION_TOKEN: 'ST', AWS_REGION: 'eu-west-1' }),
    { url: 's3://logs/a/b', prefix: 'a/b', host: 's3.eu-west-1.amazonaws.com', port: 443, protocol: 'https:', pathStyle: false, region: 'eu-west-1', accessKey: 'AK', secretKey: 'SK', sessionToken: 'ST' });
  // MinIO/Ceph: S3_* variables win over AWS_*; path-style; plain HTTP from the endpoint's scheme.
  assert.deepEqual(await seen('s3://b1/p', { S3_ENDPOINT: 'http://10.0.0.5:9000', S3_ACCESS_KEY: 'mk', S3_SECRET_KEY: 'ms', AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK', AWS_ENDPOINT_URL: 'https://ignored' }),
    { url: 's3://b1/p', prefix: 'p', host: '10.0.0.5', port: 9000, protocol: 'http:', pathStyle: true, region: 'us-east-1', accessKey: 'mk', secretKey: 'ms', sessionToken: undefined });
  // The URL's own parameters win over the environment.
  assert.deepEqual(await seen('s3://b2?endpoint=minio.local:9443&tls=true&pathStyle=false&region=r1&accessKey=qa&secretKey=qs', { S3_ENDPOINT: 'http://other', S3_REGION: 'r0' }),
    { url: 's3://b2', prefix: '', host: 'minio.local', port: 9443, protocol: 'https:', pathStyle: false, region: 'r1', accessKey: 'qa', secretKey: 'qs', sessionToken: undefined });
  // GCS through its S3-compatible XML API, with HMAC keys.
  assert.deepEqual(await seen('gs://bucket-g/tsdb', { GCS_ACCESS_KEY: 'GOOG1', GCS_SECRET_KEY: 'gsec', AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' }),
    { url: 'gs://bucket-g/tsdb', prefix: 'tsdb', host: 'storage.googleapis.com', port: 443, protocol: 'https:', pathStyle: true, region: 'auto', accessKey: 'GOOG1', secretKey: 'gsec', sessionToken: undefined });
});

test('s3: on GCS a conditional create also sends x-goog-if-generation-match: 0 and deletes go one per key; unsigned payloads carry Content-MD5', async () => {
  const { createServer } = await import('node:http');
  const { createHash } = await import('node:crypto');
  const seen: { method: string; url: string; headers: import('node:http').IncomingHttpHeaders; body: Buffer }[] = [];
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const p of req) parts.push(p as Buffer);
    if (req.method === 'HEAD' || req.method === 'GET') {
      res.writeHead(404, { 'content-length': 0 }).end(); // nothing to compare a refused create with
      return;
    }
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(parts) });
    if (seen.length !== 2) res.writeHead(200, { etag: '"e"', 'content-length': 0 }).end();
    else {
      const body = '<?xml version="1.0"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold.</Message></Error>';
      res.writeHead(412, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  try {
    // No keys: an anonymous request, so the payload is not signed and Content-MD5 guards it.
    const cm = new S3ChunkManager({ endpoint: `http://127.0.0.1:${port}`, bucket: 'gcs-bucket', gcs: true, createBucket: false });
    const body = new TextEncoder().encode('{"version":1}');
    await cm.put('t/_manifest/1.json', body, { ifAbsent: true });
    await assert.rejects(cm.put('t/_manifest/1.json', body, { ifAbsent: true }), AlreadyExistsError);
    assert.equal(seen.length, 2);
    const h = seen[0]!.headers;
    assert.equal(h['if-none-match'], '*');
    assert.equal(h['x-goog-if-generation-match'], '0');
    assert.equal(h['content-md5'], createHash('md5').update(body).digest('base64'));
    assert.deepEqual(new Uint8Array(seen[0]!.body), body);
    await cm.put('t/chunk', body);
    assert.equal(seen[2]!.headers['x-goog-if-generation-match'], undefined, 'unconditional puts carry no precondition');
    await cm.delete(['t/chunk', 't/_manifest/1.json']);
    assert.deepEqual(seen.slice(3).map((r) => `${r.method} ${r.url}`).sort(), ['DELETE /gcs-bucket/t/_manifest/1.json', 'DELETE /gcs-bucket/t/chunk']);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('s3: a conditional create whose response is lost and is retried still wins; a rival with other bytes still loses', async () => {
  const { RetryingChunkManager } = await import('../../src/chunk-manager/retry.js');
  const env = s3Env();
  const cm = new S3ChunkManager({ ...env, bucket, prefix: 'lost-response' });
  await cm.put('warmup', new Uint8Array(1)); // the bucket exists: the PUT lost below is the object's
  const client = (cm as unknown as { client: { makeRequestStreamAsync: (...a: unknown[]) => Promise<unknown> } }).client;
  const send = client.makeRequestStreamAsync.bind(client);
  let puts = 0;
  // The first PUT reaches the server and lands; the connection drops before the answer arrives.
  client.makeRequestStreamAsync = async (...a: unknown[]) => {
    const isPut = (a[0] as { method: string }).method === 'PUT' && ++puts === 1;
    const res = await send(...a);
    if (isPut) {
      (res as NodeJS.ReadableStream).resume();
      throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    }
    return res;
  };
  const store = new RetryingChunkManager(cm, { sleep: async () => {} });
  const mine = new TextEncoder().encode('{"version":7,"writer":"a"}');
  await store.put('t/_manifest/00000000000000000007.json', mine, { ifAbsent: true });
  assert.equal(puts, 2, 'the first attempt was lost and retried');
  assert.deepEqual(await store.get('t/_manifest/00000000000000000007.json'), mine);
  await assert.rejects(store.put('t/_manifest/00000000000000000007.json', new TextEncoder().encode('{"version":7,"writer":"b"}'), { ifAbsent: true }), AlreadyExistsError);
  await cm.delete(['t/_manifest/00000000000000000007.json', 'warmup']);
});
