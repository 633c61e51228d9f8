/**
 * Bloom filters of a chunk's tag values, kept in its manifest entry for tags with too many
 * distinct values to list (more than TAG_VALUES_IN_MANIFEST_MAX): an equality or IN filter on
 * a high-cardinality tag (a device id, a user id) then prunes chunks without opening them.
 *
 * Encoding (base64 of): byte 0 = k (hash functions), bytes 1.. = the bit array (bit i is
 * bit i%8 of byte 1+i/8). Positions by double hashing (Kirsch–Mitzenmacher) of two 32-bit
 * FNV-1a variants over the value's UTF-8 bytes: h1 + i·h2 mod m. About 10 bits per value
 * (≈1% false positives), at most BLOOM_BYTES_MAX bytes per tag per chunk (more values ⇒
 * fewer bits each, a higher false-positive rate, never a false negative).
 */
export const BLOOM_BITS_PER_VALUE = 10;
export const BLOOM_HASHES = 7;
export const BLOOM_BYTES_MAX = 32 * 1024;

const encoder = new TextEncoder();

function hashes(value: string): [number, number] {
  const bytes = encoder.encode(value);
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193);
    h2 = Math.imul(h2 ^ bytes[i]!, 0x01000193) ^ (h2 >>> 15);
  }
  // Final avalanche so short values spread over the whole array.
  h1 ^= h1 >>> 16; h1 = Math.imul(h1, 0x85ebca6b); h1 ^= h1 >>> 13;
  h2 ^= h2 >>> 16; h2 = Math.imul(h2, 0xc2b2ae35); h2 ^= h2 >>> 16;
  return [h1 >>> 0, (h2 | 1) >>> 0];
}

export function buildBloom(values: readonly string[]): string {
  const bytes = Math.min(BLOOM_BYTES_MAX, Math.max(8, Math.ceil((values.length * BLOOM_BITS_PER_VALUE) / 8)));
  const out = new Uint8Array(1 + bytes);
  out[0] = BLOOM_HASHES;
  const m = bytes * 8;
  for (const v of values) {
    const [h1, h2] = hashes(v);
    for (let i = 0; i < BLOOM_HASHES; i++) {
      const bit = (h1 + i * h2) % m;
      out[1 + (bit >>> 3)]! |= 1 << (bit & 7);
    }
  }
  return Buffer.from(out).toString('base64');
}

/**
 * False only when `value` is certainly not in the set. A malformed filter (a hand-edited or
 * foreign manifest) answers true: it can cost a chunk read, never a wrong result.
 */
export function bloomMayContain(encoded: string, value: string): boolean {
  const bits = Buffer.from(encoded, 'base64');
  const k = bits[0];
  const m = (bits.length - 1) * 8;
  if (k === undefined || k < 1 || k > 32 || m === 0) return true;
  const [h1, h2] = hashes(value);
  for (let i = 0; i < k; i++) {
    const bit = (h1 + i * h2) % m;
    if ((bits[1 + (bit >>> 3)]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}
