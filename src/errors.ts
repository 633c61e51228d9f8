/**
 * Typed errors shared by every layer. Operating errors (bad input, corrupt bytes, a store
 * that says no) are these classes; programmer errors are `assert()` failures.
 *
 * Every message names the subsystem, the place and expected vs actual, e.g.
 * `chunk footer length 812 exceeds file size 640 (cpu/2026-11/a1b2.qvr)`.
 */
export class QuiverError extends Error {
  override name = 'QuiverError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bytes of a chunk (or manifest) that do not parse or fail a checksum. */
export class CorruptChunkError extends QuiverError {
  override name = 'CorruptChunkError';
  constructor(readonly path: string, readonly offset: number, detail: string) {
    super(`corrupt chunk ${path} at offset ${offset}: ${detail}`);
  }
}

/**
 * A write-ahead log with a bad frame that is not a torn tail (valid frames follow it): open
 * refuses it and leaves the file untouched; salvage keeps its intact frames.
 */
export class WalCorruptError extends QuiverError {
  override name = 'WalCorruptError';
  constructor(readonly path: string, readonly offset: number, readonly frame: number, detail: string) {
    super(`write-ahead log ${path} is damaged at byte ${offset} (frame ${frame}): ${detail}`);
  }
}

/**
 * A manifest (a table version's snapshot, `<table>/_manifest/<version>.json`) that fails its
 * checksum, does not parse, or holds a value a valid manifest cannot hold. A store/data error
 * (exit 1 in the CLI), never a usage error: the caller asked for nothing wrong.
 */
export class CorruptManifestError extends QuiverError {
  override name = 'CorruptManifestError';
  constructor(readonly key: string, readonly field: string, readonly detail: string, readonly store?: string) {
    super(`corrupt manifest ${key}${store ? ` in ${store}` : ''}: ${field ? `${field}: ` : ''}${detail}`);
  }
}

/** A named limit (footer bytes, rows, columns, decompressed bytes…) was exceeded. */
export class LimitExceededError extends QuiverError {
  override name = 'LimitExceededError';
  constructor(readonly limit: string, readonly actual: number, readonly max: number, where: string) {
    super(`${limit} ${actual} exceeds limit ${max} (${where})`);
  }
}

/** A key that does not exist in a ChunkManager. */
export class NotFoundError extends QuiverError {
  override name = 'NotFoundError';
  constructor(readonly store: string, readonly key: string) {
    super(`not found: ${key} in ${store}`);
  }
}

/** A conditional create (`put(..., { ifAbsent: true })`) lost: the key already exists. */
export class AlreadyExistsError extends QuiverError {
  override name = 'AlreadyExistsError';
  constructor(readonly store: string, readonly key: string) {
    super(`already exists: ${key} in ${store}`);
  }
}

/** A store operation failed (network, permissions, server error) after any retries. */
export class StoreError extends QuiverError {
  override name = 'StoreError';
  constructor(readonly store: string, readonly key: string, readonly op: string, message: string,
              readonly status?: number, readonly retryable = false, options?: { cause?: unknown }) {
    super(`${op} ${key} on ${store} failed${status !== undefined ? ` (status ${status})` : ''}: ${message}`, options);
  }
}

/** Bad user input: a file, a row or an argument that cannot be accepted. */
export class InputError extends QuiverError {
  override name = 'InputError';
  constructor(message: string, readonly file?: string, readonly line?: number, readonly column?: string) {
    super(message);
  }
}

/** A schema mismatch: unknown column, wrong type, missing time column. */
export class SchemaError extends QuiverError {
  override name = 'SchemaError';
}

/**
 * A request the HTTP server (src/server) refuses: `status` is the HTTP status to answer
 * with (400, 401, 404, 413, 415, 429…), `headers` any to add (Retry-After).
 */
export class RequestError extends QuiverError {
  override name = 'RequestError';
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** A usage error of the CLI or API (bad option, bad table name): exit code 2 in the CLI. */
export class UsageError extends QuiverError {
  override name = 'UsageError';
}

/**
 * A worker thread reading an input (the CSV parser, the Parquet decoder) crashed, exited or
 * failed with an error that is not a Quiver error; `file` is the file it was reading.
 */
export class WorkerCrashError extends QuiverError {
  override name = 'WorkerCrashError';
  constructor(message: string, readonly file: string) {
    super(message);
  }
}

/** An operation cancelled through an AbortSignal. */
export class AbortError extends QuiverError {
  override name = 'AbortError';
  constructor(message = 'operation aborted') {
    super(message);
  }
}

/** Programmer-error check: a broken invariant, never bad input. */
export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/**
 * A commit whose premise no longer holds: it removes chunks that a concurrent commit already
 * removed (two compactions of the same chunks). Re-applying it would duplicate rows, so it is
 * not retried; the caller re-plans on the new version.
 */
export class ConflictError extends QuiverError {
  override name = 'ConflictError';
}

/**
 * Typed errors across worker threads: structured clone keeps only a plain Error, so workers
 * send the fields and the main thread rebuilds the same class (same message, same fields).
 */
export interface WireError {
  name: string;
  message: string;
  path?: string;
  offset?: number;
  limit?: string;
  actual?: number;
  max?: number;
  file?: string;
  line?: number;
  column?: string;
}

export function toWireError(error: unknown): WireError {
  if (error instanceof CorruptChunkError) return { name: error.name, message: error.message, path: error.path, offset: error.offset };
  if (error instanceof LimitExceededError) return { name: error.name, message: error.message, limit: error.limit, actual: error.actual, max: error.max };
  if (error instanceof InputError) {
    return { name: error.name, message: error.message, ...(error.file !== undefined ? { file: error.file } : {}), ...(error.line !== undefined ? { line: error.line } : {}), ...(error.column !== undefined ? { column: error.column } : {}) };
  }
  if (error instanceof QuiverError) return { name: error.name, message: error.message };
  return { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) };
}

export function fromWireError(e: WireError): Error {
  let error: Error;
  if (e.name === 'CorruptChunkError') error = new CorruptChunkError(e.path!, e.offset!, '');
  else if (e.name === 'LimitExceededError') error = new LimitExceededError(e.limit!, e.actual!, e.max!, '');
  else if (e.name === 'InputError') error = new InputError('', e.file, e.line, e.column);
  else if (e.name === 'UsageError') error = new UsageError('');
  else if (e.name === 'SchemaError') error = new SchemaError('');
  else if (e.name === 'QuiverError') error = new QuiverError('');
  else { error = new Error(''); error.name = e.name; } // not a Quiver error: a bug or a crash, kept as such
  error.message = e.message;
  return error;
}
