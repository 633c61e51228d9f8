/**
 * Public types of the packed chunk format (see docs/format.md and the diagram in chunk.ts).
 * This module is pure: no node:fs, no network. Readers take any random-access ByteSource.
 */

/** Random-access bytes: a file through mmap, a ChunkManager object, a buffer. */
export interface ByteSource {
  /** For error messages: the chunk's key or path. */
  readonly name: string;
  size(): Promise<number>;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Optional: several ranges in one go (coalesced by the backend). */
  readRanges?(ranges: readonly { offset: number; length: number }[]): Promise<Uint8Array[]>;
  /**
   * Optional: the ranges copied into `into`, one after another (`into.length` is the sum of
   * their lengths): reads into reused memory (the chunk reader's stored-bytes pool).
   */
  readRangesInto?(ranges: readonly { offset: number; length: number }[], into: Uint8Array): Promise<void>;
}

export type TimeUnit = 's' | 'ms' | 'us' | 'ns';

/**
 * Column value types a table may hold (canonical spellings; descriptors in field-types.ts,
 * the mapping from Parquet and Arrow in docs/types.md). Tags are always 'string'
 * (dictionary-encoded).
 */
export type FieldType =
  | 'float64' | 'int64' | 'uint64' | 'bool' | 'utf8' | 'binary' | 'date32' | 'date64'
  | `fixed_binary(${number})` | `time(${TimeUnit})` | `duration(${TimeUnit})`
  | `timestamp(${TimeUnit})` | `timestamp(${TimeUnit},${string})` | `decimal(${number},${number})`;
export type ColumnType = 'timestamp' | 'string' | FieldType;
export type ColumnRole = 'time' | 'tag' | 'field';

export type BlockCodecId = 'zstd' | 'lz4' | 'none';
/** A writer's codec option: a block codec, or 'auto' (zstd where it saves ≥ 2% of a column, else none). */
export type CodecChoice = BlockCodecId | 'auto';

/** A stat value: numbers for float64 (±Infinity and -0 included; NaN never), decimal strings for integers and integer-backed types (timestamps, dates, times, durations, unscaled decimals), strings for tags/utf8, booleans; binary columns have none. */
export type StatValue = number | string | boolean | null;

export interface PageFooter {
  /** Byte offset of the page inside the file. */
  offset: number;
  /** Stored (compressed) bytes. */
  length: number;
  /** Bytes of the encoded values before the block codec. */
  encodedBytes: number;
  /** Bytes of the decoded values in Arrow layout (values + validity). */
  rawBytes: number;
  rows: number;
  nullCount: number;
  /**
   * Min and max over non-null values; null when every value is null or the type has no order.
   * NaN is ignored for min/max (see nanCount: a page's NaN makes the max of a query NaN).
   */
  min: StatValue;
  max: StatValue;
  /**
   * float64 pages holding NaN: how many of their non-null values are NaN; absent when none.
   * Chunks written before it never carry it: there, a page with a `sum` that is not NaN holds
   * no NaN (NaN + anything is NaN), and any other page may (readers decode it to know).
   */
  nanCount?: number;
  /**
   * Sum of the non-null values, numeric field columns only (see stats.ts float64Sum): a
   * number for float64 (NaN and ±Infinity possible), a decimal string for int64/uint64 (exact,
   * may exceed 64 bits). Absent in chunks written before it existed: readers must not need it.
   */
  sum?: number | string;
  /** Value encoding chain, e.g. 'plain' or 'delta2>zigzag>bitpack'. */
  encoding: string;
  /** Encoding chain of the validity bitmap, absent when nullCount is 0. */
  validityEncoding?: string;
  /** Stored bytes of the validity part (it precedes the values inside the page). */
  validityLength?: number;
  /** Bytes of the encoded validity bitmap before the block codec (present with validityLength). */
  validityEncodedBytes?: number;
  /** CRC-32 (zlib polynomial) of the stored page bytes. */
  crc32: number;
}

export interface ColumnFooter {
  name: string;
  role: ColumnRole;
  type: ColumnType;
  nullable: boolean;
  /** Block codec applied to every page of this column. */
  codec: BlockCodecId;
  /** zstd level when codec is zstd. */
  codecLevel?: number;
  /** First byte of the column region in the file; the region is contiguous. */
  offset: number;
  /** Bytes of the column region. */
  length: number;
  rawBytes: number;
  storedBytes: number;
  nullCount: number;
  min: StatValue;
  max: StatValue;
  /** CRC-32 of the whole column region (checked by verify; reads check page CRCs). */
  crc32: number;
  /** Tag columns: the sorted distinct values; page values are int32 codes into it. */
  dictionary?: string[];
  pages: PageFooter[];
}

export interface LineageEntry {
  source: string;
  /** 0-based first row of the source that landed here, and one past the last. */
  rowStart: number;
  rowEnd: number;
}

export interface ChunkFooter {
  formatVersion: number;
  writer: string;
  rowCount: number;
  timeColumn: string;
  timeUnit: TimeUnit;
  /** IANA zone or offset of the input Timestamp type, when it had one (values are UTC either way). */
  timeZone?: string;
  tags: string[];
  /** Decimal strings of the int64 time range, in timeUnit; null when rowCount is 0. */
  timeMin: string | null;
  timeMax: string | null;
  /** Page boundaries shared by every column: page i holds rows [pageRowStarts[i], pageRowStarts[i+1]). */
  pageRowStarts: number[];
  columns: ColumnFooter[];
  /** True when rows are sorted by (tags…, time). */
  sortedBySeries: boolean;
  lineage: LineageEntry[];
  /** Free-form key/values (writer options, table name). */
  metadata: Record<string, string>;
}

/** Named limits a reader enforces on untrusted bytes (and a writer on its input). */
export interface ChunkLimits {
  footerBytesMax: number;
  rowsMax: number;
  columnsMax: number;
  pagesMax: number;
  /** Decoded bytes of one page (a decompression bomb stops here). */
  pageDecodedBytesMax: number;
  /** Decoded bytes of one read() call. */
  readDecodedBytesMax: number;
}

export interface ColumnWriteOptions {
  codec?: CodecChoice;
  codecLevel?: number;
  /** Force an encoding chain for this column's values. */
  encoding?: string;
  /** Force an encoding chain for this column's validity bitmaps (kind bool). */
  validityEncoding?: string;
}

export interface WriteChunkOptions {
  timeColumn: string;
  tags: string[];
  /** Rows per page (all columns share page boundaries). Default 8192. */
  pageRows?: number;
  /** Block codec for every column; default 'auto' (zstd, or none where zstd saves < 2%). */
  codec?: CodecChoice;
  codecLevel?: number;
  columns?: Record<string, ColumnWriteOptions>;
  /** Also pick encodings that are smaller but slower to decode (rANS); default false. */
  preferSize?: boolean;
  /** Whether the rows are already sorted by series then time (recorded in the footer). */
  sortedBySeries?: boolean;
  lineage?: LineageEntry[];
  metadata?: Record<string, string>;
  limits?: Partial<ChunkLimits>;
}

export interface ReadChunkOptions {
  /** Column names to decode, in output order; default all. */
  columns?: string[];
  /** Page indexes to decode (ascending); default all pages. */
  pages?: number[];
  /**
   * Decoding on the calling thread waits for this (after the pages are fetched; columns the
   * decode pool's threads take start at once): a scan reading ahead fetches early but decodes
   * on its turn. A rejection fails the read.
   */
  decodeAfter?: Promise<unknown>;
  /**
   * Decode without keeping the pages in the decoded-page cache (pages it holds are still used):
   * a scan decoding more than the cache holds would only evict, page by page, what a later
   * read could use. Its multi-page columns decode into the decode buffer pool instead.
   */
  uncached?: boolean;
}

/** One decoded page of one column (see ChunkReader.readColumnPages). */
export interface DecodedPage {
  /** Page index in the chunk. */
  page: number;
  rows: number;
  nullCount: number;
  /** Values in the page's physical kind (tags: int32 codes into the column dictionary); null slots hold 0 / false / "". */
  values: import('./encodings/types.js').PageValues;
  /** Validity bitmap (bit set = valid), null when the page has no nulls. */
  validity: Uint8Array | null;
}

/** The outcome of ChunkReader.verify(). */
export interface VerifyResult {
  chunk: string;
  ok: boolean;
  columnsChecked: number;
  pagesChecked: number;
  bytesChecked: number;
  /** Every problem found (verify does not stop at the first). */
  errors: import('../errors.js').CorruptChunkError[];
}

export interface VerifyOptions {
  /** Also decode every page (slower; catches encoder bugs a CRC cannot). Default false. */
  decode?: boolean;
}
