import { makeData, RecordBatch, Struct, Type, type Data } from 'apache-arrow';
import type { ChunkReader } from '../format/index.js';
import { AbortError } from '../errors.js';
import { nullData, retype, type TableArrowSchema } from '../table/arrow-schema.js';
import type { ChunkEntry } from '../table/types.js';
import { takeRows } from './predicate-take.js';
import { chunkMayMatch, selectPages, type ScanPlanInput } from './plan.js';
import type { PageSummarizer } from './query-types.js';

export interface ScanSource {
  chunks: ChunkEntry[];
  arrow: TableArrowSchema;
  open(entry: ChunkEntry): Promise<ChunkReader>;
}

export interface ScanExplain {
  chunksTotal: number;
  chunksPruned: number;
  pagesTotal: number;
  pagesPruned: number;
  /** Column bytes the scan reads (footers not counted). */
  bytesToRead: number;
  chunks: { key: string; pages: number; pagesSelected: number; bytes: number }[];
}

/** Chunks in time order (then key): a scan streams chunk by chunk in this order. */
export function orderChunks(chunks: readonly ChunkEntry[]): ChunkEntry[] {
  return [...chunks].sort((a, b) => {
    const d = BigInt(a.timeMin) - BigInt(b.timeMin);
    return d < 0n ? -1 : d > 0n ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });
}

/** The columns a scan decodes from a chunk: output columns plus the filtered tags. */
function neededColumns(reader: ChunkReader, input: ScanPlanInput): string[] {
  const present = new Set(reader.footer.columns.map((c) => c.name));
  const names = new Set<string>(input.columns);
  for (const f of input.filters) names.add(f.tag);
  return [...names].filter((n) => present.has(n));
}

export async function explainScan(source: ScanSource, input: ScanPlanInput): Promise<ScanExplain> {
  const out: ScanExplain = { chunksTotal: source.chunks.length, chunksPruned: 0, pagesTotal: 0, pagesPruned: 0, bytesToRead: 0, chunks: [] };
  for (const entry of orderChunks(source.chunks)) {
    if (!chunkMayMatch(entry, input)) { out.chunksPruned++; continue; }
    const reader = await source.open(entry);
    const pages = selectPages(reader.footer, input);
    const total = reader.footer.pageRowStarts.length - 1;
    out.pagesTotal += total;
    out.pagesPruned += total - pages.length;
    if (pages.length === 0) { out.chunksPruned++; continue; }
    let bytes = 0;
    for (const name of neededColumns(reader, input)) {
      const column = reader.footer.columns.find((c) => c.name === name)!;
      for (const p of pages) bytes += column.pages[p]!.length;
    }
    out.bytesToRead += bytes;
    out.chunks.push({ key: entry.key, pages: total, pagesSelected: pages.length, bytes });
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
  batch: RecordBatch;
  bytes: number;
}

/**
 * Streams matching rows chunk by chunk: decode the needed columns of the selected pages,
 * build the row selection with loops over typed arrays (time range, allowed tag codes),
 * take rows only when some are filtered out, and relabel columns with the table's Arrow
 * fields (null columns for fields an older chunk does not have).
 *
 * Reads run ahead: while the consumer works on chunk i, chunks i+1…i+SCAN_READ_AHEAD are
 * fetched and decoded (in the decode pool's threads when the reader has one), as long as
 * their decoded bytes stay within SCAN_READ_AHEAD_BYTES. Batches still come out in chunk
 * order. A scan with a limit reads one chunk at a time (no wasted work past the limit).
 */
export async function* scanChunks(source: ScanSource, input: ScanPlanInput, limit?: number, signal?: AbortSignal, summarize?: PageSummarizer): AsyncGenerator<RecordBatch> {
  const outSchema = source.arrow.project(input.columns);
  const outFields = input.columns.map((c) => source.arrow.field(c));
  let remaining = limit ?? Infinity;
  if (remaining <= 0) return;
  const entries = orderChunks(source.chunks).filter((e) => chunkMayMatch(e, input));
  const ahead = limit === undefined ? SCAN_READ_AHEAD : 0;
  const reads: Promise<ChunkRead | null>[] = [];
  let next = 0;
  let heldBytes = 0;
  let stopped = false;
  const budget = new ByteBudget(SCAN_READ_AHEAD_BYTES);
  const readChunk = async (entry: ChunkEntry): Promise<ChunkRead | null> => {
    const reader = await source.open(entry);
    const selected = selectPages(reader.footer, input);
    const pages = summarize && selected.length && !stopped ? summarize(reader.footer, selected) : selected;
    if (pages.length === 0 || stopped) return null;
    const names = neededColumns(reader, input);
    let bytes = 0;
    for (const name of names) {
      const column = reader.footer.columns.find((c) => c.name === name)!;
      for (const p of pages) bytes += column.pages[p]!.rawBytes;
    }
    await budget.acquire(bytes);
    if (stopped) { budget.release(bytes); return null; }
    try {
      return { reader, pages, bytes, batch: await reader.read({ columns: names, pages }) };
    } catch (error) {
      budget.release(bytes);
      throw error;
    }
  };
  /** Starts reads until `count` are pending (the one to yield next and those ahead of it). */
  const topUp = (count: number) => {
    while (next < entries.length && reads.length < count) {
      const read = readChunk(entries[next++]!);
      read.catch(() => {}); // observed when its turn comes (or dropped with the scan)
      reads.push(read);
    }
  };
  try {
    for (;;) {
      topUp(ahead + 1);
      if (reads.length === 0) break;
      if (signal?.aborted) throw new AbortError('scan aborted');
      const read = await reads.shift()!;
      if (read === null) continue;
      heldBytes = read.bytes;
      if (signal?.aborted) throw new AbortError('scan aborted');
      const { reader, pages } = read;
      let batch = read.batch;
      const rows = selectRows(batch, reader, input);
      if (rows !== null) {
        if (rows.length === 0) { budget.release(heldBytes); heldBytes = 0; continue; }
        batch = takeRows(batch, rows);
      }
      let n = batch.numRows;
      const children: Data[] = outFields.map((field) => {
        const child = batch.getChild(field.name);
        return child ? retype(child.data[0]!, field) : nullData(field, n);
      });
      let out = new RecordBatch(outSchema, makeData({ type: new Struct(outSchema.fields), length: n, nullCount: 0, children }));
      if (n > remaining) { out = out.slice(0, remaining); n = remaining; }
      else if (rows === null) batchTimeRanges.set(out, pagesTimeRange(reader, pages));
      remaining -= n;
      yield out;
      budget.release(heldBytes);
      heldBytes = 0;
      if (remaining <= 0) return;
    }
  } finally {
    stopped = true;
    budget.release(heldBytes);
    budget.cancel();
  }
}

/**
 * Decoded bytes reads may hold at once: acquire waits (first come, first served) until the
 * bytes fit, except that one holder may always proceed (a chunk larger than the budget still
 * reads, alone).
 */
export class ByteBudget {
  private held = 0;
  private readonly waiters: { bytes: number; resolve(): void }[] = [];
  constructor(private readonly max: number) {}

  acquire(bytes: number): Promise<void> {
    if (this.waiters.length === 0 && (this.held === 0 || this.held + bytes <= this.max)) {
      this.held += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  release(bytes: number): void {
    this.held -= bytes;
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      if (this.held !== 0 && this.held + w.bytes > this.max) break;
      this.waiters.shift();
      this.held += w.bytes;
      w.resolve();
    }
  }

  /** Lets every waiter go (the scan ended; they see `stopped` and give their bytes back). */
  cancel(): void {
    for (const w of this.waiters.splice(0)) { this.held += w.bytes; w.resolve(); }
  }
}

/**
 * Exact time range of batches that hold every row of their pages: the pages' footer stats,
 * so consumers (queries without `every` report the earliest time) need not scan the column.
 */
export const batchTimeRanges = new WeakMap<RecordBatch, { min: bigint; max: bigint }>();

function pagesTimeRange(reader: ChunkReader, pages: readonly number[]): { min: bigint; max: bigint } {
  const footer = reader.footer;
  const time = footer.columns.find((c) => c.name === footer.timeColumn)!;
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

/**
 * Row indexes passing the time range and tag filters, or null when every row passes. One
 * tight loop per predicate over typed arrays into a byte mask (no closures per row).
 */
function selectRows(batch: RecordBatch, reader: ChunkReader, input: ScanPlanInput): Int32Array | null {
  const n = batch.numRows;
  const footer = reader.footer;
  let mask: Uint8Array | null = null;
  const needTime = (input.from !== undefined && (footer.timeMin === null || BigInt(footer.timeMin) < input.from))
    || (input.to !== undefined && (footer.timeMax === null || BigInt(footer.timeMax) >= input.to));
  if (needTime) {
    const times = batch.getChild(footer.timeColumn)!.data[0]!.values as BigInt64Array;
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
      if (!f.matches('')) return new Int32Array(0);
      continue;
    }
    const data = child.data[0]!;
    if (data.type.typeId !== Type.Dictionary) continue;
    const dictionary = footer.columns.find((c) => c.name === f.tag)!.dictionary ?? [];
    const allowed = Uint8Array.from(dictionary, (v) => (f.matches(v) ? 1 : 0));
    if (allowed.every((a) => a === 1)) continue;
    const codes = data.values as Int32Array;
    if (mask === null) {
      mask = new Uint8Array(n);
      for (let i = 0; i < n; i++) mask[i] = allowed[codes[i]!]!;
    } else {
      for (let i = 0; i < n; i++) mask[i] = mask[i]! & allowed[codes[i]!]!;
    }
  }
  if (mask === null) return null;
  const out = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) if (mask[i]) out[k++] = i;
  return k === n ? null : out.subarray(0, k);
}
