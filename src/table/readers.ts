import { openChunk, type ChunkReader } from '../format/index.js';
import type { ChunkEntry } from '../core/types.js';
import { storeSource } from './store-source.js';
import type { TableContext } from './table.js';

/** Open chunk readers (footers) kept per store. */
export const READERS_CACHED_MAX = 512;

/** The reader of a stored chunk, from the context's LRU of opened footers (opened on a miss). */
export function openTableReader(ctx: TableContext, entry: ChunkEntry): Promise<ChunkReader> {
  const cache = ctx.readers;
  let reader = cache.get(entry.key);
  if (reader) { cache.delete(entry.key); cache.set(entry.key, reader); return reader; }
  const { decoded, decodePool } = ctx;
  reader = openChunk(storeSource(ctx.store, entry.key, entry.bytes)).then((r) => {
    if (decoded) r.decodedCache = decoded;
    if (decodePool) r.decodePool = decodePool;
    return r;
  });
  reader.catch(() => cache.delete(entry.key));
  cache.set(entry.key, reader);
  const oldest = cache.keys().next();
  if (cache.size > READERS_CACHED_MAX && !oldest.done) cache.delete(oldest.value);
  return reader;
}
