/*
 * Long file: one class, ChunkReader, whose open, page selection, region reads, decode and
 * verify share the validated footer and the decoded-page cache; its pure planning is already
 * out (page-runs.ts), and cutting the class further would pass its state around.
 */
import { DecodedPageCache } from './decoded-cache.js';
import { decodeBuffers, storedBytes, storedBytesClass } from './buffer-pool.js';
import { type Data, makeData, RecordBatch, Schema, Struct } from 'apache-arrow';
import { assert, CorruptChunkError, LimitExceededError, SchemaError, UsageError } from '../errors.js';
import { type ArrowColumn, arrowColumnOf, pagesToData } from './arrow-data.js';
import {
  CHUNK_BYTES_MIN, FOOTER_HEADER_BYTES, FORMAT_VERSION, MAGIC, MAGIC_BYTES, TRAILER_BYTES,
} from './chunk.js';
import { valueWidthOf } from './column-kind.js';
import { crc32, crc32Combine } from './crc32.js';
import { decodeFooterJson, FooterFormatError } from './footer.js';
import { FooterShapeError, validateFooter } from './footer-validate.js';
import { resolveLimits } from './limits.js';
import { decodeColumnOf, decodeStoredPage } from './page-decode.js';
import type { DecodePool } from './decode-pool.js';
import { assignLanes, planPageRuns, type Range } from './page-runs.js';
import { float64NanCount, type MinMax, mergeMinMax, pageValuesMinMax, pageValuesSum, sameStat, statComparator } from './stats.js';
import type {
  ByteSource, ChunkFooter, ChunkLimits, ColumnFooter, DecodedPage, PageFooter, ReadChunkOptions, VerifyOptions, VerifyResult,
} from './types.js';

/**
 * Bytes read from the end of the file by openChunk: trailer + footer in one request for most
 * chunks (a cpu chunk of 21 columns × 30 pages has a ~6 KB zstd footer). Was 64 KiB: over 150
 * chunks, a one-shot query copied 9.6 MB it did not use and touched as much of each mapping
 * (8 MB of peak RSS in `quiver query` at 8.64 M rows).
 */
export const TAIL_READ_BYTES = 16 * 1024;
/**
 * The largest footer region openChunk has met in this process (≤ footerBytesMax): later opens
 * read that much of the tail at once, so the chunks of a wide table take one read each, not
 * two.
 */
let footerBytesSeen = 0;
/** Decoded bytes of one column of one read below which it decodes inline, not in the pool. */
export const POOL_COLUMN_BYTES_MIN = 256 * 1024;
/** Column regions verify() keeps in flight at once. */
const VERIFY_READS_IN_FLIGHT = 4;

/** Page `p` of a column: the validated footer gives every column every page, and `p` was checked against them. */
function pageOf(column: ColumnFooter, p: number): PageFooter {
  const page = column.pages[p];
  // The message is built only on failure: this runs for every page of every read.
  if (page === undefined) assert(false, `page ${p} of ${column.pages.length} of column ${JSON.stringify(column.name)}`);
  return page;
}

/** Awaits every task, then throws the first failure (no rejection is left unobserved). */
async function settleAll(tasks: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** Reads exactly `length` bytes at `offset` (a short read is a truncated chunk). */
async function readExact(source: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  const bytes = await source.read(offset, length);
  if (bytes.length !== length) {
    throw new CorruptChunkError(source.name, offset, `read of ${length} bytes returned ${bytes.length} (truncated chunk?)`);
  }
  return bytes;
}

async function readAll(source: ByteSource, ranges: readonly Range[]): Promise<Uint8Array[]> {
  if (ranges.length === 0) return [];
  const out = source.readRanges !== undefined && ranges.length > 1
    ? await source.readRanges(ranges)
    : await Promise.all(ranges.map((r) => source.read(r.offset, r.length)));
  if (out.length !== ranges.length) throw new CorruptChunkError(source.name, ranges[0]!.offset, `readRanges returned ${out.length} ranges for ${ranges.length}`);
  for (let i = 0; i < ranges.length; i++) {
    if (out[i]!.length !== ranges[i]!.length) {
      throw new CorruptChunkError(source.name, ranges[i]!.offset, `read of ${ranges[i]!.length} bytes returned ${out[i]!.length} (truncated chunk?)`);
    }
  }
  return out;
}

/**
 * The ranges read into one buffer lent by `storedBytes` (sources with readRangesInto), else
 * as readAll does. `lent` is the buffer to give back once nothing views it.
 */
async function readLent(source: ByteSource, ranges: readonly Range[]): Promise<{ buffers: Uint8Array[]; lent?: Uint8Array }> {
  let total = 0;
  for (const r of ranges) total += r.length;
  if (source.readRangesInto === undefined || total === 0) return { buffers: await readAll(source, ranges) };
  const lent = storedBytes.take(storedBytesClass(total));
  const into = lent.subarray(0, total);
  try {
    await source.readRangesInto(ranges, into);
  } catch (error) {
    storedBytes.give(lent.buffer); // nothing has seen its bytes
    throw error;
  }
  const buffers: Uint8Array[] = [];
  let at = 0;
  for (const r of ranges) {
    buffers.push(into.subarray(at, at + r.length));
    at += r.length;
  }
  return { buffers, lent };
}

/** Whether a decoded page holds a view of `buffer` (then the buffer must not be reused). */
function viewsBuffer(page: DecodedPage | undefined, buffer: ArrayBufferLike): boolean {
  if (page === undefined) return false;
  if (page.validity !== null && page.validity.buffer === buffer) return true;
  const v = page.values;
  switch (v.kind) {
    case 'bool': return v.bits.buffer === buffer;
    case 'utf8': return v.offsets.buffer === buffer || v.data.buffer === buffer;
    case 'fixed': return v.data.buffer === buffer;
    default: return v.values.buffer === buffer;
  }
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function isMagic(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < MAGIC_BYTES; i++) if (bytes[at + i] !== MAGIC[i]) return false;
  return true;
}

/**
 * Opens a chunk: one read of the file's tail (a second only for a footer larger than
 * TAIL_READ_BYTES), then checks the trailer, the footer CRC and the footer's structure.
 * Any problem with the bytes is a CorruptChunkError naming `source.name` and an offset;
 * a footer above the limits is a LimitExceededError.
 *
 * `lazyPages`: each column's page entries are validated (and copied out of the parsed JSON)
 * when first read, the rest of the footer at once; a problem then is the same
 * CorruptChunkError, thrown by that read. For readers that use the page statistics of a few
 * columns (a table's queries and scans: two of 21 columns for a count and a sum); `verify`,
 * `inspect` and the writer's read-back check every page at open.
 */
export async function openChunk(source: ByteSource, limitOverrides?: Partial<ChunkLimits>, options: { lazyPages?: boolean } = {}): Promise<ChunkReader> {
  const limits = resolveLimits(limitOverrides);
  const name = source.name;
  const size = await source.size();
  if (!Number.isSafeInteger(size) || size < 0) throw new CorruptChunkError(name, 0, `source size ${size} is not a byte count`);
  if (size < CHUNK_BYTES_MIN) throw new CorruptChunkError(name, 0, `file of ${size} bytes is shorter than the smallest chunk (${CHUNK_BYTES_MIN})`);
  const tailBytes = Math.min(size, Math.max(TAIL_READ_BYTES, footerBytesSeen + TRAILER_BYTES));
  const tailOffset = size - tailBytes;
  const tail = await readExact(source, tailOffset, tailBytes);
  const t = tailBytes - TRAILER_BYTES;
  if (!isMagic(tail, t + 12)) throw new CorruptChunkError(name, size - MAGIC_BYTES, 'trailing magic is not "QVR1" (not a Quiver chunk, or truncated)');
  const version = u32(tail, t + 8);
  if (version !== FORMAT_VERSION) {
    throw new CorruptChunkError(name, size - 8, `unsupported format version ${version} (this reader reads version ${FORMAT_VERSION})`);
  }
  const footerBytes = u32(tail, t);
  const footerBytesAvailable = size - TRAILER_BYTES - MAGIC_BYTES;
  if (footerBytes > footerBytesAvailable) {
    throw new CorruptChunkError(name, size - TRAILER_BYTES, `footer length ${footerBytes} exceeds file size ${size} (at most ${footerBytesAvailable} available)`);
  }
  if (footerBytes < FOOTER_HEADER_BYTES) {
    throw new CorruptChunkError(name, size - TRAILER_BYTES, `footer length ${footerBytes} is shorter than the ${FOOTER_HEADER_BYTES}-byte footer header`);
  }
  if (footerBytes > limits.footerBytesMax) throw new LimitExceededError('footerBytesMax', footerBytes, limits.footerBytesMax, `footer of ${name}`);
  const footerOffset = size - TRAILER_BYTES - footerBytes;
  const footerRegion = footerOffset >= tailOffset
    ? tail.subarray(footerOffset - tailOffset, footerOffset - tailOffset + footerBytes)
    : await readExact(source, footerOffset, footerBytes);
  const expectedCrc = u32(tail, t + 4);
  const actualCrc = crc32(footerRegion);
  if (actualCrc !== expectedCrc) {
    throw new CorruptChunkError(name, footerOffset, `footer crc32 ${actualCrc} != ${expectedCrc} recorded in the trailer`);
  }
  if (tailOffset === 0 && !isMagic(tail, 0)) throw new CorruptChunkError(name, 0, 'leading magic is not "QVR1"');
  const corrupt = (error: unknown): unknown => {
    if (error instanceof FooterFormatError) return new CorruptChunkError(name, footerOffset + error.offset, error.message);
    if (error instanceof FooterShapeError) return new CorruptChunkError(name, footerOffset, error.message);
    return error;
  };
  let footer: ChunkFooter;
  try {
    const context = { formatVersion: version, footerOffset, limits, where: name };
    const json = decodeFooterJson(footerRegion, limits, name);
    footer = validateFooter(json, options.lazyPages === true ? { ...context, lazy: { wrap: corrupt } } : context);
  } catch (error) {
    throw corrupt(error);
  }
  // Only a footer that validated counts: a damaged length, or a hostile chunk's footer under a
  // CRC that holds, could claim up to footerBytesMax and make every later open read that much.
  if (footerBytes > footerBytesSeen) footerBytesSeen = footerBytes;
  return new ChunkReader(source, footer, size, limits, { offset: footerOffset, length: footerBytes });
}

/** One byte range of the file, as `regions()` lists them (mirrors the layout in chunk.ts). */
export interface ChunkRegion {
  kind: 'magic' | 'page' | 'footer' | 'trailer';
  offset: number;
  length: number;
  column?: string;
  page?: number;
}

/** Reads columns and pages of one opened chunk. Create with openChunk. */
export class ChunkReader {
  readonly name: string;
  private readonly arrowColumns = new Map<number, ArrowColumn>();
  /** Where decoded pages are kept for repeated reads (set by the table layer; none by default). */
  decodedCache?: DecodedPageCache;
  /** Worker threads that decode large runs of pages (set by the table layer; none: decode inline). */
  decodePool?: DecodePool;

  constructor(
    readonly source: ByteSource,
    readonly footer: ChunkFooter,
    /** File size in bytes. */
    readonly size: number,
    readonly limits: ChunkLimits,
    /** Where the footer region lies (from the trailer). */
    readonly footerRegion: { offset: number; length: number } = { offset: size, length: 0 },
  ) {
    this.name = source.name;
  }

  /** Every region of the file in offset order: magic, pages of each column, footer, trailer. */
  regions(): ChunkRegion[] {
    const out: ChunkRegion[] = [{ kind: 'magic', offset: 0, length: MAGIC_BYTES }];
    for (const column of this.footer.columns) {
      column.pages.forEach((page, p) => out.push({ kind: 'page', offset: page.offset, length: page.length, column: column.name, page: p }));
    }
    out.push({ kind: 'footer', offset: this.footerRegion.offset, length: this.footerRegion.length });
    out.push({ kind: 'trailer', offset: this.size - TRAILER_BYTES, length: TRAILER_BYTES });
    return out.sort((a, b) => a.offset - b.offset);
  }

  /** Index of a column by name; SchemaError when absent. */
  columnIndex(name: string): number {
    const index = this.footer.columns.findIndex((c) => c.name === name);
    if (index < 0) {
      throw new SchemaError(`chunk ${this.name}: no column ${JSON.stringify(name)} (columns: ${this.footer.columns.map((c) => c.name).join(', ')})`);
    }
    return index;
  }

  /** Column `c` of the footer; callers checked `c` against the column count. */
  private column(c: number): ColumnFooter {
    const column = this.footer.columns[c];
    if (column === undefined) assert(false, `column ${c} of ${this.footer.columns.length} in chunk ${this.name}`);
    return column;
  }

  get pageCount(): number {
    return this.footer.pageRowStarts.length - 1;
  }

  private selectPages(pages: readonly number[] | undefined): number[] {
    if (pages === undefined) return Array.from({ length: this.pageCount }, (_, i) => i);
    for (let i = 0; i < pages.length; i++) {
      const p = pages[i]!;
      if (!Number.isInteger(p) || p < 0 || p >= this.pageCount) throw new UsageError(`chunk ${this.name}: page ${p} outside [0, ${this.pageCount})`);
      if (i > 0 && p <= pages[i - 1]!) throw new UsageError(`chunk ${this.name}: pages must be strictly ascending, got ${pages[i - 1]} then ${p}`);
    }
    return [...pages];
  }

  /**
   * Fetches and decodes the given pages of the given columns: one byte range per run of
   * consecutive pages per column, all requested in one readRanges call when the source has it.
   */
  async readPages(columnIndexes: readonly number[], pageIndexes?: readonly number[], decodeAfter?: Promise<unknown>, uncached = false): Promise<DecodedPage[][]> {
    for (const c of columnIndexes) {
      if (!Number.isInteger(c) || c < 0 || c >= this.footer.columns.length) throw new UsageError(`chunk ${this.name}: column index ${c} outside [0, ${this.footer.columns.length})`);
    }
    if (new Set(columnIndexes).size !== columnIndexes.length) throw new UsageError(`chunk ${this.name}: column indexes repeat in ${JSON.stringify(columnIndexes)}`);
    const pages = this.selectPages(pageIndexes);
    const columns = columnIndexes.map((c) => this.column(c));
    let decodedBytes = 0;
    for (const column of columns) for (const p of pages) decodedBytes += pageOf(column, p).rawBytes;
    if (decodedBytes > this.limits.readDecodedBytesMax) {
      throw new LimitExceededError('readDecodedBytesMax', decodedBytes, this.limits.readDecodedBytesMax, `read of chunk ${this.name}`);
    }
    // Pages already decoded (the decoded-page cache) are neither fetched nor decoded again.
    const cache = this.decodedCache;
    const out: DecodedPage[][] = columnIndexes.map(() => new Array<DecodedPage>(pages.length));
    const missing: boolean[][] = columnIndexes.map((c, ci) => pages.map((p, i) => {
      const hit = cache?.get(DecodedPageCache.key(this.name, c, p));
      if (hit === undefined) return true;
      (out[ci] as DecodedPage[])[i] = hit; // out has a slot per column
      return false;
    }));
    // Runs of consecutive missing pages → one range each.
    const { ranges, runs } = planPageRuns(columns.map((column) => column.pages), pages, missing);
    const { buffers, lent } = ranges.length ? await readLent(this.source, ranges) : { buffers: [] };
    // Columns with enough to decode are shared between this thread and the pool's ready
    // workers, largest first to the least loaded (this thread would otherwise wait idle); a
    // pooled column is one task per run, its bytes copied (the source may be mmap'd).
    const pool = this.decodePool;
    const eligible: { ci: number; bytes: number }[] = [];
    if (pool !== undefined) {
      columns.forEach((column, ci) => {
        let bytes = 0;
        pages.forEach((p, i) => { if (missing[ci]?.[i]) bytes += pageOf(column, p).rawBytes; });
        if (bytes >= POOL_COLUMN_BYTES_MIN) eligible.push({ ci, bytes });
      });
    }
    // Asking starts the pool: only reads large enough to use it do.
    const pooled = pool !== undefined && eligible.length > 0 ? assignLanes(eligible, pool.usableCount) : new Set<number>();
    // Decoding on this thread waits for its turn (ReadChunkOptions.decodeAfter) unless threads take part.
    if (decodeAfter !== undefined && pooled.size === 0) await decodeAfter;
    // Fixed-width pages of multi-page reads decode (plain: decompress) straight into one buffer
    // per column, in page order, so their values are adjacent views joined without a copy
    // (when some pages came from the cache, the join copies instead). Without a decoded-page
    // cache the buffer comes from the decode buffer pool (buffer-pool.ts: reused once the
    // batch's consumer releases it).
    const destinations = new Map<number, { bytes: Uint8Array; at: number }>();
    const lend = cache === undefined || uncached;
    const keep = uncached ? undefined : cache;
    columns.forEach((column, ci) => {
      const width = valueWidthOf(column.type);
      if (width === 0 || pages.length < 2 || pooled.has(ci) || !(missing[ci] ?? []).every((m) => m)) return;
      let rows = 0;
      for (const p of pages) rows += pageOf(column, p).rows;
      destinations.set(ci, { bytes: lend ? decodeBuffers.take(rows * width) : new Uint8Array(rows * width), at: 0 });
    });
    const tasks: Promise<void>[] = [];
    try {
      // Pooled runs first: the workers start while this thread decodes its share.
      for (const run of [...runs.filter((r) => pooled.has(r.ci)), ...runs.filter((r) => !pooled.has(r.ci))]) {
        // planPageRuns made run.ci a column of the read and run.range one of its ranges (readAll returned each).
        const c = columnIndexes[run.ci] as number;
        const column = columns[run.ci] as ColumnFooter;
        const buffer = buffers[run.range] as Uint8Array;
        const base = (ranges[run.range] as Range).offset;
        const target = out[run.ci] as DecodedPage[];
        if (pool !== undefined && pooled.has(run.ci)) {
          const runPages = [];
          for (let i = run.first; i <= run.last; i++) {
            const p = pages[i] as number; // run.first…run.last index pages
            const page = pageOf(column, p);
            runPages.push({ p, page, start: page.offset - base, end: page.offset - base + page.length });
          }
          const width = valueWidthOf(column.type);
          let runRows = 0;
          for (const rp of runPages) runRows += rp.page.rows;
          const into = width > 0 ? new Uint8Array(runRows * width) : undefined;
          tasks.push(pool.decode({ chunk: this.name, column: decodeColumnOf(column), pages: runPages, bytes: buffer.slice(), ...(into ? { into } : {}) }).then((decoded) => {
            decoded.forEach((d, k) => {
              keep?.set(DecodedPageCache.key(this.name, c, d.page), d);
              target[run.first + k] = d;
            });
          }));
          continue;
        }
        const destination = destinations.get(run.ci);
        for (let i = run.first; i <= run.last; i++) {
          const p = pages[i] as number; // run.first…run.last index pages
          const page = pageOf(column, p);
          const stored = buffer.subarray(page.offset - base, page.offset - base + page.length);
          let into: Uint8Array | undefined;
          if (destination !== undefined) {
            const bytes = page.rows * valueWidthOf(column.type);
            into = destination.bytes.subarray(destination.at, destination.at + bytes);
            destination.at += bytes;
          }
          const decoded = this.decodeStoredPage(column, p, stored, false, into);
          keep?.set(DecodedPageCache.key(this.name, c, p), decoded);
          target[i] = decoded;
        }
      }
    } catch (error) {
      await Promise.allSettled(tasks); // a failure here must not leave a worker's rejection unobserved
      throw error;
    }
    if (tasks.length > 0) await settleAll(tasks);
    // The stored bytes go back to their pool unless a decoded page views them (plain pages
    // under codec none decoded without a destination). Pooled runs decoded copies of them.
    // On a failure they are left to the collector: a page cached before it may view them.
    if (lent !== undefined && !out.some((pagesOfColumn) => pagesOfColumn.some((page) => viewsBuffer(page, lent.buffer)))) storedBytes.give(lent.buffer);
    return out;
  }

  /** Decoded pages of one column (default: all pages), for scans that decode selectively. */
  async readColumnPages(column: string, pages?: readonly number[]): Promise<DecodedPage[]> {
    return (await this.readPages([this.columnIndex(column)], pages))[0]!;
  }

  /** The Arrow field of a column (types are shared by every batch this reader returns). */
  arrowColumn(index: number): ArrowColumn {
    let column = this.arrowColumns.get(index);
    if (column === undefined) {
      column = arrowColumnOf(this.column(index), this.footer.timeUnit, this.footer.timeZone);
      this.arrowColumns.set(index, column);
    }
    return column;
  }

  /** Arrow Data of decoded pages of a column (see readColumnPages). */
  toArrowData(column: string, pages: readonly DecodedPage[]): Data {
    return pagesToData(this.arrowColumn(this.columnIndex(column)), pages);
  }

  /** Reads the selected columns (default all, in footer order) and pages into one RecordBatch. */
  async read(options: ReadChunkOptions = {}): Promise<RecordBatch> {
    const names = options.columns ?? this.footer.columns.map((c) => c.name);
    const indexes = names.map((n) => this.columnIndex(n));
    if (new Set(indexes).size !== indexes.length) throw new UsageError(`chunk ${this.name}: a column is selected twice in ${JSON.stringify(names)}`);
    const decoded = await this.readPages(indexes, options.pages, options.decodeAfter, options.uncached);
    const pages = this.selectPages(options.pages);
    let rows = 0;
    for (const p of pages) rows += this.footer.pageRowStarts[p + 1]! - this.footer.pageRowStarts[p]!;
    const columns = indexes.map((c) => this.arrowColumn(c));
    const children = columns.map((column, i) => {
      const data = pagesToData(column, decoded[i]!);
      if (this.decodedCache && !options.uncached && decoded[i]!.length > 1) this.recacheJoined(this.decodedCache, indexes[i]!, decoded[i]!, data);
      return data;
    });
    const schema = new Schema(columns.map((c) => c.field));
    const struct = makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children });
    return new RecordBatch(schema, struct);
  }

  /**
   * Pages cached by earlier reads of other page subsets lie in separate buffers, so joining
   * them copied. Re-cache them as views of the joined buffer: the next read of these pages
   * joins without a copy (and the old buffers can go).
   */
  private recacheJoined(cache: DecodedPageCache, column: number, pages: readonly DecodedPage[], data: Data): void {
    const joined = data.values as BigInt64Array | Float64Array | Int32Array | undefined;
    const first = pages[0]!.values;
    if (joined === undefined || !(first.kind === 'i64' || first.kind === 'f64' || first.kind === 'i32')) return;
    // Columns whose Arrow layout is not the page's (decimals on int64 pages) hold converted values.
    if (joined.length !== data.length || joined.BYTES_PER_ELEMENT !== first.values.BYTES_PER_ELEMENT) return;
    if (first.values.buffer === joined.buffer) return; // already adjacent views: no copy was made
    let at = 0;
    for (const page of pages) {
      const values = joined.subarray(at, at + page.rows);
      at += page.rows;
      cache.set(DecodedPageCache.key(this.name, column, page.page), { ...page, values: { kind: first.kind, values } as DecodedPage['values'] });
    }
  }

  /**
   * Reads every column region and checks the leading magic, each region's CRC-32 and each
   * page's CRC-32 (and with `decode`, decodes every page). Collects every problem.
   */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const errors: CorruptChunkError[] = [];
    let pagesChecked = 0;
    let bytesChecked = 0;
    const head = await this.source.read(0, MAGIC_BYTES);
    if (head.length !== MAGIC_BYTES || !isMagic(head, 0)) errors.push(new CorruptChunkError(this.name, 0, 'leading magic is not "QVR1"'));
    const columns = this.footer.columns;
    // Regions are fetched VERIFY_READS_IN_FLIGHT at a time: latency overlaps on object
    // stores while memory stays bounded to a few regions.
    const regions: Promise<Uint8Array | CorruptChunkError>[] = [];
    const fetchRegion = (c: number) => {
      const column = this.column(c);
      const region = readExact(this.source, column.offset, column.length).catch((error: unknown) => {
        if (error instanceof CorruptChunkError) return error;
        throw error;
      });
      // A store error surfaces when its column's turn comes; until then (or if an earlier
      // one is thrown first) it must not count as an unhandled rejection.
      region.catch(() => {});
      regions[c] = region;
    };
    for (let c = 0; c < Math.min(VERIFY_READS_IN_FLIGHT, columns.length); c++) fetchRegion(c);
    for (let c = 0; c < columns.length; c++) {
      const column = this.column(c);
      const fetched = await regions[c];
      assert(fetched !== undefined, `column ${c}'s region was fetched`); // fetchRegion(c) ran VERIFY_READS_IN_FLIGHT columns ago
      delete regions[c];
      if (c + VERIFY_READS_IN_FLIGHT < columns.length) fetchRegion(c + VERIFY_READS_IN_FLIGHT);
      if (fetched instanceof CorruptChunkError) {
        errors.push(fetched);
        continue;
      }
      const region = fetched;
      bytesChecked += region.length;
      // One pass: page CRCs from the bytes, the region CRC combined from them.
      let regionCrc = 0;
      let columnStats: MinMax = { min: null, max: null };
      const errorsBefore = errors.length;
      for (let p = 0; p < column.pages.length; p++) {
        const page = pageOf(column, p);
        const stored = region.subarray(page.offset - column.offset, page.offset - column.offset + page.length);
        const pageCrc = crc32(stored);
        regionCrc = crc32Combine(regionCrc, pageCrc, stored.length);
        pagesChecked++;
        try {
          if (pageCrc !== page.crc32) {
            throw new CorruptChunkError(this.name, page.offset, `column ${JSON.stringify(column.name)} page ${p} crc32 ${pageCrc} != ${page.crc32} in the footer`);
          }
          if (options.decode === true) {
            const decoded = this.decodeStoredPage(column, p, stored, true);
            const actual = pageValuesMinMax(decoded.values, decoded.validity, column.type, column.dictionary);
            if (!sameStat(actual.min, page.min) || !sameStat(actual.max, page.max)) {
              throw new CorruptChunkError(this.name, page.offset, `column ${JSON.stringify(column.name)} page ${p} holds min/max ${String(actual.min)}/${String(actual.max)}, footer says ${String(page.min)}/${String(page.max)}`);
            }
            if (page.nanCount !== undefined && decoded.values.kind === 'f64') {
              const nan = float64NanCount(decoded.values.values, 0, page.rows, decoded.validity);
              if (nan !== page.nanCount) throw new CorruptChunkError(this.name, page.offset, `column ${JSON.stringify(column.name)} page ${p} holds ${nan} NaN, footer says ${page.nanCount}`);
            }
            if (page.sum !== undefined) {
              const sum = pageValuesSum(decoded.values, 0, page.rows, decoded.validity, column.type);
              if (!sameStat(sum, page.sum)) {
                throw new CorruptChunkError(this.name, page.offset, `column ${JSON.stringify(column.name)} page ${p} sums to ${String(sum)}, footer says ${String(page.sum)}`);
              }
            }
            columnStats = mergeMinMax(columnStats, actual, statComparator(column.type));
          }
        } catch (error) {
          if (error instanceof CorruptChunkError) errors.push(error);
          else throw error;
        }
      }
      if (options.decode === true && errors.length === errorsBefore && (!sameStat(columnStats.min, column.min) || !sameStat(columnStats.max, column.max))) {
        errors.push(new CorruptChunkError(this.name, column.offset, `column ${JSON.stringify(column.name)} pages hold min/max ${String(columnStats.min)}/${String(columnStats.max)}, footer says ${String(column.min)}/${String(column.max)}`));
      }
      if (options.decode === true && errors.length === errorsBefore && column.role === 'time' && (columnStats.min !== this.footer.timeMin || columnStats.max !== this.footer.timeMax)) {
        errors.push(new CorruptChunkError(this.name, column.offset, `time column holds ${String(columnStats.min)}..${String(columnStats.max)}, footer time range says ${String(this.footer.timeMin)}..${String(this.footer.timeMax)}`));
      }
      if (regionCrc !== column.crc32) {
        errors.push(new CorruptChunkError(this.name, column.offset, `column ${JSON.stringify(column.name)} region crc32 ${regionCrc} != ${column.crc32} in the footer`));
      }
    }
    return { chunk: this.name, ok: errors.length === 0, columnsChecked: columns.length, pagesChecked, bytesChecked, errors };
  }

  private decodeStoredPage(column: ColumnFooter, p: number, stored: Uint8Array, crcChecked = false, into?: Uint8Array): DecodedPage {
    return decodeStoredPage(this.name, decodeColumnOf(column), p, pageOf(column, p), stored, crcChecked, into);
  }
}
