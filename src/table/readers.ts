import { randomBytes } from 'node:crypto';
import { openChunk, type ChunkReader } from '../format/index.js';
import type { ChunkEntry, TableOptions, TableSchema } from '../core/types.js';
import { storeSource } from './store-source.js';
import { entryOf } from './manifest.js';
import { alteredReader } from './alter-read.js';
import { checkChunkBytes } from './verify.js';
import type { TableContext } from './table.js';
import type { BufferedChunk } from './write-buffer.js';
import { encodeChunk } from './chunk-encode.js';
import type { DuplicateCount } from './import-duplicates.js';

/** Reading and writing a table's chunk files. */

/** Open chunk readers (footers) kept per store. */
export const READERS_CACHED_MAX = 512;

/**
 * The reader of a stored chunk as `schema` sees it (alter-read.ts), from the context's LRU of
 * opened footers (opened on a miss).
 */
export async function openTableReader(ctx: TableContext, entry: ChunkEntry, schema: TableSchema): Promise<ChunkReader> {
  return alteredReader(await openStored(ctx, entry), schema);
}

function openStored(ctx: TableContext, entry: ChunkEntry): Promise<ChunkReader> {
  const cache = ctx.readers;
  let reader = cache.get(entry.key);
  if (reader) { cache.delete(entry.key); cache.set(entry.key, reader); return reader; }
  const { decoded, decodePool } = ctx;
  // Queries and scans use the page statistics of the columns they touch: the rest stay unvalidated.
  reader = openChunk(storeSource(ctx.store, entry.key, entry.bytes), undefined, { lazyPages: true }).then((r) => {
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

function chunkId(): string {
  // Time-sortable: milliseconds in base 36 (fixed width), then randomness.
  return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
}

/**
 * Encodes and stores chunks (not yet visible: the caller commits their entries). The caller
 * holds a lease operation from before this call until its commit. Each chunk is checked from
 * its bytes before the put (checkChunkBytes); duplicates are folded and the schema revision
 * recorded (encodeChunk); `duplicates` receives each chunk's count of rows that met their point.
 */
export async function writeTableChunks(ctx: TableContext, table: string, shape: { schema: TableSchema; options: TableOptions }, chunks: BufferedChunk[], out: ChunkEntry[], duplicates?: DuplicateCount[]): Promise<ChunkEntry[]> {
  const { schema, options } = shape;
  for (const chunk of chunks) {
    const { bytes, footer, duplicates: met, keys } = encodeChunk(table, schema, options, chunk);
    duplicates?.push(met);
    const key = `${table}/chunks/${chunk.partition}/${chunkId()}.qvr`;
    if (ctx.checkChunks !== false) await checkChunkBytes(key, bytes, footer);
    await ctx.store.put(key, bytes);
    out.push({ ...entryOf(key, chunk.partition, footer, bytes.length), ...(keys ? { keys } : {}), ...(chunk.revision ? { schemaRevision: chunk.revision } : {}) });
  }
  return out;
}
