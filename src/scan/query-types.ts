import type { RecordBatch } from 'apache-arrow';
import type { ChunkEntry, ScanOptions, TableSchema } from '../core/types.js';
import type { ChunkFooter } from '../format/types.js';

/**
 * Public types of time-series queries (issue 6): time buckets, group by tags, aggregations,
 * gap filling, the last point per series and field predicates.
 *
 * A query is a scan (time range, tag predicates) streamed into a hash aggregation; see
 * query.ts for the algorithm and the exact semantics of every aggregation.
 */

/** What a query needs of a table: its schema and a plain scan. `Table` satisfies it. */
export interface QueryableTable {
  readonly schema: TableSchema;
  scan(options: ScanOptions): AsyncIterable<RecordBatch>;
  /**
   * A scan that first offers each chunk's selected pages to `summarize`, which answers the
   * pages it can from their statistics and returns the rest, which are decoded as usual.
   */
  scanWithSummaries?(options: ScanOptions, summarize: PageSummarizer): AsyncIterable<RecordBatch>;
  /**
   * Whether parts of this table can be read by other threads (a store they can open themselves,
   * no unflushed rows): the version and its chunks, or null. `fresh`: of the store's latest
   * version (as a scan would read), else of the version the table last saw.
   */
  pieces?(fresh: boolean): Promise<TablePieces | null>;
}

/** Given an opened chunk's footer and its selected pages, handles some and returns the others. */
export interface PageSummarizer {
  (footer: ChunkFooter, pages: number[]): number[];
  /**
   * The whole query's time range (table units) when the scan reads one piece of it
   * (query-pieces.ts): the scan admits pages to the decoded-page cache only if the whole query's
   * pages fit in it, as one serial scan would decide. Pieces admitted one by one would fill the
   * cache and evict each other on every run of a query larger than the cache.
   */
  whole?: { from: bigint | undefined; to: bigint | undefined };
}

/** Quantiles with a short name. */
export type NamedPercentile = 'p50' | 'p90' | 'p95' | 'p99';

/**
 * One aggregation of a field. Every aggregation ignores null values (`count` of a field
 * counts its non-null values; `count` of `'*'` counts rows).
 *
 * - `count` `sum` `min` `max` `mean`: as in SQL. Output types: count Int64; min/max/first/
 *   last the field's type; sum of int64/uint64 exact in Int64/Uint64 (overflow is a
 *   LimitExceededError, not a wrap), of float64 Float64; everything else Float64.
 * - `first` / `last`: the value at the earliest / latest time (non-null values only).
 * - `stddev`: sample standard deviation (n − 1), like DuckDB `stddev_samp`; null under 2 values.
 * - `p50` … `p99`, `percentile:0.xx`: exact quantiles with linear interpolation between the
 *   two closest ranks, like DuckDB `quantile_cont`.
 * - `derivative`: per series, the per-second change between consecutive points; `rate`: the
 *   same with counter semantics (a decrease is a reset to 0). See query.ts for bucket rules.
 * - `spread`: max − min.
 */
export type BuiltinAggSpec =
  | 'count' | 'sum' | 'min' | 'max' | 'mean' | 'first' | 'last' | 'stddev'
  | NamedPercentile | `percentile:${string}`
  | 'rate' | 'derivative' | 'spread';

/**
 * An aggregation's spelling: a built-in (listed for editors) or the id of an aggregate added
 * with registerAggregate (src/scan/aggregates); an unknown one is a UsageError at run time.
 */
export type AggSpec = BuiltinAggSpec | (string & {});

/** Gap filling of empty buckets: see runQuery. */
export type FillMode = 'null' | 'previous' | 'linear' | 'none';

/** A value a field predicate compares with. bigint for exact 64-bit integers. */
export type PredicateValue = number | bigint | string | boolean;

export type ComparisonOp = '<' | '<=' | '>' | '>=' | '=' | '!=';

/**
 * A predicate over field (or tag) values. SQL three-valued logic: a comparison with a null
 * value is unknown, `not` of unknown is unknown, and only rows where the whole predicate is
 * true are kept (like a SQL WHERE).
 */
export type FieldPredicate =
  | { field: string; op: ComparisonOp; value: PredicateValue }
  | { field: string; op: 'between'; low: PredicateValue; high: PredicateValue }
  | { field: string; op: 'isNull' | 'isNotNull' }
  | { and: FieldPredicate[] }
  | { or: FieldPredicate[] }
  | { not: FieldPredicate };

export interface QueryOptions extends ScanOptions {
  /**
   * Bucket width: a count and a unit among ms, s, m, h, d, w, mo ('10s', '1h', '1mo').
   * ms/s/m/h are fixed durations aligned on 2000-01-03T00:00Z (a Monday, like DuckDB's
   * time_bucket); d, w and mo are calendar units in `timeZone` (a local day may last 23 or
   * 25 hours; weeks start on Monday). Without `every`, each group is one bucket.
   */
  every?: string;
  /** IANA zone for d/w/mo buckets. Default 'UTC'. */
  timeZone?: string;
  /** Group by these tags. */
  by?: string[];
  /** Aggregations per field; `'*'` with 'count' counts rows. */
  agg?: Record<string, AggSpec | AggSpec[]>;
  /** Gap filling of empty buckets within [from, to) or the data's range. Default 'none'. */
  fill?: FillMode;
  /** The last point (row) of every series, or of every `by` group. */
  latest?: boolean;
  /** Rows must satisfy this predicate before they are aggregated. */
  filter?: FieldPredicate;
  /** (From ScanOptions) for a query: at most this many output rows. `columns` only shapes `latest`. */
  limit?: number;
  /**
   * Whether a rollup table of this table may answer (src/table/rollup-query.ts: only when it
   * covers the query exactly; `explain` says which). Default true; false reads the raw chunks.
   */
  rollups?: boolean;
}

/**
 * An aggregation's partial state (AggregationEngine.exportState) as it crosses threads: the
 * slots of one engine and, per aggregated field, count, sum, min, max and NaN count per slot.
 */
export interface EngineState {
  groups: (string | null)[][];
  slotGroup: Int32Array;
  slotKey: Float64Array;
  slotStart: bigint[];
  slotRows: Float64Array;
  fields: { count: Float64Array; sum: Float64Array; min: Float64Array; max: Float64Array; nan: Float64Array }[];
  timeMin: bigint | null;
  timeMax: bigint | null;
  globalBase: bigint | null;
  /** The time column's Arrow type (Timestamp unit and zone) when the engine saw a batch. */
  timeType: { unit: number; timezone: string | null } | null;
}

/**
 * Other threads that run an aggregation over pieces of a table (query-pieces.ts): `run` hands
 * a thread the pieces (the query restricted to each, at a fixed version) and a shared counter
 * every thread takes the next piece from; it answers the engine state of each piece it read.
 */
export interface QueryThreads {
  /** Threads a query may use now (0: run serially); asking starts them. */
  usable(): number;
  /** Threads that have started and can take work now. */
  readyCount(): number;
  /** Values (rows × columns read) below which a query stays on one thread (default PARALLEL_QUERY_VALUES_MIN). */
  valuesMin?: number;
  run(request: { url: string; table: string; pieces: QueryOptions[]; counter: Int32Array }): Promise<{ piece: number; state: EngineState }[]>;
}

/** What a table offers a query for reading pieces of it on other threads (see QueryableTable.pieces). */
export interface TablePieces {
  url: string;
  table: string;
  /** The manifest version every piece reads, and its chunks. */
  version: number;
  chunks: readonly ChunkEntry[];
  threads: QueryThreads;
}
