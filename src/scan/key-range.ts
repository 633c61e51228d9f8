import type { RecordBatch } from 'apache-arrow';
import { compareStrings } from '../format/index.js';
import { utf8VectorAt } from '../format/utf8.js';
import type { ChunkEntry, ChunkKey } from '../core/types.js';
import { ownEntry } from './plan.js';

/**
 * Whether two chunks may hold a row of the same (series, time): the duplicate policies need
 * it exactly enough not to merge (or compact) chunks that merely overlap in time. A chunk is
 * sorted by series then time, so its rows lie between its first and last (series, time)
 * (ChunkEntry.keys): chunks cut from one sorted run (one flush, one import spill, one
 * compaction) have disjoint ranges even where their time spans and tag lists overlap.
 * Without recorded keys (chunks written before them), the time spans and tag lists decide.
 */

/** The first and last (series, time) of a batch sorted by series then time. */
export function keyRangeOf(batch: RecordBatch, tags: readonly string[], time: string): ChunkEntry['keys'] {
  const n = batch.numRows;
  if (n === 0) return undefined;
  const keyAt = (i: number): ChunkKey => {
    const values = tags.map((tag) => {
      const data = batch.getChild(tag)?.data[0];
      if (!data || !data.getValid(i) || !data.dictionary) return null;
      return utf8VectorAt(data.dictionary, (data.values as Int32Array)[i]!) ?? null;
    });
    return { tags: values, time: String((batch.getChild(time)!.data[0]!.values as BigInt64Array)[i]!) };
  };
  return { first: keyAt(0), last: keyAt(n - 1) };
}

/** Series then time order; the null tag first (as chunks sort it). */
export function compareKeys(a: ChunkKey, b: ChunkKey): number {
  for (let k = 0; k < a.tags.length; k++) {
    const x = a.tags[k] ?? null, y = b.tags[k] ?? null;
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    return compareStrings(x, y);
  }
  const s = BigInt(a.time), t = BigInt(b.time);
  return s < t ? -1 : s > t ? 1 : 0;
}

/** Whether chunks `a` and `b` may share a (series, time) (see the module comment). */
export function mayShareKeys(a: ChunkEntry, b: ChunkEntry, tags: readonly string[]): boolean {
  if (a.partition !== b.partition) return false;
  if (BigInt(a.timeMax) < BigInt(b.timeMin) || BigInt(b.timeMax) < BigInt(a.timeMin)) return false;
  const listsMeet = tags.every((tag) => {
    const x = ownEntry(a.tagValues, tag), y = ownEntry(b.tagValues, tag);
    if (!x || !y) return true;
    const set = new Set(x);
    return y.some((v) => set.has(v));
  });
  if (!listsMeet) return false;
  const ka = a.keys, kb = b.keys;
  if (!ka || !kb || ka.first.tags.length !== tags.length || kb.first.tags.length !== tags.length) return true;
  return compareKeys(ka.first, kb.last) <= 0 && compareKeys(kb.first, ka.last) <= 0;
}

/**
 * The chunks of `entries` that may share a (series, time) with another one of them, grouped
 * (connected components of mayShareKeys, each in `entries` order); chunks sharing with none
 * are left out.
 */
export function sharingClusters(entries: readonly ChunkEntry[], tags: readonly string[]): ChunkEntry[][] {
  const parent = entries.map((_, i) => i);
  const root = (i: number): number => { while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!; return i; };
  // Sorted by time span start, a chunk can only meet those whose span is still open.
  const order = entries.map((_, i) => i).sort((x, y) => {
    const d = BigInt(entries[x]!.timeMin) - BigInt(entries[y]!.timeMin);
    return d < 0n ? -1 : d > 0n ? 1 : x - y;
  });
  const shared = new Set<number>();
  let open: number[] = [];
  for (const i of order) {
    const e = entries[i]!;
    open = open.filter((j) => BigInt(entries[j]!.timeMax) >= BigInt(e.timeMin));
    for (const j of open) {
      if (!mayShareKeys(entries[j]!, e, tags)) continue;
      shared.add(i); shared.add(j);
      parent[root(i)] = root(j);
    }
    open.push(i);
  }
  const groups = new Map<number, ChunkEntry[]>();
  entries.forEach((e, i) => {
    if (!shared.has(i)) return;
    const r = root(i);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = []));
    g.push(e);
  });
  return [...groups.values()];
}
