import type { ByteRange, ChunkManager, ListOptions, PutOptions } from './chunk-manager.js';

/** Default byte budget of the read cache (CacheOptions.bytesMax, OpenStoreOptions.cacheBytesMax): 256 MiB. */
export const CACHE_BYTES_DEFAULT = 256 * 1024 * 1024;

export interface CacheOptions {
  /** Bytes of cached objects and ranges kept at most. Default CACHE_BYTES_DEFAULT (256 MiB). */
  bytesMax?: number;
  /** Objects larger than this are not cached whole. Default 1/8 of the budget. */
  entryBytesMax?: number;
}

/**
 * A byte-budget LRU read cache over another store: whole objects (manifests) and ranges
 * (footers, column regions) by (key, offset, length). Chunks and manifest versions are
 * immutable once written, so a cached range can only go stale by a put or delete through
 * this same wrapper, which invalidates the key. Sizes are cached too (one fewer request per
 * chunk open). Listing is never cached: it is how writers discover new versions.
 */
export class CachingChunkManager implements ChunkManager {
  readonly url: string;
  private readonly bytesMax: number;
  private readonly entryBytesMax: number;
  private readonly entries = new Map<string, Uint8Array>();
  private readonly sizes = new Map<string, number>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  /** Present when the inner store offers it (ChunkManager.gcTemp). */
  readonly gcTemp?: (olderThanMs: number) => Promise<number>;

  constructor(readonly inner: ChunkManager, options: CacheOptions = {}) {
    this.url = inner.url;
    this.bytesMax = options.bytesMax ?? CACHE_BYTES_DEFAULT;
    this.entryBytesMax = options.entryBytesMax ?? Math.floor(this.bytesMax / 8);
    const gcTemp = inner.gcTemp?.bind(inner);
    if (gcTemp) this.gcTemp = gcTemp;
  }

  private lookup(id: string): Uint8Array | undefined {
    const hit = this.entries.get(id);
    if (hit) {
      this.entries.delete(id);
      this.entries.set(id, hit);
      this.hits++;
    } else {
      this.misses++;
    }
    return hit;
  }

  private remember(id: string, bytes: Uint8Array): void {
    if (bytes.length > this.entryBytesMax || this.entries.has(id)) return;
    this.entries.set(id, bytes);
    this.bytes += bytes.length;
    while (this.bytes > this.bytesMax) {
      const [oldest, value] = this.entries.entries().next().value as [string, Uint8Array];
      this.entries.delete(oldest);
      this.bytes -= value.length;
    }
  }

  private invalidate(key: string): void {
    this.sizes.delete(key);
    for (const [id, value] of this.entries) {
      if (id === key || id.startsWith(`${key}\u0000`)) {
        this.entries.delete(id);
        this.bytes -= value.length;
      }
    }
  }

  /** Bytes currently cached. */
  get cachedBytes(): number {
    return this.bytes;
  }

  async get(key: string): Promise<Uint8Array> {
    const hit = this.lookup(key);
    if (hit) return hit.slice();
    const bytes = await this.inner.get(key);
    this.remember(key, bytes.slice());
    this.sizes.set(key, bytes.length);
    return bytes;
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return (await this.getRanges(key, [{ offset, length }]))[0]!;
  }

  async getRanges(key: string, ranges: readonly ByteRange[]): Promise<Uint8Array[]> {
    const out: (Uint8Array | undefined)[] = ranges.map((r) => {
      const whole = this.entries.get(key);
      if (whole && r.offset >= 0 && r.offset + r.length <= whole.length) { this.hits++; return whole.slice(r.offset, r.offset + r.length); }
      return this.lookup(`${key}\u0000${r.offset}\u0000${r.length}`)?.slice();
    });
    const missing = ranges.map((r, i) => ({ r, i })).filter(({ i }) => out[i] === undefined);
    if (missing.length) {
      const fetched = await this.inner.getRanges(key, missing.map(({ r }) => r));
      missing.forEach(({ r, i }, j) => {
        out[i] = fetched[j]!;
        this.remember(`${key}\u0000${r.offset}\u0000${r.length}`, fetched[j]!.slice());
      });
    }
    return out as Uint8Array[];
  }

  async size(key: string): Promise<number> {
    const known = this.sizes.get(key);
    if (known !== undefined) return known;
    const size = await this.inner.size(key);
    this.sizes.set(key, size);
    return size;
  }

  exists(key: string): Promise<boolean> {
    return this.sizes.has(key) ? Promise.resolve(true) : this.inner.exists(key);
  }

  async put(key: string, bytes: Uint8Array, options?: PutOptions): Promise<void> {
    this.invalidate(key);
    await this.inner.put(key, bytes, options);
  }

  list(prefix: string, options?: ListOptions): Promise<string[]> {
    return this.inner.list(prefix, options);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.invalidate(key);
    await this.inner.delete(keys);
  }

  close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
    return this.inner.close();
  }
}
