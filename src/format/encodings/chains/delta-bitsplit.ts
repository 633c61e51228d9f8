import { type ByteReader, type ByteWriter, SAFE_MAGNITUDE_MAX, unzigzag } from '../bytes.js';
import { decodeBitsplit, decodeDeltaBitsplitFused, encodeBitsplit, FUSED_VALUES_MAX } from '../bitsplit.js';
import { checkSafe, deltaGcd, scaled, zigzagDeltas, type IntChainCoder } from '../int-chain.js';
import { EncodingError } from '../types.js';

/**
 * The delta chains over the bitsplit stage (bitsplit.ts), for random walks: svarint first
 * value, then the deltas (the first 0) zigzagged and split into entropy-coded planes. The
 * first value goes in front, so one large start does not widen every delta.
 *
 * `delta>gcd>zigzag>bitsplit` divides the deltas by their greatest common divisor (varint
 * after the first value): ms timestamps stored in ns, prices in whole ticks.
 */
function deltaBitsplit(id: string, withGcd: boolean): IntChainCoder {
  return {
    id,
    encode(v: Float64Array, w: ByteWriter): void {
      const n = v.length;
      const g = withGcd ? Math.max(1, deltaGcd(v)) : 1;
      w.svarint(n > 0 ? v[0]! : 0);
      if (withGcd) w.varint(g);
      encodeBitsplit(zigzagDeltas(v, g), w);
    },
    decode(r: ByteReader, n: number, divisor: number, into?: Float64Array): Float64Array {
      // The fused kernel (native, or its JS twin) decodes, divides and fills `into` in one pass.
      const at = r.pos;
      const first = r.svarint();
      const step = withGcd ? r.varint() : 1;
      if (step < 1) throw new EncodingError('delta gcd of 0');
      const fused = decodeDeltaBitsplitFused(r, n, first, step, divisor, into);
      if (fused) return fused;
      r.pos = at;
      return scaled(withGcd ? decodeGcd(r, n) : decodePlainDeltas(r, n), divisor, into);
    },
  };
}

function decodePlainDeltas(r: ByteReader, n: number): Float64Array {
  const out = new Float64Array(n);
  let x = r.svarint();
  const z = decodeBitsplit(r, n);
  if (z instanceof Uint32Array) {
    // Integer fast path: 32-bit zigzag values decode with shifts. Each step moves by
    // less than 2^31, so from a start below 2^51 a page of ≤ 2^20 values stays exact.
    for (let i = 0; i < n; i++) { const zi = z[i]!; out[i] = x += (zi >>> 1) ^ -(zi & 1); }
    if (Math.abs(out[0] ?? 0) >= SAFE_MAGNITUDE_MAX || n > FUSED_VALUES_MAX) checkSafe(out);
  } else {
    for (let i = 0; i < n; i++) { const zi = z[i]!; out[i] = x += unzigzag(zi); }
    checkSafe(out);
  }
  return out;
}

function decodeGcd(r: ByteReader, n: number): Float64Array {
  const out = new Float64Array(n);
  let x = r.svarint();
  const g = r.varint();
  if (g < 1) throw new EncodingError('delta gcd of 0');
  const z = decodeBitsplit(r, n);
  if (z instanceof Uint32Array) {
    for (let i = 0; i < n; i++) { const zi = z[i]!; out[i] = x += ((zi >>> 1) ^ -(zi & 1)) * g; }
  } else {
    for (let i = 0; i < n; i++) out[i] = x += unzigzag(z[i]!) * g;
  }
  checkSafe(out);
  return out;
}

export const deltaZigzagBitsplit = deltaBitsplit('delta>zigzag>bitsplit', false);
export const deltaGcdZigzagBitsplit = deltaBitsplit('delta>gcd>zigzag>bitsplit', true);
