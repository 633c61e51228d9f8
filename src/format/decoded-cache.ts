import type { DecodedPage } from './types.js';

/**
 * Decoded pages kept for repeated reads, least recently used first out, within a byte budget.
 *
 * Chunks are immutable and their keys unique, so (chunk, column, page) names a page's
 * decoded values forever: no invalidation. Entries are shared, read-only typed arrays (a
 * scan hands them to Arrow without a copy; every consumer in Quiver builds new arrays
 * rather than writing into its input). A second identical query then reads no bytes and
 * decodes nothing; repeated dashboards over hot data run at aggregation speed.
 *
 * Pages decoded together into one contiguous column buffer stay views of it, so a cached
 * multi-page column still joins into one Arrow buffer without a copy.
 */
export class DecodedPageCache {
  private readonly entries = new Map<string, { page: DecodedPage; bytes: number }>();
  private used = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly bytesMax: number) {}

  static key(chunk: string, column: number, page: number): string {
    return `${chunk}\u0000${column}\u0000${page}`;
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): DecodedPage | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) { this.misses++; return undefined; }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.page;
  }

  set(key: string, page: DecodedPage): void {
    const bytes = decodedBytes(page);
    if (bytes > this.bytesMax) return;
    const old = this.entries.get(key);
    if (old) { this.used -= old.bytes; this.entries.delete(key); }
    this.entries.set(key, { page, bytes });
    this.used += bytes;
    for (const [k, e] of this.entries) {
      if (this.used <= this.bytesMax) break;
      this.entries.delete(k);
      this.used -= e.bytes;
      this.evictions++;
    }
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }
}

/** Memory a decoded page holds (its views' bytes; a dictionary is the reader's, not the page's). */
export function decodedBytes(page: DecodedPage): number {
  const v = page.values;
  let bytes = page.validity?.byteLength ?? 0;
  switch (v.kind) {
    case 'bool': bytes += v.bits.byteLength; break;
    case 'utf8': bytes += v.offsets.byteLength + v.data.byteLength; break;
    case 'fixed': bytes += v.data.byteLength; break;
    default: bytes += v.values.byteLength;
  }
  return bytes + 64;
}
