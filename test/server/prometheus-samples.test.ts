import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressSync, uncompressSync } from 'snappy';
import { Quiver } from '../../src/quiver.js';
import { InputError, LimitExceededError } from '../../src/errors.js';
import { PrometheusRemote } from '../../src/server/prometheus/remote.js';
import { decodeWriteRequest } from '../../src/server/prometheus/write-request.js';
import { ProtoError, ProtoWriter } from '../../src/server/prometheus/protobuf.js';
import { metricOfTable, tableOfMetric } from '../../src/server/prometheus/tables.js';
import { bitsOf, decodeReadResponse, encodeReadRequest, encodeWriteRequest, type TestMatcher, type TestSeries } from './prometheus-wire.js';

const T0 = BigInt(Date.UTC(2026, 0, 1));
const STALE = '7ff0000000000002'; // Prometheus' staleness marker: a signalling NaN
const NAN_PAYLOAD = 'fff8dead0000beef';

async function open() {
  const root = mkdtempSync(join(tmpdir(), 'quiver-prom-'));
  const db = await Quiver.open(join(root, 'store'), { wal: join(root, 'wal'), decodeThreads: 0 });
  const remote = new PrometheusRemote(db);
  return {
    db, remote,
    write: (series: TestSeries[]) => remote.write(compressSync(Buffer.from(encodeWriteRequest(series)))),
    read: async (start: bigint, end: bigint, matchers: TestMatcher[]) =>
      decodeReadResponse(uncompressSync(await remote.read(compressSync(Buffer.from(encodeReadRequest([{ start, end, matchers }]))))) as Buffer)[0]!,
    cleanup: async () => { await db.close(); rmSync(root, { recursive: true, force: true }); },
  };
}

const s = (labels: Record<string, string>, samples: [number, string][]): TestSeries => ({
  labels: Object.entries(labels),
  samples: samples.map(([dt, bits]) => ({ t: T0 + BigInt(dt), bits })),
});

test('remote write → read: every value bit for bit (NaN payloads, the staleness marker, -0, ±Inf), times in ms, labels sorted', async () => {
  const q = await open();
  try {
    const values = [bitsOf(1.5), STALE, NAN_PAYLOAD, bitsOf(-0), bitsOf(Infinity), bitsOf(-Infinity), bitsOf(Number.MIN_VALUE), bitsOf(0)];
    const outcome = await q.write([
      s({ __name__: 'up', job: 'node', instance: 'a:9100' }, values.map((v, i) => [i * 15_000, v])),
      s({ instance: 'b:9100', __name__: 'up', job: 'node' }, [[0, bitsOf(0)], [15_000, bitsOf(1)]]),
    ]);
    assert.deepEqual(outcome, { samples: 10, series: 2, errors: [] });
    const got = await q.read(T0, T0 + 1_000_000n, [{ type: 'EQ', name: '__name__', value: 'up' }]);
    assert.deepEqual(got, [
      { labels: [['__name__', 'up'], ['instance', 'a:9100'], ['job', 'node']], samples: values.map((bits, i) => ({ t: T0 + BigInt(i * 15_000), bits })) },
      { labels: [['__name__', 'up'], ['instance', 'b:9100'], ['job', 'node']], samples: [{ t: T0, bits: bitsOf(0) }, { t: T0 + 15_000n, bits: bitsOf(1) }] },
    ]);
    // The same after a flush (from chunks, not the write buffer).
    await (await q.db.table('up')).flush();
    assert.deepEqual(await q.read(T0, T0 + 1_000_000n, [{ type: 'EQ', name: '__name__', value: 'up' }]), got);
  } finally { await q.cleanup(); }
});

test('remote read: matchers EQ, NEQ, RE, NRE with Prometheus semantics (absent label = "", anchored regexes), time range inclusive', async () => {
  const q = await open();
  try {
    await q.write([
      s({ __name__: 'http_requests_total', code: '200', path: '/a' }, [[0, bitsOf(1)], [1000, bitsOf(2)], [2000, bitsOf(3)]]),
      s({ __name__: 'http_requests_total', code: '500', path: '/a' }, [[0, bitsOf(4)]]),
      s({ __name__: 'http_requests_total', code: '200' }, [[0, bitsOf(5)]]),
      s({ __name__: 'job:errors:rate5m', code: '500' }, [[0, bitsOf(6)]]),
    ]);
    const names = async (matchers: TestMatcher[], start = T0, end = T0 + 10_000n) =>
      (await q.read(start, end, matchers)).map((x) => x.labels.map(([k, v]) => `${k}=${v}`).join(','));
    const name: TestMatcher = { type: 'EQ', name: '__name__', value: 'http_requests_total' };
    assert.deepEqual(await names([name, { type: 'EQ', name: 'code', value: '200' }]),
      ['__name__=http_requests_total,code=200', '__name__=http_requests_total,code=200,path=/a']);
    assert.deepEqual(await names([name, { type: 'EQ', name: 'path', value: '' }]), ['__name__=http_requests_total,code=200']);
    assert.deepEqual(await names([name, { type: 'NEQ', name: 'path', value: '' }]),
      ['__name__=http_requests_total,code=200,path=/a', '__name__=http_requests_total,code=500,path=/a']);
    assert.deepEqual(await names([name, { type: 'RE', name: 'code', value: '2..' }]),
      ['__name__=http_requests_total,code=200', '__name__=http_requests_total,code=200,path=/a']);
    assert.deepEqual(await names([name, { type: 'RE', name: 'code', value: '2' }]), [], 'regexes are anchored');
    assert.deepEqual(await names([name, { type: 'NRE', name: 'code', value: '2..' }]), ['__name__=http_requests_total,code=500,path=/a']);
    assert.deepEqual(await names([name, { type: 'EQ', name: 'nope', value: 'x' }]), []);
    // Without an exact name: every metric table, the name matched like any label; ':' names map to '.' tables.
    assert.deepEqual(await names([{ type: 'EQ', name: 'code', value: '500' }]),
      ['__name__=http_requests_total,code=500,path=/a', '__name__=job:errors:rate5m,code=500']);
    assert.deepEqual(await names([{ type: 'RE', name: '__name__', value: 'job:.*' }]), ['__name__=job:errors:rate5m,code=500']);
    assert.deepEqual(await q.db.tables(), ['http_requests_total', 'job.errors.rate5m']);
    // Both ends inclusive.
    const range = await q.read(T0 + 1000n, T0 + 2000n, [name, { type: 'EQ', name: 'path', value: '/a' }, { type: 'EQ', name: 'code', value: '200' }]);
    assert.deepEqual(range[0]!.samples.map((x) => x.t - T0), [1000n, 2000n]);
    await assert.rejects(q.read(T0, T0 + 1n, [{ type: 'RE', name: 'code', value: '(' }]), InputError);
  } finally { await q.cleanup(); }
});

test('remote write: refused series are named, the others written; a retried write is read back once per timestamp', async () => {
  const q = await open();
  try {
    await q.write([s({ __name__: 'm', a: 'x' }, [[0, bitsOf(1)]])]);
    const outcome = await q.write([
      s({ __name__: 'm', a: 'y', b: 'new' }, [[0, bitsOf(2)]]),
      s({ a: 'x' }, [[0, bitsOf(3)]]),
      s({ __name__: 'm', value: 'v' }, [[0, bitsOf(4)]]),
      s({ __name__: 'm', a: 'z', a2: '' }, [[0, bitsOf(5)]]),
      s({ __name__: 'bad-name' }, [[0, bitsOf(6)]]),
      s({ __name__: 'm', a: 'x' }, [[0, bitsOf(7)]]),
    ]);
    // A new label (b) is added to the table as a tag: the series is written, earlier ones read it as absent.
    assert.equal(outcome.samples, 3);
    assert.equal(outcome.errors.length, 3, outcome.errors.join('\n'));
    assert.match(outcome.errors[0]!, /^series 1 .*no __name__ label/);
    assert.match(outcome.errors[1]!, /^series 2 .*collides with the table's value column/);
    assert.match(outcome.errors[2]!, /^series 4 .*not a Prometheus metric name/);
    // An empty label value is the absent label; the same series and time again: the last write wins.
    const got = await q.read(T0, T0, [{ type: 'EQ', name: '__name__', value: 'm' }]);
    assert.deepEqual(got, [
      { labels: [['__name__', 'm'], ['a', 'x']], samples: [{ t: T0, bits: bitsOf(7) }] },
      { labels: [['__name__', 'm'], ['a', 'y'], ['b', 'new']], samples: [{ t: T0, bits: bitsOf(2) }] },
      { labels: [['__name__', 'm'], ['a', 'z']], samples: [{ t: T0, bits: bitsOf(5) }] },
    ]);
  } finally { await q.cleanup(); }
});

test('remote write: undecodable bodies are InputErrors and write nothing; limits are LimitExceededErrors', async () => {
  const q = await open();
  try {
    await assert.rejects(q.remote.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), InputError);
    await assert.rejects(q.remote.write(Buffer.from([5, 0, 1])), /not a valid snappy block/);
    const good = encodeWriteRequest([s({ __name__: 'm' }, [[0, bitsOf(1)]])]);
    // Cut short: the series' length runs past the end.
    await assert.rejects(q.remote.write(compressSync(Buffer.from(good.subarray(0, good.length - 3)))), (e: Error) => e instanceof ProtoError && /runs past the end/.test(e.message));
    // Exemplars and native histograms would be dropped: refused.
    const w = new ProtoWriter();
    const ts = w.begin(1); const l = w.begin(1); w.string(1, '__name__'); w.string(2, 'm'); w.end(l); w.end(w.begin(4)); w.end(ts);
    await assert.rejects(q.remote.write(compressSync(Buffer.from(w.bytes()))), /native histograms are not stored/);
    assert.deepEqual(await q.db.tables(), []);
    const small = new PrometheusRemote(q.db, { decodedBytesMax: 10, writeSamplesMax: 2 });
    await assert.rejects(small.write(compressSync(Buffer.from(good))), LimitExceededError);
    assert.throws(() => decodeWriteRequest(encodeWriteRequest([s({ __name__: 'm' }, [[0, bitsOf(1)], [1, bitsOf(1)], [2, bitsOf(1)]])]), 2), /more than 2 samples/);
    // proto3 omits zero fields: an empty Sample is value +0 at time 0.
    const zero = decodeWriteRequest(Uint8Array.from([0x0a, 0x02, 0x12, 0x00]));
    assert.deepEqual([zero.samples, zero.times[0], bitsOf(zero.values[0]!)], [1, 0n, bitsOf(0)]);
  } finally { await q.cleanup(); }
});

test('remote write: negative and large int64 timestamps decode exactly', () => {
  for (const t of [-1n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, 1n << 35n]) {
    const req = decodeWriteRequest(encodeWriteRequest([{ labels: [['__name__', 'm']], samples: [{ t, bits: bitsOf(1) }] }]));
    assert.equal(req.times[0], t);
  }
});

test('metric names ↔ table names', () => {
  assert.deepEqual(tableOfMetric('job:http:rate5m'), { table: 'job.http.rate5m' });
  assert.equal(metricOfTable('job.http.rate5m'), 'job:http:rate5m');
  assert.ok('error' in tableOfMetric(':leading'));
  assert.ok('error' in tableOfMetric('a-b'));
  assert.equal(metricOfTable('a-b'), undefined);
});
