import { test } from 'node:test';
import { azUrl, s3Url } from './urls.js';
import { openStore } from '../../src/chunk-manager/url.js';
import { retentionCase, rollupCase } from '../table/lifecycle-cases.js';

// Retention and rollups on Ceph RGW (S3) and Azurite (Azure), started by `npm test`.

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
