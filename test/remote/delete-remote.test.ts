import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { deleteScenario } from '../table/delete-scenario.js';

// Deletes on real object stores: Ceph RGW (S3) and Azurite (Azure), started by `npm test`
// (the local store runs the same scenario in test/table/delete.test.ts).
const run = randomBytes(3).toString('hex');

test('s3: deletes by time, tag and both; statistics, re-writes, time travel, partition drop, compaction and vacuum', async () => {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) throw new Error('remote tests need S3_ENDPOINT (run through `npm test`, which starts Ceph RGW)');
  await deleteScenario(`s3://quiver-delete-${run}/t?endpoint=${encodeURIComponent(endpoint)}`);
});

test('azure: deletes by time, tag and both; statistics, re-writes, time travel, partition drop, compaction and vacuum', async () => {
  if (!process.env.AZURE_STORAGE_CONNECTION_STRING) throw new Error('remote tests need AZURE_STORAGE_CONNECTION_STRING (run through `npm test`, which starts Azurite)');
  await deleteScenario(`az://quiver-delete-${run}/t`);
});
