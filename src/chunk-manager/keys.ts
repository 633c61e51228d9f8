import { UsageError } from '../errors.js';

/** Longest key any backend accepts (S3 allows 1024 bytes; keep headroom for prefixes). */
export const KEY_LENGTH_MAX = 900;

/**
 * Rejects keys that could leave the store or confuse a backend: empty, absolute,
 * '.' / '..' / empty segments, backslashes, control characters, over-long.
 */
export function validateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new UsageError('store key must be a non-empty string');
  if (key.length > KEY_LENGTH_MAX) throw new UsageError(`store key length ${key.length} exceeds limit ${KEY_LENGTH_MAX}`);
  if (key.startsWith('/')) throw new UsageError(`store key must be relative, got ${JSON.stringify(key)}`);
  if (key.includes('\\')) throw new UsageError(`store key must not contain a backslash: ${JSON.stringify(key)}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new UsageError(`store key contains a control character: ${JSON.stringify(key)}`);
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new UsageError(`store key has an empty, '.' or '..' segment: ${JSON.stringify(key)}`);
    }
  }
}
