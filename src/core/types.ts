import type { RecordBatch } from 'apache-arrow';
import type { CodecChoice, ColumnWriteOptions, FieldType, LineageEntry, StatValue, TimeUnit } from '../format/types.js';

/**
 * Public types of tables. A store holds tables; a table has one time column (int64 in
 * `timeUnit`, Arrow Timestamp), tag columns (dictionary-encoded strings: the series
 * identity) and nullable field columns.
 */
export interface FieldSpec {
  name: string;
  type: FieldType;
  /** Default true. */
  nullable?: boolean;
}

export interface TableSchema {
  time: string;
  timeUnit: TimeUnit;
  tags: string[];
  fields: FieldSpec[];
  /**
   * Schema evolution: the changes `alter` made, oldest first (absent: none). A chunk records in
   * its footer metadata (`schemaRevision`) how many of them were made when it was written;
   * it is read through the later ones (src/table/alter-read.ts), never rewritten.
   */
  alters?: SchemaAlter[];
}

/** One change of a table's fields by `alter`, with the version that committed it. */
export type SchemaAlter =
  | { op: 'drop'; field: string; version: number }
  | { op: 'rename'; from: string; to: string; version: number }
  | { op: 'widen'; field: string; from: FieldType; to: FieldType; version: number };

export type PartitionBy = 'hour' | 'day' | 'month' | 'none';

export interface TableOptions {
  /** UTC time partition; a chunk never spans two. Default 'day'. */
  partition: PartitionBy;
  /** Rows per chunk before a flush splits it (bounds import memory). Default 262,144. */
  rowsPerChunkMax: number;
  /** Rows per page. Default DEFAULT_PAGE_ROWS (8192, src/format/chunk.ts). */
  pageRows: number;
  /**
   * Block codec. Default 'auto': zstd for each column of a chunk where it saves at least 2%
   * of the encoded bytes (plain and byte-split pages, strings), none where the encoded
   * pages are already dense (rANS, bitsplit, runs). Tables created before 'auto' say 'zstd'.
   */
  codec: CodecChoice;
  codecLevel?: number;
  /**
   * 'fast' (default): each page's chain is picked from its statistics, delta pages rANS-coded.
   * 'small': delta pages are also encoded with bitsplit and the smaller, once block-compressed,
   * is kept (smaller when steps repeat; slower imports).
   */
  compression?: 'fast' | 'small';
  /** Per-column codec/encoding overrides. */
  columns?: Record<string, ColumnWriteOptions>;
  /** Rows buffered by append() before an automatic flush. Default rowsPerChunkMax. */
  bufferRowsMax: number;
}

export interface CreateTableSpec extends Partial<TableOptions> {
  /** Time column name. Default 'time'. */
  time?: string;
  /** Default 'ns'. */
  timeUnit?: TimeUnit;
  tags?: string[];
  /** Field columns; more can be added by append (a new field is added to the schema). */
  fields?: FieldSpec[];
}

/**
 * A point in time as the API accepts it: a Date; an ISO-8601 string; a number of epoch
 * milliseconds; a bigint of epoch nanoseconds. Converted to the table's unit internally.
 */
export type TimeInput = Date | string | number | bigint;

/**
 * A plain row: time, tag values (strings; numbers, bigints and booleans are stored as their
 * text; null or absent is the null tag), field values (number, bigint, boolean, string, bytes
 * (Uint8Array) for binary fields, the type's text for the other field types, null).
 */
export type Row = Record<string, TimeInput | string | number | bigint | boolean | Uint8Array | null | undefined>;

/**
 * Tag filter: equality, IN (array), or an operator object. null names the null tag (rows
 * without the tag), which is a value of its own: `null` and `[null, 'a']` select it, `ne: 'a'`
 * and `notIn: ['a']` keep it, `ne: null` drops it, `prefix` and `regex` never match it.
 */
export type TagPredicate = string | null | (string | null)[]
  | { in?: (string | null)[]; eq?: string | null; ne?: string | null; notIn?: (string | null)[]; prefix?: string; regex?: string | RegExp };

export interface ScanOptions {
  /** Inclusive lower bound. */
  from?: TimeInput;
  /** Exclusive upper bound. */
  to?: TimeInput;
  /** Tag filters, ANDed. */
  where?: Record<string, TagPredicate>;
  /** Columns to return (time is always first); default all. */
  columns?: string[];
  /** Stop after this many rows. */
  limit?: number;
  signal?: AbortSignal;
  /** Read from this manifest version (time travel); default latest. */
  version?: number;
  /**
   * 'series' (default): each series' rows come in time order (chunks that overlap in time and
   * may share a series, such as late data appended after a flush, are merged). 'any': chunk by
   * chunk as stored, rows of one series possibly out of time order across chunks (no merge).
   */
  order?: 'series' | 'any';
}

/** What the manifest records of a chunk: enough to plan a scan without opening it. */
export interface ChunkEntry {
  /** Store key of the chunk file. */
  key: string;
  partition: string;
  rows: number;
  bytes: number;
  rawBytes: number;
  /** Decimal strings in the table's unit. */
  timeMin: string;
  timeMax: string;
  /**
   * Distinct values per tag when few (≤ TAG_VALUES_IN_MANIFEST_MAX), else absent; the null
   * tag as JSON null, first (chunks written before null tags never hold one).
   */
  tagValues: Record<string, (string | null)[]>;
  /**
   * Bloom filters (bloom.ts) of the non-null values of the tags with too many distinct values
   * for `tagValues`; whether the null tag occurs is `columns[tag].nullCount > 0`.
   */
  tagBlooms?: Record<string, string>;
  /** Per-column min/max/nulls. */
  columns: Record<string, { min: StatValue; max: StatValue; nullCount: number; bytes: number; rawBytes: number }>;
  lineage: LineageEntry[];
  createdAt: string;
  /**
   * Write order of the chunk's rows: the manifest version that committed them (set by the
   * commit). A compaction's output keeps the largest seq of its inputs. Absent in manifests
   * written before seqs (read as 0: older than every chunk that has one). Duplicate policies
   * and deletes order rows by it.
   */
  seq?: number;
  /**
   * The schema revision (alters made, TableSchema.alters) its `columns` statistics are named
   * and typed in; absent: 0. The alter commit brings every entry to its new revision.
   */
  schemaRevision?: number;
}

export interface TableDescription {
  name: string;
  schema: TableSchema;
  options: TableOptions;
  version: number;
  chunks: number;
  rows: number;
  bytes: number;
  rawBytes: number;
  timeMin: string | null;
  timeMax: string | null;
}

/** An import transaction: chunks are written as they fill, visible only after commit(). */
export interface TableWriter {
  /** The table's schema as this writer writes it (fields appended so far join at commit). */
  readonly schema: TableSchema;
  append(batch: RecordBatch | Row[], lineage?: { source: string; rowStart: number }): Promise<void>;
  /** Make everything appended visible in one manifest version. Returns that version. */
  commit(): Promise<{ version: number; rows: number; chunks: number; bytes: number; series: number }>;
  /** Drop everything written (best-effort delete of its chunks). */
  abort(): Promise<void>;
}
