import type { RecordBatch } from 'apache-arrow';
import { assert, InputError, LimitExceededError, UsageError } from '../errors.js';
import { sliceBits } from './bits.js';
import {
  DEFAULT_PAGE_ROWS, FORMAT_VERSION, MAGIC, MAGIC_BYTES, TRAILER_BYTES, WRITER_ID,
} from './chunk.js';
import { getBlockCodec, isBlockCodecId } from './codecs/registry.js';
import { noneCodec } from './codecs/none.js';
import type { BlockCodec } from './codecs/types.js';
import { ZSTD_LEVEL_DEFAULT, ZSTD_LEVEL_MAX, ZSTD_LEVEL_MIN } from './codecs/zstd.js';
import { type FlatColumn, flattenInput } from './column-input.js';
import { pageRawBytes } from './column-kind.js';
import { crc32, crc32Combine } from './crc32.js';
import { encodePage } from './encodings/registry.js';
import type { PageValues } from './encodings/types.js';
import { encodeFooter } from './footer.js';
import { checkLimit, resolveLimits } from './limits.js';
import { float64NanCount, type MinMax, mergeMinMax, pageValuesSum, statComparator, valuesMinMax } from './stats.js';
import type { BlockCodecId, ChunkFooter, ChunkLimits, ColumnFooter, PageFooter, WriteChunkOptions } from './types.js';

/**
 * With codec 'auto' (the default), a column keeps zstd only if it saves at least this share
 * of the column's encoded bytes; otherwise its pages are stored as encoded ('none'). Most
 * encoded pages are already dense (rANS streams, bitsplit planes that carry their own zstd,
 * a few bytes of runs): zstd then adds its frame and a call per page to every read.
 */
export const CODEC_AUTO_SAVING_MIN = 0.02;

export interface WrittenChunk {
  bytes: Uint8Array;
  footer: ChunkFooter;
}

/** Worst-case codec framing per page (zstd/lz4 headers of the validity and values parts). */
const OUTPUT_SLACK_PER_PAGE_BYTES = 256;
/** Room the first estimate of the output leaves for the footer and trailer (it grows if a footer needs more). */
const FOOTER_ESTIMATE_BYTES = 64 * 1024;
/** The output buffer starts at most this big and grows past it only if the chunk needs it. */
const OUTPUT_INITIAL_BYTES_MAX = 1024 * 1024 * 1024;
/** Largest chunk the writer can produce (an ArrayBuffer limit). */
const CHUNK_BYTES_MAX = 2 ** 32 - 1;

/** Pages per column cap for a pageRows value (guards a tiny pageRows on a big input). */
const PAGE_ROWS_MAX = 1 << 24;

interface ColumnPlan {
  codec: BlockCodec;
  codecId: BlockCodecId;
  codecLevel: number | undefined;
  /** Codec 'auto': zstd, dropped for 'none' when it saves too little (CODEC_AUTO_SAVING_MIN). */
  auto: boolean;
  encoding: string | undefined;
  validityEncoding: string | undefined;
}

function planColumn(column: FlatColumn, options: WriteChunkOptions): ColumnPlan {
  const own = options.columns?.[column.name] ?? {};
  const choice = own.codec ?? options.codec ?? 'auto';
  const auto = choice === 'auto';
  const codecId = auto ? 'zstd' : choice;
  if (!isBlockCodecId(codecId)) throw new UsageError(`chunk writer: unknown block codec ${JSON.stringify(codecId)} for column ${JSON.stringify(column.name)} (known: auto, zstd, lz4, none)`);
  let codecLevel: number | undefined;
  if (codecId === 'zstd') {
    codecLevel = own.codecLevel ?? (own.codec === undefined ? options.codecLevel : undefined) ?? ZSTD_LEVEL_DEFAULT;
    if (!Number.isInteger(codecLevel) || codecLevel < ZSTD_LEVEL_MIN || codecLevel > ZSTD_LEVEL_MAX) {
      throw new UsageError(`chunk writer: zstd level ${codecLevel} for column ${JSON.stringify(column.name)} outside [${ZSTD_LEVEL_MIN}, ${ZSTD_LEVEL_MAX}]`);
    }
  }
  return { codec: getBlockCodec(codecId), codecId, codecLevel, auto, encoding: own.encoding, validityEncoding: own.validityEncoding };
}

/** The values of rows [start, end) of a chunk-wide column as one page's values. */
function pageValues(values: PageValues, start: number, end: number): PageValues {
  switch (values.kind) {
    case 'i64': return { kind: 'i64', values: values.values.subarray(start, end) };
    case 'f64': return { kind: 'f64', values: values.values.subarray(start, end) };
    case 'i32': return { kind: 'i32', values: values.values.subarray(start, end) };
    case 'bool': return { kind: 'bool', bits: sliceBits(values.bits, start, end - start), length: end - start };
    case 'utf8': {
      const first = values.offsets[start]!;
      const offsets = new Int32Array(end - start + 1);
      for (let i = 0; i <= end - start; i++) offsets[i] = values.offsets[start + i]! - first;
      return { kind: 'utf8', offsets, data: values.data.subarray(first, values.offsets[end]!) };
    }
    case 'fixed': return { kind: 'fixed', width: values.width, data: values.data.subarray(start * values.width, end * values.width) };
  }
}

function pageStats(column: FlatColumn, start: number, end: number): MinMax {
  return valuesMinMax(column.values, start, end, column.validity, column.type, column.dictionary);
}

/** Raw bytes of a column (values + validity), the basis of the output size estimate. */
function columnRawEstimate(column: FlatColumn): number {
  const v = column.values;
  const validity = column.validity === null ? 0 : column.validity.length;
  switch (v.kind) {
    case 'i64': case 'f64': return v.values.byteLength + validity;
    case 'i32': return v.values.byteLength + validity;
    case 'bool': return v.bits.length + validity;
    case 'utf8': return v.offsets.byteLength + v.data.length + validity;
    case 'fixed': return v.data.length + validity;
  }
}

/** A growable output buffer (not zero-filled: only written bytes are ever exposed). */
class OutputBuffer {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity: number, private readonly where: string) {
    this.bytes = OutputBuffer.allocate(capacity);
  }

  private static allocate(capacity: number): Uint8Array {
    const buffer = Buffer.allocUnsafeSlow(capacity); // unpooled: the chunk owns its ArrayBuffer
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.bytes.length) return;
    if (this.length + bytes > CHUNK_BYTES_MAX) throw new LimitExceededError('chunkBytesMax', this.length + bytes, CHUNK_BYTES_MAX, this.where);
    const grown = OutputBuffer.allocate(Math.min(CHUNK_BYTES_MAX, Math.max(this.length + bytes, Math.ceil(this.bytes.length * 1.5))));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  write(part: Uint8Array): void {
    this.reserve(part.length);
    this.bytes.set(part, this.length);
    this.length += part.length;
  }

  /**
   * The written bytes. When more than a quarter of the buffer went unused (compressible
   * data), they move to an exact-size buffer so a retained chunk does not pin the slack.
   */
  finish(): Uint8Array {
    if (this.bytes.length - this.length <= this.bytes.length / 4) return this.bytes.subarray(0, this.length);
    const exact = OutputBuffer.allocate(this.length);
    exact.set(this.bytes.subarray(0, this.length));
    return exact;
  }

  /** Appends `codec(input)`; returns the stored length. */
  compress(codec: BlockCodec, input: Uint8Array, level: number | undefined): number {
    this.reserve(codec.encodeBound(input.length));
    const written = codec.encodeInto(input, this.bytes.subarray(this.length), level);
    this.length += written;
    return written;
  }
}

/** Appends a page's stored bytes (validity part, then values part) and fills in where they lie and their CRC. */
function writePage(out: OutputBuffer, codec: BlockCodec, level: number | undefined, page: PageFooter, values: Uint8Array, validity: Uint8Array | null): void {
  page.offset = out.length;
  if (validity !== null) page.validityLength = out.compress(codec, validity, level);
  out.compress(codec, values, level);
  page.length = out.length - page.offset;
  page.crc32 = crc32(out.bytes.subarray(page.offset, out.length));
}

function countNulls(validity: Uint8Array | null, start: number, end: number): number {
  if (validity === null) return 0;
  let nulls = 0;
  for (let i = start; i < end; i++) if (((validity[i >>> 3]! >>> (i & 7)) & 1) === 0) nulls++;
  return nulls;
}

function encodeOrThrow(values: PageValues, encoding: string | undefined, column: string, page: number, preferSize = false) {
  try {
    return encodePage(values, encoding === undefined ? { preferSize } : { encoding });
  } catch (error) {
    throw new UsageError(`chunk writer: column ${JSON.stringify(column)} page ${page}: ${(error as Error).message}`);
  }
}

/**
 * Writes one packed chunk (layout in chunk.ts, spec in docs/format.md) from record batches
 * sharing one schema. Pages of `pageRows` rows are shared by every column; each page is
 * encoded (encodings registry), then block-compressed, and checksummed.
 */
export function writeChunk(input: RecordBatch[] | RecordBatch, options: WriteChunkOptions): WrittenChunk {
  const batches = Array.isArray(input) ? input : [input];
  const limits: ChunkLimits = resolveLimits(options.limits);
  const pageRows = options.pageRows ?? DEFAULT_PAGE_ROWS;
  if (!Number.isSafeInteger(pageRows) || pageRows < 1 || pageRows > PAGE_ROWS_MAX) {
    throw new UsageError(`chunk writer: pageRows ${pageRows} outside [1, ${PAGE_ROWS_MAX}]`);
  }
  const flat = flattenInput(batches, options.timeColumn, options.tags);
  for (const name of Object.keys(options.columns ?? {})) {
    if (!flat.columns.some((c) => c.name === name)) throw new UsageError(`chunk writer: options.columns names unknown column ${JSON.stringify(name)}`);
  }
  const where = `chunk writer (${options.metadata?.['table'] ?? 'chunk'})`;
  checkLimit(limits, 'rowsMax', flat.rowCount, where);
  checkLimit(limits, 'columnsMax', flat.columns.length, where);
  const pageRowStarts: number[] = [0];
  for (let start = pageRows; start < flat.rowCount; start += pageRows) pageRowStarts.push(start);
  if (flat.rowCount > 0) pageRowStarts.push(flat.rowCount);
  checkLimit(limits, 'pagesMax', pageRowStarts.length - 1, where);

  // Pages are compressed straight into one output buffer. It is sized for the worst case up
  // front; untouched pages of a large allocation are never committed, so this costs address
  // space, not memory, and saves a copy of every page.
  let estimate = MAGIC_BYTES + FOOTER_ESTIMATE_BYTES;
  for (const column of flat.columns) estimate += columnRawEstimate(column) * 1.01 + OUTPUT_SLACK_PER_PAGE_BYTES * (pageRowStarts.length + 1);
  const out = new OutputBuffer(Math.ceil(Math.min(estimate, OUTPUT_INITIAL_BYTES_MAX)), where);
  out.write(MAGIC);
  const columns: ColumnFooter[] = [];
  for (const column of flat.columns) {
    const plan = planColumn(column, options);
    const compare = statComparator(column.type);
    const columnOffset = out.length;
    let rawBytes = 0;
    let encodedTotal = 0;
    let stats: MinMax = { min: null, max: null };
    const pages: PageFooter[] = [];
    // With codec 'auto' the encoded pages are kept until the column is written, in case it
    // is written again without zstd.
    const kept: { values: Uint8Array; validity: Uint8Array | null }[] = [];
    for (let p = 0; p + 1 < pageRowStarts.length; p++) {
      const start = pageRowStarts[p]!;
      const end = pageRowStarts[p + 1]!;
      const rows = end - start;
      const nullCount = countNulls(column.validity, start, end);
      const values = pageValues(column.values, start, end);
      const encoded = encodeOrThrow(values, plan.encoding, column.name, p, options.preferSize === true);
      const dataBytes = values.kind === 'utf8' || values.kind === 'fixed' ? values.data.length : 0;
      const pageRaw = pageRawBytes(values.kind, rows, nullCount > 0, dataBytes);
      if (pageRaw > limits.pageDecodedBytesMax || encoded.bytes.length > limits.pageDecodedBytesMax) {
        throw new LimitExceededError('pageDecodedBytesMax', Math.max(pageRaw, encoded.bytes.length), limits.pageDecodedBytesMax, `${where} column ${JSON.stringify(column.name)} page ${p}`);
      }
      const page: PageFooter = {
        offset: 0, length: 0, encodedBytes: encoded.bytes.length, rawBytes: pageRaw, rows, nullCount,
        min: null, max: null, encoding: encoded.encoding, crc32: 0,
      };
      let validity: Uint8Array | null = null;
      if (nullCount > 0) {
        const bitmap = sliceBits(column.validity!, start, rows);
        const encodedValidity = encodeOrThrow({ kind: 'bool', bits: bitmap, length: rows }, plan.validityEncoding, column.name, p);
        page.validityEncoding = encodedValidity.encoding;
        validity = encodedValidity.bytes;
      }
      writePage(out, plan.codec, plan.codecLevel, page, encoded.bytes, validity);
      if (validity !== null) page.validityEncodedBytes = validity.length; // after validityLength: the footer's key order is part of the golden bytes
      encodedTotal += encoded.bytes.length + (validity?.length ?? 0);
      if (plan.auto) kept.push({ values: encoded.bytes, validity });
      const pageMinMax = pageStats(column, start, end);
      page.min = pageMinMax.min;
      page.max = pageMinMax.max;
      if (column.role === 'field') {
        // A page without nulls sums like one read back (decoded pages carry no bitmap then).
        const sum = pageValuesSum(column.values, start, end, nullCount > 0 ? column.validity : null, column.type);
        if (sum !== undefined) page.sum = sum;
        // NaN is only possible where the sum is NaN: count it there (absent = none).
        if (column.values.kind === 'f64' && sum !== sum) {
          const nan = float64NanCount(column.values.values, start, end, column.validity);
          if (nan > 0) page.nanCount = nan;
        }
      }
      stats = mergeMinMax(stats, pageMinMax, compare);
      rawBytes += pageRaw;
      pages.push(page);
    }
    let codecId = plan.codecId;
    let codecLevel = plan.codecLevel;
    if (plan.auto && out.length - columnOffset > encodedTotal * (1 - CODEC_AUTO_SAVING_MIN)) {
      out.length = columnOffset;
      pages.forEach((page, p) => writePage(out, noneCodec, undefined, page, kept[p]!.values, kept[p]!.validity));
      codecId = 'none';
      codecLevel = undefined;
    }
    let regionCrc = 0;
    for (const page of pages) regionCrc = crc32Combine(regionCrc, page.crc32, page.length);
    const offset = out.length;
    const footerColumn: ColumnFooter = {
      name: column.name, role: column.role, type: column.type, nullable: column.nullable, codec: codecId,
      offset: columnOffset, length: offset - columnOffset, rawBytes, storedBytes: offset - columnOffset,
      nullCount: column.nullCount, min: stats.min, max: stats.max, crc32: regionCrc, pages,
    };
    if (codecLevel !== undefined) footerColumn.codecLevel = codecLevel;
    if (column.dictionary !== undefined) footerColumn.dictionary = column.dictionary;
    columns.push(footerColumn);
  }

  const time = flat.columns.find((c) => c.role === 'time');
  const timeStats = columns.find((c) => c.role === 'time');
  // flattenColumns made the time column from options.timeColumn (or refused the input), and columns has one entry per flat column.
  assert(time !== undefined && timeStats !== undefined, 'the flattened chunk has its time column');
  if (time.values.kind !== 'i64') throw new InputError('chunk writer: time column is not 64-bit');
  const footer: ChunkFooter = {
    formatVersion: FORMAT_VERSION,
    writer: WRITER_ID,
    rowCount: flat.rowCount,
    timeColumn: options.timeColumn,
    timeUnit: flat.timeUnit,
    tags: [...options.tags],
    timeMin: timeStats.min as string | null,
    timeMax: timeStats.max as string | null,
    pageRowStarts,
    columns,
    sortedBySeries: options.sortedBySeries ?? false,
    lineage: (options.lineage ?? []).map((l) => ({ source: l.source, rowStart: l.rowStart, rowEnd: l.rowEnd })),
    metadata: { ...(options.metadata ?? {}) },
  };
  if (flat.timeZone !== null) footer.timeZone = flat.timeZone;
  const footerRegion = encodeFooter(footer);
  const footerJsonBytes = new DataView(footerRegion.buffer, footerRegion.byteOffset).getUint32(4, true);
  checkLimit(limits, 'footerBytesMax', Math.max(footerRegion.length, footerJsonBytes), where);
  const footerCrc = crc32(footerRegion);
  const trailer = new Uint8Array(TRAILER_BYTES);
  const view = new DataView(trailer.buffer);
  view.setUint32(0, footerRegion.length, true);
  view.setUint32(4, footerCrc, true);
  view.setUint32(8, FORMAT_VERSION, true);
  trailer.set(MAGIC, 12);
  out.write(footerRegion);
  out.write(trailer);
  return { bytes: out.finish(), footer };
}
