import type { ByteReader, ByteWriter } from '../bytes.js';
import { decodeBitsplit, decodeBitsplitOffset, encodeBitsplit } from '../bitsplit.js';
import { checkSafe, scaled, type IntChainCoder } from '../int-chain.js';

/** A frame whose min is below this in magnitude decodes exactly in the offset kernel (values < 2^51 + 2^32). */
const OFFSET_KERNEL_EXACT_BELOW = 2 ** 51;

/** `for>bitsplit`: frame of reference, for bounded noise: svarint min, then (v - min) split (bitsplit.ts). */
export const forBitsplit: IntChainCoder = {
  id: 'for>bitsplit',
  encode(v: Float64Array, w: ByteWriter): void {
    const n = v.length;
    let min = n > 0 ? v[0]! : 0;
    for (let i = 1; i < n; i++) if (v[i]! < min) min = v[i]!;
    w.svarint(min);
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) z[i] = v[i]! - min;
    encodeBitsplit(z, w);
  },
  decode(r: ByteReader, n: number, divisor: number, into?: Float64Array): Float64Array {
    const out = new Float64Array(n);
    const min = r.svarint();
    // Native: planes, high bits and the offset in one pass (32-bit values).
    if (Math.abs(min) < OFFSET_KERNEL_EXACT_BELOW && decodeBitsplitOffset(r, n, min, out)) return scaled(out, divisor, into);
    const z = decodeBitsplit(r, n);
    if (z instanceof Uint32Array) for (let i = 0; i < n; i++) out[i] = z[i]! + min;
    else for (let i = 0; i < n; i++) out[i] = z[i]! + min;
    checkSafe(out);
    return scaled(out, divisor, into);
  },
};
