import * as Minio from 'minio';
import type { Readable } from 'node:stream';
import * as http from 'node:http';
import * as https from 'node:https';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { existsBySize, type ByteRange, type ChunkManager, type ListOptions, type PutOptions } from './chunk-manager.js';
import { AlreadyExistsError, NotFoundError, StoreError, UsageError } from '../errors.js';
import { validateKey } from './keys.js';
import { compareKeys } from './memory.js';
import { Semaphore, mapLimit } from './semaphore.js';
import { fetchCoalesced } from './ranges.js';
import { holdsExactly } from './conditional-create.js';

/** Requests in flight at once per store (S3Options.concurrency). */
export const S3_REQUESTS_IN_FLIGHT_DEFAULT = 16;
/** Objects above this many bytes are uploaded in parts (S3Options.multipartThresholdBytes). */
export const S3_MULTIPART_THRESHOLD_BYTES_DEFAULT = 64 * 1024 * 1024;
/** Part size of multipart uploads (S3Options.partBytes). */
export const S3_PART_BYTES_DEFAULT = 16 * 1024 * 1024;
/** S3's smallest part (every part but the last): a smaller partBytes is raised to it. */
export const S3_PART_BYTES_MIN = 5 * 1024 * 1024;
/** Parts of one multipart upload in flight at once (each also takes a request slot). */
export const S3_PARTS_IN_FLIGHT = 4;
/** Keys per DeleteObjects request: S3's limit. */
export const S3_DELETE_KEYS_MAX = 1000;
/** Single-key DELETEs in flight at once on GCS (its XML API has no multi-object delete). */
export const GCS_DELETES_IN_FLIGHT = 16;
/** A request with no bytes moving this long fails (S3Options.requestIdleTimeoutMs). */
export const S3_REQUEST_IDLE_TIMEOUT_MS_DEFAULT = 30_000;

export interface S3Options {
  /**
   * `http://127.0.0.1:7480`, `https://s3.eu-west-1.amazonaws.com`, `https://storage.googleapis.com`.
   * Without a scheme (`127.0.0.1:9000`) TLS follows `tls` (default on).
   */
  endpoint: string;
  /** TLS for an endpoint given without a scheme. Default true. */
  tls?: boolean;
  bucket: string;
  /** Key prefix inside the bucket ('' or ending without '/'). */
  prefix?: string;
  region?: string;
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  /** Path-style addressing (MinIO, Ceph); default true unless the endpoint is AWS. */
  pathStyle?: boolean;
  /** Requests in flight at once. Default S3_REQUESTS_IN_FLIGHT_DEFAULT (16). */
  concurrency?: number;
  /** Objects above this are uploaded in parts. Default S3_MULTIPART_THRESHOLD_BYTES_DEFAULT (64 MiB). */
  multipartThresholdBytes?: number;
  /** Part size of multipart uploads. Default S3_PART_BYTES_DEFAULT (16 MiB); at least S3_PART_BYTES_MIN (5 MiB). */
  partBytes?: number;
  /** A request with no bytes moving for this long fails (retryable ETIMEDOUT). Default 30,000 ms. */
  requestIdleTimeoutMs?: number;
  /** Create the bucket when missing. Default true. */
  createBucket?: boolean;
  /**
   * Google Cloud Storage's XML API: conditional creates also send `x-goog-if-generation-match: 0`,
   * GCS's own create-only-if-absent precondition. Default: the endpoint is storage.googleapis.com.
   */
  gcs?: boolean;
  /** For messages: `s3://bucket/prefix`. */
  url?: string;
}

/**
 * HTTP statuses worth another try: timeouts, throttling, server-side failures. minio fails
 * these itself before reading the body (its own retries are off: RetryingChunkManager owns
 * retry policy for every store), so the transport drains such responses to free the socket.
 */
const RETRYABLE_STATUS = new Set([408, 429, 499, 500, 502, 503, 504, 520]);

/**
 * The HTTP status of the last response a call received. minio's errors carry an S3 error code
 * but not the status (a 502 from a proxy with an HTML body has no code at all), so the
 * transport records it here for the call that issued the request.
 */
const lastStatus = new AsyncLocalStorage<{ status?: number }>();

const RETRYABLE_CODES = new Set([
  'SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeTooSkewed', 'Throttling',
  'ThrottlingException', 'RequestLimitExceeded', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN',
  'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET',
]);

/**
 * An S3-compatible bucket as a ChunkManager, on the `minio` client: MinIO, AWS S3, Ceph RGW,
 * and GCS through its S3-compatible XML API (HMAC keys).
 *
 * - Conditional create sends `If-None-Match: *` (and on GCS `x-goog-if-generation-match: 0`);
 *   412 PreconditionFailed means the key exists. Such puts are always one PUT request, never
 *   multipart, whatever their size: Ceph RGW ignores If-None-Match on multipart completion
 *   (and minio's putObject would go multipart above 64 MiB, so puts bypass it).
 * - Ranged reads coalesce neighbouring ranges into one request (ranges.ts).
 * - Large puts go in parts; a failed multipart upload is aborted so no parts are orphaned.
 * - Every request passes one semaphore: a store never has more than `concurrency` in flight.
 * - A conditional create that finds the key holding exactly its own bytes succeeds: that is
 *   this very write, landed by an earlier attempt whose response was lost and then retried
 *   (RetryingChunkManager). Reporting AlreadyExists there would make a committer that won
 *   believe it lost, and re-apply its change on top of itself.
 * Errors: NotFoundError for 404/NoSuchKey; StoreError(retryable) for throttling, 5xx and
 * network failures (the RetryingChunkManager wrapper retries them); StoreError otherwise.
 */
export class S3ChunkManager implements ChunkManager {
  readonly url: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: Minio.Client;
  private readonly gate: Semaphore;
  private readonly multipartThresholdBytes: number;
  private readonly partBytes: number;
  private bucketReady?: Promise<void>;
  private readonly createBucket: boolean;
  private readonly gcs: boolean;
  /** SigV4 over the payload's SHA-256 (plain HTTP with keys), else Content-MD5 and TLS. */
  private readonly signPayload: boolean;

  constructor(options: S3Options) {
    const endpoint = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(options.endpoint) ? options.endpoint : `${options.tls === false ? 'http' : 'https'}://${options.endpoint}`);
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
      throw new UsageError(`S3 endpoint must be http:// or https://, got ${options.endpoint}`);
    }
    const useSSL = endpoint.protocol === 'https:';
    this.bucket = options.bucket;
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.url = options.url ?? `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
    this.client = new Minio.Client({
      endPoint: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : useSSL ? 443 : 80,
      useSSL,
      region: options.region ?? 'us-east-1',
      accessKey: options.accessKey ?? '',
      secretKey: options.secretKey ?? '',
      sessionToken: options.sessionToken,
      pathStyle: options.pathStyle ?? !/amazonaws\.com$/.test(endpoint.hostname),
      retryOptions: { disableRetry: true },
      transport: idleTimeoutTransport(useSSL ? https : http, options.requestIdleTimeoutMs ?? S3_REQUEST_IDLE_TIMEOUT_MS_DEFAULT) as never,
    });
    this.gate = new Semaphore(options.concurrency ?? S3_REQUESTS_IN_FLIGHT_DEFAULT);
    this.multipartThresholdBytes = options.multipartThresholdBytes ?? S3_MULTIPART_THRESHOLD_BYTES_DEFAULT;
    this.partBytes = Math.max(S3_PART_BYTES_MIN, options.partBytes ?? S3_PART_BYTES_DEFAULT);
    this.createBucket = options.createBucket ?? true;
    this.gcs = options.gcs ?? endpoint.hostname === 'storage.googleapis.com';
    this.signPayload = !useSSL && Boolean(options.accessKey && options.secretKey);
  }

  /**
   * `s3://bucket/prefix?endpoint=http://127.0.0.1:7480&region=us-east-1&pathStyle=true`
   * (`gs://bucket/prefix` → endpoint https://storage.googleapis.com). Keys from the query
   * (`accessKey`, `secretKey`; `tls=false` for a scheme-less endpoint; `pathStyle=false` for
   * virtual-host addressing) or the environment: S3_ACCESS_KEY/S3_SECRET_KEY,
   * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (GCS: GCS_ACCESS_KEY/GCS_SECRET_KEY
   * first); endpoint from S3_ENDPOINT, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL when not in
   * the URL, else AWS in the region (S3_REGION, AWS_REGION, AWS_DEFAULT_REGION; us-east-1).
   */
  static async fromUrl(url: URL, env: NodeJS.ProcessEnv = process.env): Promise<S3ChunkManager> {
    const gcs = url.protocol === 'gs:';
    const q = url.searchParams;
    const bucket = decodeURIComponent(url.hostname);
    if (!bucket) throw new UsageError(`store URL ${url.href} names no bucket`);
    const region = q.get('region') ?? env.S3_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (gcs ? 'auto' : 'us-east-1');
    const endpoint = q.get('endpoint')
      ?? (gcs ? env.GCS_ENDPOINT ?? 'https://storage.googleapis.com' : env.S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? `https://s3.${region}.amazonaws.com`);
    const pathStyle = q.get('pathStyle');
    const tls = q.get('tls');
    return new S3ChunkManager({
      endpoint,
      tls: tls === null ? undefined : tls !== 'false',
      bucket,
      prefix: decodeURIComponent(url.pathname),
      region,
      accessKey: q.get('accessKey') ?? (gcs ? env.GCS_ACCESS_KEY : undefined) ?? env.S3_ACCESS_KEY ?? env.AWS_ACCESS_KEY_ID,
      secretKey: q.get('secretKey') ?? (gcs ? env.GCS_SECRET_KEY : undefined) ?? env.S3_SECRET_KEY ?? env.AWS_SECRET_ACCESS_KEY,
      sessionToken: env.AWS_SESSION_TOKEN,
      pathStyle: pathStyle === null ? undefined : pathStyle !== 'false',
      concurrency: q.get('concurrency') ? Number(q.get('concurrency')) : undefined,
      gcs: gcs || undefined,
      url: `${url.protocol}//${bucket}${url.pathname.replace(/\/+$/, '')}`,
    });
  }

  private objectName(key: string): string {
    validateKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private error(error: unknown, key: string, op: string, status?: number): Error {
    if (error instanceof NotFoundError || error instanceof StoreError || error instanceof UsageError || error instanceof AlreadyExistsError) return error;
    const e = error as { code?: string; message?: string; statusCode?: number; name?: string };
    const code = e.code ?? '';
    status ??= e.statusCode;
    if (code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchObject') return new NotFoundError(this.url, key);
    if (code === 'NoSuchBucket') return new StoreError(this.url, key, op, `bucket ${this.bucket} does not exist`, 404, false, { cause: error });
    const retryable = RETRYABLE_CODES.has(code) || (status !== undefined && RETRYABLE_STATUS.has(status))
      || /socket hang up|ECONNRESET|ECONNREFUSED|timed? ?out/i.test(e.message ?? '');
    const message = e.message || (status !== undefined ? `HTTP ${status}` : String(error));
    return new StoreError(this.url, key, op, `${code ? `${code}: ` : ''}${message}`, status, retryable, { cause: error });
  }

  private async call<T>(key: string, op: string, fn: () => Promise<T>): Promise<T> {
    const context: { status?: number } = {};
    try {
      return await lastStatus.run(context, () => this.gate.run(fn));
    } catch (error) {
      throw this.error(error, key, op, context.status !== undefined && context.status >= 400 ? context.status : undefined);
    }
  }

  private ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      if (!this.createBucket) return;
      try {
        if (!(await this.client.bucketExists(this.bucket))) await this.client.makeBucket(this.bucket);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'BucketAlreadyOwnedByYou' || code === 'BucketAlreadyExists') return;
        this.bucketReady = undefined;
        throw this.error(error, '', 'createBucket');
      }
    })();
    return this.bucketReady;
  }

  async get(key: string): Promise<Uint8Array> {
    const name = this.objectName(key);
    return this.call(key, 'get', async () => readAll(await this.client.getObject(this.bucket, name)));
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const name = this.objectName(key);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new StoreError(this.url, key, 'getRange', `invalid range ${offset}+${length}`);
    }
    if (length === 0) {
      const size = await this.size(key);
      if (offset > size) throw new StoreError(this.url, key, 'getRange', `range ${offset}+0 outside object of ${size} bytes`);
      return new Uint8Array(0);
    }
    const bytes = await this.call(key, 'getRange', async () => {
      try {
        return await readAll(await this.client.getPartialObject(this.bucket, name, offset, length));
      } catch (error) {
        if ((error as { code?: string }).code === 'InvalidRange') {
          throw new StoreError(this.url, key, 'getRange', `range ${offset}+${length} outside the object`, 416);
        }
        throw error;
      }
    });
    if (bytes.length !== length) {
      throw new StoreError(this.url, key, 'getRange', `range ${offset}+${length} outside object (got ${bytes.length} bytes)`);
    }
    return bytes;
  }

  getRanges(key: string, ranges: readonly ByteRange[]): Promise<Uint8Array[]> {
    if (ranges.length === 1) return this.getRange(key, ranges[0]!.offset, ranges[0]!.length).then((b) => [b]);
    return fetchCoalesced(ranges, (r) => this.getRange(key, r.offset, r.length));
  }

  async size(key: string): Promise<number> {
    const name = this.objectName(key);
    return this.call(key, 'size', async () => (await this.client.statObject(this.bucket, name)).size);
  }

  exists(key: string): Promise<boolean> {
    return existsBySize(this, key);
  }

  async put(key: string, bytes: Uint8Array, options: PutOptions = {}): Promise<void> {
    const name = this.objectName(key);
    await this.ensureBucket();
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Conditional creates are single-part whatever their size: Ceph RGW ignores If-None-Match
    // on CompleteMultipartUpload, so a multipart create could silently overwrite a winner.
    // (A single PUT takes up to 5 GiB, more than a Buffer holds; manifests are kilobytes.)
    if (!options.ifAbsent && bytes.length > this.multipartThresholdBytes) return this.putMultipart(key, name, body);
    const conditions: Record<string, string> = options.ifAbsent ? { 'If-None-Match': '*', ...(this.gcs ? { 'x-goog-if-generation-match': '0' } : {}) } : {};
    try {
      await this.call(key, 'put', async () => {
        try {
          await this.putSingle(name, body, conditions);
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (options.ifAbsent && code === 'PreconditionFailed') throw new AlreadyExistsError(this.url, key);
          // AWS: another conditional write to the key was in flight; nobody may have won yet.
          if (code === 'ConditionalRequestConflict') throw new StoreError(this.url, key, 'put', 'a concurrent conditional write was in progress', 409, true, { cause: error });
          throw error;
        }
      });
    } catch (error) {
      if (error instanceof AlreadyExistsError && (await holdsExactly(this, key, bytes))) return;
      throw error;
    }
  }

  /**
   * One PUT request, whatever the size. Not minio's putObject: above its part size (64 MiB)
   * that switches to a multipart upload of its own, where RGW would drop If-None-Match.
   */
  private async putSingle(name: string, body: Buffer, conditions: Record<string, string>): Promise<void> {
    const headers: Record<string, string | number> = { ...conditions, 'Content-Length': body.length };
    if (!this.signPayload) headers['Content-MD5'] = createHash('md5').update(body).digest('base64');
    const sha256 = this.signPayload ? createHash('sha256').update(body).digest('hex') : '';
    const res = await this.client.makeRequestStreamAsync({ method: 'PUT', bucketName: this.bucket, objectName: name, headers }, body, sha256, [200], '');
    for await (const _ of res) { /* drain: frees the socket */ }
  }

  private async putMultipart(key: string, name: string, body: Buffer): Promise<void> {
    const uploadId = await this.call(key, 'put', () => this.client.initiateNewMultipartUpload(this.bucket, name, {}));
    try {
      const parts = Array.from({ length: Math.ceil(body.length / this.partBytes) }, (_, i) => i);
      const etags = await mapLimit(parts, S3_PARTS_IN_FLIGHT, (i) => this.call(key, 'put', async () => {
        const part = body.subarray(i * this.partBytes, Math.min(body.length, (i + 1) * this.partBytes));
        const r = await this.client.uploadPart({ bucketName: this.bucket, objectName: name, uploadID: uploadId, partNumber: i + 1, headers: {} }, part);
        return { part: i + 1, etag: r.etag };
      }));
      await this.call(key, 'put', () => this.client.completeMultipartUpload(this.bucket, name, uploadId, etags));
    } catch (error) {
      await this.gate.run(() => this.client.abortMultipartUpload(this.bucket, name, uploadId)).catch(() => {});
      throw error;
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    const recursive = options.recursive ?? true;
    const full = this.prefix ? `${this.prefix}/${prefix}` : prefix;
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    const keys = await this.call(prefix, 'list', () => new Promise<string[]>((resolve, reject) => {
      const out: string[] = [];
      const stream = this.client.listObjectsV2(this.bucket, full, recursive, '');
      stream.on('data', (item: { name?: string; prefix?: string }) => {
        const name = item.name ?? item.prefix;
        if (name !== undefined) out.push(name.slice(strip));
      });
      stream.on('error', (error: unknown) => {
        if ((error as { code?: string }).code === 'NoSuchBucket') resolve([]);
        else reject(error);
      });
      stream.on('end', () => resolve(out));
    }));
    return [...new Set(keys)].sort(compareKeys);
  }

  async delete(keys: readonly string[]): Promise<void> {
    const names = keys.map((k) => this.objectName(k));
    if (this.gcs) {
      // GCS's XML API has no multi-object delete: one DELETE per key (a missing key is fine).
      await mapLimit(keys, GCS_DELETES_IN_FLIGHT, (key, i) => this.call(key, 'delete', () => this.client.removeObject(this.bucket, names[i]!)).catch((error) => {
        if (!(error instanceof NotFoundError)) throw error;
      }));
      return;
    }
    for (let i = 0; i < names.length; i += S3_DELETE_KEYS_MAX) {
      const batch = names.slice(i, i + S3_DELETE_KEYS_MAX);
      const result = await this.call(keys[i] ?? '', 'delete', () => this.client.removeObjects(this.bucket, batch));
      const failed = (result as { Code?: string; Key?: string; Message?: string }[]).filter((r) => r && r.Code && r.Code !== 'NoSuchKey');
      if (failed.length) {
        const key = keys[i + batch.indexOf(failed[0]!.Key ?? '')] ?? failed[0]!.Key ?? '';
        throw new StoreError(this.url, key, 'delete', `${failed.length} of ${batch.length} keys not deleted, first: ${failed[0]!.Code}: ${failed[0]!.Message ?? ''}`);
      }
    }
  }

  async close(): Promise<void> {}
}

/**
 * The minio client sets no timeout of its own: a server that stops answering would hang a
 * request forever. This transport destroys any request (and its response) idle for
 * `idleMs`, failing it with ETIMEDOUT, which the retry layer treats as retryable.
 */
function idleTimeoutTransport(base: typeof http | typeof https, idleMs: number) {
  return {
    request(options: http.RequestOptions, callback: (res: http.IncomingMessage) => void): http.ClientRequest {
      const context = lastStatus.getStore();
      const req = base.request(options, (res) => {
        if (context) context.status = res.statusCode;
        if (res.statusCode !== undefined && RETRYABLE_STATUS.has(res.statusCode)) res.resume();
        callback(res);
      });
      req.setTimeout(idleMs, () => {
        req.destroy(Object.assign(new Error(`no response for ${idleMs} ms`), { code: 'ETIMEDOUT' }));
      });
      return req;
    },
  };
}

async function readAll(stream: Readable): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const part of stream) {
    parts.push(part as Buffer);
    length += (part as Buffer).length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
