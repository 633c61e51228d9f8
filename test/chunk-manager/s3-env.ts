/**
 * The S3-compatible server the S3 tests run against: started by `npm test` (Ceph RGW on
 * 127.0.0.1) or named by S3_ENDPOINT / S3_ACCESS_KEY / S3_SECRET_KEY (a user's MinIO, say).
 * No server is a failure with this message, never a skip.
 */
export function s3Env(): { endpoint: string; accessKey: string; secretKey: string } {
  const { S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY } = process.env;
  if (!S3_ENDPOINT || !S3_ACCESS_KEY || !S3_SECRET_KEY) {
    throw new Error('S3 tests need a server: run them through `npm test` (starts Ceph RGW) or set S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY');
  }
  return { endpoint: S3_ENDPOINT, accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY };
}
