import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { openStore } from '../../src/chunk-manager/url.js';
import { retentionCase, rollupCase } from '../table/lifecycle-cases.js';

// Retention and rollups on Ceph RGW (S3) and Azurite (Azure), started by `npm test`.
const run = randomBytes(3).toString('hex');

function s3Url(prefix: string): string {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) throw new Error('remote tests need S3_ENDPOINT (run through `npm test`, which starts Ceph RGW)');
  return `s3://quiver-lc-${run}/${prefix}?endpoint=${encodeURIComponent(endpoint)}`;
}
function azUrl(prefix: string): string {
  if (!process.env.AZURE_STORAGE_CONNECTION_STRING) throw new Error('remote tests need AZURE_STORAGE_CONNECTION_STRING (run through `npm test`, which starts Azurite)');
  return `az://quiver-lc-${run}/${prefix}`;
}

for (const [name, url] of [['s3', s3Url], ['azure', azUrl]] as const) {
  test(`${name}: retention by the wall clock, a future point, drops by commit, vacuum frees, import skips old rows`, async () => {
    const u = url('retention');
    const store = await openStore(u);
    try {
      await retentionCase(u, async (prefix) => (await store.list(prefix)).filter((k) => k.endsWith('.qvr')));
    } finally {
      await store.close();
    }
  });
  test(`${name}: rollups kept up to date, equal to raw, explained, with their own retention`, async () => {
    await rollupCase(url('rollup'));
  });
}
