import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import type { ByteRange, ChunkManager, ListOptions, PutOptions } from './chunk-manager.js';
import { lazyCrypto, LocalChunkManager } from './local.js';
import { NotFoundError } from '../errors.js';

export interface DiskCacheOptions {
  /** Directory for cached objects (created if missing). */
  dir: string;
  /** Bytes kept on disk at most; least recently used objects go first. Default 4 GiB. */
  bytesMax?: number;
  /** Only keys matching this are cached (default: chunk files, which are immutable). */
  cacheable?: (key: string) => boolean;
}

/**
 * A local-disk cache of remote objects: the first read of a cacheable key (a chunk file;
 * chunks are immutable once written) downloads it whole into `dir`, later reads are served
 * from there through mmap. Manifests and listings always go to the remote store. The cache
 * is a plain LocalChunkManager keyed by a hash of the key, so it survives restarts and is
 * safe to delete at any time.
 */
export class DiskCacheChunkManager implements ChunkManager {
  readonly url: string;
  private readonly local: LocalChunkManager;
  private readonly bytesMax: number;
  private readonly cacheable: (key: string) => boolean;
  private readonly entries = new Map<string, number>(); // cache key → bytes, in LRU order
  private bytes = 0;
  private readonly loading = new Map<string, Promise<void>>();
  hits = 0;
  misses = 0;

  constructor(readonly remote: ChunkManager, options: DiskCacheOptions) {
    this.url = remote.url;
    mkdirSync(options.dir, { recursive: true });
    this.local = new LocalChunkManager(options.dir);
    this.bytesMax = options.bytesMax ?? 4 * 1024 ** 3;
    this.cacheable = options.cacheable ?? ((key) => key.endsWith('.qvr'));
    for (const name of readdirSync(options.dir)) {
      if (!/^[0-9a-f]{40}$/.test(name)) continue;
      const size = statSync(`${options.dir}/${name}`).size;
      this.entries.set(name, size);
      this.bytes += size;
    }
  }

  private cacheKey(key: string): string {
    // node:crypto when first needed: a local store never is (README, "CLI start-up").
    return lazyCrypto().createHash('sha1').update(this.remote.url).update('\u0000').update(key).digest('hex');
  }

  /** Makes sure the object is on disk; returns its cache key, or null when not cacheable. */
  private async ensure(key: string): Promise<string | null> {
    if (!this.cacheable(key)) return null;
    const id = this.cacheKey(key);
    const size = this.entries.get(id);
    if (size !== undefined) {
      this.entries.delete(id);
      this.entries.set(id, size);
      this.hits++;
      return id;
    }
    let pending = this.loading.get(id);
    if (!pending) {
      this.misses++;
      pending = (async () => {
        const bytes = await this.remote.get(key);
        await this.local.put(id, bytes);
        this.entries.set(id, bytes.length);
        this.bytes += bytes.length;
        this.evict(id);
      })().finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    await pending;
    return id;
  }

  private evict(keep: string): void {
    for (const [id, size] of this.entries) {
      if (this.bytes <= this.bytesMax) break;
      if (id === keep) continue;
      this.entries.delete(id);
      this.bytes -= size;
      try { unlinkSync(this.local.path(id)); } catch { /* already gone */ }
    }
  }

  /** Bytes of objects cached on disk. */
  get cachedBytes(): number {
    return this.bytes;
  }

  async get(key: string): Promise<Uint8Array> {
    return this.read(key, (id) => this.local.get(id), () => this.remote.get(key));
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return this.read(key, (id) => this.local.getRange(id, offset, length), () => this.remote.getRange(key, offset, length));
  }

  async getRanges(key: string, ranges: readonly ByteRange[]): Promise<Uint8Array[]> {
    return this.read(key, (id) => this.local.getRanges(id, ranges), () => this.remote.getRanges(key, ranges));
  }

  /**
   * A read from the cached file, or from the store when the key is not cacheable. A cached
   * file gone from disk (the directory deleted, another process's cache evicting it) is
   * forgotten and fetched again, once.
   */
  private async read<T>(key: string, local: (id: string) => Promise<T>, remote: () => Promise<T>): Promise<T> {
    const id = await this.ensure(key);
    if (id === null) return remote();
    try {
      return await local(id);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      const size = this.entries.get(id);
      if (size !== undefined) { this.entries.delete(id); this.bytes -= size; }
      await this.ensure(key);
      return local(id);
    }
  }

  async size(key: string): Promise<number> {
    const id = this.cacheable(key) ? this.cacheKey(key) : null;
    const cached = id === null ? undefined : this.entries.get(id);
    if (cached !== undefined) return cached;
    return this.remote.size(key);
  }

  exists(key: string): Promise<boolean> {
    return this.remote.exists(key);
  }

  async put(key: string, bytes: Uint8Array, options?: PutOptions): Promise<void> {
    await this.remote.put(key, bytes, options);
    await this.drop(key);
  }

  list(prefix: string, options?: ListOptions): Promise<string[]> {
    return this.remote.list(prefix, options);
  }

  async delete(keys: readonly string[]): Promise<void> {
    await this.remote.delete(keys);
    for (const key of keys) await this.drop(key);
  }

  private async drop(key: string): Promise<void> {
    const id = this.cacheKey(key);
    const size = this.entries.get(id);
    if (size === undefined) return;
    this.entries.delete(id);
    this.bytes -= size;
    await this.local.delete([id]).catch((error) => { if (!(error instanceof NotFoundError)) throw error; });
  }

  /** Temp files of the cache's own interrupted downloads, and of the remote store's puts when it leaves any (ChunkManager.gcTemp). */
  async gcTemp(olderThanMs: number): Promise<number> {
    return (await this.local.gcTemp(olderThanMs)) + ((await this.remote.gcTemp?.(olderThanMs)) ?? 0);
  }

  async close(): Promise<void> {
    await this.local.close();
    await this.remote.close();
  }
}
