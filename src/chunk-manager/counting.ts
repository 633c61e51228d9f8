import type { ByteRange, ChunkManager, ListOptions, PutOptions } from './chunk-manager.js';

export type StoreOp = 'get' | 'getRange' | 'size' | 'exists' | 'put' | 'list' | 'delete';

export interface IoStats {
  /** Requests per operation (a getRanges call counts one getRange per range asked). */
  requests: Record<StoreOp, number>;
  /** Bytes read by get/getRange(s) and written by put. */
  bytesRead: number;
  bytesWritten: number;
  /** Keys read from, with the bytes read from each. */
  keysRead: Map<string, number>;
}

/** Counts requests and bytes per operation, so tests prove pruning instead of assuming it. */
export class CountingChunkManager implements ChunkManager {
  readonly url: string;
  private counts!: IoStats;

  /** Present when the inner store offers it (ChunkManager.getRangesInto); counted as getRanges. */
  readonly getRangesInto?: (key: string, ranges: readonly ByteRange[], into: Uint8Array) => Promise<void>;

  /** Present when the inner store offers it (ChunkManager.gcTemp). */
  readonly gcTemp?: (olderThanMs: number) => Promise<number>;

  constructor(readonly inner: ChunkManager) {
    this.url = inner.url;
    this.reset();
    const gcTemp = inner.gcTemp?.bind(inner);
    if (gcTemp) this.gcTemp = gcTemp;
    const into = inner.getRangesInto?.bind(inner);
    if (into) {
      this.getRangesInto = async (key, ranges, bytes) => {
        this.counts.requests.getRange += ranges.length;
        await into(key, ranges, bytes);
        for (const r of ranges) this.read(key, r.length);
      };
    }
  }

  reset(): void {
    this.counts = {
      requests: { get: 0, getRange: 0, size: 0, exists: 0, put: 0, list: 0, delete: 0 },
      bytesRead: 0, bytesWritten: 0, keysRead: new Map(),
    };
  }

  stats(): IoStats {
    return { ...this.counts, requests: { ...this.counts.requests }, keysRead: new Map(this.counts.keysRead) };
  }

  private read(key: string, bytes: number): void {
    this.counts.bytesRead += bytes;
    this.counts.keysRead.set(key, (this.counts.keysRead.get(key) ?? 0) + bytes);
  }

  async get(key: string) {
    this.counts.requests.get++;
    const out = await this.inner.get(key);
    this.read(key, out.length);
    return out;
  }
  async getRange(key: string, offset: number, length: number) {
    this.counts.requests.getRange++;
    const out = await this.inner.getRange(key, offset, length);
    this.read(key, out.length);
    return out;
  }
  async getRanges(key: string, ranges: readonly ByteRange[]) {
    this.counts.requests.getRange += ranges.length;
    const out = await this.inner.getRanges(key, ranges);
    for (const part of out) this.read(key, part.length);
    return out;
  }
  size(key: string) { this.counts.requests.size++; return this.inner.size(key); }
  exists(key: string) { this.counts.requests.exists++; return this.inner.exists(key); }
  async put(key: string, bytes: Uint8Array, options?: PutOptions) {
    this.counts.requests.put++;
    await this.inner.put(key, bytes, options);
    this.counts.bytesWritten += bytes.length;
  }
  list(prefix: string, options?: ListOptions) { this.counts.requests.list++; return this.inner.list(prefix, options); }
  delete(keys: readonly string[]) { this.counts.requests.delete++; return this.inner.delete(keys); }
  close() { return this.inner.close(); }
}
