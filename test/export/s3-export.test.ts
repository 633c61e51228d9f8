import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { openStore } from '../../src/chunk-manager/url.js';
import { exportTable } from '../../src/export/export.js';
import { duck, expectedCells, makeRows, makeTable, readBack } from './helpers.js';

// The real S3 server `npm test` starts (Ceph RGW), or S3_ENDPOINT…
test('export to the S3 server: one object per partition, read back by DuckDB after download', async () => {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) throw new Error('this test needs S3_ENDPOINT (run through `npm test`, which starts Ceph RGW)');
  const dir = mkdtempSync(join(tmpdir(), 'quiver-export-'));
  const db = await Quiver.open(new MemoryChunkManager());
  const url = `s3://quiver-export-${randomBytes(3).toString('hex')}/dump/?endpoint=${encodeURIComponent(endpoint)}`;
  try {
    const rows = makeRows('us', 1200);
    const table = await makeTable(db, 'm', 'us', rows);
    const result = await exportTable(table, url);
    assert.equal(result.files.length, 3);
    const store = await openStore(url);
    try {
      const keys = await store.list('');
      assert.deepEqual(keys, ['date=2026-01-01/m.parquet', 'date=2026-01-02/m.parquet', 'date=2026-01-03/m.parquet']);
      for (const key of keys) {
        mkdirSync(join(dir, key, '..'), { recursive: true });
        writeFileSync(join(dir, key), await store.get(key));
      }
      await store.delete(keys);
    } finally {
      await store.close();
    }
    const conn = await duck();
    assert.deepEqual(await readBack(conn, `${dir}/*/*.parquet`, 'us'), expectedCells(rows));
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

