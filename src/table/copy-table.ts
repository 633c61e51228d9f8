import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import { mapLimit } from '../chunk-manager/semaphore.js';
import { AlreadyExistsError, QuiverError } from '../errors.js';
import { openChunk, type ChunkReader } from '../format/index.js';
import { encodeManifest, manifestKey, type Manifest } from './manifest.js';
import { storeSource } from './store-source.js';

/**
 * Copies a table (its latest version `manifest`) from `src` to `dst` (backup, restore, local ↔
 * cloud): chunks first, each checked against its checksums at the destination, then the
 * manifest, created conditionally there under its own version number, so the table appears
 * only when complete. The number is kept (not restarted at 1) because chunk seqs and tombstone
 * versions order writes by it: the copy's next commit must be newer than every copied chunk,
 * or a later write could lose to an older copied one (duplicates) and a later delete miss it.
 */
export async function copyTableTo(manifest: Manifest, src: ChunkManager, dst: ChunkManager, concurrency: number): Promise<{ table: string; chunks: number; bytes: number }> {
  const name = manifest.table;
  let bytes = 0;
  await mapLimit(manifest.chunks, concurrency, async (entry) => {
    const data = await src.get(entry.key);
    await dst.put(entry.key, data);
    const reader: ChunkReader = await openChunk(storeSource(dst, entry.key, data.length));
    const result = await reader.verify();
    if (!result.ok) throw new QuiverError(`copy of ${entry.key} to ${dst.url} failed verification: ${result.errors.map((e) => e.message).join('; ')}`);
    bytes += data.length;
  });
  const { version } = manifest;
  const copy = { ...manifest, version, parent: version === 1 ? null : version - 1, committedAt: new Date().toISOString(), operation: `copy from ${src.url} v${version}` };
  try {
    await dst.put(manifestKey(name, version), encodeManifest(copy), { ifAbsent: true });
  } catch (error) {
    if (error instanceof AlreadyExistsError) throw new QuiverError(`table ${name} already exists in ${dst.url}`);
    throw error;
  }
  return { table: name, chunks: manifest.chunks.length, bytes };
}
