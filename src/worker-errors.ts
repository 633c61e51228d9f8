import { CorruptChunkError, InputError, LimitExceededError, QuiverError, SchemaError, UsageError } from './errors.js';

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
