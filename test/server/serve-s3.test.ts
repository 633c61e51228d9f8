import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Quiver } from '../../src/quiver.js';
import { post, queryCsv, startTestServer } from './helpers.js';

// `quiver serve` on S3 (Ceph RGW, started by `npm test` or named by S3_ENDPOINT): writes are
// acknowledged from the local WAL, flushed as chunks into the bucket, read back by queries
// and by another process opening the bucket.
function s3Url(prefix: string): string {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) throw new Error('S3 tests need S3_ENDPOINT (run through `npm test`, which starts Ceph RGW)');
  return `s3://quiver-serve-${randomBytes(3).toString('hex')}/${prefix}?endpoint=${encodeURIComponent(endpoint)}`;
}

test('s3: line protocol in, chunks in the bucket, the same points out of a query and of a fresh Quiver on the bucket', async () => {
  const store = s3Url('serve');
  const s = await startTestServer({ store, flushAgeMs: 3_600_000 });
  const lines = Array.from({ length: 3000 }, (_, i) => `disk,host=h${i % 4},path=/d${i % 2} used=${i}u,pct=${(i % 100) / 8} ${1_767_225_600_000_000_000n + BigInt(i) * 1_000_000_000n}`);
  let expected: string[];
  try {
    assert.equal((await post(`${s.url}/write?db=x&precision=n`, gzipSync(lines.slice(0, 1500).join('\n')), { 'Content-Encoding': 'gzip' })).status, 204);
    assert.equal((await post(`${s.url}/api/v2/write?bucket=x`, lines.slice(1500).join('\n'))).status, 204);
    expected = await queryCsv(s.url, { table: 'disk', where: 'host=h2' });
    assert.equal(expected.length, 751);
    assert.equal(expected[1], '2026-01-01T00:00:02Z,h2,/d0,2,0.25');
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /^quiver_store_requests_total\{op="put"\} [1-9]\d*$/m);
    assert.match(metrics, /^quiver_store_errors_total\{op="put"\} 0$/m);
    // Points written after the query's flush are flushed by close().
    assert.equal((await post(`${s.url}/api/v2/write?bucket=x`, 'disk,host=h2,path=/d9 used=1u,pct=1 1767229000000000000')).status, 204);
  } finally {
    await s.stop();
  }
  const db = await Quiver.open(store);
  try {
    const t = await db.table('disk');
    const all = await t.query({ where: { host: ['h2'] } });
    assert.equal(all.numRows, 751);
    assert.equal(all.getChild('used')!.get(0), 2n);
  } finally {
    await db.close();
  }
});
