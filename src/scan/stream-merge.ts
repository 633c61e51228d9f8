/**
 * The scan's merge of chunks that may share series and time (a merge group of scanUnits),
 * streamed page by page: a cursor per chunk over windows of its selected pages (a few pages,
 * up to MERGE_WINDOW_ROWS rows), a heap of cursors by their current (series, time), ties by
 * cursor (the unit's order: write order under a folding policy, scan order otherwise, so the
 * merge is stable as mergeBySeriesTime's). Rows are picked into an output of up to
 * MERGE_OUT_ROWS rows, cut at a point boundary, folded under the table's duplicate policy as
 * deduplicateSorted folds (field by field) and gathered from the windows in one copy.
 *
 * Memory holds, per chunk, the window being merged and the next one being read, plus the
 * windows the pending output still refers to: never whole chunks.
 *
 * Each window's rows go through the scan's row selection (time range, tag filters) and the
 * chunk's deletes before they meet another chunk's rows, as the in-memory merge did.
 */
import { makeData, RecordBatch, Struct, Utf8, vectorFromArray, type Data, type Field, type Schema, type Vector } from 'apache-arrow';
import { compareStrings, type ChunkReader } from '../format/index.js';
import { AbortError, CorruptChunkError } from '../errors.js';
import { nullData, retype } from '../core/arrow-schema.js';
import { gather, type Unified } from './merge.js';
import { footerColumn, type ScanPlanInput } from './plan.js';
import type { CompiledTombstone } from './tombstones.js';
import { MinHeap } from './heap.js';

/** Rows of a chunk's selected pages a cursor reads at once (at least one page). */
export const MERGE_WINDOW_ROWS = 65_536;
/** Rows picked (before folding) after which the merge yields a batch, at the next point boundary. */
export const MERGE_OUT_ROWS = 65_536;

/** A chunk of a merge: its selected pages, the columns to read, the deletes that may hide rows. */
export interface MergeChunk {
  reader: ChunkReader;
  pages: number[];
  names: string[];
  deletes: CompiledTombstone[];
  /** Decode without admitting pages to the decoded-page cache (ReadChunkOptions.uncached). */
  uncached?: boolean;
}

export interface StreamMergeOptions {
  input: ScanPlanInput;
  tags: readonly string[];
  time: string;
  /** Schema and fields of the batches yielded (the scan's columns plus every tag). */
  schema: Schema;
  fields: Field[];
  /** 'last' / 'first' fold each point's rows field by field; undefined keeps every row. */
  policy: 'last' | 'first' | undefined;
  signal?: AbortSignal;
  /** Rows per window and per output (default MERGE_WINDOW_ROWS, MERGE_OUT_ROWS; tests make them small). */
  windowRows?: number;
  outRows?: number;
  /** Selected rows of a read (time range, tag filters, deletes); null: every row (scan.ts). */
  visible(batch: RecordBatch, chunk: MergeChunk): Int32Array | null;
}

/** A window of a chunk: its rows as the output's columns, and the selected rows' keys. */
interface Window {
  columns: Data[];
  /** Selected rows, ascending. */
  rows: Int32Array;
  /**
   * The series of each row as one number, when the tags' ranks fit one (see seriesWeights):
   * the mixed-radix number of their ranks, ordered as the ranks are. Else null, and `ranks`
   * holds per tag the rank of each row's value (-1: the null tag).
   */
  series: Float64Array | null;
  ranks: Int32Array[];
  /** The time column as int32 halves (low, high) per row. */
  t32: Int32Array;
}

class Cursor {
  private next = 0;
  private pending: Promise<Window | null> | null = null;
  window: Window | null = null;
  /** Index into window.rows of the current row. */
  pos = 0;
  /** The current window's index among the output's parts. */
  part = -1;
  constructor(readonly index: number, readonly chunk: MergeChunk, private readonly remaps: (Int32Array | null)[],
              private readonly weights: Float64Array | null, private readonly options: StreamMergeOptions) {}

  get row(): number { return this.window!.rows[this.pos]!; }

  /** Moves to the next window with a selected row; false at the end of the chunk. */
  async advance(): Promise<boolean> {
    const previous = this.window;
    for (;;) {
      const window = await (this.pending ?? this.read());
      this.pending = null;
      if (window === null) { this.window = null; return false; }
      if (window.rows.length === 0) continue;
      this.pending = this.read(); // the next window reads while this one merges
      this.pending.catch(() => {}); // observed when its turn comes
      this.checkSorted(previous, window);
      this.window = window;
      this.pos = 0;
      return true;
    }
  }

  private async read(): Promise<Window | null> {
    const { pages, reader, names } = this.chunk;
    if (this.next >= pages.length) return null;
    const starts = reader.footer.pageRowStarts;
    const window: number[] = [];
    let rows = 0;
    while (this.next < pages.length) {
      const p = pages[this.next]!;
      const pageRows = starts[p + 1]! - starts[p]!;
      if (window.length > 0 && rows + pageRows > (this.options.windowRows ?? MERGE_WINDOW_ROWS)) break;
      window.push(p);
      rows += pageRows;
      this.next++;
    }
    const batch = await reader.read({ columns: names, pages: window, uncached: this.chunk.uncached === true });
    const n = batch.numRows;
    const selected = this.options.visible(batch, this.chunk);
    const { tags, time, fields } = this.options;
    const columns = fields.map((field) => {
      const child = batch.getChild(field.name);
      return child ? retype(child.data[0]!, field) : nullData(field, n);
    });
    const times = batch.getChild(time)!.data[0]!.values as BigInt64Array;
    // Per tag, each row's rank (-1: the null tag), added straight into the series number when there is one.
    const series = this.weights === null ? null : new Float64Array(n);
    const ranks = tags.map((tag, k) => {
      const data = batch.getChild(tag)?.data[0];
      const remap = this.remaps[k];
      const out = series === null ? new Int32Array(n).fill(-1) : null;
      if (!data || !remap) return out;
      const codes = data.values as Int32Array;
      const bits = data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
      if (series !== null) {
        const w = this.weights![k]!;
        for (let r = 0, bit = data.offset; r < n; r++, bit++) if (bits === null || (bits[bit >> 3]! >> (bit & 7)) & 1) series[r]! += (remap[codes[r]!]! + 1) * w;
        return null;
      }
      if (bits === null) for (let r = 0; r < n; r++) out![r] = remap[codes[r]!]!;
      else for (let r = 0, bit = data.offset; r < n; r++, bit++) if ((bits[bit >> 3]! >> (bit & 7)) & 1) out![r] = remap[codes[r]!]!;
      return out;
    });
    let rowsOut: Int32Array;
    if (selected === null) { rowsOut = new Int32Array(n); for (let i = 0; i < n; i++) rowsOut[i] = i; } else rowsOut = selected;
    return { columns, rows: rowsOut, series, ranks: series === null ? ranks.map((r) => r ?? new Int32Array(n).fill(-1)) : [], t32: new Int32Array(times.buffer, times.byteOffset, 2 * n) };
  }

  /** A chunk is sorted by series then time: a merge of unsorted rows would be silently wrong. */
  private checkSorted(previous: Window | null, window: Window): void {
    const rows = window.rows;
    let prevWindow = previous, prevRow = previous ? previous.rows[previous.rows.length - 1]! : -1;
    for (let i = 0; i < rows.length; i++) {
      if (prevWindow && compareRows(prevWindow, prevRow, window, rows[i]!) > 0) {
        throw new CorruptChunkError(this.chunk.reader.name, 0, `rows are not sorted by series then time (selected row ${i} of a window of pages ${this.chunk.pages.join(',')})`);
      }
      prevWindow = window;
      prevRow = rows[i]!;
    }
  }
}

/** Series (tag ranks) then time order of row `a` of window `x` and row `b` of window `y`. */
function compareRows(x: Window, a: number, y: Window, b: number): number {
  if (x.series !== null) {
    const d = x.series[a]! - y.series![b]!;
    if (d !== 0) return d;
  }
  for (let k = 0; k < x.ranks.length; k++) {
    const d = x.ranks[k]![a]! - y.ranks[k]![b]!;
    if (d !== 0) return d;
  }
  const ha = x.t32[2 * a + 1]!, hb = y.t32[2 * b + 1]!;
  if (ha !== hb) return ha - hb;
  return (x.t32[2 * a]! >>> 0) - (y.t32[2 * b]! >>> 0);
}

function compareCursors(a: Cursor, b: Cursor): number {
  return compareRows(a.window!, a.row, b.window!, b.row) || a.index - b.index;
}


/**
 * The place value of each tag's rank + 1 in one number per series (the first tag most
 * significant), when every such number is an exact double (below 2^53); else null.
 */
function seriesWeights(sizes: readonly number[]): Float64Array | null {
  const weights = new Float64Array(sizes.length);
  let place = 1;
  for (let k = sizes.length - 1; k >= 0; k--) {
    weights[k] = place;
    place *= sizes[k]! + 1; // ranks -1 (the null tag) … size − 1, plus one
    if (place > Number.MAX_SAFE_INTEGER) return null;
  }
  return weights;
}

/** Per tag: the sorted union of the chunks' dictionaries (footers) and each chunk's code → rank. */
function unifyTags(chunks: readonly MergeChunk[], tags: readonly string[]): { unified: Unified; perChunk: (Int32Array | null)[] }[] {
  return tags.map((tag) => {
    const dictionaries = chunks.map((c) => (c.reader.footer.columns.some((col) => col.name === tag) ? footerColumn(c.reader.footer, tag).dictionary ?? [] : null));
    const values = [...new Set(dictionaries.flatMap((d) => d ?? []))].sort(compareStrings);
    const rank = new Map(values.map((v, i) => [v, i]));
    const perChunk = dictionaries.map((d) => (d ? Int32Array.from(d, (v) => rank.get(v)!) : null));
    return { unified: { vector: vectorFromArray(values, new Utf8()) as Vector<Utf8>, remap: [] }, perChunk };
  });
}

/**
 * Streams the rows of `chunks` (in the unit's order) merged by series then time and folded
 * under `options.policy`, as batches of `options.schema` (see the module comment).
 */
export async function* streamMerge(chunks: readonly MergeChunk[], options: StreamMergeOptions): AsyncGenerator<RecordBatch> {
  const { tags, time, schema, fields, policy, signal } = options;
  const dictionaries = unifyTags(chunks, tags);
  const weights = seriesWeights(dictionaries.map((d) => d.unified.vector.length));
  const cursors = chunks.map((chunk, i) => new Cursor(i, chunk, dictionaries.map((d) => d.perChunk[i]!), weights, options));
  const heap = new MinHeap(compareCursors);
  for (const cursor of cursors) if (await cursor.advance()) heap.push(cursor);
  const tagColumn = new Map(tags.map((tag, k) => [tag, k]));
  const keyColumns = new Set([time, ...tags]);
  // The output being built: parts (windows) and picks (part, row) in merged order, with the
  // first pick of each point.
  let parts: { cursor: Cursor; window: Window }[] = [];
  const outRows = options.outRows ?? MERGE_OUT_ROWS;
  let source = new Int32Array(outRows + 1024), row = new Int32Array(source.length);
  let picks = 0;
  let runStarts: number[] = [];
  const pick = (c: Cursor) => {
    if (picks === source.length) {
      const grow = (a: Int32Array) => { const b = new Int32Array(a.length * 2); b.set(a); return b; };
      source = grow(source); row = grow(row);
    }
    if (c.part < 0) { c.part = parts.length; parts.push({ cursor: c, window: c.window! }); }
    source[picks] = c.part;
    row[picks++] = c.row;
  };
  const emit = (): RecordBatch => {
    const from = source.subarray(0, picks), at = row.subarray(0, picks);
    const runs = runStarts.length;
    runStarts.push(picks);
    const last = policy === 'last';
    // Each point's last (first) row: the key columns' rows, and those of fields without a null.
    let whole: [Int32Array, Int32Array] | null = null;
    const wholeRows = (): [Int32Array, Int32Array] => {
      if (whole) return whole;
      const s = new Int32Array(runs), r = new Int32Array(runs);
      for (let q = 0; q < runs; q++) { const chosen = last ? runStarts[q + 1]! - 1 : runStarts[q]!; s[q] = from[chosen]!; r[q] = at[chosen]!; }
      return (whole = [s, r]);
    };
    const children = fields.map((field, c) => {
      const k = tagColumn.get(field.name);
      const dict = k === undefined ? null : { vector: dictionaries[k]!.unified.vector, remap: parts.map((p) => dictionaries[k]!.perChunk[p.cursor.index] ?? new Int32Array(0)) };
      const columnParts = parts.map((p) => p.window.columns[c]!);
      if (policy === undefined || runs === picks) return gather(columnParts, from, at, dict, field.name);
      // Field by field: each point's last (first) non-null value, its last (first) row when none.
      const bitmaps = columnParts.map((d) => (d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0 ? d.nullBitmap : null));
      const offsets = columnParts.map((d) => d.offset);
      if (keyColumns.has(field.name) || bitmaps.every((b) => b === null)) return gather(columnParts, ...wholeRows(), dict, field.name);
      const valid = (i: number) => {
        const bits = bitmaps[from[i]!]!, bit = offsets[from[i]!]! + at[i]!;
        return bits === null || ((bits[bit >> 3]! >> (bit & 7)) & 1) === 1;
      };
      const s = new Int32Array(runs), r = new Int32Array(runs);
      for (let q = 0; q < runs; q++) {
        const lo = runStarts[q]!, hi = runStarts[q + 1]!;
        let chosen = last ? hi - 1 : lo;
        if (hi - lo > 1) {
          if (last) { for (let i = hi - 1; i >= lo; i--) if (valid(i)) { chosen = i; break; } }
          else for (let i = lo; i < hi; i++) if (valid(i)) { chosen = i; break; }
        }
        s[q] = from[chosen]!;
        r[q] = at[chosen]!;
      }
      return gather(columnParts, s, r, dict, field.name);
    });
    const length = policy === undefined ? picks : runs;
    // The next output keeps only the windows the cursors still stand in.
    parts = [];
    for (const cursor of cursors) cursor.part = -1;
    picks = 0;
    runStarts = [];
    return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
  };
  while (heap.items.length > 0) {
    const first = heap.items[0]!;
    const keyWindow = first.window!, keyRow = first.row;
    runStarts.push(picks);
    for (;;) {
      const top = heap.items[0];
      if (top === undefined || compareRows(top.window!, top.row, keyWindow, keyRow) !== 0) break;
      pick(top);
      if (++top.pos < top.window!.rows.length) { heap.fixTop(false); continue; }
      top.part = -1; // its next window is a new part
      heap.fixTop(!(await top.advance()));
    }
    if (picks >= outRows) {
      if (signal?.aborted) throw new AbortError('scan aborted');
      yield emit();
    }
  }
  if (picks > 0) yield emit();
}
