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

/** One change of a table's fields (or tag list) by `alter`, with the version that committed it. */
export type SchemaAlter =
  | { op: 'drop'; field: string; version: number }
  | { op: 'rename'; from: string; to: string; version: number }
  | { op: 'widen'; field: string; from: FieldType; to: FieldType; version: number }
  /** A tag appended to the tag list: rows written before it hold the null tag there. */
  | { op: 'addTag'; tag: string; version: number };

export type PartitionBy = 'hour' | 'day' | 'month' | 'none';

/**
 * What a table does with rows of the same series at the same time (README, Duplicates):
 * 'last' (the default of new tables) and 'first' fold them into one row, field by field (each
 * field takes the last / first non-null value written); 'keep' stores and returns them all.
 */
export type DuplicatePolicy = 'last' | 'first' | 'keep';

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
  /**
   * Duplicate policy, set at creation (see DuplicatePolicy). Default 'last' for new tables;
   * absent in manifests of tables created before policies, which read as 'keep'.
   */
  duplicates?: DuplicatePolicy;
  /**
   * Retention in milliseconds (src/table/retention.ts): rows with time < now − retention are
   * invisible, and chunks wholly older are dropped. Absent: rows are kept for ever.
   */
  retention?: number;
  /** Set on a rollup table (src/table/rollup.ts): what it rolls up. */
  rollupOf?: RollupSpec;
}

/** What a rollup table keeps: `agg` of its source's fields per `every` bucket and `by` group. */
export interface RollupSpec {
  source: string;
  /** Bucket width ('1h', '10m', …): a fixed duration dividing the source's partitions. */
  every: string;
  by: string[];
  /** Aggregations per source field, among count, sum, mean, min and max. */
  agg: Record<string, string[]>;
}

export interface CreateTableSpec extends Partial<Omit<TableOptions, 'retention' | 'rollupOf'>> {
  /** Retention: milliseconds, or a duration such as '30d', '12h', '90m', '1w' (src/table/retention.ts). */
  retention?: number | string;
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
   * Deletes whose tombstones were applied to this chunk's rows when it was written (a
   * compaction's output): every tombstone of version ≤ this. They hide nothing in it.
   */
  deletesApplied?: number;
  /**
   * The schema revision (alters made, TableSchema.alters) its `columns` statistics are named
   * and typed in; absent: 0. The alter commit brings every entry to its new revision.
   */
  schemaRevision?: number;
  /**
   * The chunk's first and last (series, time) (it is sorted by series then time): chunks whose
   * ranges are disjoint share no point, though their time spans overlap (scan/key-range.ts).
   * Absent in entries written before it.
   */
  keys?: { first: ChunkKey; last: ChunkKey };
}

/**
 * A delete (Manifest.deletes, src/table/delete.ts): hides the rows matching it (time in
 * [from, to), every tag predicate of `where`) of the chunks whose seq is below `version`, the
 * version that committed it; rows written later are not touched. No from, to nor where: every row.
 */
export interface Tombstone {
  version: number;
  /** Inclusive bound, a decimal integer string in the table's unit. */
  from?: string;
  /** Exclusive bound, a decimal integer string in the table's unit. */
  to?: string;
  /** Tag predicates, ANDed, as JSON (a regex as its source string). */
  where?: Record<string, TagPredicate>;
}

/** A (series, time): the tag values in the table's tag order (null: the null tag), the time in the table's unit (decimal). */
export interface ChunkKey {
  tags: (string | null)[];
  time: string;
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

/** What a writer's commit made. */
export interface WriterCommit {
  version: number;
  /** Rows appended (duplicates included). */
  rows: number;
  chunks: number;
  bytes: number;
  series: number;
  /**
   * Rows whose (series, time) was already in the table (as of the version this commit landed
   * on) or earlier in the same import: under 'last' they replaced the earlier rows (field by
   * field), under 'first' they were folded into them, under 'keep' they are stored beside them.
   */
  duplicateRows: number;
  /** Non-null field values that met a value of their field at their (series, time), counted the same way. */
  duplicateValues: number;
}

/** An import transaction: chunks are written as they fill, visible only after commit(). */
export interface TableWriter {
  /** The table's schema as this writer writes it (fields appended so far join at commit). */
  readonly schema: TableSchema;
  /** The table's duplicate policy (what its commit does with rows of a (series, time) already there). */
  readonly policy: DuplicatePolicy;
  append(batch: RecordBatch | Row[], lineage?: { source: string; rowStart: number }): Promise<void>;
  /** Make everything appended visible in one manifest version. Returns that version. */
  commit(): Promise<WriterCommit>;
  /** Drop everything written (best-effort delete of its chunks). */
  abort(): Promise<void>;
}
