import { EncodingError, type PageKind, type PageValues } from './types.js';

/**
 * `plain`: the values' little-endian bytes as they lie in memory. For utf8: count+1 int32
 * offsets then the data bytes. For bool: the bitmap bytes. For fixed: count × width bytes.
 * The fallback every kind supports (and the only encoding of fixed pages).
 */
export const PLAIN_ID = 'plain';

export function encodePlain(values: PageValues): Uint8Array {
  switch (values.kind) {
    case 'i64': case 'f64': case 'i32':
      return new Uint8Array(values.values.buffer, values.values.byteOffset, values.values.byteLength);
    case 'bool':
      return values.bits.subarray(0, (values.length + 7) >>> 3);
    case 'fixed':
      return values.data;
    case 'utf8': {
      const out = new Uint8Array(values.offsets.byteLength + values.data.byteLength);
      out.set(new Uint8Array(values.offsets.buffer, values.offsets.byteOffset, values.offsets.byteLength), 0);
      out.set(values.data, values.offsets.byteLength);
      return out;
    }
  }
}

/** Copies into a fresh 8-byte-aligned buffer so typed-array views are always valid. */
function aligned(bytes: Uint8Array, byteLength: number): ArrayBuffer {
  const buffer = new ArrayBuffer(byteLength);
  new Uint8Array(buffer).set(bytes.subarray(0, byteLength));
  return buffer;
}

/** `width`: bytes per value of a fixed page (required for kind fixed). */
export function decodePlain(bytes: Uint8Array, kind: PageKind, count: number, width = 0): PageValues {
  const need = (n: number) => {
    if (bytes.length !== n) throw new EncodingError(`plain ${kind} page of ${count} values needs ${n} bytes, got ${bytes.length}`);
  };
  switch (kind) {
    case 'i64': need(count * 8); return { kind, values: new BigInt64Array(aligned(bytes, count * 8)) };
    case 'f64': need(count * 8); return { kind, values: new Float64Array(aligned(bytes, count * 8)) };
    case 'i32': need(count * 4); return { kind, values: new Int32Array(aligned(bytes, count * 4)) };
    case 'bool': need((count + 7) >>> 3); return { kind, bits: bytes.slice(), length: count };
    case 'fixed':
      if (!(width >= 1)) throw new EncodingError(`plain fixed page without a value width`);
      need(count * width);
      return { kind, width, data: new Uint8Array(aligned(bytes, count * width)) };
    case 'utf8': {
      const offsetBytes = (count + 1) * 4;
      if (bytes.length < offsetBytes) throw new EncodingError(`plain utf8 page of ${count} values needs at least ${offsetBytes} bytes, got ${bytes.length}`);
      const offsets = new Int32Array(aligned(bytes, offsetBytes));
      const dataLength = bytes.length - offsetBytes;
      if (offsets[0] !== 0) throw new EncodingError(`plain utf8 first offset ${offsets[0]}, expected 0`);
      for (let i = 0; i < count; i++) {
        if (offsets[i + 1]! < offsets[i]!) throw new EncodingError(`plain utf8 offsets decrease at value ${i}`);
      }
      if (offsets[count] !== dataLength) throw new EncodingError(`plain utf8 last offset ${offsets[count]} != data length ${dataLength}`);
      return { kind, offsets, data: bytes.slice(offsetBytes) };
    }
  }
}
