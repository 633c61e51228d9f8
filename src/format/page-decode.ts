import { CorruptChunkError, QuiverError } from '../errors.js';
import { countSetBits } from './bits.js';
import { getBlockCodec } from './codecs/registry.js';
import { bitmapBytes, pageKindOf, pageRawBytes, valueWidthOf } from './column-kind.js';
import { crc32 } from './crc32.js';
import { decodePage } from './encodings/registry.js';
import type { PageValues } from './encodings/types.js';
import type { BlockCodecId, ColumnFooter, ColumnType, DecodedPage, PageFooter } from './types.js';

/**
 * One stored page → its values: CRC check, block codec, encoding chain, then the checks that
 * make the values safe to hand to Arrow. Pure (no I/O, no reader state), so the same code runs
 * on the main thread and in decode workers (decode-pool.ts).
 */

/** The `plain` encoding id: fixed-width values are their little-endian bytes (docs/format.md §3). */
const PLAIN_ENCODING = 'plain';
/** The runs encoding of tag codes (sorted by series: a few runs a page). */
const RLE_ENCODING = 'rle';

/** What decoding a page needs to know of its column (small enough to post to a worker). */
export interface PageDecodeColumn {
  name: string;
  type: ColumnType;
  codec: BlockCodecId;
  /** Tag columns: dictionary entries (codes must lie below); 0 otherwise. */
  dictionarySize: number;
}

export function decodeColumnOf(column: ColumnFooter): PageDecodeColumn {
  return { name: column.name, type: column.type, codec: column.codec, dictionarySize: column.dictionary?.length ?? 0 };
}

export function checkPageCrc(chunk: string, column: string, p: number, page: PageFooter, stored: Uint8Array): void {
  const actual = crc32(stored);
  if (actual !== page.crc32) {
    throw new CorruptChunkError(chunk, page.offset, `column ${JSON.stringify(column)} page ${p} crc32 ${actual} != ${page.crc32} in the footer`);
  }
}

/**
 * Decodes page `p` of a column from its stored bytes. `into`: for a fixed-width page, where
 * its values go (exactly rows × width bytes, 8-byte aligned); plain pages decompress straight
 * into it, encoded pages decode into it. Any failure caused by the bytes is a
 * CorruptChunkError naming the chunk, the page offset, the column, encoding and codec.
 */
export function decodeStoredPage(chunk: string, column: PageDecodeColumn, p: number, page: PageFooter, stored: Uint8Array,
                                 crcChecked = false, into?: Uint8Array): DecodedPage {
  if (!crcChecked) checkPageCrc(chunk, column.name, p, page, stored);
  const kind = pageKindOf(column.type);
  const width = kind === 'fixed' ? valueWidthOf(column.type) : 0;
  const rows = page.rows;
  try {
    const codec = getBlockCodec(column.codec);
    let validity: Uint8Array | null = null;
    const validityLength = page.validityLength ?? 0;
    if (page.nullCount > 0) {
      const encoded = codec.decode(stored.subarray(0, validityLength), page.validityEncodedBytes!);
      const decoded = decodePage(page.validityEncoding!, encoded, 'bool', rows);
      if (decoded.kind !== 'bool' || decoded.length !== rows || decoded.bits.length < bitmapBytes(rows)) {
        throw new Error(`validity decodes to ${decoded.kind} of ${pageCount(decoded)} values, expected bool of ${rows}`);
      }
      validity = decoded.bits;
      const valid = countSetBits(validity, rows);
      if (rows - valid !== page.nullCount) throw new Error(`validity has ${rows - valid} nulls, footer says ${page.nullCount}`);
    }
    // Tag codes of an `rle` page without nulls are checked against the dictionary once per
    // run while decoding (checkValues would check every value).
    const codesBelow = column.type === 'string' && page.encoding === RLE_ENCODING && page.nullCount === 0 && column.dictionarySize > 0 ? column.dictionarySize : undefined;
    let values: PageValues;
    if (into !== undefined && page.encoding === PLAIN_ENCODING) {
      if (page.encodedBytes !== into.length) throw new Error(`plain ${kind} page of ${rows} values has ${page.encodedBytes} encoded bytes, expected ${into.length}`);
      codec.decodeInto(stored.subarray(validityLength), into);
      values = fixedView(kind, into, rows, width);
    } else if (into !== undefined) {
      // Encoded pages decode straight into their slice of the column buffer.
      const encoded = codec.decode(stored.subarray(validityLength), page.encodedBytes);
      values = decodePage(page.encoding, encoded, kind, rows, into, width, codesBelow);
    } else {
      const encoded = codec.decode(stored.subarray(validityLength), page.encodedBytes);
      values = decodePage(page.encoding, encoded, kind, rows, undefined, width, codesBelow);
    }
    if (values.kind !== kind || pageCount(values) !== rows) {
      throw new Error(`values decode to ${values.kind} of ${pageCount(values)} values, expected ${kind} of ${rows}`);
    }
    checkValues(column, page, values, validity, codesBelow !== undefined);
    return { page: p, rows, nullCount: page.nullCount, values, validity };
  } catch (error) {
    if (error instanceof QuiverError) throw error;
    throw new CorruptChunkError(chunk, page.offset, `column ${JSON.stringify(column.name)} page ${p} (${page.encoding}, ${column.codec}): ${(error as Error).message}`);
  }
}

/** Checks Arrow would accept the values: utf8 offsets, dictionary codes, fixed width, decoded size. */
function checkValues(column: PageDecodeColumn, page: PageFooter, values: PageValues, validity: Uint8Array | null, codesChecked: boolean): void {
  let dataBytes = 0;
  if (values.kind === 'fixed') {
    const width = valueWidthOf(column.type);
    if (values.width !== width || values.data.length !== page.rows * width) throw new Error(`fixed values of ${values.width} bytes (${values.data.length} in all), expected ${page.rows} × ${width}`);
    dataBytes = values.data.length;
  }
  if (values.kind === 'utf8') {
    const { offsets, data } = values;
    if (offsets[0] !== 0) throw new Error(`utf8 offsets start at ${offsets[0]}, expected 0`);
    for (let i = 0; i < page.rows; i++) if (offsets[i + 1]! < offsets[i]!) throw new Error(`utf8 offsets decrease at value ${i}`);
    if (offsets[page.rows] !== data.length) throw new Error(`utf8 last offset ${offsets[page.rows]} != data bytes ${data.length}`);
    dataBytes = data.length;
  } else if (values.kind === 'i32' && column.type === 'string' && !codesChecked) {
    const codes = values.values;
    const n = column.dictionarySize;
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i]!;
      if (code >= 0 && code < n) continue;
      const isNull = validity !== null && ((validity[i >>> 3]! >>> (i & 7)) & 1) === 0;
      if (!(isNull && code === 0)) throw new Error(`tag code ${code} at row ${i} outside a dictionary of ${n} values`);
    }
  }
  const raw = pageRawBytes(values.kind, page.rows, validity !== null, dataBytes);
  if (raw !== page.rawBytes) throw new Error(`decoded ${raw} bytes, footer says ${page.rawBytes}`);
}

/** Typed values over plain little-endian bytes (aligned, owned by the caller). */
function fixedView(kind: PageValues['kind'], bytes: Uint8Array, rows: number, width: number): PageValues {
  switch (kind) {
    case 'fixed': return { kind, width, data: bytes };
    case 'i64': return { kind, values: new BigInt64Array(bytes.buffer, bytes.byteOffset, rows) };
    case 'f64': return { kind, values: new Float64Array(bytes.buffer, bytes.byteOffset, rows) };
    case 'i32': return { kind, values: new Int32Array(bytes.buffer, bytes.byteOffset, rows) };
    default: throw new Error(`no fixed-width view for ${kind}`);
  }
}

function pageCount(values: PageValues): number {
  switch (values.kind) {
    case 'bool': return values.length;
    case 'utf8': return values.offsets.length - 1;
    case 'fixed': return values.data.length / values.width;
    default: return values.values.length;
  }
}
