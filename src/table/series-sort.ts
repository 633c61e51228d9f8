/**
 * The write buffer's sort: the row order by (partition, series, time) of a drain, without
 * comparing strings per row (see sortOrder).
 */
import { compareStrings } from '../format/stats.js';
import type { TimeUnit } from '../format/types.js';
import { nextPartitionKey, partitionOf, partitionStart } from '../core/time.js';
import type { PartitionBy } from '../core/types.js';
import type { TagColumn } from './buffer-columns.js';

const INT64_MAX = 2n ** 63n - 1n;

/**
 * Rows in (partition, series, time) order: `index` lists the rows, cut into series groups
 * (`groupStarts`, one more entry than groups; `representatives` holds a row of each group),
 * and partition runs of `index`.
 */
export interface SortOrder {
  index: Int32Array;
  groupStarts: Int32Array;
  representatives: Int32Array;
  runs: { partition: string; start: number; end: number }[];
}

/**
 * Partition key id of every row, and the keys (['all'] when the table is not
 * partitioned). A row inside the previous row's partition (checked on the int32 halves of
 * its time) costs two comparisons; only a row in another partition computes a key.
 */
function partitionIds(time: BigInt64Array, n: number, unit: TimeUnit, partitionBy: PartitionBy): { ids: Int32Array; keys: string[] } {
  const ids = new Int32Array(n);
  if (partitionBy === 'none') return { ids, keys: ['all'] };
  const keys: string[] = [];
  const seen = new Map<string, number>();
  const t32 = new Int32Array(time.buffer, time.byteOffset, time.length * 2);
  // The current partition's [start, end) as (signed high, unsigned low) halves; empty at first.
  let startHi = 1, startLo = 0, endHi = 0, endLo = 0;
  let id = -1;
  for (let i = 0; i < n; i++) {
    const hi = t32[2 * i + 1]!, lo = t32[2 * i]! >>> 0;
    if ((hi > startHi || (hi === startHi && lo >= startLo)) && (hi < endHi || (hi === endHi && lo < endLo))) { ids[i] = id; continue; }
    const key = partitionOf(time[i]!, unit, partitionBy);
    const known = seen.get(key);
    if (known === undefined) { id = keys.length; keys.push(key); seen.set(key, id); } else id = known;
    let start = 0n, end = INT64_MAX + 1n;
    try {
      start = partitionStart(key, unit);
      end = partitionStart(nextPartitionKey(key), unit);
    } catch { /* a key outside what Date parses (years beyond ±9999): no fast path */ }
    if (end <= INT64_MAX) {
      startHi = Number(start >> 32n); startLo = Number(BigInt.asUintN(32, start));
      endHi = Number(end >> 32n); endLo = Number(BigInt.asUintN(32, end));
    } else {
      startHi = 1; startLo = 0; endHi = 0; endLo = 0; // the last partition of the range: no fast path
    }
    ids[i] = id;
  }
  return { ids, keys };
}

/**
 * The order of the first `n` rows of `time` and `tags` by (partition, series, time).
 *
 * Without comparing strings per row: each tag's values are ranked once, then rows get a
 * dense, order-preserving series number one tag at a time (the pair (number so far, tag
 * rank) renumbered through a presence table, or a map when the pairs are too sparse for
 * one), and a counting sort over those numbers keeps buffer order within a series.
 */
export function sortOrder(time: BigInt64Array, n: number, unit: TimeUnit, tags: readonly TagColumn[], partitionBy: PartitionBy): SortOrder {
  const part = partitionIds(time, n, unit, partitionBy);
  const partRank = rankStrings(part.keys);
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = partRank[part.ids[i]!]!;
  let count = part.keys.length;
  for (const tag of tags) count = renumber(ids, count, tag.codes, rankStrings(tag.values), Math.max(1, tag.values.length));
  // Counting sort by series number (stable: buffer order within a series).
  const groupStarts = new Int32Array(count + 1);
  for (let i = 0; i < n; i++) groupStarts[ids[i]! + 1]!++;
  for (let g = 0; g < count; g++) groupStarts[g + 1]! += groupStarts[g]!;
  const position = groupStarts.slice(0, count);
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) index[position[ids[i]!]!++] = i;
  const representatives = new Int32Array(count);
  for (let g = 0; g < count; g++) representatives[g] = index[groupStarts[g]!]!;
  // Within each series, time order (already so for in-order appends; sorted otherwise).
  const t32 = new Int32Array(time.buffer, time.byteOffset, time.length * 2);
  for (let g = 0; g < count; g++) {
    const s = groupStarts[g]!;
    const e = groupStarts[g + 1]!;
    let sorted = true;
    for (let j = s + 1; j < e; j++) if (timeBefore(t32, index[j]!, index[j - 1]!)) { sorted = false; break; }
    if (!sorted) {
      const slice = Array.from(index.subarray(s, e)).sort((a, b) => (time[a]! < time[b]! ? -1 : time[a]! > time[b]! ? 1 : a - b));
      index.set(slice, s);
    }
  }
  // Partition runs (groups are partition-pure, and in partition-key order).
  const runs: { partition: string; start: number; end: number }[] = [];
  for (let g = 0; g < count;) {
    const p = part.ids[representatives[g]!]!;
    let h = g + 1;
    while (h < count && part.ids[representatives[h]!]! === p) h++;
    runs.push({ partition: part.keys[p]!, start: groupStarts[g]!, end: groupStarts[h]! });
    g = h;
  }
  return { index, groupStarts, representatives, runs };
}

/**
 * Renumbers `ids` (dense series numbers in key order, `count` of them) by the pair (id,
 * rank of the row's tag value), keeping the numbers dense and in pair order; returns the
 * new count.
 */
function renumber(ids: Int32Array, count: number, codes: Int32Array, rank: Int32Array, radix: number): number {
  const n = ids.length;
  if (count * radix <= RENUMBER_TABLE_MAX) {
    const table = new Int32Array(count * radix);
    for (let i = 0; i < n; i++) table[ids[i]! * radix + rank[codes[i]!]!] = 1;
    let next = 0;
    for (let k = 0; k < table.length; k++) if (table[k] !== 0) table[k] = ++next;
    for (let i = 0; i < n; i++) ids[i] = table[ids[i]! * radix + rank[codes[i]!]!]! - 1;
    return next;
  }
  // Too sparse for a table: number the pairs in order of appearance, then rank them. The
  // pair as one number id * radix + rank is exact while count * radix ≤ 2^53.
  if (count * radix > Number.MAX_SAFE_INTEGER) throw new RangeError(`write buffer: ${count} series × ${radix} tag values exceed the series numbering range`);
  const seen = new Map<number, number>();
  const pairs: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = ids[i]! * radix + rank[codes[i]!]!;
    let id = seen.get(key);
    if (id === undefined) { id = pairs.length; pairs.push(key); seen.set(key, id); }
    ids[i] = id;
  }
  const order = pairs.map((_, j) => j).sort((a, b) => pairs[a]! - pairs[b]!);
  const remap = new Int32Array(pairs.length);
  order.forEach((j, r) => { remap[j] = r; });
  for (let i = 0; i < n; i++) ids[i] = remap[ids[i]!]!;
  return pairs.length;
}

/** Largest presence table renumber() allocates (int32 entries: 16 MiB). */
const RENUMBER_TABLE_MAX = 1 << 22;

/** time[a] < time[b], on the int32 halves of a BigInt64Array (no BigInt per comparison). */
function timeBefore(t32: Int32Array, a: number, b: number): boolean {
  const ha = t32[2 * a + 1]!, hb = t32[2 * b + 1]!;
  return ha < hb || (ha === hb && t32[2 * a]! >>> 0 < t32[2 * b]! >>> 0);
}

/** rank[i] = position of strings[i] in code-point order (what the chunk dictionaries use), null first. */
export function rankStrings(strings: readonly (string | null)[]): Int32Array {
  const order = strings.map((_, i) => i).sort((a, b) => {
    const x = strings[a]!, y = strings[b]!;
    return x === null ? (y === null ? 0 : -1) : y === null ? 1 : compareStrings(x, y);
  });
  const rank = new Int32Array(strings.length);
  order.forEach((i, r) => { rank[i] = r; });
  return rank;
}
