/** Export constants the CLI needs without loading the Parquet writer (parquet-wasm, ~20 MB). */

export const PARQUET_CODECS = ['zstd', 'snappy', 'gzip', 'lz4', 'brotli', 'none'] as const;
export type ParquetCodec = (typeof PARQUET_CODECS)[number];

/** Rows per row group at most: a partition with more is split (bounds the export's memory). */
export const ROW_GROUP_ROWS_MAX = 131_072;

/** True when `out` names a directory or a store (one file per partition): a path or store URL ending in '/'. */
export function isDirectoryTarget(out: string): boolean {
  return out.split('?')[0]!.endsWith('/');
}
