import { decodePlain, encodePlain, PLAIN_ID } from './plain.js';
import { EncodingError, type EncodedPage, type EncodeOptions, type PageKind, type PageValues } from './types.js';

/**
 * The encoding registry: the one place that maps stable encoding-chain ids to code.
 * `encodePage` picks a chain for a page (or uses the forced one); `decodePage` inverts any
 * chain the registry knows. Unknown ids are an EncodingError (the reader turns it into a
 * CorruptChunkError naming the chunk and offset).
 */
export function encodePage(values: PageValues, options: EncodeOptions = {}): EncodedPage {
  const chain = options.encoding ?? PLAIN_ID;
  if (chain !== PLAIN_ID) throw new EncodingError(`unknown encoding chain ${JSON.stringify(chain)}`);
  return { encoding: PLAIN_ID, bytes: encodePlain(values) };
}

export function decodePage(encoding: string, bytes: Uint8Array, kind: PageKind, count: number): PageValues {
  if (encoding === PLAIN_ID) return decodePlain(bytes, kind, count);
  throw new EncodingError(`unknown encoding chain ${JSON.stringify(encoding)}`);
}

/** Ids of every chain the registry can decode (for `inspect` and the golden tests). */
export function knownEncodings(): string[] {
  return [PLAIN_ID];
}
