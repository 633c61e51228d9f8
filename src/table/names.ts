import { UsageError } from '../errors.js';

/** Longest table name. */
export const TABLE_NAME_LENGTH_MAX = 128;
const TABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Table names become the first segment of store keys, so they must not be able to leave
 * the store or alias another table: no '/', '\\', '..', control characters, leading dot.
 */
export function validateTableName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new UsageError('table name must be a non-empty string');
  if (name.length > TABLE_NAME_LENGTH_MAX) throw new UsageError(`table name of ${name.length} characters exceeds ${TABLE_NAME_LENGTH_MAX}`);
  if (!TABLE_NAME.test(name) || name.includes('..')) {
    throw new UsageError(`table name ${JSON.stringify(name)} is not allowed: use letters, digits, '_', '-' and '.', not starting with '.' or '-'`);
  }
  return name;
}

/** Column names: non-empty, no control characters. */
export function validateColumnName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || name.length > 256 || /[\u0000-\u001f]/.test(name)) throw new UsageError(`column name ${JSON.stringify(name)} is not allowed`);
  return name;
}
