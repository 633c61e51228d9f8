import { crc32 } from 'node:zlib';

/**
 * CRC-32 (zlib polynomial) helpers. `crc32Combine` gives crc(A‖B) from crc(A), crc(B) and
 * |B| (zlib 1.2.12's crc32_combine: multiply by x^(8|B|) mod p), so the writer gets each
 * column region's CRC from its page CRCs without a second pass over the bytes.
 */
export { crc32 };

const POLY = 0xedb88320;
const X0 = 0x80000000; // the polynomial 1 (x^0), bit-reflected

/** a(x)·b(x) mod p(x), bit-reflected. */
function multModP(a: number, b: number): number {
  let m = X0;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) mod p. */
const X2N = new Uint32Array(32);
X2N[0] = X0 >>> 1; // x^1
for (let k = 1; k < 32; k++) X2N[k] = multModP(X2N[k - 1]!, X2N[k - 1]!);

/** x^(n·2^k) mod p. */
function x2nModP(n: number, k: number): number {
  let p = X0;
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multModP(x2nModP(lengthB, 3), crcA >>> 0) ^ crcB) >>> 0;
}
