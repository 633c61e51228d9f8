/**
 * Store request counts and errors for /metrics: a ChunkManager wrapper counting each
 * operation and each failure (what `quiver serve` opens its store through), and the gauges
 * that read it, the decoded-page cache and the decode pool when scraped.
 */
import type { ByteRange, ChunkManager, ListOptions, PutOptions } from '../chunk-manager/chunk-manager.js';
import type { Quiver } from '../quiver.js';
import type { Metrics } from './metrics.js';
import { MANIFEST_DIR } from '../table/manifest.js';

const MANIFEST_KEY = new RegExp(`/${MANIFEST_DIR}/\\d+\\.json$`);
const OPERATION = /"operation":"([a-z-]+)"/;

type Op = 'get' | 'getRange' | 'size' | 'exists' | 'put' | 'list' | 'delete';
const OPS: readonly Op[] = ['get', 'getRange', 'size', 'exists', 'put', 'list', 'delete'];

export class MeteredChunkManager implements ChunkManager {
  readonly url: string;
  readonly requests = new Map<Op, number>(OPS.map((op) => [op, 0]));
  readonly errors = new Map<Op, number>(OPS.map((op) => [op, 0]));
  bytesRead = 0;
  bytesWritten = 0;
  /** Commits (manifest versions put) by operation: append (a flush), compact, import, create… */
  readonly commits = new Map<string, number>();

  constructor(readonly inner: ChunkManager) {
    this.url = inner.url;
  }

  private async count<T>(op: Op, n: number, run: () => Promise<T>): Promise<T> {
    this.requests.set(op, this.requests.get(op)! + n);
    try {
      return await run();
    } catch (error) {
      this.errors.set(op, this.errors.get(op)! + 1);
      throw error;
    }
  }

  async get(key: string) { const out = await this.count('get', 1, () => this.inner.get(key)); this.bytesRead += out.length; return out; }
  async getRange(key: string, offset: number, length: number) { const out = await this.count('getRange', 1, () => this.inner.getRange(key, offset, length)); this.bytesRead += out.length; return out; }
  async getRanges(key: string, ranges: readonly ByteRange[]) {
    const out = await this.count('getRange', ranges.length, () => this.inner.getRanges(key, ranges));
    for (const part of out) this.bytesRead += part.length;
    return out;
  }
  size(key: string) { return this.count('size', 1, () => this.inner.size(key)); }
  exists(key: string) { return this.count('exists', 1, () => this.inner.exists(key)); }
  async put(key: string, bytes: Uint8Array, options?: PutOptions) {
    await this.count('put', 1, () => this.inner.put(key, bytes, options));
    this.bytesWritten += bytes.length;
    if (MANIFEST_KEY.test(key)) {
      // A committed version: its operation is among the manifest's first keys (manifest.ts).
      const operation = OPERATION.exec(Buffer.from(bytes.subarray(0, 4096)).toString('utf8'))?.[1] ?? 'unknown';
      this.commits.set(operation, (this.commits.get(operation) ?? 0) + 1);
    }
  }
  list(prefix: string, options?: ListOptions) { return this.count('list', 1, () => this.inner.list(prefix, options)); }
  delete(keys: readonly string[]) { return this.count('delete', 1, () => this.inner.delete(keys)); }
  close() { return this.inner.close(); }
}

/** Registers the store, cache and chunk-read gauges of `db`. */
export function registerStoreMetrics(metrics: Metrics, db: Quiver): void {
  const store = db.store instanceof MeteredChunkManager ? db.store : undefined;
  if (store) {
    metrics.gauge('quiver_store_requests_total', 'Store requests by operation (getRange counts each range; chunk reads are get and getRange).', () => OPS.map((op) => [{ op }, store.requests.get(op)!]), 'counter');
    metrics.gauge('quiver_store_errors_total', 'Store requests that failed (after retries), by operation.', () => OPS.map((op) => [{ op }, store.errors.get(op)!]), 'counter');
    metrics.gauge('quiver_store_read_bytes_total', 'Bytes read from the store.', () => store.bytesRead, 'counter');
    metrics.gauge('quiver_store_written_bytes_total', 'Bytes written to the store.', () => store.bytesWritten, 'counter');
    metrics.gauge('quiver_commits_total', 'Table versions this server committed, by operation (append: a flush of buffered points; compact: a compaction; create).', () => [...store.commits].map(([operation, n]) => [{ operation }, n]), 'counter');
    metrics.gauge('quiver_chunk_reads_total', 'Chunk reads from the store (get and getRange requests).', () => store.requests.get('get')! + store.requests.get('getRange')!, 'counter');
  }
  const cache = db.decodedCache;
  metrics.gauge('quiver_decoded_cache_hits_total', 'Decoded-page cache hits.', () => cache?.hits ?? 0, 'counter');
  metrics.gauge('quiver_decoded_cache_misses_total', 'Decoded-page cache misses.', () => cache?.misses ?? 0, 'counter');
  metrics.gauge('quiver_decoded_cache_hit_ratio', 'Decoded-page cache hits / (hits + misses) since start (NaN before the first lookup).', () => {
    const total = (cache?.hits ?? 0) + (cache?.misses ?? 0);
    return total === 0 ? NaN : cache!.hits / total;
  });
  metrics.gauge('quiver_decoded_cache_bytes', 'Bytes of decoded pages held by the cache.', () => cache?.bytes ?? 0);
}
