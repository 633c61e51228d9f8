/**
 * Bitmap helpers (LSB-first, Arrow layout). Bits past a bitmap's length are kept zero by
 * every function here so encoded bitmaps are deterministic.
 */

/** Copies `count` bits from `src` at bit `srcBit` into `dst` at bit `dstBit` (dst bits are OR-ed: dst must be zero there). */
export function copyBits(src: Uint8Array, srcBit: number, dst: Uint8Array, dstBit: number, count: number): void {
  if (count <= 0) return;
  if ((srcBit & 7) === 0 && (dstBit & 7) === 0) {
    const whole = count >>> 3;
    dst.set(src.subarray(srcBit >>> 3, (srcBit >>> 3) + whole), dstBit >>> 3);
    const rest = count & 7;
    if (rest > 0) dst[(dstBit >>> 3) + whole]! |= src[(srcBit >>> 3) + whole]! & ((1 << rest) - 1);
    return;
  }
  for (let i = 0; i < count; i++) {
    const s = srcBit + i;
    if ((src[s >>> 3]! >>> (s & 7)) & 1) {
      const d = dstBit + i;
      dst[d >>> 3]! |= 1 << (d & 7);
    }
  }
}

/** A fresh bitmap holding bits [start, start + count) of `src`. */
export function sliceBits(src: Uint8Array, start: number, count: number): Uint8Array {
  const out = new Uint8Array((count + 7) >>> 3);
  copyBits(src, start, out, 0, count);
  return out;
}

export function getBit(bits: Uint8Array, index: number): boolean {
  return ((bits[index >>> 3]! >>> (index & 7)) & 1) === 1;
}

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >>> 1]!;

/** Number of set bits among the first `count` bits. */
export function countSetBits(bits: Uint8Array, count: number): number {
  const whole = count >>> 3;
  let n = 0;
  for (let i = 0; i < whole; i++) n += POPCOUNT[bits[i]!]!;
  const rest = count & 7;
  if (rest > 0) n += POPCOUNT[bits[whole]! & ((1 << rest) - 1)]!;
  return n;
}
