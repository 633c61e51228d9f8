import type { ByteRange, ChunkManager, ListOptions, PutOptions } from './chunk-manager.js';
import { StoreError } from '../errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included. Default 6. */
  attemptsMax?: number;
  /** First backoff ceiling. Default 50 ms. */
  delayBaseMs?: number;
  /** Backoff ceiling cap. Default 5,000 ms. */
  delayMaxMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * Retries operations that failed with a retryable StoreError (throttling, 5xx, resets,
 * timeouts) with exponential backoff and full jitter: attempt n waits a uniform random
 * time in [0, min(cap, base·2ⁿ)]. Anything else (not found, already exists, 403…)
 * surfaces at once. A conditional put is safe to retry: if the first attempt did land (its
 * response lost), the backend sees the key already holds exactly these bytes and reports
 * success (conditional-create.ts `holdsExactly`); a key holding other bytes is a real lost
 * race, AlreadyExists, which the manifest layer resolves by reloading.
 */
export class RetryingChunkManager implements ChunkManager {
  readonly url: string;
  private readonly attemptsMax: number;
  private readonly delayBaseMs: number;
  private readonly delayMaxMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(readonly inner: ChunkManager, options: RetryOptions = {}) {
    this.url = inner.url;
    this.attemptsMax = options.attemptsMax ?? 6;
    this.delayBaseMs = options.delayBaseMs ?? 50;
    this.delayMaxMs = options.delayMaxMs ?? 5_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
    const into = inner.getRangesInto?.bind(inner);
    if (into) this.getRangesInto = (key, ranges, bytes) => this.attempt(() => into(key, ranges, bytes));
    const gcTemp = inner.gcTemp?.bind(inner);
    if (gcTemp) this.gcTemp = gcTemp;
  }

  /** Present when the inner store offers it (ChunkManager.gcTemp). */
  readonly gcTemp?: (olderThanMs: number) => Promise<number>;

  /** Present when the inner store offers it (ChunkManager.getRangesInto). */
  readonly getRangesInto?: (key: string, ranges: readonly ByteRange[], into: Uint8Array) => Promise<void>;

  private async attempt<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!(error instanceof StoreError) || !error.retryable || attempt >= this.attemptsMax) throw error;
        const ceiling = Math.min(this.delayMaxMs, this.delayBaseMs * 2 ** (attempt - 1));
        await this.sleep(this.random() * ceiling);
      }
    }
  }

  get(key: string) { return this.attempt(() => this.inner.get(key)); }
  getRange(key: string, offset: number, length: number) { return this.attempt(() => this.inner.getRange(key, offset, length)); }
  getRanges(key: string, ranges: readonly ByteRange[]) { return this.attempt(() => this.inner.getRanges(key, ranges)); }
  size(key: string) { return this.attempt(() => this.inner.size(key)); }
  exists(key: string) { return this.attempt(() => this.inner.exists(key)); }
  put(key: string, bytes: Uint8Array, options?: PutOptions) { return this.attempt(() => this.inner.put(key, bytes, options)); }
  list(prefix: string, options?: ListOptions) { return this.attempt(() => this.inner.list(prefix, options)); }
  delete(keys: readonly string[]) { return this.attempt(() => this.inner.delete(keys)); }
  close() { return this.inner.close(); }
}
