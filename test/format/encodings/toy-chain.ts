import type { ByteReader, ByteWriter } from '../../../src/format/encodings/bytes.js';
import { checkSafe, scaled, type IntChainCoder } from '../../../src/format/encodings/int-chain.js';

/**
 * A toy integer chain, the shape of a stage file (docs/extending.md, "Add an encoding"): the
 * values as svarints, last to first. Registered by toy-chain.test.ts under a reserved
 * `test-` id: no table ever holds it.
 */
export const reversed: IntChainCoder = {
  id: 'test-reversed',
  encode(v: Float64Array, w: ByteWriter): void {
    for (let i = v.length - 1; i >= 0; i--) w.svarint(v[i]!);
  },
  decode(r: ByteReader, n: number, divisor: number, into?: Float64Array): Float64Array {
    const out = new Float64Array(n);
    for (let i = n - 1; i >= 0; i--) out[i] = r.svarint();
    checkSafe(out);
    return scaled(out, divisor, into);
  },
};
