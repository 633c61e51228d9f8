/**
 * Keeping rollups up to date (rollup.ts), per partition of the source.
 *
 * A rollup's manifest records, per source partition, the source version its rows were computed
 * from (`rollupMarks`). A partition is stale when a chunk of it was committed after that version
 * (its `seq`, the version that committed its rows, is higher: a flush, an import; a compaction's
 * output keeps its inputs' seq, so compaction alone changes nothing), or when the rollup holds
 * rows of it the source no longer has. Each stale partition is recomputed from the source (a
 * query pinned to one source version, over the partition minus its expired part) and its rollup
 * rows in the rollup are replaced (a rollup partition, one step coarser than the source's, is
 * rewritten with its other rows carried over); all of one refresh land in one commit of the
 * rollup (operation 'rollup'), so a crash leaves the rollup as it was, still stale, and the
 * next refresh redoes it. Memory holds one rollup partition's aggregates at a time.
 *
 * Buckets the source's retention has expired are kept as they are: the rollup outlives raw data.
 * A partition partly expired is recomputed from the first whole bucket after the cutoff; its
 * earlier rollup rows are carried over unchanged.
 */
import { ConflictError, QuiverError } from '../errors.js';
import { makeBucketer } from '../scan/bucket.js';
import { convertTime, nextPartitionKey, partitionOf, partitionStart } from '../core/time.js';
import type { ChunkEntry } from '../core/types.js';
import { dropExpired, runsWhere } from './retention.js';
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

/**
 * The source partitions whose rollup rows are out of date: a chunk committed after the
 * partition's mark, or a mark for a partition the source no longer holds (its chunks were
 * removed, and not by retention: the rollup may hold rows of it the source does not;
 * recomputing it drops its mark).
 */
export function stalePartitions(source: Table, rollup: Table): string[] {
  const marks = rollup.currentManifest.rollupMarks ?? {};
  const newest = new Map<string, number>();
  for (const c of source.currentManifest.chunks) newest.set(c.partition, Math.max(newest.get(c.partition) ?? 0, c.seq ?? 0));
  const stale = new Set<string>();
  for (const [p, seq] of newest) if (seq > (Object.hasOwn(marks, p) ? marks[p]! : -1)) stale.add(p);
  // Partitions the source's retention wholly expired keep their rollup rows: nothing to do.
  for (const p of Object.keys(marks)) if (!newest.has(p) && clipStart(source, rollup, p) < partitionStart(nextPartitionKey(p), source.schema.timeUnit)) stale.add(p);
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

/**
 * Recomputes the stale partitions (and `force`d ones) of one rollup, in one commit. Each rollup
 * partition (coarser than the source's) is rewritten once: its rows outside the recomputed
 * ranges carried over, the recomputed ranges queried from the source.
 */
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
    // Times here are in the table's unit; a bigint bound of scan and query is epoch nanoseconds.
    const ns = (t: bigint) => convertTime(t, unit, 'ns');
    const present = new Set(source.currentManifest.chunks.map((c) => c.partition));
    // Per source partition: its new mark (undefined: the source holds nothing of it, drop the mark).
    const marks = new Map<string, number | undefined>();
    // Per rollup partition: the source ranges [clip, end) to recompute.
    const rewrite = new Map<string, { from: bigint; to: bigint }[]>();
    for (const p of stale) {
      marks.set(p, present.has(p) ? version : undefined);
      const start = partitionStart(p, unit);
      const range = { from: clipStart(source, rollup, p), to: partitionStart(nextPartitionKey(p), unit) };
      if (range.from >= range.to) continue; // wholly expired in the source: the rollup keeps what it has
      const rp = partitionOf(start, unit, rollup.options.partition);
      rewrite.set(rp, [...(rewrite.get(rp) ?? []), range]);
    }
    const added: ChunkEntry[] = [];
    const removed: string[] = [];
    const hold = rollup.leases.begin();
    try {
      for (const [rp, ranges] of rewrite) {
        const buffer = rollup.newBuffer();
        const inRange = (t: bigint) => ranges.some((r) => t >= r.from && t < r.to);
        const chunks = rollup.currentManifest.chunks.filter((c) => c.partition === rp);
        if (chunks.length) {
          // The rollup partition's other rows are carried over as they are.
          for await (const batch of rollup.scan({ from: ns(partitionStart(rp, unit)), to: ns(partitionStart(nextPartitionKey(rp), unit)), version: rollup.version })) {
            for (const run of runsWhere(batch, rollup.schema.time, (t) => !inRange(t)).runs) buffer.appendBatch(run.batch);
          }
        }
        for (const r of ranges) {
          const fresh = await source.query({ from: ns(r.from), to: ns(r.to), every: spec.every, by: spec.by, agg, version, rollups: false });
          for (const batch of fresh.batches) if (batch.numRows) buffer.appendBatch(batch);
        }
        removed.push(...chunks.map((c) => c.key));
        await rollup.writeChunks(buffer.drain(rollup.options.partition, rollup.options.rowsPerChunkMax), added);
      }
      await rollup.commitEdit('rollup', (next) => {
        const merged = Object.assign(Object.create(null) as Record<string, number>, next.rollupMarks);
        for (const [p, v] of marks) {
          if ((merged[p] ?? -1) > version) throw new ConflictError(`rollup ${rollup.name}: partition ${p} was recomputed from a newer source version meanwhile`);
          if (v === undefined) delete merged[p];
          else merged[p] = v;
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
