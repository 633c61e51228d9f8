import { compress as zstdCompress } from 'zstd-napi';
import { LimitExceededError } from '../errors.js';
import {
  FOOTER_COMPRESS_THRESHOLD_BYTES, FOOTER_ENCODING_JSON, FOOTER_ENCODING_ZSTD_JSON, FOOTER_HEADER_BYTES,
} from './chunk.js';
import { zstdCodec } from './codecs/zstd.js';
import type { ChunkFooter, ChunkLimits, ColumnFooter, StatValue } from './types.js';

/**
 * Footer bytes ⇄ ChunkFooter. The footer is UTF-8 JSON (zstd-compressed above
 * FOOTER_COMPRESS_THRESHOLD_BYTES) behind an 8-byte header:
 *   u8 footerEncoding | u8[3] zero | u32 decodedJsonBytes | payload
 * JSON has no NaN, ±Infinity or -0, so float64 stats travel as the strings "NaN", "Infinity",
 * "-Infinity" and "-0" and come back as numbers (NaN only in sums: min/max skip it).
 */

/** A footer that does not parse; `offset` is relative to the footer start. */
export class FooterFormatError extends Error {
  override name = 'FooterFormatError';
  constructor(readonly offset: number, detail: string) {
    super(detail);
  }
}

function floatStatToJson(value: StatValue): StatValue {
  if (typeof value !== 'number') return value;
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (Object.is(value, -0)) return '-0';
  return value;
}

export function floatStatFromJson(value: unknown): unknown {
  switch (value) {
    case 'NaN': return NaN;
    case 'Infinity': return Infinity;
    case '-Infinity': return -Infinity;
    case '-0': return -0;
    default: return value;
  }
}

function columnToJson(column: ColumnFooter): ColumnFooter {
  if (column.type !== 'float64') return column;
  return {
    ...column,
    min: floatStatToJson(column.min),
    max: floatStatToJson(column.max),
    pages: column.pages.map((p) => ({
      ...p, min: floatStatToJson(p.min), max: floatStatToJson(p.max), ...(p.sum === undefined ? {} : { sum: floatStatToJson(p.sum) as number }),
    })),
  };
}

/** Serializes a footer into the footer region (header + payload). */
export function encodeFooter(footer: ChunkFooter): Uint8Array {
  const json = JSON.stringify({ ...footer, columns: footer.columns.map(columnToJson) });
  const text = Buffer.from(json, 'utf8');
  const compress = text.length > FOOTER_COMPRESS_THRESHOLD_BYTES;
  const payload = compress ? zstdCompress(text, { compressionLevel: 3 }) : text;
  const out = new Uint8Array(FOOTER_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, compress ? FOOTER_ENCODING_ZSTD_JSON : FOOTER_ENCODING_JSON);
  view.setUint32(4, text.length, true);
  out.set(payload, FOOTER_HEADER_BYTES);
  return out;
}

/**
 * Parses the footer region into plain JSON (not yet validated: see validateFooter).
 * Throws FooterFormatError on a bad header, decompression failure or bad JSON, and
 * LimitExceededError when the declared JSON size is above footerBytesMax.
 */
export function decodeFooterJson(region: Uint8Array, limits: ChunkLimits, where: string): unknown {
  if (region.length < FOOTER_HEADER_BYTES) {
    throw new FooterFormatError(0, `footer of ${region.length} bytes is shorter than its ${FOOTER_HEADER_BYTES}-byte header`);
  }
  const view = new DataView(region.buffer, region.byteOffset, region.byteLength);
  const encoding = view.getUint8(0);
  if (view.getUint8(1) !== 0 || view.getUint8(2) !== 0 || view.getUint8(3) !== 0) {
    throw new FooterFormatError(1, 'footer header reserved bytes are not zero');
  }
  const jsonBytes = view.getUint32(4, true);
  if (jsonBytes > limits.footerBytesMax) {
    throw new LimitExceededError('footerBytesMax', jsonBytes, limits.footerBytesMax, `decoded footer of ${where}`);
  }
  const payload = region.subarray(FOOTER_HEADER_BYTES);
  let text: Uint8Array;
  if (encoding === FOOTER_ENCODING_JSON) {
    if (payload.length !== jsonBytes) {
      throw new FooterFormatError(4, `footer header declares ${jsonBytes} JSON bytes, payload has ${payload.length}`);
    }
    text = payload;
  } else if (encoding === FOOTER_ENCODING_ZSTD_JSON) {
    try {
      text = zstdCodec.decode(payload, jsonBytes);
    } catch (error) {
      throw new FooterFormatError(FOOTER_HEADER_BYTES, `footer payload does not decompress: ${(error as Error).message}`);
    }
  } else {
    throw new FooterFormatError(0, `unknown footer encoding ${encoding} (known: ${FOOTER_ENCODING_JSON} JSON, ${FOOTER_ENCODING_ZSTD_JSON} zstd JSON)`);
  }
  let string: string;
  try {
    string = new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch {
    throw new FooterFormatError(FOOTER_HEADER_BYTES, 'footer JSON is not valid UTF-8');
  }
  try {
    return JSON.parse(string) as unknown;
  } catch (error) {
    throw new FooterFormatError(FOOTER_HEADER_BYTES, `footer JSON does not parse: ${(error as Error).message}`);
  }
}
