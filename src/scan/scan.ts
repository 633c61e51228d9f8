import { makeData, RecordBatch, Struct, Type, type Data, type Field, type Schema } from 'apache-arrow';
import { releaseUnshared, type ChunkReader } from '../format/index.js';
import { AbortError, assert } from '../errors.js';
import { nullData, retype, type TableArrowSchema } from '../core/arrow-schema.js';
import type { ChunkEntry, DuplicatePolicy, Tombstone } from '../core/types.js';
import { folds } from './dedup.js';
import { foldedChunks, scanUnits } from './units.js';
import { takeRows } from './predicate-take.js';
import { streamMerge } from './stream-merge.js';
import { compareKeys } from './key-range.js';
import { chunkMayMatch, footerColumn, selectPages, type ScanPlanInput } from './plan.js';
import { ByteBudget, pageWindows, Turn } from './read-ahead.js';

export { ByteBudget } from './read-ahead.js';

export { mergeGroups, scanUnits } from './units.js';
import { columnData } from './aggregate-column.js';
import type { PageSummarizer } from './query-types.js';
import { tombstonesOf, withoutDeleted, withTombstoneColumns, type CompiledTombstone } from './tombstones.js';
import { floorInput, floorSummarizer } from './time-floor.js';

export interface ScanSource {
  chunks: ChunkEntry[];
  arrow: TableArrowSchema;
  open(entry: ChunkEntry): Promise<ChunkReader>;
  /**
   * The table's duplicate policy (absent: 'keep'). Under 'last'/'first' chunks that overlap in
   * time and may share a series are always merged (whatever the order asked) and their rows of
   * one (series, time) folded in write order (see scanUnits); pages of such merges are never
   * answered from statistics.
   */
  duplicates?: DuplicatePolicy;
  /** The manifest's deletes (tombstones.ts): chunks they may touch are decoded and filtered. */
  deletes?: readonly Tombstone[];
  /** Rows before this time (table unit) are hidden: the table's retention cutoff (time-floor.ts). */
  timeFloor?: bigint;
  /**
   * The decoded-page cache's capacity: a scan whose chunks' columns decode to more than this
   * reads without admitting pages (ReadChunkOptions.uncached), so a scan larger than the cache
   * neither thrashes it nor evicts what smaller queries use.
   */
  cacheBytes?: number;
}

export interface ScanExplain {
  chunksTotal: number;
  chunksPruned: number;
  pagesTotal: number;
  pagesPruned: number;
  /** Selected pages a query answers from their footer statistics, without reading them (0 for a scan). */
  pagesFromStatistics: number;
  /** Column bytes the scan reads (footers not counted). */
  bytesToRead: number;
  /** A query answered from a rollup table instead of this table's chunks: its name (rollup-query.ts). */
  answeredFrom?: string;
  /** Why a query that could have used a rollup read the raw chunks. */
  rollupSkipped?: string;
  chunks: { key: string; pages: number; pagesSelected: number; pagesFromStatistics: number; bytes: number }[];
}

/** Chunks in time order (then key): a scan streams chunk by chunk in this order. */
export function orderChunks(chunks: readonly ChunkEntry[]): ChunkEntry[] {
  return [...chunks].sort((a, b) => {
    const d = BigInt(a.timeMin) - BigInt(b.timeMin);
    return d < 0n ? -1 : d > 0n ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });
}

/** The columns a scan decodes from a chunk: output columns plus the filtered tags (and those of the deletes that may touch it). */
function neededColumns(reader: ChunkReader, input: ScanPlanInput, deletes: readonly CompiledTombstone[] = []): string[] {
  const present = new Set(reader.footer.columns.map((c) => c.name));
  const names = new Set<string>(input.columns);
  for (const f of input.filters) names.add(f.tag);
  return withTombstoneColumns([...names].filter((n) => present.has(n)), deletes, present);
}

/**
 * The plan of a scan without reading data pages: chunks and pages pruned, bytes to read. With
 * `summarize` (a query whose aggregates page statistics answer), the selected pages it answers
 * are counted as `pagesFromStatistics` and their bytes are not read.
 */
export async function explainScan(source: ScanSource, input: ScanPlanInput, summarize?: PageSummarizer): Promise<ScanExplain> {
  input = floorInput(input, source.timeFloor);
  summarize = floorSummarizer(summarize, source.timeFloor);
  const out: ScanExplain = { chunksTotal: source.chunks.length, chunksPruned: 0, pagesTotal: 0, pagesPruned: 0, pagesFromStatistics: 0, bytesToRead: 0, chunks: [] };
  // Chunks whose rows the scan may fold: their pages are decoded (as scanChunks does).
  const merged = foldedChunks(source, scanUnits(source, input), input.tags);
  for (const entry of orderChunks(source.chunks)) {
    if (!chunkMayMatch(entry, input)) { out.chunksPruned++; continue; }
    const reader = await source.open(entry);
    const pages = selectPages(reader.footer, input);
    const total = reader.footer.pageRowStarts.length - 1;
    out.pagesTotal += total;
    out.pagesPruned += total - pages.length;
    if (pages.length === 0) { out.chunksPruned++; continue; }
    const deletes = tombstonesOf(entry, source.deletes);
    const decoded = summarize && !merged.has(entry) && deletes.length === 0 ? summarize(reader.footer, pages) : pages;
    out.pagesFromStatistics += pages.length - decoded.length;
    let bytes = 0;
    for (const name of neededColumns(reader, input, deletes)) {
      const column = footerColumn(reader.footer, name);
      for (const p of decoded) bytes += column.pages[p]!.length;
    }
    out.bytesToRead += bytes;
    out.chunks.push({ key: entry.key, pages: total, pagesSelected: pages.length, pagesFromStatistics: pages.length - decoded.length, bytes });
  }
  return out;
}

/** Chunks a scan reads ahead of the one it yields (their reads and decodes overlap the consumer). */
export const SCAN_READ_AHEAD = 2;
/** Decoded bytes a scan's read-ahead may hold beyond the chunk being yielded. */
export const SCAN_READ_AHEAD_BYTES = 256 * 1024 * 1024;

interface ChunkRead {
  reader: ChunkReader;
  pages: number[];
  names: string[];
  /** Null for the chunks of a streamed merge (stream-merge.ts reads them window by window). */
  batch: RecordBatch | null;
  /** Deletes that may hide rows of the chunk. */
  deletes: CompiledTombstone[];
  /** Decode without admitting pages to the decoded-page cache (ReadChunkOptions.uncached). */
  uncached?: boolean;
}

/** Chunks read and yielded together: one, or several merged by series then time (streamed: `stream`). */
interface UnitRead {
  reads: ChunkRead[];
  bytes: number;
  stream: boolean;
  /** A chunk read alone: the page windows after the one read (reads[0].pages), read in turn. */
  rest: number[][];
}

/**
 * About what a scan decodes: the manifest's raw bytes of the columns `names`, each chunk's
 * share by the part of its time span inside [from, to) (tag filters and page pruning may read
 * less). Decides whether the scan admits its pages to the decoded-page cache.
 */
function decodedBytesOf(entries: readonly ChunkEntry[], input: ScanPlanInput): number {
  let bytes = 0;
  for (const e of entries) {
    const lo = BigInt(e.timeMin), hi = BigInt(e.timeMax);
    const from = input.from !== undefined && input.from > lo ? input.from : lo;
    const to = input.to !== undefined && input.to <= hi ? input.to : hi + 1n;
    if (to <= from) continue;
    const share = Number(to - from) / Number(hi + 1n - lo);
    for (const n of input.columns) bytes += (e.columns[n]?.rawBytes ?? 0) * share;
  }
  return bytes;
}

/** The decoded bytes that decide a scan's cache admission: its own, or its whole query's (PageSummarizer.whole). */
function admittedBytes(source: ScanSource, input: ScanPlanInput, units: readonly ChunkEntry[][], summarize: PageSummarizer | undefined): number {
  const whole = summarize?.whole;
  if (whole === undefined) return decodedBytesOf(units.flat(), input);
  const wholeInput = floorInput({ ...input, from: whole.from, to: whole.to }, source.timeFloor);
  return decodedBytesOf(scanUnits(source, wholeInput).flat(), wholeInput);
}

/**
 * Rows of a chunk a scan decodes at once (whole pages; a page larger than this is read alone):
 * a large chunk is yielded window by window, so the memory a scan holds is a window's columns,
 * not a chunk's, and a consumer's loops run over data still in the cache.
 */
export const SCAN_WINDOW_ROWS = 65_536;

/**
 * The chunks in series order, when their recorded first and last points (ChunkEntry.keys) show
 * that, taken in order of their first points, each chunk's rows come before the next one's
 * (with `strict`, folding duplicates: no point shared), so they need no merge (chunks cut from
 * one sorted run): any subset of their rows, yielded chunk after chunk in that order, is in
 * series then time order. Null when a merge is needed.
 */
function chainedByKeys(entries: readonly ChunkEntry[], tags: readonly string[], strict: boolean): ChunkEntry[] | null {
  if (entries.some((e) => !e.keys || e.keys.first.tags.length !== tags.length)) return null;
  const sorted = [...entries].sort((a, b) => compareKeys(a.keys!.first, b.keys!.first));
  for (let i = 1; i < sorted.length; i++) if (compareKeys(sorted[i - 1]!.keys!.last, sorted[i]!.keys!.first) > (strict ? -1 : 0)) return null;
  return sorted;
}

/**
 * Streams matching rows chunk by chunk: decode the needed columns of the selected pages,
 * build the row selection with loops over typed arrays (time range, allowed tag codes),
 * take rows only when some are filtered out, and relabel columns with the table's Arrow
 * fields (null columns for fields an older chunk does not have). With `order: 'series'`
 * (and under a folding duplicate policy, whatever the order) chunks that overlap in time and
 * may share a series are merged by series then time (see mergeGroups): streamed page window by
 * page window (stream-merge.ts), or, when their recorded first and last points show they share
 * none (chunks cut from one sorted run), read whole and yielded one after another.
 *
 * Reads run ahead: while the consumer works on one unit (a chunk or a merged group), the next
 * SCAN_READ_AHEAD are fetched and decoded (in the decode pool's threads when the reader has
 * one), as long as their decoded bytes stay within SCAN_READ_AHEAD_BYTES. Batches still come
 * out in unit order. A scan with a limit reads one unit at a time (no wasted work past it).
 */
export async function* scanChunks(source: ScanSource, input: ScanPlanInput, limit?: number, signal?: AbortSignal, summarize?: PageSummarizer): AsyncGenerator<RecordBatch> {
  input = floorInput(input, source.timeFloor);
  summarize = floorSummarizer(summarize, source.timeFloor);
  const outSchema = source.arrow.project(input.columns);
  const outFields = input.columns.map((c) => source.arrow.field(c));
  let remaining = limit ?? Infinity;
  if (remaining <= 0) return;
  const groups = scanUnits(source, input);
  const dedup = folds(source.duplicates) ? source.duplicates : undefined;
  const folded = foldedChunks(source, groups, input.tags);
  // Chunks whose recorded points show them in series order one after another need no merge:
  // each is read (and read ahead) as a unit of its own, in that order.
  const units = groups.flatMap((g) => (g.length > 1 ? chainedByKeys(g, input.tags, dedup !== undefined)?.map((e) => [e]) : undefined) ?? [g]);
  // A merged group also reads every tag (the sort key) and the time column.
  const mergeColumns = [...new Set([...input.columns, ...input.tags])];
  const mergeSchema = source.arrow.project(mergeColumns);
  const mergeFields = mergeColumns.map((c) => source.arrow.field(c));
  const ahead = limit === undefined ? SCAN_READ_AHEAD : 0;
  const reads: Promise<UnitRead | null>[] = [];
  /** Per pending read: its turn (the scan waits for it), which lets a read ahead decode on this thread. */
  const turns: Turn[] = [];
  let next = 0;
  let heldBytes = 0;
  let stopped = false;
  const budget = new ByteBudget(SCAN_READ_AHEAD_BYTES);
  const uncached = source.cacheBytes !== undefined && admittedBytes(source, input, units, summarize) > source.cacheBytes;
  const readUnit = async (unit: ChunkEntry[], turn: Promise<void>): Promise<UnitRead | null> => {
    const plans: { reader: ChunkReader; pages: number[]; names: string[]; deletes: CompiledTombstone[]; uncached: boolean }[] = [];
    for (const entry of unit) {
      const reader = await source.open(entry);
      const selected = selectPages(reader.footer, input);
      const deletes = tombstonesOf(entry, source.deletes);
      // A chunk whose rows a merge may fold, or a delete may hide, decodes every page: statistics would count them.
      const pages = summarize && deletes.length === 0 && selected.length && !stopped && !folded.has(entry) ? summarize(reader.footer, selected) : selected;
      if (pages.length > 0 && !stopped) plans.push({ reader, pages, names: neededColumns(reader, input, deletes), deletes, uncached });
    }
    // Chunks merged also read every tag (the series order) and the time column.
    let bytes = 0;
    for (const plan of plans) {
      if (plans.length > 1) {
        const present = new Set(plan.reader.footer.columns.map((c) => c.name));
        plan.names = [...new Set([...plan.names, ...input.tags])].filter((n) => present.has(n));
      }
      for (const name of plan.names) {
        const column = footerColumn(plan.reader.footer, name);
        for (const p of plan.pages) bytes += column.pages[p]!.rawBytes;
      }
    }
    if (plans.length === 0 || stopped) return null;
    // Chunks that must be merged stream page by page (stream-merge.ts): nothing read here.
    if (plans.length > 1) {
      return { bytes: 0, stream: true, reads: plans.map((p) => ({ ...p, batch: null })), rest: [] };
    }
    await budget.acquire(bytes);
    if (stopped) { budget.release(bytes); return null; }
    try {
      // Read ahead, the pages are fetched now and decoded in other threads, but decoded on this
      // thread only on their turn: decoding them early would just hold their memory longer.
      const plan = plans[0]!;
      const [first, ...rest] = pageWindows(plan.reader.footer.pageRowStarts, plan.pages, SCAN_WINDOW_ROWS);
      const batch = await plan.reader.read({ columns: plan.names, pages: first!, decodeAfter: turn, uncached });
      return { bytes, stream: false, reads: [{ ...plan, pages: first!, batch }], rest };
    } catch (error) {
      budget.release(bytes);
      throw error;
    }
  };
  /** Starts reads until `count` are pending (the one to yield next and those ahead of it). */
  const topUp = (count: number) => {
    while (next < units.length && reads.length < count) {
      const turn = new Turn();
      const read = readUnit(units[next++]!, turn.promise);
      read.catch(() => {}); // observed when its turn comes (or dropped with the scan)
      reads.push(read);
      turns.push(turn);
    }
  };
  try {
    for (;;) {
      topUp(ahead + 1);
      if (reads.length === 0) break;
      if (signal?.aborted) throw new AbortError('scan aborted');
      const pending = reads.shift();
      assert(pending !== undefined, 'a read is pending');
      turns.shift()!.come();
      const unit = await pending;
      if (unit === null) continue;
      heldBytes = unit.bytes;
      if (signal?.aborted) throw new AbortError('scan aborted');
      let outs: RecordBatch[] | AsyncIterable<RecordBatch>;
      if (unit.stream) {
        const merged = streamMerge(unit.reads, {
          input, tags: input.tags, time: input.columns[0]!, schema: mergeSchema, fields: mergeFields, policy: dedup, signal,
          visible: (batch, chunk) => visibleRows({ ...chunk, batch }, input),
        });
        outs = (async function* () { for await (const b of merged) yield project(b, outSchema, outFields); })();
      } else {
        outs = chunkWindows(unit.reads[0]!, unit.rest, input, outSchema, outFields);
      }
      for await (let out of outs) {
        let n = out.numRows;
        if (n > remaining) { out = out.slice(0, remaining); n = remaining; }
        remaining -= n;
        yield out;
        if (remaining <= 0) return;
      }
      budget.release(heldBytes);
      heldBytes = 0;
    }
  } finally {
    stopped = true;
    budget.release(heldBytes);
    budget.cancel();
    for (const turn of turns.splice(0)) turn.never(); // reads ahead decode nothing more
  }
}

/**
 * The output batches of a chunk read alone, window by window: the first window's batch (read
 * by readUnit), then each later window, fetched while the one before is consumed and decoded
 * on its turn. Decoded buffers an output does not view (rows were copied out) go back to the
 * decode buffer pool at once.
 */
async function* chunkWindows(read: ChunkRead, rest: readonly number[][], input: ScanPlanInput, schema: Schema, fields: Field[]): AsyncGenerator<RecordBatch> {
  let batch = read.batch!;
  let pages = read.pages;
  for (let w = 0; ; w++) {
    let turn: Turn | undefined;
    let next: Promise<RecordBatch> | undefined;
    if (w < rest.length) {
      turn = new Turn();
      next = read.reader.read({ columns: read.names, pages: rest[w]!, decodeAfter: turn.promise, uncached: read.uncached === true });
      next.catch(() => {}); // observed below (or dropped when the consumer stops)
    }
    let consumed = false;
    try {
      const rows = visibleRows({ ...read, batch }, input);
      const out = rows !== null && rows.length === 0 ? null : relabel(rows === null ? batch : takeRows(batch, rows), schema, fields);
      if (out !== null && rows === null) batchTimeRanges.set(out, pagesTimeRange(read.reader, pages));
      releaseUnshared(batch, out === null ? [] : [out]);
      if (out !== null) yield out;
      consumed = true;
    } finally {
      if (!consumed) turn?.never(); // the consumer stopped: the next window decodes nothing
    }
    if (next === undefined || turn === undefined) return;
    turn.come();
    batch = await next;
    pages = rest[w]!;
  }
}

/** A chunk's batch with the table's Arrow fields (null columns for fields it does not have). */
function relabel(batch: RecordBatch, schema: Schema, fields: Field[]): RecordBatch {
  const n = batch.numRows;
  const children: Data[] = fields.map((field) => {
    const child = batch.getChild(field.name);
    return child ? retype(child.data[0]!, field) : nullData(field, n);
  });
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
}

/** The output columns of a merged batch (it also holds every tag). */
function project(batch: RecordBatch, schema: Schema, fields: Field[]): RecordBatch {
  const children = fields.map((field) => columnData(batch, field.name, 'scan merge'));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: batch.numRows, nullCount: 0, children }));
}

/**
 * Exact time range of batches that hold every row of their pages: the pages' footer stats,
 * so consumers (queries without `every` report the earliest time) need not scan the column.
 */
export const batchTimeRanges = new WeakMap<RecordBatch, { min: bigint; max: bigint }>();

function pagesTimeRange(reader: ChunkReader, pages: readonly number[]): { min: bigint; max: bigint } {
  const footer = reader.footer;
  const time = footerColumn(footer, footer.timeColumn);
  let min = 2n ** 63n - 1n;
  let max = -(2n ** 63n);
  for (const p of pages) {
    const page = time.pages[p]!;
    const lo = BigInt(page.min as string);
    const hi = BigInt(page.max as string);
    if (lo < min) min = lo;
    if (hi > max) max = hi;
  }
  return { min, max };
}

/** Rows of a read passing the scan's time range and tag filters and hidden by none of its deletes (null: every row). */
function visibleRows({ batch, reader, deletes }: { batch: RecordBatch; reader: ChunkReader; deletes: readonly CompiledTombstone[] }, input: ScanPlanInput): Int32Array | null {
  return withoutDeleted(selectRows(batch, reader, input), batch.numRows, deletes.map((t) => selectRows(batch, reader, t)));
}

/**
 * Row indexes passing the time range and tag filters, or null when every row passes. One
 * tight loop per predicate over typed arrays into a byte mask (no closures per row).
 */
export function selectRows(batch: RecordBatch, reader: ChunkReader, input: ScanPlanInput): Int32Array | null {
  const n = batch.numRows;
  const footer = reader.footer;
  let mask: Uint8Array | null = null;
  const needTime = (input.from !== undefined && (footer.timeMin === null || BigInt(footer.timeMin) < input.from))
    || (input.to !== undefined && (footer.timeMax === null || BigInt(footer.timeMax) >= input.to));
  if (needTime) {
    const times = columnData(batch, footer.timeColumn, 'scan time').values as BigInt64Array;
    const from = input.from ?? -(2n ** 63n);
    const to = input.to ?? 2n ** 63n - 1n;
    const toInclusive = input.to === undefined;
    mask = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const t = times[i]!;
      mask[i] = t >= from && (toInclusive ? t <= to : t < to) ? 1 : 0;
    }
  }
  for (const f of input.filters) {
    const child = batch.getChild(f.tag);
    if (!child) {
      // A chunk without the tag column: every row has the null tag.
      if (!f.matches(null)) return new Int32Array(0);
      continue;
    }
    const data = child.data[0]!;
    if (data.type.typeId !== Type.Dictionary) continue;
    const dictionary = footerColumn(footer, f.tag).dictionary ?? [];
    const allowed = Uint8Array.from(dictionary, (v) => (f.matches(v) ? 1 : 0));
    const bits = data.nullCount > 0 ? data.nullBitmap : undefined;
    const nullPasses = f.matches(null) ? 1 : 0;
    if (allowed.every((a) => a === 1) && (!bits || nullPasses)) continue;
    const codes = data.values as Int32Array;
    const first = mask === null;
    if (mask === null) mask = new Uint8Array(n).fill(1);
    if (!bits) {
      if (first) for (let i = 0; i < n; i++) mask[i] = allowed[codes[i]!]!;
      else for (let i = 0; i < n; i++) mask[i] = mask[i]! & allowed[codes[i]!]!;
    } else {
      // Null rows (code 0 by the format) pass or fail as the null tag.
      const off = data.offset;
      for (let i = 0; i < n; i++) {
        const valid = (bits[(off + i) >> 3]! >> ((off + i) & 7)) & 1;
        mask[i] = mask[i]! & (valid ? allowed[codes[i]!]! : nullPasses);
      }
    }
  }
  if (mask === null) return null;
  const out = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) if (mask[i]) out[k++] = i;
  return k === n ? null : out.subarray(0, k);
}
