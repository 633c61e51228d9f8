import type { Data, Vector } from 'apache-arrow';

/**
 * UTF-8 decoding of stored values. TextDecoder's default, and Apache Arrow JS's Vector.get
 * (which uses it), drop a leading U+FEFF (byte-order mark) from every string they decode, so
 * a value that begins with U+FEFF would silently lose it; values are decoded with ignoreBOM
 * (which keeps it). A CSV file's own BOM is stripped by the tokenizer, before any field.
 */
export const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** String i of Utf8 / LargeUtf8 data (a valid row), its bytes decoded exactly. */
export function utf8DataAt(data: Data, i: number): string {
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  return utf8Decoder.decode((data.values as Uint8Array).subarray(Number(offsets[i]!), Number(offsets[i + 1]!)));
}

/** Value k of a Utf8 vector (a dictionary), or null; not through Vector.get (see utf8Decoder). */
export function utf8VectorAt(vector: Vector, k: number): string | null {
  for (const data of vector.data) {
    if (k < data.length) return data.getValid(k) ? utf8DataAt(data, k) : null;
    k -= data.length;
  }
  return null;
}
