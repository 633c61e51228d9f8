import type { ChunkManager } from './chunk-manager.js';
import { LocalChunkManager } from './local.js';
import { MemoryChunkManager } from './memory.js';
import { RetryingChunkManager } from './retry.js';
import { CachingChunkManager } from './cache.js';
import { DiskCacheChunkManager } from './disk-cache.js';
import { UsageError } from '../errors.js';
import { fileURLToPath } from 'node:url';

export interface OpenStoreOptions {
  /** Read-cache budget for remote stores (footers, manifests, hot ranges). Default 256 MiB. */
  cacheBytesMax?: number;
  env?: NodeJS.ProcessEnv;
  /** Local directory caching remote chunk files (also `?diskCache=/path` in the URL, or env QUIVER_DISK_CACHE). */
  diskCacheDir?: string;
  /** Byte budget of the disk cache (also `?diskCacheBytes=`). Default 4 GiB. */
  diskCacheBytesMax?: number;
  /** Wraps the backend itself, under retries and cache (e.g. a CountingChunkManager that sees real requests). */
  instrument?: (store: ChunkManager) => ChunkManager;
}

const memoryStores = new Map<string, MemoryChunkManager>();

/**
 * Opens a store by URL:
 * - a path or `file:///abs/path` → a local directory (created on first write);
 * - `memory://name` → an in-process store shared by every open of the same name;
 * - `s3://bucket/prefix?endpoint=http://127.0.0.1:7480&region=us-east-1` → S3 / MinIO / Ceph;
 * - `gs://bucket/prefix` → GCS through its S3-compatible XML API (HMAC keys);
 * - `az://container/prefix` → Azure Blob.
 * Remote stores are wrapped in retries with backoff, an optional local-disk cache of chunk
 * files, and a byte-budget memory cache (footers, manifests, hot ranges).
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<ChunkManager> {
  const env = options.env ?? process.env;
  const instrument = options.instrument ?? ((store: ChunkManager) => store);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (url.length === 0) throw new UsageError('store URL is empty');
    return instrument(new LocalChunkManager(url));
  }
  if (scheme === 'file') return instrument(new LocalChunkManager(fileURLToPath(url)));
  if (scheme === 'memory') {
    const name = url.slice('memory://'.length) || 'default';
    let store = memoryStores.get(name);
    if (!store) memoryStores.set(name, (store = new MemoryChunkManager(name)));
    return store;
  }
  let remote: ChunkManager;
  const parsed = new URL(url);
  if (scheme === 's3' || scheme === 'gs') {
    const { S3ChunkManager } = await import('./s3.js');
    remote = await S3ChunkManager.fromUrl(parsed, env);
  } else if (scheme === 'az') {
    const { AzureChunkManager } = await import('./azure.js');
    remote = await AzureChunkManager.fromUrl(parsed, env);
  } else {
    throw new UsageError(`unknown store URL scheme ${JSON.stringify(scheme)} in ${url} (expected a path, file://, memory://, s3://, gs:// or az://)`);
  }
  let store: ChunkManager = new RetryingChunkManager(instrument(remote));
  const diskDir = options.diskCacheDir ?? parsed.searchParams.get('diskCache') ?? env.QUIVER_DISK_CACHE;
  if (diskDir) {
    const budget = options.diskCacheBytesMax ?? (parsed.searchParams.get('diskCacheBytes') ? Number(parsed.searchParams.get('diskCacheBytes')) : undefined);
    store = new DiskCacheChunkManager(store, { dir: diskDir, ...(budget !== undefined ? { bytesMax: budget } : {}) });
  }
  return new CachingChunkManager(store, { bytesMax: options.cacheBytesMax ?? 256 * 1024 * 1024 });
}
