import type { RecordBatch } from 'apache-arrow';
import { crc32 } from 'node:zlib';
import { InputError, LimitExceededError, UsageError } from '../errors.js';
import { sliceBits } from './bits.js';
import {
  DEFAULT_PAGE_ROWS, FORMAT_VERSION, MAGIC, MAGIC_BYTES, TRAILER_BYTES, WRITER_ID,
} from './chunk.js';
import { getBlockCodec, isBlockCodecId } from './codecs/registry.js';
import type { BlockCodec } from './codecs/types.js';
import { ZSTD_LEVEL_DEFAULT, ZSTD_LEVEL_MAX, ZSTD_LEVEL_MIN } from './codecs/zstd.js';
import { type FlatColumn, flattenInput } from './column-input.js';
import { pageRawBytes } from './column-kind.js';
import { encodePage } from './encodings/registry.js';
import type { PageValues } from './encodings/types.js';
import { encodeFooter } from './footer.js';
import { checkLimit, resolveLimits } from './limits.js';
import {
  boolMinMax, codeMinMax, float64MinMax, int64MinMax, type MinMax, mergeMinMax, statComparator, utf8MinMax,
} from './stats.js';
import type { BlockCodecId, ChunkFooter, ChunkLimits, ColumnFooter, PageFooter, WriteChunkOptions } from './types.js';

export interface WrittenChunk {
  bytes: Uint8Array;
  footer: ChunkFooter;
}

/** Pages per column cap for a pageRows value (guards a tiny pageRows on a big input). */
const PAGE_ROWS_MAX = 1 << 24;

interface ColumnPlan {
  codec: BlockCodec;
  codecId: BlockCodecId;
  codecLevel: number | undefined;
  encoding: string | undefined;
}

function planColumn(column: FlatColumn, options: WriteChunkOptions): ColumnPlan {
  const own = options.columns?.[column.name] ?? {};
  const codecId = own.codec ?? options.codec ?? 'zstd';
  if (!isBlockCodecId(codecId)) throw new UsageError(`chunk writer: unknown block codec ${JSON.stringify(codecId)} for column ${JSON.stringify(column.name)} (known: zstd, lz4, none)`);
  let codecLevel: number | undefined;
  if (codecId === 'zstd') {
    codecLevel = own.codecLevel ?? (own.codec === undefined ? options.codecLevel : undefined) ?? ZSTD_LEVEL_DEFAULT;
    if (!Number.isInteger(codecLevel) || codecLevel < ZSTD_LEVEL_MIN || codecLevel > ZSTD_LEVEL_MAX) {
      throw new UsageError(`chunk writer: zstd level ${codecLevel} for column ${JSON.stringify(column.name)} outside [${ZSTD_LEVEL_MIN}, ${ZSTD_LEVEL_MAX}]`);
    }
  }
  return { codec: getBlockCodec(codecId), codecId, codecLevel, encoding: own.encoding };
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
  }
}

function pageStats(column: FlatColumn, start: number, end: number): MinMax {
  const v = column.values;
  switch (v.kind) {
    case 'f64': return float64MinMax(v.values, start, end, column.validity);
    case 'i64': return int64MinMax(v.values, start, end, column.validity, column.type === 'uint64');
    case 'i32': return codeMinMax(v.values, start, end, column.validity, column.dictionary!);
    case 'bool': return boolMinMax(v.bits, start, end, column.validity);
    case 'utf8': return utf8MinMax(v.offsets, v.data, start, end, column.validity);
  }
}

function countNulls(validity: Uint8Array | null, start: number, end: number): number {
  if (validity === null) return 0;
  let nulls = 0;
  for (let i = start; i < end; i++) if (((validity[i >>> 3]! >>> (i & 7)) & 1) === 0) nulls++;
  return nulls;
}

function encodeOrThrow(values: PageValues, encoding: string | undefined, column: string, page: number) {
  try {
    return encodePage(values, encoding === undefined ? {} : { encoding });
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

  const parts: Uint8Array[] = [MAGIC];
  let offset = MAGIC_BYTES;
  const columns: ColumnFooter[] = [];
  for (const column of flat.columns) {
    const plan = planColumn(column, options);
    const compare = statComparator(column.type);
    const columnOffset = offset;
    let regionCrc = 0;
    let rawBytes = 0;
    let stats: MinMax = { min: null, max: null };
    const pages: PageFooter[] = [];
    for (let p = 0; p + 1 < pageRowStarts.length; p++) {
      const start = pageRowStarts[p]!;
      const end = pageRowStarts[p + 1]!;
      const rows = end - start;
      const nullCount = countNulls(column.validity, start, end);
      const values = pageValues(column.values, start, end);
      const encoded = encodeOrThrow(values, plan.encoding, column.name, p);
      const dataBytes = values.kind === 'utf8' ? values.data.length : 0;
      const pageRaw = pageRawBytes(values.kind, rows, nullCount > 0, dataBytes);
      if (pageRaw > limits.pageDecodedBytesMax || encoded.bytes.length > limits.pageDecodedBytesMax) {
        throw new LimitExceededError('pageDecodedBytesMax', Math.max(pageRaw, encoded.bytes.length), limits.pageDecodedBytesMax, `${where} column ${JSON.stringify(column.name)} page ${p}`);
      }
      const valuesStored = plan.codec.encode(encoded.bytes, plan.codecLevel);
      let pageCrc: number;
      let length = valuesStored.length;
      const page: PageFooter = {
        offset, length: 0, encodedBytes: encoded.bytes.length, rawBytes: pageRaw, rows, nullCount,
        min: null, max: null, encoding: encoded.encoding, crc32: 0,
      };
      if (nullCount > 0) {
        const bitmap = sliceBits(column.validity!, start, rows);
        const validity = encodeOrThrow({ kind: 'bool', bits: bitmap, length: rows }, undefined, column.name, p);
        const validityStored = plan.codec.encode(validity.bytes, plan.codecLevel);
        page.validityEncoding = validity.encoding;
        page.validityLength = validityStored.length;
        page.validityEncodedBytes = validity.bytes.length;
        parts.push(validityStored);
        length += validityStored.length;
        pageCrc = crc32(valuesStored, crc32(validityStored));
      } else {
        pageCrc = crc32(valuesStored);
      }
      parts.push(valuesStored);
      page.length = length;
      page.crc32 = pageCrc;
      const pageMinMax = pageStats(column, start, end);
      page.min = pageMinMax.min;
      page.max = pageMinMax.max;
      stats = mergeMinMax(stats, pageMinMax, compare);
      regionCrc = page.nullCount > 0 ? crc32(valuesStored, crc32(parts[parts.length - 2]!, regionCrc)) : crc32(valuesStored, regionCrc);
      rawBytes += pageRaw;
      offset += length;
      pages.push(page);
    }
    const footerColumn: ColumnFooter = {
      name: column.name, role: column.role, type: column.type, nullable: column.nullable, codec: plan.codecId,
      offset: columnOffset, length: offset - columnOffset, rawBytes, storedBytes: offset - columnOffset,
      nullCount: column.nullCount, min: stats.min, max: stats.max, crc32: regionCrc, pages,
    };
    if (plan.codecLevel !== undefined) footerColumn.codecLevel = plan.codecLevel;
    if (column.dictionary !== undefined) footerColumn.dictionary = column.dictionary;
    columns.push(footerColumn);
  }

  const time = flat.columns.find((c) => c.role === 'time')!;
  const timeStats = columns.find((c) => c.role === 'time')!;
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
  parts.push(footerRegion, trailer);

  const bytes = new Uint8Array(offset + footerRegion.length + TRAILER_BYTES);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return { bytes, footer };
}
