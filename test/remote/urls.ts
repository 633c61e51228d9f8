import { randomBytes } from 'node:crypto';

// Store URLs of the real object stores `npm test` starts (Ceph RGW for S3, Azurite for Azure)
// or the environment names (S3_ENDPOINT…, AZURE_STORAGE_CONNECTION_STRING): a bucket or
// container of this test run, under `prefix`.
/** This test run's id, in bucket and container names. */
export const run = randomBytes(3).toString('hex');

export function s3Url(prefix: string): string {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) throw new Error('remote tests need S3_ENDPOINT (run through `npm test`, which starts Ceph RGW)');
  return `s3://quiver-e2e-${run}/${prefix}?endpoint=${encodeURIComponent(endpoint)}`;
}

export function azUrl(prefix: string): string {
  if (!process.env.AZURE_STORAGE_CONNECTION_STRING) throw new Error('remote tests need AZURE_STORAGE_CONNECTION_STRING (run through `npm test`, which starts Azurite)');
  return `az://quiver-e2e-${run}/${prefix}`;
}
