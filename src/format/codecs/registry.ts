import type { BlockCodecId } from '../types.js';
import { lz4Codec } from './lz4.js';
import { noneCodec } from './none.js';
import { CodecError, type BlockCodec } from './types.js';
import { zstdCodec } from './zstd.js';

/**
 * The block codec registry: stable ids → code. Ids are written into chunk footers, so an id
 * never changes meaning; a new codec gets a new id.
 */
const CODECS: ReadonlyMap<string, BlockCodec> = new Map<string, BlockCodec>([
  ['zstd', zstdCodec],
  ['lz4', lz4Codec],
  ['none', noneCodec],
]);

export function isBlockCodecId(id: unknown): id is BlockCodecId {
  return typeof id === 'string' && CODECS.has(id);
}

/** The codec for `id`; an unknown id is a CodecError (the reader reports it as corruption). */
export function getBlockCodec(id: string): BlockCodec {
  const codec = CODECS.get(id);
  if (codec === undefined) throw new CodecError(`unknown block codec ${JSON.stringify(id)} (known: ${[...CODECS.keys()].join(', ')})`);
  return codec;
}

/** Ids of every registered block codec. */
export function knownBlockCodecs(): BlockCodecId[] {
  return [...CODECS.keys()] as BlockCodecId[];
}
