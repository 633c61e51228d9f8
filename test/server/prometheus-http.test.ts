import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressSync, uncompressSync } from 'snappy';
import { Quiver } from '../../src/quiver.js';
import { bitsOf, decodeReadResponse, encodeReadRequest, encodeWriteRequest, type TestSeries } from './prometheus-wire.js';

const T0 = BigInt(Date.UTC(2026, 0, 1));
const STALE = '7ff0000000000002';
const TOKEN = 'secret-token';

async function server(options: { bodyBytesMax?: number } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'quiver-prom-http-'));
  const handle = await Quiver.serve({ store: join(root, 'store'), wal: join(root, 'wal'), listen: '127.0.0.1:0', token: TOKEN, log: false, decodeThreads: 0, ...options });
  const post = (path: string, body: Uint8Array, headers: Record<string, string> = {}) => fetch(`${handle.url}${path}`, {
    method: 'POST', body,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0', ...headers },
  });
  return {
    url: handle.url, post, root,
    write: (series: TestSeries[]) => post('/api/v1/write', compressSync(Buffer.from(encodeWriteRequest(series)))),
    read: async (matchers: Parameters<typeof encodeReadRequest>[0][number]['matchers']) => {
      const res = await post('/api/v1/read', compressSync(Buffer.from(encodeReadRequest([{ start: T0, end: T0 + 3_600_000n, matchers }]))));
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get('content-encoding'), 'snappy');
      return decodeReadResponse(uncompressSync(Buffer.from(await res.arrayBuffer())) as Buffer)[0]!;
    },
    close: async () => { await handle.close(); rmSync(root, { recursive: true, force: true }); },
  };
}

const series = (name: string, labels: Record<string, string>, values: string[]): TestSeries => ({
  labels: [['__name__', name], ...Object.entries(labels)],
  samples: values.map((bits, i) => ({ t: T0 + BigInt(i) * 1000n, bits })),
});

test('HTTP remote write: 204 once durable, the staleness marker read back bit for bit by remote read, visible at once to /api/v1/query', async () => {
  const s = await server();
  try {
    const res = await s.write([series('node_load1', { instance: 'a', job: 'node' }, [bitsOf(0.25), bitsOf(0.5), STALE])]);
    assert.equal(res.status, 204, await res.text());
    const got = await s.read([{ type: 'EQ', name: '__name__', value: 'node_load1' }]);
    assert.deepEqual(got, [{
      labels: [['__name__', 'node_load1'], ['instance', 'a'], ['job', 'node']],
      samples: [{ t: T0, bits: bitsOf(0.25) }, { t: T0 + 1000n, bits: bitsOf(0.5) }, { t: T0 + 2000n, bits: STALE }],
    }]);
    // The query endpoint sees acknowledged samples (the server's write path tracks the table).
    const q = await fetch(`${s.url}/api/v1/query?table=node_load1&format=csv`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(q.status, 200);
    const lines = (await q.text()).trim().split('\n');
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.match(lines[1]!, /,a,node,0\.25$/);
  } finally { await s.close(); }
});

test('HTTP remote write errors: 400 undecodable (nothing written), 400 refused series listed (others written), 415, 413, 401', async () => {
  const s = await server({ bodyBytesMax: 4 * 2 ** 20 });
  try {
    let res = await s.post('/api/v1/write', Buffer.from('not snappy at all'));
    assert.equal(res.status, 400);
    assert.match((await res.json() as { message: string }).message, /remote write body/);
    res = await s.post('/api/v1/write', compressSync(Buffer.from([0x0a, 0x10, 0x0a])));
    assert.equal(res.status, 400);
    assert.match((await res.json() as { message: string }).message, /runs past the end/);

    assert.equal((await s.write([series('m', { a: 'x' }, [bitsOf(1)])])).status, 204);
    res = await s.write([series('m', { a: 'y' }, [bitsOf(2)]), series('m', { a: 'z', value: 'e' }, [bitsOf(3)])]);
    assert.equal(res.status, 400);
    const body = await res.json() as { message: string; data: string[] };
    assert.match(body.message, /^1 samples of 1 series written; 1 series refused; first: series 1 \(m\{a="z",value="e"\}\): label name "value" collides/);
    assert.equal(body.data.length, 1);
    assert.deepEqual((await s.read([{ type: 'EQ', name: '__name__', value: 'm' }])).map((x) => x.labels[1]![1]), ['x', 'y']);

    res = await s.post('/api/v1/write', Buffer.from('x'), { 'Content-Encoding': 'gzip' });
    assert.equal(res.status, 415);
    res = await s.post('/api/v1/write', Buffer.alloc(4 * 2 ** 20 + 1));
    assert.equal(res.status, 413);
    // Small on the wire, over the 64 MiB decoded limit (read from the snappy header): 413 before decompressing.
    res = await s.post('/api/v1/write', compressSync(Buffer.alloc(65 * 2 ** 20)));
    assert.equal(res.status, 413);
    assert.match(await res.text(), /uncompressed bytes 68157440 exceeds limit 67108864/);
    res = await fetch(`${s.url}/api/v1/write`, { method: 'POST', body: compressSync(Buffer.from(encodeWriteRequest([series('m', { a: 'x' }, [bitsOf(1)])]))) });
    assert.equal(res.status, 401);
    res = await s.post('/api/v1/read', compressSync(Buffer.from(encodeReadRequest([{ start: 0n, end: 1n, matchers: [{ type: 'RE', name: 'a', value: '[' }] }]))));
    assert.equal(res.status, 400);
    res = await s.post('/api/v1/read', compressSync(Buffer.from(encodeReadRequest([{ start: 0n, end: 1n, matchers: [] }], [1]))));
    assert.equal(res.status, 400);
    assert.match(await res.text(), /SAMPLES \(0\) only/);
  } finally { await s.close(); }
});

test('HTTP remote write: acknowledged samples survive a restart (replayed from the WAL) and are read back once', async () => {
  const root = mkdtempSync(join(tmpdir(), 'quiver-prom-restart-'));
  try {
    const opts = { store: join(root, 'store'), wal: join(root, 'wal'), listen: '127.0.0.1:0', log: false as const, decodeThreads: 0 };
    let handle = await Quiver.serve(opts);
    const body = compressSync(Buffer.from(encodeWriteRequest([series('up', { job: 'j' }, [bitsOf(1), STALE])])));
    const headers = { 'Content-Encoding': 'snappy' };
    assert.equal((await fetch(`${handle.url}/api/v1/write`, { method: 'POST', body, headers })).status, 204);
    await handle.close();
    handle = await Quiver.serve(opts);
    const res = await fetch(`${handle.url}/api/v1/read`, { method: 'POST', headers, body: compressSync(Buffer.from(encodeReadRequest([{ start: T0, end: T0 + 5000n, matchers: [{ type: 'EQ', name: 'job', value: 'j' }] }]))) });
    const got = decodeReadResponse(uncompressSync(Buffer.from(await res.arrayBuffer())) as Buffer)[0]!;
    assert.deepEqual(got.map((x) => x.samples.map((y) => y.bits)), [[bitsOf(1), STALE]]);
    await handle.close();
  } finally { rmSync(root, { recursive: true, force: true }); }
});
