/**
 * Keeping rollups up to date (rollup.ts), per partition of the source.
 *
 * A rollup's manifest records, per source partition, the source version its rows were computed
 * from (`rollupMarks`). A partition is stale when a chunk of it was committed after that version
 * (its `seq`, the version that committed its rows, is higher: a flush, an import; a compaction's
 * output keeps its inputs' seq, so compaction alone changes nothing), or when the rollup holds
 * rows of it the source no longer has. Each stale partition is recomputed from the source (a
 * query pinned to one source version, over the partition minus its expired part) and its rollup
 * chunks are replaced; all of one refresh land in one commit of the rollup (operation
 * 'rollup'), so a crash leaves the rollup as it was, still stale, and the next refresh redoes
 * it. Memory holds one partition's aggregates at a time.
 *
 * Buckets the source's retention has expired are kept as they are: the rollup outlives raw data.
 * A partition partly expired is recomputed from the first whole bucket after the cutoff; its
 * earlier rollup rows are carried over unchanged.
 */
import { ConflictError, QuiverError } from '../errors.js';
import { makeBucketer } from '../scan/bucket.js';
import { nextPartitionKey, partitionStart } from '../core/time.js';
import type { ChunkEntry } from '../core/types.js';
import { dropExpired } from './retention.js';
import { CommitOutcomeUnknownError } from './manifest.js';
import { openTable, rollupSpecOf, storedAggs } from './rollup.js';
import type { Table } from './table.js';

/** Attempts of one refresh against concurrent refreshes of the same rollup. */
const REFRESH_ATTEMPTS_MAX = 4;

export interface RollupRefresh {
  rollup: string;
  /** Source partitions recomputed. */
  partitions: string[];
  /** The rollup's version after the refresh (unchanged when nothing was stale). */
  version: number;
}

/** Brings every rollup of `source` up to date; `partitions` are recomputed even when not stale (after a delete). */
export async function maintainRollups(source: Table, options: { partitions?: readonly string[] } = {}): Promise<RollupRefresh[]> {
  const out: RollupRefresh[] = [];
  for (const name of source.currentManifest.rollups ?? []) {
    const rollup = await openTable(source.context, name);
    out.push(await refreshRollup(source, rollup, options.partitions));
  }
  return out;
}

/** The source partitions whose rollup rows are out of date (see the module comment). */
export function stalePartitions(source: Table, rollup: Table): string[] {
  const m = source.currentManifest;
  const marks = rollup.currentManifest.rollupMarks ?? {};
  const newest = new Map<string, number>();
  for (const c of m.chunks) newest.set(c.partition, Math.max(newest.get(c.partition) ?? 0, c.seq ?? 0));
  const stale = new Set<string>();
  for (const [p, seq] of newest) {
    const mark = Object.hasOwn(marks, p) ? marks[p]! : -1;
    if (seq > mark) stale.add(p);
  }
  // Rollup rows after the source's cutoff in a partition the source no longer holds.
  for (const c of rollup.currentManifest.chunks) {
    if (newest.has(c.partition) || stale.has(c.partition)) continue;
    if (BigInt(c.timeMax) >= clipStart(source, rollup, c.partition)) stale.add(c.partition);
  }
  return [...stale].sort();
}

/** The first time of partition `p` a recomputation covers: its start, or the first whole bucket after the source's cutoff. */
function clipStart(source: Table, rollup: Table, p: string): bigint {
  const unit = source.schema.timeUnit;
  const start = partitionStart(p, unit);
  const cutoff = source.retentionCutoff();
  if (cutoff === undefined || cutoff <= start) return start;
  const bucket = makeBucketer(rollupSpecOf(rollup).every, unit).locate(cutoff);
  return bucket.start === cutoff ? cutoff : bucket.end;
}

/** Recomputes the stale partitions (and `force`d ones) of one rollup, in one commit. */
export async function refreshRollup(source: Table, rollup: Table, force: readonly string[] = []): Promise<RollupRefresh> {
  const spec = rollupSpecOf(rollup);
  if (spec.source !== source.name) throw new QuiverError(`${rollup.name} rolls up ${spec.source}, not ${source.name}`);
  const agg = Object.fromEntries(storedAggs(spec));
  for (let attempt = 0; ; attempt++) {
    await Promise.all([source.refresh(), rollup.refresh()]);
    const stale = [...new Set([...stalePartitions(source, rollup), ...force])].sort();
    if (stale.length === 0) return { rollup: rollup.name, partitions: [], version: rollup.version };
    const version = source.version;
    const unit = source.schema.timeUnit;
    const marks: Record<string, number> = Object.create(null);
    const added: ChunkEntry[] = [];
    const removed: string[] = [];
    const hold = rollup.leases.begin();
    try {
      for (const p of stale) {
        const start = partitionStart(p, unit);
        const end = partitionStart(nextPartitionKey(p), unit);
        const clip = clipStart(source, rollup, p);
        marks[p] = version;
        if (clip >= end) continue; // wholly expired in the source: the rollup keeps what it has
        const buffer = rollup.newBuffer();
        // Buckets before the source's cutoff: the rollup's rows, carried over.
        if (clip > start) for await (const batch of rollup.scan({ from: start, to: clip, version: rollup.version })) buffer.appendBatch(batch);
        const fresh = await source.query({ from: clip, to: end, every: spec.every, by: spec.by, agg, version, rollups: false });
        for (const batch of fresh.batches) if (batch.numRows) buffer.appendBatch(batch);
        removed.push(...rollup.currentManifest.chunks.filter((c) => c.partition === p).map((c) => c.key));
        await rollup.writeChunks(buffer.drain(rollup.options.partition, rollup.options.rowsPerChunkMax), added);
      }
      await rollup.commitEdit('rollup', (next) => {
        const merged = Object.assign(Object.create(null) as Record<string, number>, next.rollupMarks);
        for (const [p, v] of Object.entries(marks)) {
          if ((merged[p] ?? -1) > v) throw new ConflictError(`rollup ${rollup.name}: partition ${p} was recomputed from a newer source version meanwhile`);
          merged[p] = v;
        }
        next.rollupMarks = merged;
      }, { addChunks: added, ...(removed.length ? { removeChunks: removed } : {}) });
      await dropExpired(rollup);
      return { rollup: rollup.name, partitions: stale, version: rollup.version };
    } catch (error) {
      // Our chunks were never committed: delete them (best effort; vacuum collects the rest).
      if (added.length && !(error instanceof CommitOutcomeUnknownError)) await rollup.store.delete(added.map((e) => e.key)).catch(() => {});
      if (!(error instanceof ConflictError) || attempt + 1 >= REFRESH_ATTEMPTS_MAX) throw error;
    } finally {
      await hold.end();
    }
  }
}
