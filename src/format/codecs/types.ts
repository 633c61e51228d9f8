import type { BlockCodecId } from '../types.js';

/**
 * A block codec: bytes in, bytes out, with the decoded size known up front (the footer
 * records it), so decode allocates exactly that many bytes and never more.
 */
export interface BlockCodec {
  readonly id: BlockCodecId;
  /** Compresses `bytes`; `level` is codec-specific (zstd: 1..22) and ignored by others. */
  encode(bytes: Uint8Array, level?: number): Uint8Array;
  /** Largest stored size `encode` can produce for `bytes` input bytes. */
  encodeBound(bytes: number): number;
  /** Compresses into `dst` (at least encodeBound(bytes.length) long); returns the stored length. */
  encodeInto(bytes: Uint8Array, dst: Uint8Array, level?: number): number;
  /** Decompresses to exactly `decodedBytes` bytes or throws CodecError. */
  decode(stored: Uint8Array, decodedBytes: number): Uint8Array;
  /** Decompresses into `dst`, which must come out exactly full; otherwise CodecError. */
  decodeInto(stored: Uint8Array, dst: Uint8Array): void;
}

/** Stored bytes that do not decode (wrapped by the chunk reader into CorruptChunkError). */
export class CodecError extends Error {
  override name = 'CodecError';
}
