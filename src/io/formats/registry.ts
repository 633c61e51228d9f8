/**
 * Import formats: one descriptor per format, registered once. importFiles and the CLI derive
 * everything format-specific from this table: detection by extension and magic bytes, what
 * may come through a pipe or stdin, which options apply, and how a file becomes batches.
 * The built-in formats (CSV, Parquet, Arrow IPC file and stream) are registered in
 * `formats/index.ts`, one line each; a new format is one file plus one
 * `registerImportFormat(…)` line (docs/extending.md).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { RecordBatch } from 'apache-arrow';
import { InputError, UsageError, assert } from '../../errors.js';
import type { TableSchema } from '../../core/types.js';
import type { ImportOptions } from '../import-options.js';

/** One input of an import: a regular file, a pipe, or stdin ('-'). */
export interface ImportInput {
  /** As given: a path, or '-' for stdin. */
  file: string;
  /** As lineage and rejects name it: 'stdin' for '-', the path otherwise. */
  source: string;
  /** Byte size of a regular file; undefined for stdin and pipes (read once, in order). */
  size?: number;
}

/** A batch already in the table's shape (see ArrowBatchConverter), with where it came from. */
export interface SourceBatch {
  batch: RecordBatch;
  /** Row of the file the batch starts at (lineage). */
  rowStart: number;
  /** The table schema the input implies (required on the first batch of a new table). */
  schema?: TableSchema;
  /** The input file, when a reader spans several (a worker's run of CSV files). */
  file?: string;
  /** Values stored with U+FFFD for invalid UTF-8 (see ImportSummary.invalidUtf8Replaced). */
  replaced?: number;
}

/** A row skipped under `maxErrors`, kept byte for byte in the rejects file. */
export interface RejectedRow { source: string; line: number; reason: string; bytes: Uint8Array }

/** What importFiles hands a format's reader. */
export interface FormatContext {
  options: ImportOptions;
  /** Input bytes read so far: readers add what they read (progress, the summary's bytesIn). */
  counter: { bytes: number };
  /** The table's schema when known (an existing table, or the one the first input created). */
  table?: TableSchema;
  /** Worker threads may be used (ImportOptions.parallel, or enough cores). */
  parallel: boolean;
  /** Bad rows that may still be skipped (ImportOptions.maxErrors less those already skipped). */
  errorsLeft(): number;
  /** Records a skipped row (rejects file); throws when the rejects file cannot be written. */
  reject(row: RejectedRow): void;
}

export interface ImportFormatDescriptor {
  /** Unique id, e.g. 'csv', 'parquet', 'arrow-file'. */
  id: string;
  /** Short name in messages ("Parquet and Arrow input must be a regular file"). */
  name: string;
  /** Full name in messages ("x.arrow is Arrow IPC"); default `name`. */
  longName?: string;
  /** File name endings, lower case with their dot ('.parquet', '.csv.gz'); the longest match wins. */
  extensions: readonly string[];
  /** True when the first bytes (up to MAGIC_BYTES of them) are this format's (files with no known extension). */
  magic?: (head: Uint8Array) => boolean;
  /** Readable once, in order (stdin, a pipe); otherwise the reader needs a regular file. */
  pipeable: boolean;
  /**
   * Reads the CSV options (delimiter, columns, schema, layout, invalid UTF-8, max-errors and
   * rejects); for other formats the CLI refuses them, since their columns carry names and types.
   */
  csvOptions?: boolean;
  /** The input's batches, in the table's shape. */
  open(input: ImportInput, context: FormatContext): AsyncIterable<SourceBatch>;
  /**
   * Optionally several consecutive regular-file inputs of this format at once (the CSV parser
   * runs them through one worker thread); undefined to read them one by one with open().
   */
  openRun?(inputs: readonly ImportInput[], context: FormatContext): AsyncIterable<SourceBatch> | undefined;
}

/** Bytes read from the start of a file for magic detection. */
export const MAGIC_BYTES = 8;
/** The format of stdin and of files neither extension nor magic bytes place. */
export const FALLBACK_FORMAT = 'csv';

const formats = new Map<string, ImportFormatDescriptor>();

/** Adds a format; its id and extensions must be new (a programming error otherwise). */
export function registerImportFormat(format: ImportFormatDescriptor): void {
  assert(!formats.has(format.id), `import format ${format.id} is registered twice`);
  for (const ext of format.extensions) {
    assert(ext.startsWith('.') && ext === ext.toLowerCase(), `import format ${format.id}: extension ${ext} must be lower case and start with a dot`);
    for (const other of formats.values()) assert(!other.extensions.includes(ext), `import formats ${other.id} and ${format.id} both claim ${ext}`);
  }
  formats.set(format.id, format);
}

/** Removes a format (tests that register their own). */
export function unregisterImportFormat(id: string): void {
  formats.delete(id);
}

export function importFormats(): readonly ImportFormatDescriptor[] {
  return [...formats.values()];
}

/** The format of an id (an unknown id is a programming error). */
export function importFormat(id: string): ImportFormatDescriptor {
  const format = formats.get(id);
  assert(format !== undefined, `import format ${id} is not registered`);
  return format;
}

/** The format whose extension ends the name (the longest one), if any. */
function byExtension(file: string): ImportFormatDescriptor | undefined {
  const lower = file.toLowerCase();
  let best: ImportFormatDescriptor | undefined;
  let length = 0;
  for (const format of formats.values()) {
    for (const ext of format.extensions) if (ext.length > length && lower.endsWith(ext)) { best = format; length = ext.length; }
  }
  return best;
}

/** Format of a regular file by extension, else by magic bytes, else CSV; '-' (stdin) is CSV. */
export function detectFormat(file: string): string {
  if (file === '-') return FALLBACK_FORMAT;
  const named = byExtension(file);
  if (named) return named.id;
  const head = Buffer.alloc(MAGIC_BYTES);
  const fd = openSync(file, 'r');
  let n: number;
  try { n = readSync(fd, head, 0, MAGIC_BYTES, 0); } finally { closeSync(fd); }
  const bytes = head.subarray(0, n);
  for (const format of formats.values()) if (format.magic?.(bytes)) return format.id;
  return FALLBACK_FORMAT;
}

function listed(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/**
 * One input of an import with its format: stdin is CSV; a pipe (bash's <(zcat …)) is read
 * once, in the format its name ends with if that format is pipeable (an error naming the
 * formats that need a regular file if not), else CSV; a regular file by extension or magic.
 */
export function importInput(file: string): { input: ImportInput; format: ImportFormatDescriptor } {
  if (file === '-') return { input: { file, source: 'stdin' }, format: importFormat(FALLBACK_FORMAT) };
  let stat;
  try { stat = statSync(file); } catch (error) {
    throw new InputError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, file);
  }
  if (stat.isFIFO() || stat.isCharacterDevice()) {
    const named = byExtension(file);
    if (named && !named.pipeable) {
      const needFiles = [...new Set([...formats.values()].filter((f) => !f.pipeable).map((f) => f.name))];
      throw new UsageError(`${file} is a pipe: ${listed(needFiles)} input must be a regular file`);
    }
    return { input: { file, source: file }, format: named ?? importFormat(FALLBACK_FORMAT) };
  }
  if (!stat.isFile()) throw new UsageError(`${file} is not a file`);
  return { input: { file, source: file, size: stat.size }, format: importFormat(detectFormat(file)) };
}

/** The format importFiles will read `file` as, without failing: unreadable files and pipes count as CSV (importFiles reports them). */
export function likelyFormat(file: string): ImportFormatDescriptor {
  try {
    return importFormat(file !== '-' && statSync(file).isFile() ? detectFormat(file) : FALLBACK_FORMAT);
  } catch {
    return importFormat(FALLBACK_FORMAT);
  }
}
