/**
 * The limit on one tag value's size, checked where values enter a table: the CSV reader
 * (file:line:column), the Arrow/Parquet converter (file, row, column) and the write buffer
 * (library appends: row and column).
 *
 * Tag values identify series. Each chunk's footer keeps its tag values (a dictionary, and
 * each page's min and max), and manifests keep up to a few hundred of them per chunk for
 * pruning; both are read on every query and bounded (the footer by footerBytesMax, 16 MiB).
 * A value of megabytes would fail deep in the chunk writer, far from the row that carried
 * it, or bloat every query's metadata. Long text belongs in a utf8 field.
 */
import { InputError } from '../errors.js';

/** Most UTF-8 bytes of one tag value (64 KiB). */
export const TAG_VALUE_BYTES_MAX = 64 * 1024;

/** The value's UTF-8 byte length when it exceeds TAG_VALUE_BYTES_MAX, else undefined. */
export function tagValueBytesOver(value: string): number | undefined {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no count.
  if (value.length * 3 <= TAG_VALUE_BYTES_MAX) return undefined;
  const bytes = Buffer.byteLength(value, 'utf8');
  return bytes > TAG_VALUE_BYTES_MAX ? bytes : undefined;
}

/**
 * The error for a too-long value at `where` (`f.csv:12:3`, `f.parquet: row 12`, `append row
 * 3`), in the form of the importers' other cell errors.
 */
export function tagValueError(where: string, column: string, value: string, bytes: number, file?: string, line?: number): InputError {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return new InputError(`${where} (column ${column}): expected a tag value of at most ${TAG_VALUE_BYTES_MAX} UTF-8 bytes (TAG_VALUE_BYTES_MAX; long text belongs in a field), got ${bytes} bytes: ${JSON.stringify(shown)}`, file, line, column);
}
