/**
 * The packed chunk file, format version 1. Normative spec: docs/format.md.
 *
 * ```
 * offset 0
 * ┌──────────────────────────────────────────────────────────────────────────┐
 * │ "QVR1" (4 bytes: 0x51 0x56 0x52 0x31)                                    │ head magic
 * ├──────────────────────────────────────────────────────────────────────────┤
 * │ column region 0: page 0 │ page 1 │ … │ page P-1       (contiguous)       │
 * │ column region 1: page 0 │ page 1 │ … │ page P-1                          │
 * │ …                                                                        │ one region per column,
 * │ column region C-1                                                        │ in footer column order
 * ├──────────────────────────────────────────────────────────────────────────┤
 * │ footer: u8 footerEncoding (0 = JSON, 1 = zstd(JSON)) │ u8[3] zero        │
 * │         u32 decodedJsonBytes │ payload (UTF-8 JSON of ChunkFooter)       │
 * ├──────────────────────────────────────────────────────────────────────────┤
 * │ u32 footerBytes │ u32 footerCrc32 │ u32 formatVersion │ "QVR1"           │ 16-byte trailer
 * └──────────────────────────────────────────────────────────────────────────┘
 *                                                                 end of file
 *
 * page (stored bytes, CRC-32 in the footer):
 * ┌───────────────────────────────────────────┬──────────────────────────────┐
 * │ validity part (only when the page has     │ values part                  │
 * │ nulls): codec(encode_bool(bitmap))        │ codec(encode_chain(values))  │
 * │ validityLength bytes                      │ length - validityLength      │
 * └───────────────────────────────────────────┴──────────────────────────────┘
 * ```
 * All integers little-endian. Every byte is covered by a check: the magics by comparison,
 * the footer by its CRC-32, the trailer by consistency (length ≤ file, version known), every
 * page by its CRC-32 and every column region by its CRC-32 (checked by `verify`).
 */

/** "QVR1" as bytes. */
export const MAGIC = new Uint8Array([0x51, 0x56, 0x52, 0x31]);
export const MAGIC_BYTES = 4;
/** The format version this code writes and the only one it reads. */
export const FORMAT_VERSION = 1;
/** u32 footerBytes + u32 footerCrc32 + u32 formatVersion + magic. */
export const TRAILER_BYTES = 16;
/** u8 footerEncoding + u8[3] reserved + u32 decodedJsonBytes. */
export const FOOTER_HEADER_BYTES = 8;
/** Footer payload encodings. */
export const FOOTER_ENCODING_JSON = 0;
export const FOOTER_ENCODING_ZSTD_JSON = 1;
/** JSON footers larger than this are zstd-compressed by the writer. */
export const FOOTER_COMPRESS_THRESHOLD_BYTES = 16 * 1024;
/** The smallest well-formed file: head magic, a footer header, a trailer. */
export const CHUNK_BYTES_MIN = MAGIC_BYTES + FOOTER_HEADER_BYTES + TRAILER_BYTES;
/** Written into `footer.writer`. */
export const WRITER_ID = 'quiver-format/1';
/** Rows per page when the writer is not told otherwise. */
export const DEFAULT_PAGE_ROWS = 8192;
