import { decodeKernels } from './kernels.js';
import { zstdCodec } from '../codecs/zstd.js';
import { ByteReader, ByteWriter, SAFE_MAGNITUDE_MAX } from './bytes.js';
import { EncodingError } from './types.js';

/**
 * `bitsplit`: non-negative integers (< 2^52) as k low-byte planes plus the high bits
 * (value >> 8k) bit-packed, each stream entropy-coded on its own by zstd (whose Huffman
 * literal coding is what approaches the entropy: a single zstd block over mixed streams
 * shares one Huffman table and loses it).
 *
 * Why planes: the zigzag deltas of a random walk are roughly Gaussian. Their low byte is
 * nearly uniform (≈8 bits, nothing to gain, nothing lost) and the high part is a handful of
 * small values packed 2–4 to a byte, which Huffman codes close to its entropy. Together
 * they land within a few percent of the deltas' entropy; plain bit-packing costs the full
 * width of the largest delta.
 *
 * Layout: u8 planes (k) | u8 highBits (w) | per stream (k planes, then high): u8 mode
 * (0 raw, 1 zstd) | varint storedBytes | bytes. Plane j holds byte j of every value.
 */
export const BITSPLIT_ID = 'bitsplit';
const MODE_RAW = 0;
const MODE_ZSTD = 1;
const ZSTD_LEVEL = 3;

/** Bits needed for a non-negative integer below 2^53. */
export function bitLength(v: number): number {
  if (v < 2 ** 32) return 32 - Math.clz32(v);
  return 64 - Math.clz32(Math.floor(v / 2 ** 32));
}

export function putStream(w: ByteWriter, bytes: Uint8Array): void {
  const packed = bytes.length >= 64 ? zstdCodec.encode(bytes, ZSTD_LEVEL) : bytes;
  if (packed !== bytes && packed.length < bytes.length) {
    w.u8(MODE_ZSTD); w.varint(packed.length); w.bytes(packed);
  } else {
    w.u8(MODE_RAW); w.varint(bytes.length); w.bytes(bytes);
  }
}

export function getStream(r: ByteReader, decodedBytes: number): Uint8Array {
  const mode = r.u8();
  const stored = r.bytes(r.varint());
  if (mode === MODE_RAW) {
    if (stored.length !== decodedBytes) throw new EncodingError(`bitsplit raw stream of ${stored.length} bytes, expected ${decodedBytes}`);
    return stored;
  }
  if (mode !== MODE_ZSTD) throw new EncodingError(`bitsplit stream mode ${mode} unknown`);
  try {
    return zstdCodec.decode(stored, decodedBytes);
  } catch (error) {
    throw new EncodingError(`bitsplit zstd stream: ${(error as Error).message}`);
  }
}

/**
 * Picks the plane count from the 90th percentile: once values need 6+ bits, their low byte
 * is near-uniform and belongs in a plane (Huffman gains nothing on it, bit-packing across
 * byte boundaries would hide the skewed high part from it); small values pack densely.
 */
/** Values sampled to choose the number of planes. */
const PLANES_SAMPLE_SIZE = 512;

function choosePlanes(z: Float64Array, max: number): number {
  if (z.length === 0 || max < 64) return 0;
  const size = Math.min(z.length, PLANES_SAMPLE_SIZE);
  const sample = Float64Array.from({ length: size }, (_, i) => z[Math.floor((i * z.length) / size)]!).sort();
  const p90bits = bitLength(sample[Math.floor(size * 0.9)]!);
  return p90bits <= 5 ? 0 : Math.min(6, Math.max(1, Math.floor(p90bits / 8)));
}

export function encodeBitsplit(z: Float64Array, w: ByteWriter): void {
  const n = z.length;
  let max = 0;
  for (let i = 0; i < n; i++) if (z[i]! > max) max = z[i]!;
  const k = choosePlanes(z, max);
  const divisor = 2 ** (8 * k);
  const highBits = bitLength(Math.floor(max / divisor));
  w.u8(k);
  w.u8(highBits);
  if (k > 0) {
    const plane = new Uint8Array(n);
    const high = new Float64Array(n);
    for (let j = 0; j < k; j++) {
      if (j === 0 && k === 1) {
        for (let i = 0; i < n; i++) { const v = z[i]!; plane[i] = v & 0xff; high[i] = Math.floor(v / 256); }
      } else {
        const scale = 2 ** (8 * j);
        for (let i = 0; i < n; i++) plane[i] = Math.floor(z[i]! / scale) & 0xff;
      }
      putStream(w, plane);
    }
    if (k > 1) for (let i = 0; i < n; i++) high[i] = Math.floor(z[i]! / divisor);
    putStream(w, packBits(high, highBits));
  } else {
    putStream(w, packBits(z, highBits));
  }
}

/**
 * Decodes a bitsplit stream. Values that fit 32 bits (planes ≤ 3, the common case) come back
 * as a Uint32Array built with integer operations; wider ones as a Float64Array.
 */
/**
 * out[i] = value[i] + offset through the native kernel, when there is one and the values fit
 * 32 bits (at most 3 planes); false (reader untouched) otherwise, for decodeBitsplit.
 */
export function decodeBitsplitOffset(r: ByteReader, n: number, offset: number, out: Float64Array): boolean {
  const kernel = decodeKernels.bitsplitOffset;
  if (!kernel) return false;
  const start = r.pos;
  const k = r.u8();
  const highBits = r.u8();
  if (k > 3 || highBits > 24 || 8 * k + highBits > 32) { r.pos = start; return false; }
  const planes: Uint8Array[] = [];
  for (let j = 0; j < k; j++) planes.push(getStream(r, n));
  const packed = getStream(r, Math.ceil((n * highBits) / 8));
  kernel(planes, packed, highBits, n, offset, out);
  return true;
}

export function decodeBitsplit(r: ByteReader, n: number): Uint32Array | Float64Array {
  const k = r.u8();
  const highBits = r.u8();
  if (k > 6 || highBits > 52 || 8 * k + highBits > 53) throw new EncodingError(`bitsplit header planes=${k} highBits=${highBits} out of range`);
  if (8 * k + highBits <= 32 && highBits <= 24) {
    const out = new Uint32Array(n);
    for (let j = 0; j < k; j++) {
      const plane = getStream(r, n);
      if (j === 0) out.set(plane);
      else { const shift = 8 * j; for (let i = 0; i < n; i++) out[i] = (out[i]! | (plane[i]! << shift)) >>> 0; }
    }
    const packed = getStream(r, Math.ceil((n * highBits) / 8));
    if (highBits > 0) {
      const shift = 8 * k;
      const mask = highBits === 32 ? -1 : (1 << highBits) - 1;
      let acc = 0;
      let accBits = 0;
      let at = 0;
      for (let i = 0; i < n; i++) {
        while (accBits < highBits) { acc |= packed[at++]! << accBits; accBits += 8; }
        out[i] = (out[i]! | ((acc & mask) << shift)) >>> 0;
        acc >>>= highBits;
        accBits -= highBits;
      }
    }
    return out;
  }
  const out = new Float64Array(n);
  for (let j = 0; j < k; j++) {
    const plane = getStream(r, n);
    if (j === 0) for (let i = 0; i < n; i++) out[i] = plane[i]!;
    else { const scale = 2 ** (8 * j); for (let i = 0; i < n; i++) out[i]! += plane[i]! * scale; }
  }
  const packed = getStream(r, Math.ceil((n * highBits) / 8));
  unpackBitsInto(packed, highBits, n, out, 2 ** (8 * k));
  return out;
}

/** LSB-first bit packing of non-negative integers below 2^bits (bits ≤ 52). */
export function packBits(values: Float64Array, bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
  if (bits === 0) return out;
  if (bits <= 24) {
    let acc = 0;
    let accBits = 0;
    let at = 0;
    for (let i = 0; i < values.length; i++) {
      acc |= values[i]! << accBits;
      accBits += bits;
      while (accBits >= 8) { out[at++] = acc & 0xff; acc >>>= 8; accBits -= 8; }
    }
    if (accBits > 0) out[at] = acc & 0xff;
    return out;
  }
  let bit = 0;
  for (let i = 0; i < values.length; i++) {
    let v = values[i]!;
    for (let b = 0; b < bits; b += 8) {
      const take = Math.min(8, bits - b);
      const chunk = v % 2 ** take;
      v = Math.floor(v / 2 ** take);
      for (let t = 0; t < take; t++, bit++) if ((chunk >> t) & 1) out[bit >> 3]! |= 1 << (bit & 7);
    }
  }
  return out;
}

function unpackBitsInto(packed: Uint8Array, bits: number, n: number, out: Float64Array, scale: number): void {
  if (bits === 0) return;
  if (bits <= 24) {
    const mask = (1 << bits) - 1;
    let acc = 0;
    let accBits = 0;
    let at = 0;
    for (let i = 0; i < n; i++) {
      while (accBits < bits) { acc |= packed[at++]! << accBits; accBits += 8; }
      out[i]! += (acc & mask) * scale;
      acc >>>= bits;
      accBits -= bits;
    }
    return;
  }
  let bit = 0;
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let b = 0; b < bits; b++, bit++) if ((packed[bit >> 3]! >> (bit & 7)) & 1) v += 2 ** b;
    out[i]! += v * scale;
  }
}

/**
 * The hot path of `delta>zigzag>bitsplit` (and its gcd and ALP variants) in one pass: the
 * low plane and the packed high bits are combined, unzigzagged, multiplied by `step`,
 * prefix-summed from `first` and divided by `divisor` straight into the output, with no
 * intermediate arrays. Handles the common layout (at most one plane, high bits ≤ 24);
 * returns null, consuming nothing, otherwise. Exact: every delta is below 2^32 in magnitude
 * times `step`, so from |first| < 2^51 a page of ≤ 2^20 values stays within 2^53.
 */
/** The fused decoder's layout: at most this many high bits… */
const FUSED_HIGH_BITS_MAX = 24;
/** …and pages of at most this many values (the exactness bound above). */
export const FUSED_VALUES_MAX = 2 ** 20;

export function decodeDeltaBitsplitFused(r: ByteReader, n: number, first: number, step: number, divisor: number, into?: Float64Array): Float64Array | null {
  const start = r.pos;
  const k = r.u8();
  const highBits = r.u8();
  if (k > 1 || highBits > FUSED_HIGH_BITS_MAX || n > FUSED_VALUES_MAX || Math.abs(first) >= SAFE_MAGNITUDE_MAX || step * 2 ** 32 >= 2 ** 52) { r.pos = start; return null; }
  const low = k === 1 ? getStream(r, n) : null;
  const packed = getStream(r, Math.ceil((n * highBits) / 8));
  const out = into ?? new Float64Array(n);
  const kernel = decodeKernels.deltaBitsplit;
  if (kernel) {
    kernel(low, packed, highBits, n, first, step, divisor, out);
    return out;
  }
  return deltaBitsplitJs(low, packed, highBits, n, first, step, divisor, out);
}

/** The JS loop behind decodeDeltaBitsplitFused (the native kernel's twin; exported for tests). */
export function deltaBitsplitJs(low: Uint8Array | null, packed: Uint8Array, highBits: number, n: number, first: number, step: number, divisor: number, out: Float64Array): Float64Array {
  let x = first;
  // Three specialised loops (branch-free bodies keep V8's code monomorphic and tight).
  if (highBits === 0) {
    const plane = low ?? new Uint8Array(n);
    for (let i = 0; i < n; i++) { const z = plane[i]!; x += ((z >>> 1) ^ -(z & 1)) * step; out[i] = x / divisor; }
    return out;
  }
  const mask = (1 << highBits) - 1;
  let acc = 0;
  let accBits = 0;
  let at = 0;
  let i0 = 0;
  if (low !== null && highBits <= 4) {
    // Eight values take exactly highBits bytes: read them once into one word and take the
    // eight fields at fixed offsets (no per-value refill branches). The tail below resumes
    // byte-aligned.
    const groups = n >>> 3;
    for (let g = 0; g < groups; g++) {
      let word = packed[at]!;
      if (highBits > 1) word |= packed[at + 1]! << 8;
      if (highBits > 2) word |= packed[at + 2]! << 16;
      if (highBits > 3) word |= packed[at + 3]! << 24;
      at += highBits;
      const base = g << 3;
      for (let j = 0; j < 8; j++) {
        const z = (low[base + j]! | (((word >>> (j * highBits)) & mask) << 8)) >>> 0;
        x += ((z >>> 1) ^ -(z & 1)) * step;
        out[base + j] = x / divisor;
      }
    }
    i0 = groups << 3;
  }
  if (low !== null) {
    for (let i = i0; i < n; i++) {
      if (accBits < highBits) { acc |= packed[at++]! << accBits; accBits += 8; if (accBits < highBits) { acc |= packed[at++]! << accBits; accBits += 8; if (accBits < highBits) { acc |= packed[at++]! << accBits; accBits += 8; } } }
      const z = (low[i]! | ((acc & mask) << 8)) >>> 0;
      acc >>>= highBits;
      accBits -= highBits;
      x += ((z >>> 1) ^ -(z & 1)) * step;
      out[i] = x / divisor;
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (accBits < highBits) { acc |= packed[at++]! << accBits; accBits += 8; if (accBits < highBits) { acc |= packed[at++]! << accBits; accBits += 8; if (accBits < highBits) { acc |= packed[at++]! << accBits; accBits += 8; } } }
      const z = acc & mask;
      acc >>>= highBits;
      accBits -= highBits;
      x += ((z >>> 1) ^ -(z & 1)) * step;
      out[i] = x / divisor;
    }
  }
  return out;
}
