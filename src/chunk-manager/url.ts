import type { ChunkManager } from './chunk-manager.js';
import { LocalChunkManager } from './local.js';
import { MemoryChunkManager } from './memory.js';
import { RetryingChunkManager } from './retry.js';
import { CachingChunkManager } from './cache.js';
import { DiskCacheChunkManager } from './disk-cache.js';
import { UsageError } from '../errors.js';
import { fileURLToPath } from 'node:url';

export interface OpenStoreOptions {
  /** Read-cache budget for remote stores (footers, manifests, hot ranges). Default CACHE_BYTES_DEFAULT (256 MiB, cache.ts). */
  cacheBytesMax?: number;
  env?: NodeJS.ProcessEnv;
  /** Local directory caching remote chunk files (also `?diskCache=/path` in the URL, or env QUIVER_DISK_CACHE). */
  diskCacheDir?: string;
  /** Byte budget of the disk cache (also `?diskCacheBytes=`). Default 4 GiB. */
  diskCacheBytesMax?: number;
  /** Wraps the backend itself, under retries and cache (e.g. a CountingChunkManager that sees real requests). */
  instrument?: (store: ChunkManager) => ChunkManager;
}

/**
 * How a URL scheme opens its store. A `remote` store is wrapped by openStore in retries with
 * backoff, the optional local-disk cache of chunk files and the byte-budget memory cache
 * (its `open` returns the bare backend); a local one (a directory, memory) is returned as
 * `open` makes it.
 */
export interface StoreProvider {
  remote: boolean;
  /** Whether OpenStoreOptions.instrument wraps the store (default true; memory:// shares one store per name, never wrapped). */
  instrument?: boolean;
  /** `url` as given (e.g. `s3://bucket/prefix?endpoint=…`); `env` for credentials. */
  open(url: string, env: NodeJS.ProcessEnv): ChunkManager | Promise<ChunkManager>;
}

const memoryStores = new Map<string, MemoryChunkManager>();

/** S3 and GCS (its S3-compatible XML API). */
const s3Provider: StoreProvider = { remote: true, open: async (url, env) => (await import('./s3.js')).S3ChunkManager.fromUrl(new URL(url), env) };

/** Scheme (lower case, without `://`) → provider. Remote backends are imported on first use. */
const providers = new Map<string, StoreProvider>([
  ['file', { remote: false, open: (url) => new LocalChunkManager(fileURLToPath(url)) }],
  ['memory', { remote: false, instrument: false, open: (url) => {
    const name = url.slice('memory://'.length) || 'default';
    let store = memoryStores.get(name);
    if (!store) memoryStores.set(name, (store = new MemoryChunkManager(name)));
    return store;
  } }],
  ['s3', s3Provider],
  ['gs', s3Provider],
  ['az', { remote: true, open: async (url, env) => (await import('./azure.js')).AzureChunkManager.fromUrl(new URL(url), env) }],
]);

/**
 * Makes `scheme://…` URLs open through `provider` (docs/extending.md, "Add a store"). A scheme
 * already registered is refused: a store URL must not change meaning within a process.
 */
export function registerStore(scheme: string, provider: StoreProvider): void {
  const key = scheme.toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(key)) throw new UsageError(`store URL scheme ${JSON.stringify(scheme)} is not a URL scheme (a letter, then letters, digits, + . -)`);
  if (providers.has(key)) throw new UsageError(`store URL scheme ${key}:// is already registered`);
  providers.set(key, provider);
}

/**
 * Opens a store by URL:
 * - a path or `file:///abs/path` → a local directory (created on first write);
 * - `memory://name` → an in-process store shared by every open of the same name;
 * - `s3://bucket/prefix?endpoint=http://127.0.0.1:7480&region=us-east-1` → S3 / MinIO / Ceph;
 * - `gs://bucket/prefix` → GCS through its S3-compatible XML API (HMAC keys);
 * - `az://container/prefix` → Azure Blob;
 * - any scheme added with registerStore.
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
  const provider = providers.get(scheme);
  if (!provider) {
    const known = [...providers.keys()].map((s) => `${s}://`);
    throw new UsageError(`unknown store URL scheme ${JSON.stringify(scheme)} in ${url} (expected a path, ${known.slice(0, -1).join(', ')} or ${known[known.length - 1]})`);
  }
  const opened = await provider.open(url, env);
  const backend = provider.instrument === false ? opened : instrument(opened);
  if (!provider.remote) return backend;
  const parsed = new URL(url);
  let store: ChunkManager = new RetryingChunkManager(backend);
  const diskDir = options.diskCacheDir ?? parsed.searchParams.get('diskCache') ?? env.QUIVER_DISK_CACHE;
  if (diskDir) {
    const budget = options.diskCacheBytesMax ?? (parsed.searchParams.get('diskCacheBytes') ? Number(parsed.searchParams.get('diskCacheBytes')) : undefined);
    store = new DiskCacheChunkManager(store, { dir: diskDir, ...(budget !== undefined ? { bytesMax: budget } : {}) });
  }
  return new CachingChunkManager(store, options.cacheBytesMax !== undefined ? { bytesMax: options.cacheBytesMax } : {});
}
