/**
 * A k-way merge of chunks by (series, time), page by page: every chunk is sorted by series
 * then time, so a cursor per chunk over its pages and a heap of cursors visit every row in key
 * order, holding one decoded page per chunk (plus, for compaction, the rows consumed since the
 * last cut). Used to count an import's duplicates (import-duplicates.ts) and to compact
 * overlap clusters of any size (compact.ts).
 */
import type { Data, RecordBatch } from 'apache-arrow';
import { compareStrings, type ChunkReader } from '../format/index.js';
import { MinHeap } from '../scan/heap.js';
import { validAt } from '../scan/dedup.js';

export interface MergeInput<M> {
  reader: ChunkReader;
  /** Columns to read besides the time and tags (those the chunk lacks are skipped). */
  columns: readonly string[];
  meta: M;
}

/** A chunk read page by page in its order, keys ranked in the merge's tag order. */
export class KeyCursor<M> {
  private page = -1;
  private batch: RecordBatch | null = null;
  /** First row of the current page not yet taken (takeConsumed). */
  private mark = 0;
  private consumed: RecordBatch[] = [];
  row = 0;
  private rows = 0;
  ranks: Int32Array[] = [];
  times: BigInt64Array<ArrayBufferLike> = new BigInt64Array(0);
  /** Per name of `fieldNames`: this page's data, or null when the chunk lacks the column. */
  fields: (Data | null)[] = [];

  constructor(readonly input: MergeInput<M>, private readonly remaps: (Int32Array | null)[], private readonly tags: readonly string[],
              private readonly time: string, private readonly fieldNames: readonly string[], private readonly keepConsumed: boolean) {}

  get meta(): M { return this.input.meta; }

  /** Whether the current row's field `f` (index into fieldNames) holds a value. */
  has(f: number): boolean {
    const data = this.fields[f];
    return data !== null && data !== undefined && validAt(data, this.row);
  }

  /** Moves to the next row; false at the end of the chunk. */
  async next(): Promise<boolean> {
    if (this.batch && ++this.row < this.rows) return true;
    if (this.batch && this.keepConsumed && this.mark < this.rows) this.consumed.push(this.batch.slice(this.mark, this.rows));
    const footer = this.input.reader.footer;
    const present = new Set(footer.columns.map((c) => c.name));
    const names = [...new Set([this.time, ...this.tags, ...this.input.columns])].filter((n) => present.has(n));
    while (++this.page < footer.pageRowStarts.length - 1) {
      const batch = await this.input.reader.read({ columns: names, pages: [this.page] });
      if (batch.numRows === 0) continue;
      this.batch = batch;
      this.rows = batch.numRows;
      this.row = 0;
      this.mark = 0;
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

  /** The rows consumed since the last call (slices of pages), in order. */
  takeConsumed(): RecordBatch[] {
    const out = this.consumed;
    this.consumed = [];
    if (this.batch && this.row > this.mark) { out.push(this.batch.slice(this.mark, this.row)); this.mark = this.row; }
    return out;
  }
}

function compareCursors<M>(a: KeyCursor<M>, b: KeyCursor<M>): number {
  for (let k = 0; k < a.ranks.length; k++) {
    const d = a.ranks[k]![a.row]! - b.ranks[k]![b.row]!;
    if (d !== 0) return d;
  }
  const x = a.times[a.row]!, y = b.times[b.row]!;
  return x < y ? -1 : x > y ? 1 : 0;
}


export interface MergeVisitor<M> {
  /** A row of the current key (the cursor is at it); rows of one key come from every cursor holding it. */
  row(cursor: KeyCursor<M>): void;
  /** After the last row of a key: every row before the next key has been consumed. */
  keyEnd(): Promise<void> | void;
}

/**
 * Visits every row of the inputs in (series, time) order. `fieldNames`: the columns whose
 * values the visitor looks at (KeyCursor.has / fields). With `keepConsumed`, cursors keep the
 * rows consumed until takeConsumed() (compaction); `onCursors` receives the cursors before the
 * first row (a visitor that takes what they consumed needs them).
 */
export async function mergeByKey<M>(inputs: readonly MergeInput<M>[], tags: readonly string[], time: string, fieldNames: readonly string[], visitor: MergeVisitor<M>,
                                    keepConsumed = false, onCursors?: (cursors: KeyCursor<M>[]) => void): Promise<void> {
  // One rank per tag value over the inputs (code-point order), each chunk's codes mapped to it.
  const remaps = tags.map((tag) => {
    const dictionaries = inputs.map((i) => i.reader.footer.columns.find((c) => c.name === tag)?.dictionary ?? null);
    const values = [...new Set(dictionaries.flatMap((d) => d ?? []))].sort(compareStrings);
    const rank = new Map(values.map((v, i) => [v, i]));
    return dictionaries.map((d) => (d ? Int32Array.from(d, (v) => rank.get(v)!) : null));
  });
  const cursors = inputs.map((input, i) => new KeyCursor(input, remaps.map((m) => m[i]!), tags, time, fieldNames, keepConsumed));
  onCursors?.(cursors);
  const heap = new MinHeap<KeyCursor<M>>(compareCursors);
  for (const cursor of cursors) if (await cursor.next()) heap.push(cursor);
  while (heap.items.length > 0) {
    const first = heap.items[0]!;
    const ranks = first.ranks.map((r) => r[first.row]!);
    const t = first.times[first.row]!;
    for (;;) {
      const top = heap.items[0];
      if (!top || top.times[top.row] !== t || !ranks.every((r, k) => top.ranks[k]![top.row] === r)) break;
      visitor.row(top);
      heap.fixTop(!(await top.next()));
    }
    await visitor.keyEnd();
  }
}
