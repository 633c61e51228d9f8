/**
 * The seam between the chunk format and the value encodings.
 *
 * A page holds the values of one column for a run of rows, in one of six physical kinds.
 * An encoding chain turns those values into bytes (before the block codec) and back. The
 * chain is named by a string of stable encoding ids joined by '>' (outermost first), e.g.
 * `delta2>zigzag>bitpack` or `plain`; the chunk footer records it per page, so readers
 * can decode any chain the registry knows, and writers are free to choose per page.
 *
 * Nulls are not seen here: the chunk writer stores a separate validity bitmap (kind 'bool')
 * and fills null slots with 0 / 0.0 / false / "" before encoding.
 */
export type PageValues =
  | { kind: 'i64'; values: BigInt64Array }
  | { kind: 'f64'; values: Float64Array }
  | { kind: 'i32'; values: Int32Array }
  | { kind: 'bool'; bits: Uint8Array; length: number } // LSB-first bitmap, Arrow layout
  | { kind: 'utf8'; offsets: Int32Array; data: Uint8Array } // offsets.length = count + 1, offsets[0] = 0; utf8 and binary
  | { kind: 'fixed'; width: number; data: Uint8Array }; // count × width bytes: wide decimals, fixed-size binary

export type PageKind = PageValues['kind'];

export function pageValueCount(values: PageValues): number {
  switch (values.kind) {
    case 'bool': return values.length;
    case 'utf8': return values.offsets.length - 1;
    case 'fixed': return values.data.length / values.width;
    default: return values.values.length;
  }
}

export interface EncodedPage {
  /** The chain, e.g. 'plain' or 'delta2>zigzag>bitpack'. */
  encoding: string;
  bytes: Uint8Array;
}

/** What the writer asks of the picker for a page. */
export interface EncodeOptions {
  /** Force a chain ('plain', 'delta2>zigzag>bitpack', …) instead of picking. */
  encoding?: string;
  /**
   * Also consider chains that are smaller but slower to decode (the rANS twins of the delta
   * chains); the default keeps the fast ones.
   */
  preferSize?: boolean;
}

/** Thrown (wrapped by the chunk reader into CorruptChunkError) when encoded bytes do not decode. */
export class EncodingError extends Error {
  override name = 'EncodingError';
}
