import { BlobServiceClient, StorageSharedKeyCredential, AnonymousCredential, type ContainerClient } from '@azure/storage-blob';
import { existsBySize, type ByteRange, type ChunkManager, type ListOptions, type PutOptions } from './chunk-manager.js';
import { AlreadyExistsError, assert, NotFoundError, StoreError, UsageError } from '../errors.js';
import { validateKey } from './keys.js';
import { compareKeys } from './memory.js';
import { Semaphore, mapLimit } from './semaphore.js';
import { fetchCoalesced } from './ranges.js';
import { holdsExactly } from './conditional-create.js';

/** Requests in flight at once per store (AzureOptions.concurrency). */
export const AZURE_REQUESTS_IN_FLIGHT_DEFAULT = 16;
/** Objects above this many bytes are uploaded as blocks (AzureOptions.blockUploadThresholdBytes). */
export const AZURE_BLOCK_UPLOAD_THRESHOLD_BYTES_DEFAULT = 64 * 1024 * 1024;
/** Block size of a block upload, and blocks of one upload in flight at once. */
export const AZURE_BLOCK_BYTES = 16 * 1024 * 1024;
export const AZURE_BLOCKS_IN_FLIGHT = 4;
/** One try of one call gives up after this long (env QUIVER_AZURE_TRY_TIMEOUT_MS). */
export const AZURE_TRY_TIMEOUT_MS_DEFAULT = 30_000;

export interface AzureOptions {
  container: ContainerClient;
  prefix?: string;
  concurrency?: number;
  /** Objects above this are uploaded as parallel blocks. Default 64 MiB. */
  blockUploadThresholdBytes?: number;
  url?: string;
}

/** Deletes per batch request (the Blob service's limit). */
const DELETE_BATCH_KEYS_MAX = 256;

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'REQUEST_SEND_ERROR', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * An Azure Blob container as a ChunkManager, on @azure/storage-blob (Azure, Azurite).
 *
 * - Conditional create uploads with `ifNoneMatch: '*'`; Azure answers 409 BlobAlreadyExists
 *   (not 412), and both mean the key exists, unless it holds exactly our bytes: a retry of
 *   this very write whose first response was lost. Always a single Put Blob (never blocks),
 *   so the condition applies to the one request that creates the blob.
 * - Large unconditional puts go as parallel blocks committed by one Put Block List; blocks of
 *   a failed upload are never visible and the service discards them (uncommitted blocks
 *   expire after 7 days): there is no upload to abort, unlike S3 multipart.
 * - Ranged reads coalesce neighbouring ranges (ranges.ts); deletes go 256 per batch request
 *   (one request per key where the credential cannot batch, e.g. a service SAS).
 * - Every request passes one semaphore (`concurrency`, default 16).
 * The SDK's own retries are off: the RetryingChunkManager wrapper owns retry policy for
 * every store alike.
 */
export class AzureChunkManager implements ChunkManager {
  readonly url: string;
  readonly prefix: string;
  private readonly container: ContainerClient;
  private readonly gate: Semaphore;
  private readonly blockUploadThresholdBytes: number;
  private containerReady?: Promise<void>;
  /** False once the service refused a batch request: delete key by key from then on. */
  private batchDelete = true;

  constructor(options: AzureOptions) {
    this.container = options.container;
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.url = options.url ?? `az://${this.container.containerName}${this.prefix ? `/${this.prefix}` : ''}`;
    this.gate = new Semaphore(options.concurrency ?? AZURE_REQUESTS_IN_FLIGHT_DEFAULT);
    this.blockUploadThresholdBytes = options.blockUploadThresholdBytes ?? AZURE_BLOCK_UPLOAD_THRESHOLD_BYTES_DEFAULT;
  }

  /**
   * `az://container/prefix[?endpoint=…]`. Credentials from the environment:
   * AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY (account
   * key) or AZURE_STORAGE_SAS_TOKEN; the endpoint defaults to https://ACCOUNT.blob.core.windows.net.
   */
  static async fromUrl(url: URL, env: NodeJS.ProcessEnv = process.env): Promise<AzureChunkManager> {
    const containerName = decodeURIComponent(url.hostname);
    if (!containerName) throw new UsageError(`store URL ${url.href} names no container`);
    // One try per call (our RetryingChunkManager owns retries), each bounded in time so a
    // server that stops answering fails the call instead of hanging it.
    const options = { retryOptions: { maxTries: 1, tryTimeoutInMs: Number(env.QUIVER_AZURE_TRY_TIMEOUT_MS ?? AZURE_TRY_TIMEOUT_MS_DEFAULT) } };
    let service: BlobServiceClient;
    const account = url.searchParams.get('account') ?? env.AZURE_STORAGE_ACCOUNT;
    const endpoint = url.searchParams.get('endpoint') ?? (account ? `https://${account}.blob.core.windows.net` : undefined);
    if (env.AZURE_STORAGE_CONNECTION_STRING && !url.searchParams.get('endpoint')) {
      service = BlobServiceClient.fromConnectionString(env.AZURE_STORAGE_CONNECTION_STRING, options);
    } else if (endpoint && account && env.AZURE_STORAGE_KEY) {
      service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(account, env.AZURE_STORAGE_KEY), options);
    } else if (endpoint && env.AZURE_STORAGE_SAS_TOKEN) {
      service = new BlobServiceClient(`${endpoint}?${env.AZURE_STORAGE_SAS_TOKEN.replace(/^\?/, '')}`, new AnonymousCredential(), options);
    } else {
      throw new UsageError('az:// stores need AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN');
    }
    return new AzureChunkManager({
      container: service.getContainerClient(containerName),
      prefix: decodeURIComponent(url.pathname),
      url: `az://${containerName}${url.pathname.replace(/\/+$/, '')}`,
    });
  }

  private blobName(key: string): string {
    validateKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private error(error: unknown, key: string, op: string): Error {
    if (error instanceof NotFoundError || error instanceof StoreError || error instanceof UsageError || error instanceof AlreadyExistsError) return error;
    const e = error as { statusCode?: number; code?: string; message?: string; details?: { errorCode?: string } };
    const code = e.details?.errorCode ?? e.code ?? '';
    if (e.statusCode === 404 || code === 'BlobNotFound' || code === 'ContainerNotFound') return new NotFoundError(this.url, key);
    const status = e.statusCode;
    const retryable = (status !== undefined && (status === 408 || status === 429 || status >= 500)) || NETWORK_CODES.has(code) || NETWORK_CODES.has(e.code ?? '');
    return new StoreError(this.url, key, op, `${code ? `${code}: ` : ''}${(e.message ?? String(error)).split('\n')[0]}`, status, retryable, { cause: error });
  }

  private async call<T>(key: string, op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.gate.run(fn);
    } catch (error) {
      throw this.error(error, key, op);
    }
  }

  private ensureContainer(): Promise<void> {
    this.containerReady ??= this.call('', 'createContainer', async () => { await this.container.createIfNotExists(); })
      .catch((error) => { this.containerReady = undefined; throw error; });
    return this.containerReady;
  }

  async get(key: string): Promise<Uint8Array> {
    const blob = this.container.getBlobClient(this.blobName(key));
    return this.call(key, 'get', async () => {
      const r = await blob.download(0);
      assert(r.readableStreamBody, 'a download in Node has a stream body');
      return readAll(r.readableStreamBody);
    });
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const blob = this.container.getBlobClient(this.blobName(key));
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new StoreError(this.url, key, 'getRange', `invalid range ${offset}+${length}`);
    }
    const size = length === 0 ? await this.size(key) : -1;
    if (length === 0) {
      if (offset > size) throw new StoreError(this.url, key, 'getRange', `range ${offset}+0 outside object of ${size} bytes`);
      return new Uint8Array(0);
    }
    const bytes = await this.call(key, 'getRange', async () => {
      try {
        const r = await blob.download(offset, length);
        assert(r.readableStreamBody, 'a download in Node has a stream body');
        return readAll(r.readableStreamBody);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 416) {
          throw new StoreError(this.url, key, 'getRange', `range ${offset}+${length} outside the object`, 416);
        }
        throw error;
      }
    });
    if (bytes.length !== length) throw new StoreError(this.url, key, 'getRange', `range ${offset}+${length} outside object (got ${bytes.length} bytes)`);
    return bytes;
  }

  getRanges(key: string, ranges: readonly ByteRange[]): Promise<Uint8Array[]> {
    if (ranges.length === 1) return this.getRange(key, ranges[0]!.offset, ranges[0]!.length).then((b) => [b]);
    return fetchCoalesced(ranges, (r) => this.getRange(key, r.offset, r.length));
  }

  async size(key: string): Promise<number> {
    const blob = this.container.getBlobClient(this.blobName(key));
    return this.call(key, 'size', async () => (await blob.getProperties()).contentLength ?? 0);
  }

  exists(key: string): Promise<boolean> {
    return existsBySize(this, key);
  }

  async put(key: string, bytes: Uint8Array, options: PutOptions = {}): Promise<void> {
    const blob = this.container.getBlockBlobClient(this.blobName(key));
    await this.ensureContainer();
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      await this.call(key, 'put', async () => {
        try {
          if (!options.ifAbsent && body.length > this.blockUploadThresholdBytes) {
            await blob.uploadData(body, { blockSize: AZURE_BLOCK_BYTES, concurrency: AZURE_BLOCKS_IN_FLIGHT });
          } else {
            await blob.upload(body, body.length, options.ifAbsent ? { conditions: { ifNoneMatch: '*' } } : {});
          }
        } catch (error) {
          const status = (error as { statusCode?: number }).statusCode;
          if (options.ifAbsent && (status === 409 || status === 412)) throw new AlreadyExistsError(this.url, key);
          throw error;
        }
      });
    } catch (error) {
      // Our own earlier attempt landed and its response was lost: that is a win (see s3.ts).
      if (error instanceof AlreadyExistsError && (await holdsExactly(this, key, bytes))) return;
      throw error;
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    const recursive = options.recursive ?? true;
    const full = this.prefix ? `${this.prefix}/${prefix}` : prefix;
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    return this.call(prefix, 'list', async () => {
      const out: string[] = [];
      try {
        if (recursive) {
          for await (const blob of this.container.listBlobsFlat({ prefix: full })) out.push(blob.name.slice(strip));
        } else {
          for await (const item of this.container.listBlobsByHierarchy('/', { prefix: full })) out.push(item.name.slice(strip));
        }
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return [];
        throw error;
      }
      return out.sort(compareKeys);
    });
  }

  async delete(keys: readonly string[]): Promise<void> {
    const names = keys.map((k) => this.blobName(k));
    if (this.batchDelete && keys.length > 1) {
      const batches: number[] = [];
      for (let i = 0; i < keys.length; i += DELETE_BATCH_KEYS_MAX) batches.push(i);
      try {
        await mapLimit(batches, 4, (start) => this.deleteBatch(keys.slice(start, start + DELETE_BATCH_KEYS_MAX), names.slice(start, start + DELETE_BATCH_KEYS_MAX)));
        return;
      } catch (error) {
        // 400/403/501: this credential or service cannot batch; anything else is a real failure.
        if (!(error instanceof StoreError) || ![400, 403, 501].includes(error.status ?? 0) || error.key !== '(batch)') throw error;
        this.batchDelete = false;
      }
    }
    await mapLimit(keys, 16, (key, i) => this.call(key, 'delete', async () => {
      await this.container.getBlobClient(names[i]!).deleteIfExists();
    }));
  }

  private async deleteBatch(keys: readonly string[], names: readonly string[]): Promise<void> {
    const clients = names.map((n) => this.container.getBlobClient(n));
    const keyOfUrl = new Map(clients.map((c, i) => [c.url, keys[i]!]));
    const response = await this.call('(batch)', 'delete', () => this.container.getBlobBatchClient().deleteBlobs(clients));
    for (const sub of response.subResponses) {
      if (sub.status < 300 || sub.status === 404) continue;
      const key = keyOfUrl.get(sub._request.url) ?? sub._request.url;
      throw new StoreError(this.url, key, 'delete', `${sub.errorCode ?? sub.statusMessage}`, sub.status, sub.status === 429 || sub.status >= 500);
    }
  }

  async close(): Promise<void> {}
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const part of stream) {
    const b = typeof part === 'string' ? Buffer.from(part) : (part as Buffer);
    parts.push(b);
    length += b.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
