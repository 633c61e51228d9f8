import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import { mapLimit } from '../chunk-manager/semaphore.js';
import { AlreadyExistsError, ConflictError, QuiverError } from '../errors.js';
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
 *
 * Races at the target. A table is created by putting version 1 if absent, and a copy of
 * version N > 1 puts version N: different keys, so the copy then also claims version 1 (a
 * creation record without chunks). Whoever puts version 1 first owns the name:
 * - two copies of one version: the second's put of version N fails (already exists);
 * - two copies of different versions: the one that loses the claim withdraws its version;
 * - a table created at the target meanwhile (its version 1 first): the copy withdraws its
 *   version and fails; a creator coming after the claim finds the table (createManifest).
 * Either way the target holds one whole table, its own or the copy, and the other side an
 * error. Withdrawing is deleting the one manifest the copy put (its chunks are left to
 * vacuum as orphans: they may be the winner's, same keys). Left: a writer that commits on the
 * copy's version in the moment between its put and its withdrawal builds on a table that then
 * goes away.
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
  const operation = `copy from ${src.url} v${version}`;
  const copy = { ...manifest, version, parent: version === 1 ? null : version - 1, committedAt: new Date().toISOString(), operation };
  const key = manifestKey(name, version);
  try {
    await dst.put(key, encodeManifest(copy), { ifAbsent: true });
  } catch (error) {
    if (error instanceof AlreadyExistsError) throw new QuiverError(`table ${name} already exists in ${dst.url}`);
    throw error;
  }
  if (version > 1) {
    const claim: Manifest = { ...copy, version: 1, parent: null, operation: `${operation}: the name claimed (the copy is version ${version})`, chunks: [] };
    delete claim.deletes;
    delete claim.walMarks;
    delete claim.rollupMarks;
    const claimKey = manifestKey(name, 1);
    const claimBytes = encodeManifest(claim);
    try {
      await dst.put(claimKey, claimBytes, { ifAbsent: true });
    } catch (error) {
      // A put that failed otherwise may still have landed: our bytes there are our claim.
      const landed = !(error instanceof AlreadyExistsError) && (await dst.get(claimKey).then((there) => Buffer.compare(there, claimBytes) === 0, () => false));
      if (landed) return { table: name, chunks: manifest.chunks.length, bytes };
      await dst.delete([key]);
      if (error instanceof AlreadyExistsError) {
        throw new ConflictError(`copy of table ${name} to ${dst.url}: the table was created there by another writer during the copy (its version 1 came first); the copy's version ${version} was withdrawn, the target holds the other writer's table`);
      }
      throw error;
    }
  }
  return { table: name, chunks: manifest.chunks.length, bytes };
}
