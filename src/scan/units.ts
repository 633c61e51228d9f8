import type { ChunkEntry } from '../core/types.js';
import { folds } from './dedup.js';
import { sharingClusters } from './key-range.js';
import { chunkMayMatch, ownEntry, type ScanPlanInput } from './plan.js';
import { orderChunks, type ScanSource } from './scan.js';

/** The units of a scan: chunks read alone, or merge groups read together (see scanChunks). */

/**
 * Groups chunks (given in scan order, see orderChunks) that must be merged for
 * `order: 'series'`. Groups are yielded one after another (by their first chunk), so two
 * groups whose time spans overlap and that may hold a common series (for every tag, their
 * value lists — the union over their chunks — do not rule it out) must be one group: else a
 * series' later rows in the first could come out before its earlier rows in the second (a
 * chunk that overlaps none of a group's chunks can still overlap the group's span). Sweeps
 * merge such groups until none is left; each other chunk is a group of one, yielded as stored.
 */
export function mergeGroups(entries: readonly ChunkEntry[], tags: readonly string[]): ChunkEntry[][] {
  interface Group { first: number; min: bigint; max: bigint; values: (Set<string | null> | null)[]; members: number[]; merged: boolean }
  const mayShareSeries = (a: Group, b: Group) => a.values.every((x, k) => {
    const y = b.values[k]!;
    if (!x || !y) return true;
    const [small, large] = x.size <= y.size ? [x, y] : [y, x];
    for (const v of small) if (large.has(v)) return true;
    return false;
  });
  const absorb = (into: Group, from: Group) => {
    into.first = Math.min(into.first, from.first);
    if (from.min < into.min) into.min = from.min;
    if (from.max > into.max) into.max = from.max;
    into.values = into.values.map((x, k) => { const y = from.values[k]!; if (!x || !y) return null; for (const v of y) x.add(v); return x; });
    into.members.push(...from.members);
    from.merged = true;
  };
  let groups: Group[] = entries.map((e, i) => ({
    first: i, min: BigInt(e.timeMin), max: BigInt(e.timeMax), members: [i], merged: false,
    values: tags.map((t) => { const v = ownEntry(e.tagValues, t); return v ? new Set(v) : null; }),
  }));
  // One sweep by span start keeps the groups still open (span end ≥ the current start); a
  // merge widens spans and value lists, so sweep again until a sweep merges nothing.
  for (let again = true; again;) {
    again = false;
    groups.sort((a, b) => (a.min < b.min ? -1 : a.min > b.min ? 1 : a.first - b.first));
    let open: Group[] = [];
    for (const g of groups) {
      open = open.filter((o) => !o.merged && o.max >= g.min);
      let into: Group | undefined;
      for (const o of open) {
        if (!mayShareSeries(o, into ?? g)) continue;
        if (into) absorb(into, o); else { absorb(o, g); into = o; }
        again = true;
      }
      if (!into) open.push(g);
    }
    groups = groups.filter((g) => !g.merged);
  }
  return groups.sort((a, b) => a.first - b.first).map((g) => g.members.sort((a, b) => a - b).map((i) => entries[i]!));
}

/**
 * The units a scan reads, in order: each a chunk, or chunks merged by series then time. With
 * `order: 'series'`, or under a folding duplicate policy (whatever the order), the merge groups
 * (mergeGroups); a group's chunks in write order (seq, then place in the manifest: the chunks
 * of one commit are listed as written), so that ties of a merge are in write order.
 */
export function scanUnits(source: ScanSource, input: ScanPlanInput): ChunkEntry[][] {
  const entries = orderChunks(source.chunks).filter((e) => chunkMayMatch(e, input));
  const dedup = folds(source.duplicates);
  // A table without tags is one series: its overlapping chunks are merged by time.
  if (input.order !== 'series' && !dedup) return entries.map((e) => [e]);
  const groups = mergeGroups(entries, input.tags);
  if (!dedup) return groups;
  const place = new Map(source.chunks.map((c, i) => [c, i]));
  const writeOrder = (a: ChunkEntry, b: ChunkEntry) => (a.seq ?? 0) - (b.seq ?? 0) || place.get(a)! - place.get(b)!;
  return groups.map((g) => (g.length > 1 ? [...g].sort(writeOrder) : g));
}

/**
 * Chunks of `units` that may hold a (series, time) another chunk of their unit also holds
 * (key-range.ts), under a folding policy: the rows of such chunks may be folded, so their
 * pages are never answered from statistics.
 */
export function foldedChunks(source: ScanSource, units: readonly ChunkEntry[][], tags: readonly string[]): Set<ChunkEntry> {
  const out = new Set<ChunkEntry>();
  if (!folds(source.duplicates)) return out;
  for (const unit of units) if (unit.length > 1) for (const cluster of sharingClusters(unit, tags)) for (const c of cluster) out.add(c);
  return out;
}

