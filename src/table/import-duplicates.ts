/**
 * How many rows (and field values) of an import meet a point already there: exact for the
 * whole import, in memory bounded by a page per chunk compared.
 *
 * A row of the import is a duplicate when its (series, time) is already in the table (as of
 * the version the import commits on top of) or earlier in the import; a field value is a
 * duplicate when a non-null value of its field is already there at that (series, time). Under
 * 'last' such rows replaced the earlier ones (field by field), under 'first' they were folded
 * into them, under 'keep' they are stored beside them.
 *
 * Counted in two parts:
 * - inside each written chunk, by writeChunks (scan/dedup.ts: the rows of one (series, time)
 *   sit next to each other in a chunk, sorted by series then time);
 * - across chunks: only chunks that overlap in time and may share a series can share a point.
 *   The import's chunks and the table's chunks that may overlap one of them are grouped as
 *   the scan groups them (mergeGroups), and each group of two or more is merged k ways, page
 *   by page (every chunk is sorted by series then time), counting for each (series, time) the
 *   rows and non-null values the import adds beyond the first (or all of them, when the table
 *   held the point). Under 'keep' a chunk of such a group still holds its own duplicates, so
 *   its first part is not added again.
 */
import type { RecordBatch, Data } from 'apache-arrow';
import { compareStrings, openChunk, type ChunkReader } from '../format/index.js';
import type { ChunkEntry, DuplicatePolicy } from '../core/types.js';
import { folds } from '../scan/dedup.js';
import { mergeGroups, orderChunks } from '../scan/scan.js';
import { ownEntry } from '../scan/plan.js';
import { storeSource } from './store-source.js';
import type { ChunkManager } from '../chunk-manager/chunk-manager.js';

export interface DuplicateCount {
  /** Rows whose (series, time) was already in the table or earlier in the import. */
  rows: number;
  /** Non-null field values whose field already held a value at their (series, time). */
  values: number;
}

/** Whether two chunks overlap in time and may hold a common series (every tag's value lists intersect, when both are known). */
export function mayOverlap(a: ChunkEntry, b: ChunkEntry, tags: readonly string[]): boolean {
  if (BigInt(a.timeMax) < BigInt(b.timeMin) || BigInt(b.timeMax) < BigInt(a.timeMin)) return false;
  return tags.every((tag) => {
    const x = ownEntry(a.tagValues, tag), y = ownEntry(b.tagValues, tag);
    if (!x || !y) return true;
    const set = new Set(x);
    return y.some((v) => set.has(v));
  });
}

export interface CountInput {
  store: ChunkManager;
  tags: readonly string[];
  time: string;
  policy: DuplicatePolicy | undefined;
  /** The table's chunks before the import. */
  existing: readonly ChunkEntry[];
  /** The import's chunks, and what writeChunks counted inside each. */
  added: readonly ChunkEntry[];
  inside: readonly DuplicateCount[];
}

export async function countImportDuplicates(input: CountInput): Promise<DuplicateCount> {
  const { tags, added } = input;
  const isNew = new Set(added);
  const touched = input.existing.filter((e) => added.some((a) => a.partition === e.partition && mayOverlap(e, a, tags)));
  const groups = mergeGroups(orderChunks([...touched, ...added]), tags).filter((g) => g.length > 1 && g.some((c) => isNew.has(c)));
  const merged = new Set(groups.flat());
  const total: DuplicateCount = { rows: 0, values: 0 };
  added.forEach((chunk, i) => {
    if (folds(input.policy) || !merged.has(chunk)) { total.rows += input.inside[i]?.rows ?? 0; total.values += input.inside[i]?.values ?? 0; }
  });
  for (const group of groups) {
    const part = await countGroup(input, group, isNew);
    total.rows += part.rows;
    total.values += part.values;
  }
  return total;
}

/** A chunk read page by page in its order (series then time), keys ranked in the group's tag order. */
class Cursor {
  private page = -1;
  private batch: RecordBatch | null = null;
  row = 0;
  rows = 0;
  ranks: Int32Array[] = [];
  times: BigInt64Array<ArrayBufferLike> = new BigInt64Array(0);
  /** Per field of the group (index into the group's field list): this page's data, or null. */
  fields: (Data | null)[] = [];

  constructor(readonly reader: ChunkReader, readonly isNew: boolean, private readonly remaps: (Int32Array | null)[],
              private readonly tags: readonly string[], private readonly time: string, private readonly fieldNames: readonly string[]) {}

  /** Moves to the next row; false at the end of the chunk. */
  async next(): Promise<boolean> {
    if (this.batch && ++this.row < this.rows) return true;
    const pages = this.reader.footer.pageRowStarts.length - 1;
    const present = new Set(this.reader.footer.columns.map((c) => c.name));
    while (++this.page < pages) {
      const names = [this.time, ...this.tags.filter((t) => present.has(t)), ...this.fieldNames.filter((f) => present.has(f))];
      const batch = await this.reader.read({ columns: names, pages: [this.page] });
      if (batch.numRows === 0) continue;
      this.batch = batch;
      this.rows = batch.numRows;
      this.row = 0;
      this.times = batch.getChild(this.time)!.data[0]!.values as BigInt64Array;
      this.ranks = this.tags.map((tag, k) => {
        const out = new Int32Array(this.rows).fill(-1); // the null tag first
        const remap = this.remaps[k];
        const data = batch.getChild(tag)?.data[0];
        if (!data || !remap) return out;
        const codes = data.values as Int32Array;
        for (let r = 0; r < this.rows; r++) if (validAt(data, r)) out[r] = remap[codes[r]!]!;
        return out;
      });
      this.fields = this.fieldNames.map((f) => batch.getChild(f)?.data[0] ?? null);
      return true;
    }
    this.batch = null;
    return false;
  }
}

function validAt(data: Data, i: number): boolean {
  if (!(data.nullCount > 0) || !data.nullBitmap || data.nullBitmap.length === 0) return true;
  const bit = data.offset + i;
  return ((data.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

function compareCursors(a: Cursor, b: Cursor): number {
  for (let k = 0; k < a.ranks.length; k++) {
    const d = a.ranks[k]![a.row]! - b.ranks[k]![b.row]!;
    if (d !== 0) return d;
  }
  const x = a.times[a.row]!, y = b.times[b.row]!;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A binary min-heap of cursors by their current key. */
class CursorHeap {
  readonly items: Cursor[] = [];
  push(c: Cursor): void {
    const h = this.items;
    h.push(c);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (compareCursors(h[p]!, h[i]!) <= 0) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }
  /** Restores the order after the top cursor moved on (or removes it when `done`). */
  fixTop(done: boolean): void {
    const h = this.items;
    if (done) { const last = h.pop()!; if (h.length === 0) return; h[0] = last; }
    for (let i = 0; ;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && compareCursors(h[l]!, h[m]!) < 0) m = l;
      if (r < h.length && compareCursors(h[r]!, h[m]!) < 0) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}

/** The k-way merge of one group (see the module comment). */
async function countGroup(input: CountInput, group: readonly ChunkEntry[], isNew: Set<ChunkEntry>): Promise<DuplicateCount> {
  const readers = await Promise.all(group.map((c) => openChunk(storeSource(input.store, c.key, c.bytes))));
  const keyColumns = new Set([input.time, ...input.tags]);
  const fieldNames = [...new Set(readers.flatMap((r) => r.footer.columns.map((c) => c.name).filter((n) => !keyColumns.has(n))))];
  // One rank per tag value over the group (code-point order), each chunk's codes mapped to it.
  const remaps = input.tags.map((tag) => {
    const dictionaries = readers.map((r) => r.footer.columns.find((c) => c.name === tag)?.dictionary ?? null);
    const values = [...new Set(dictionaries.flatMap((d) => d ?? []))].sort(compareStrings);
    const rank = new Map(values.map((v, i) => [v, i]));
    return dictionaries.map((d) => (d ? Int32Array.from(d, (v) => rank.get(v)!) : null));
  });
  const heap = new CursorHeap();
  for (let i = 0; i < readers.length; i++) {
    const cursor = new Cursor(readers[i]!, isNew.has(group[i]!), remaps.map((m) => m[i]!), input.tags, input.time, fieldNames);
    if (await cursor.next()) heap.push(cursor);
  }
  const count: DuplicateCount = { rows: 0, values: 0 };
  const newValues = new Int32Array(fieldNames.length);
  const oldValue = new Uint8Array(fieldNames.length);
  while (heap.items.length > 0) {
    // Every row of the smallest key, from whichever chunks hold it.
    const first = heap.items[0]!;
    const key = { ranks: first.ranks.map((r) => r[first.row]!), time: first.times[first.row]! };
    let oldRows = 0, newRows = 0;
    newValues.fill(0);
    oldValue.fill(0);
    for (;;) {
      const top = heap.items[0];
      if (!top || !sameKey(top, key)) break;
      if (top.isNew) newRows++; else oldRows++;
      top.fields.forEach((data, f) => {
        if (!data || !validAt(data, top.row)) return;
        if (top.isNew) newValues[f]!++; else oldValue[f] = 1;
      });
      heap.fixTop(!(await top.next()));
    }
    if (newRows > 0) count.rows += oldRows > 0 ? newRows : newRows - 1;
    for (let f = 0; f < fieldNames.length; f++) {
      const n = newValues[f]!;
      if (n > 0) count.values += oldValue[f] ? n : n - 1;
    }
  }
  return count;
}

function sameKey(c: Cursor, key: { ranks: number[]; time: bigint }): boolean {
  if (c.times[c.row] !== key.time) return false;
  for (let k = 0; k < key.ranks.length; k++) if (c.ranks[k]![c.row] !== key.ranks[k]) return false;
  return true;
}
