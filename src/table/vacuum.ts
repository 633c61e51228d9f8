/**
 * Vacuum: expires old manifest versions and deletes the chunk files only they referenced.
 *
 * Every commit writes a full manifest snapshot and never deletes a chunk, so old versions
 * stay readable (time travel) and a compaction's replaced chunks stay on the store. Vacuum
 * reclaims that space:
 *
 * - Version 1 (the table's creation record, no chunks) and the latest version are always kept;
 *   so are the `retainVersions` newest versions and every version that was still the latest
 *   less than `olderThanMs` ago: a reader that loaded it then may still be scanning its chunks.
 * - Expired manifests are deleted first (oldest first), then chunks that no kept version
 *   references. Both steps only delete what is unreachable, so a crash midway leaves a
 *   consistent table and a re-run finishes the job.
 * - Orphans (chunks of failed or aborted imports, never in any manifest) older than
 *   `olderThanMs` go too, as `gcOrphans` does, except those a live writer lease covers
 *   (lease.ts: chunks written since the lease's `since` by a writer that has not committed
 *   yet, however long it has been writing). Expired leases are deleted.
 * - Order: list the chunk files, then read the leases, then load the manifests. A listed
 *   chunk that is in no manifest loaded afterwards was not committed by then, so its writer
 *   still held the lease it took before writing it when the leases were read.
 * - Temp files of puts a killed process left (a local store's `.tmp-*`, ChunkManager.gcTemp)
 *   go once older than `tempOlderThanMs`, anywhere in the store (they belong to no table and
 *   nothing reads them). Not under `olderThanMs`: a grace of 0 there is common (collect
 *   everything now) and would delete the temp file of a put in flight, failing that write.
 */
import { UsageError } from '../errors.js';
import { loadManifest, MANIFEST_DIR, manifestKey, type Manifest } from './manifest.js';
import { LEASE_CLOCK_SKEW_MS, readLeases } from './lease.js';
import type { Table } from './table.js';
import { dropExpired } from './retention.js';

export interface VacuumOptions {
  /** Keep at least this many newest versions (time travel). Default 1 (the latest). */
  retainVersions?: number;
  /** Grace period: keep versions that were the latest, and orphans written, less than this long ago. Default 1 hour. */
  olderThanMs?: number;
  /**
   * Temp files of unfinished puts are removed once older than this (default TEMP_GRACE_MS, 1
   * hour). A put's temp file lives while one object is written and synced (seconds, even for
   * the largest manifest on a slow disk); an hour is far beyond that, and beyond the clock
   * difference of machines sharing a network file system, so no put in flight loses its file.
   */
  tempOlderThanMs?: number;
  /** Plan only: report what would be deleted (temp files are neither counted nor removed). */
  dryRun?: boolean;
  /** The clock (tests). */
  now?: number;
}

export interface VacuumResult {
  /** Versions whose manifests were (or would be) deleted. */
  expiredVersions: number[];
  /** Chunk keys deleted (or to delete): referenced only by expired versions, or orphans. */
  deletedChunks: string[];
  keptVersions: number;
  /** Live writer leases seen: orphans written since the oldest one's start were kept. */
  liveLeases: number;
  /** Keys of expired writer leases (deleted unless dryRun). */
  expiredLeases: string[];
  /** Chunks wholly older than the table's retention, dropped (or to drop) by a commit first (retention.ts). */
  retentionDropped: string[];
  /** Temp files of unfinished puts removed from the store (0 in a dry run, or on a store whose puts leave none). */
  tempFilesRemoved: number;
}

/** Default grace period of temp files of unfinished puts (VacuumOptions.tempOlderThanMs). */
export const TEMP_GRACE_MS = 3_600_000;

const VERSION_OF_KEY = /(\d{20})\.json$/;
const CHUNK_TIME_OF_KEY = /\/([0-9a-z]{9})-[0-9a-f]+\.qvr$/;

export async function vacuumTable(table: Table, options: VacuumOptions = {}): Promise<VacuumResult> {
  const retain = options.retainVersions ?? 1;
  const graceMs = options.olderThanMs ?? 3_600_000;
  if (!Number.isInteger(retain) || retain < 1) throw new UsageError(`vacuum: retainVersions must be an integer ≥ 1, got ${retain}`);
  if (Number.isNaN(graceMs)) throw new UsageError('vacuum: olderThanMs is NaN');
  const tempGraceMs = options.tempOlderThanMs ?? TEMP_GRACE_MS;
  if (!(tempGraceMs >= 0)) throw new UsageError(`vacuum: tempOlderThanMs must be ≥ 0, got ${tempGraceMs}`);
  // Expired rows leave the table first (a commit), so the files of a grace period of 0 go now.
  await table.refresh();
  const retentionDropped = await dropExpired(table, { dryRun: options.dryRun === true });
  const now = options.now ?? Date.now();
  const cutoff = now - graceMs;
  const store = table.store;
  const chunkKeys = await store.list(`${table.name}/chunks/`);
  const leases = await readLeases(store, table.name, now);
  // Chunks written at or after this (by the writer's clock) may belong to a live writer.
  const protectedSince = Math.min(...leases.live.map((l) => l.since - LEASE_CLOCK_SKEW_MS));
  await table.refresh();
  const latest = table.version;

  const versions = (await store.list(`${table.name}/${MANIFEST_DIR}/`))
    .map((k) => Number(VERSION_OF_KEY.exec(k)?.[1]))
    .filter((v) => v > 0 && v <= latest)
    .sort((a, b) => a - b);
  const manifests = new Map<number, Manifest>();
  for (const v of versions) manifests.set(v, v === latest ? table.currentManifest : await loadManifest(store, table.name, v));

  // A version stopped being the latest when its successor was committed.
  const expired: number[] = [];
  for (let i = 0; i < versions.length; i++) {
    const v = versions[i]!;
    // Version 1 expires like any other: table creation refuses a name with any version (createManifest).
    if (v === latest || versions.length - i <= retain) continue;
    const successor = manifests.get(versions[i + 1]!)!;
    if (Date.parse(successor.committedAt) <= cutoff) expired.push(v);
  }
  const expiredSet = new Set(expired);
  const live = new Set<string>();
  for (const [v, m] of manifests) if (!expiredSet.has(v)) for (const c of m.chunks) live.add(c.key);
  const referenced = new Set<string>();
  for (const m of manifests.values()) for (const c of m.chunks) referenced.add(c.key);

  const deletedChunks: string[] = [];
  for (const key of chunkKeys) {
    if (live.has(key)) continue;
    if (referenced.has(key)) { deletedChunks.push(key); continue; }
    // Never in any manifest: an orphan once it is older than the grace period and no live
    // lease covers it (an import in flight writes chunks long before it commits).
    const id = CHUNK_TIME_OF_KEY.exec(key)?.[1];
    const written = id === undefined ? undefined : parseInt(id, 36);
    if (written !== undefined && written <= cutoff && written < protectedSince) deletedChunks.push(key);
  }
  if (!options.dryRun) {
    for (const v of expired) await store.delete([manifestKey(table.name, v)]);
    if (deletedChunks.length) await store.delete(deletedChunks);
    if (leases.expired.length) await store.delete(leases.expired);
  }
  const tempFilesRemoved = options.dryRun ? 0 : (await store.gcTemp?.(tempGraceMs)) ?? 0;
  return { expiredVersions: expired, deletedChunks, keptVersions: versions.length - expired.length, liveLeases: leases.live.length, expiredLeases: leases.expired, retentionDropped, tempFilesRemoved };
}
