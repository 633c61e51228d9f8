/** The options and results of importFiles (formats read the options through their context). */
import type { CodecChoice, TimeUnit } from '../format/types.js';
import type { DuplicatePolicy } from '../core/types.js';
import type { InvalidUtf8 } from './csv/cells.js';
import type { TimeFormat } from './csv/values.js';

export interface ImportProgress {
  /** Input bytes read so far (compressed bytes for .gz/.zst). */
  bytesRead: number;
  /** Sum of the input file sizes (stdin and pipes count 0). */
  bytesTotal: number;
  rows: number;
  file: string;
}

/** Default memory budget of an import (the write buffer gets a third: drains copy it, encoders need room). */
export const IMPORT_MEMORY_BYTES = 256 * 1024 * 1024;

export interface ImportOptions {
  table: string;
  /**
   * Memory budget: the write buffer is cut into chunks once it holds a third of this (or
   * rowsPerChunkMax rows, whichever comes first). Default 256 MiB. Smaller budgets make
   * smaller chunks; `compact` merges them later.
   */
  memoryBytes?: number;
  /** Duplicate policy when creating the table: 'last' (default), 'first' or 'keep' (see TableOptions.duplicates). */
  duplicates?: DuplicatePolicy;
  /** Table compression when creating it: 'fast' (default) or 'small' (see TableOptions). */
  compression?: 'fast' | 'small';
  /** Time column (default: detected by name or type). */
  time?: string;
  /** Tag columns (default: the string columns). */
  tags?: string[];
  timeFormat?: TimeFormat;
  /** Time unit of a new table. Default 'ns'. */
  timeUnit?: TimeUnit;
  /** Add to an existing table (without it, an existing table is an error). */
  append?: boolean;
  delimiter?: string;
  columns?: string[];
  /** Type overrides by column (CSV), e.g. { rack: 'string', usage: 'float64' }. */
  schema?: Record<string, string>;
  layout?: 'wide' | 'long';
  fieldColumn?: string;
  valueColumn?: string;
  /**
   * CSV bytes that are not UTF-8 (in a header, a tag, a utf8 field): 'error' (default) stops
   * the import at file:line:column; 'replace' stores U+FFFD in their place and counts the
   * values so changed (`invalidUtf8Replaced` of the summary). CSV input only.
   */
  invalidUtf8?: InvalidUtf8;
  /** Bad rows skipped (and written to the rejects file) before the import fails. Default 0. */
  maxErrors?: number;
  /**
   * Where skipped rows go (with maxErrors): default `<first file's name>.rejects.csv` in the
   * current directory. Its folder must exist (it is not created: a mistyped path is an
   * error before the import starts); the file is created at the first skipped row.
   */
  rejectsPath?: string;
  codec?: CodecChoice;
  /**
   * Retention of a table the import creates (a duration such as '30d', or ms). Rows older than
   * the table's retention (now − retention) are skipped and counted (`expiredRows`).
   */
  retention?: number | string;
  /**
   * Parse large CSVs (≥ CSV_WORKER_BYTES_MIN) and decode large Parquet files (≥
   * PARQUET_WORKER_BYTES_MIN) in a worker thread. Default: when the
   * machine has at least WORKER_CORES_MIN cores (see there).
   */
  parallel?: boolean;
  /** Overrides both worker thresholds (CSV_WORKER_BYTES_MIN, PARQUET_WORKER_BYTES_MIN); 0 = always a worker. */
  workerBytesMin?: number;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportSummary {
  table: string;
  rows: number;
  files: number;
  chunks: number;
  bytesIn: number;
  bytesOut: number;
  series: number;
  seconds: number;
  rejected: number;
  rejectsPath?: string;
  /**
   * Non-null field values that met a value of their field at their (series, time), already in
   * the table (as of the version the import committed on) or earlier in the import: exact for
   * the whole import (table/import-duplicates.ts). In the long layout, the duplicate (series,
   * time, field) values.
   */
  duplicates: number;
  /** Rows whose (series, time) was already in the table or earlier in the import (see WriterCommit.duplicateRows). */
  duplicateRows: number;
  /** The table's duplicate policy: what became of those rows and values. */
  duplicatePolicy: DuplicatePolicy;
  /** CSV values (and header names) stored with invalid UTF-8 replaced by U+FFFD (invalidUtf8 'replace'). */
  invalidUtf8Replaced: number;
  /** Rows older than the table's retention, skipped (retention.ts). */
  expiredRows: number;
  version: number;
}
