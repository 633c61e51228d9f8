import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { importTwice } from '../table/duplicates-cases.js';
import { azUrl, s3Url } from './urls.js';

// The duplicate policies on real object stores (Ceph RGW for S3, Azurite for Azure): the
// cases of test/table/duplicates-cases.ts, as on the local store.
for (const [name, url] of [['s3', s3Url], ['azure', azUrl]] as const) {
  for (const policy of ['last', 'first', 'keep'] as const) {
    test(`${name}: the same CSV imported twice under '${policy}' (counts, winners, statistics, compaction)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'quiver-dup-remote-'));
      try {
        const db = await Quiver.open(url(`dup-${policy}`));
        try { await importTwice(db, dir, policy); } finally { await db.close(); }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}
