import type { PageKind } from './encodings/types.js';
import type { ColumnType } from './types.js';

/** The physical page kind each logical column type is stored as. */
export function pageKindOf(type: ColumnType): PageKind {
  switch (type) {
    case 'timestamp': case 'int64': case 'uint64': return 'i64';
    case 'float64': return 'f64';
    case 'string': return 'i32'; // dictionary codes
    case 'bool': return 'bool';
    case 'utf8': return 'utf8';
  }
}

/** Bytes per value of fixed-width kinds; 0 for bool (bit-packed) and utf8 (variable). */
export function fixedWidthBytesOf(kind: PageKind): number {
  switch (kind) {
    case 'i64': case 'f64': return 8;
    case 'i32': return 4;
    default: return 0;
  }
}

export function bitmapBytes(rows: number): number {
  return (rows + 7) >>> 3;
}

/**
 * Decoded bytes of a page in Arrow layout: values (+ utf8 offsets) + validity when present.
 * For utf8, `dataBytes` is the string data length.
 */
export function pageRawBytes(kind: PageKind, rows: number, hasValidity: boolean, dataBytes = 0): number {
  const validity = hasValidity ? bitmapBytes(rows) : 0;
  switch (kind) {
    case 'bool': return bitmapBytes(rows) + validity;
    case 'utf8': return (rows + 1) * 4 + dataBytes + validity;
    default: return rows * fixedWidthBytesOf(kind) + validity;
  }
}
