import type { ByteRange, ChunkManager, ListOptions, PutOptions } from './chunk-manager.js';
import { AlreadyExistsError, NotFoundError, StoreError } from '../errors.js';
import { validateKey } from './keys.js';

/** An in-memory ChunkManager for tests of the layers above the store, and `memory://` URLs. */
export class MemoryChunkManager implements ChunkManager {
  readonly url: string;
  private readonly objects = new Map<string, Uint8Array>();

  constructor(name = 'mem') {
    this.url = `memory://${name}`;
  }

  private object(key: string): Uint8Array {
    validateKey(key);
    const bytes = this.objects.get(key);
    if (!bytes) throw new NotFoundError(this.url, key);
    return bytes;
  }

  async get(key: string): Promise<Uint8Array> {
    return this.object(key).slice();
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const bytes = this.object(key);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length) {
      throw new StoreError(this.url, key, 'getRange', `range ${offset}+${length} outside object of ${bytes.length} bytes`);
    }
    return bytes.slice(offset, offset + length);
  }

  async getRanges(key: string, ranges: readonly ByteRange[]): Promise<Uint8Array[]> {
    return Promise.all(ranges.map((r) => this.getRange(key, r.offset, r.length)));
  }

  async size(key: string): Promise<number> {
    return this.object(key).length;
  }

  async exists(key: string): Promise<boolean> {
    validateKey(key);
    return this.objects.has(key);
  }

  async put(key: string, bytes: Uint8Array, options: PutOptions = {}): Promise<void> {
    validateKey(key);
    if (options.ifAbsent && this.objects.has(key)) throw new AlreadyExistsError(this.url, key);
    this.objects.set(key, Uint8Array.prototype.slice.call(bytes));
  }

  async list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    const recursive = options.recursive ?? true;
    const out = new Set<string>();
    for (const key of this.objects.keys()) {
      if (!key.startsWith(prefix)) continue;
      if (recursive) { out.add(key); continue; }
      const slash = key.indexOf('/', prefix.length);
      out.add(slash < 0 ? key : key.slice(0, slash + 1));
    }
    return [...out].sort(compareKeys);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) { validateKey(key); this.objects.delete(key); }
  }

  async close(): Promise<void> {}
}

/** Byte-order comparison of keys (what S3 listing returns for ASCII keys). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
