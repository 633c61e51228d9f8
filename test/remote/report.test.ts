import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { importFiles } from '../../src/io/import.js';
import { collectReport, type ReportData } from '../../src/report/collect.js';
import { renderReport } from '../../src/report/html.js';

// `quiver report` on Ceph RGW (S3) and Azurite (Azure): the same figures as on a local store
// (it reads only through the table, manifest and chunk-footer APIs).
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const SAMPLE = join(ROOT, 'examples', 'cpu.csv');
const run = randomBytes(3).toString('hex');

function remoteUrl(kind: 's3' | 'azure'): string {
  if (kind === 's3') {
    const endpoint = process.env.S3_ENDPOINT;
    if (!endpoint) throw new Error('remote tests need S3_ENDPOINT (run through `npm test`, which starts Ceph RGW)');
    return `s3://quiver-report-${run}/r?endpoint=${encodeURIComponent(endpoint)}`;
  }
  if (!process.env.AZURE_STORAGE_CONNECTION_STRING) throw new Error('remote tests need AZURE_STORAGE_CONNECTION_STRING (run through `npm test`, which starts Azurite)');
  return `az://quiver-report-${run}/r`;
}

/** What must not depend on the store: everything but times of day and chunk keys. */
function comparable(d: ReportData) {
  return { ...d, generatedAt: '', versions: d.versions.map((v) => ({ ...v, committedAtMs: 0 })) };
}

for (const kind of ['s3', 'azure'] as const) {
  test(`report on ${kind}: the same partitions, columns, encodings, tags, chunk sizes and versions as on a local store`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-report-remote-'));
    try {
      const local = await Quiver.open(dir);
      const remote = await Quiver.open(remoteUrl(kind));
      const opts = { table: 'cpu', tags: ['hostname', 'region', 'service'] };
      for (const db of [local, remote]) {
        await importFiles(db, [SAMPLE], opts);
        await importFiles(db, [SAMPLE], { ...opts, append: true });
      }
      const now = new Date(0);
      const expected = comparable(await collectReport(local, 'cpu', { now }));
      const got = await collectReport(remote, 'cpu', { now });
      assert.equal(got.versions.length, 2);
      assert.equal(got.summary.chunks, 2);
      assert.deepEqual(comparable(got), expected);
      assert.match(renderReport(got), /<title>Quiver report: cpu<\/title>/);
      await Promise.all([local.close(), remote.close()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
