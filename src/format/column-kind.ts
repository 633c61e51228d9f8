import type { PageKind } from './encodings/types.js';
import { fieldTypeInfo } from './field-types.js';
import type { ColumnType } from './types.js';

/** The physical page kind each logical column type is stored as (field types: field-types.ts). */
export function pageKindOf(type: ColumnType): PageKind {
  switch (type) {
    case 'timestamp': return 'i64';
    case 'string': return 'i32'; // dictionary codes
    default: return fieldTypeInfo(type).kind;
  }
}

/** Bytes per value of fixed-width kinds; 0 for bool (bit-packed), utf8 (variable) and fixed (see valueWidthOf). */
export function fixedWidthBytesOf(kind: PageKind): number {
  switch (kind) {
    case 'i64': case 'f64': return 8;
    case 'i32': return 4;
    default: return 0;
  }
}

/** Bytes per value on the pages of a column type; 0 for bool and variable-length values. */
export function valueWidthOf(type: ColumnType): number {
  const kind = pageKindOf(type);
  return kind === 'fixed' ? fieldTypeInfo(type).width : fixedWidthBytesOf(kind);
}

export function bitmapBytes(rows: number): number {
  return (rows + 7) >>> 3;
}

/**
 * Decoded bytes of a page in Arrow layout: values (+ utf8 offsets) + validity when present.
 * For utf8, `dataBytes` is the string data length; for fixed, the values' bytes (rows × width).
 */
export function pageRawBytes(kind: PageKind, rows: number, hasValidity: boolean, dataBytes = 0): number {
  const validity = hasValidity ? bitmapBytes(rows) : 0;
  switch (kind) {
    case 'bool': return bitmapBytes(rows) + validity;
    case 'utf8': return (rows + 1) * 4 + dataBytes + validity;
    case 'fixed': return dataBytes + validity;
    default: return rows * fixedWidthBytesOf(kind) + validity;
  }
}
