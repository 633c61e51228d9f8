import { type ByteReader, type ByteWriter, SAFE_MAGNITUDE_MAX, zigzag } from '../bytes.js';
import { bitsOf, DELTA_BITSPLIT_IDS, TRIAL_VALUES_MIN, type IntChainCoder } from '../int-chain.js';
import { decodeDeltaRans, encodeRans, ransDeltasFit } from '../rans.js';
import { EncodingError } from '../types.js';

const ID = 'dod>zigzag>rans2';

/** The first delta of a page decodes exactly below this magnitude. */
const FIRST_DELTA_EXACT_BELOW = 2 ** 52;
/** Delta-of-delta is tried when its changes' log-magnitudes sum to less than this share of the deltas'. */
const DOD_COST_SHARE = 0.75;

/** `dod>zigzag>rans2`'s symbols: zigzag(delta[i] − delta[i−1]) from i = 2 on, 0 before. */
function zigzagDeltaChanges(v: Float64Array): Float64Array {
  const n = v.length;
  const z = new Float64Array(n);
  for (let i = 2; i < n; i++) z[i] = zigzag((v[i]! - v[i - 1]!) - (v[i - 1]! - v[i - 2]!));
  return z;
}

/**
 * Whether delta-of-delta looks cheaper than delta for a page (sum of the log-magnitudes, the
 * picker's cost proxy): a quarter fewer bits, so it is trial-encoded only where it may win.
 */
function dodLooksCheaper(v: Float64Array): boolean {
  let deltaBits = 0;
  let dodBits = 0;
  for (let i = 2; i < v.length; i++) {
    const d = v[i]! - v[i - 1]!;
    deltaBits += bitsOf(2 * Math.abs(d));
    dodBits += bitsOf(2 * Math.abs(d - (v[i - 1]! - v[i - 2]!)));
  }
  return dodBits < deltaBits * DOD_COST_SHARE;
}

/**
 * `dod>zigzag>rans2`, delta-of-delta: svarint first value, svarint first delta, then the
 * changes of the delta (0 for the first two values) zigzagged and rANS-coded with two states.
 * For values whose rate drifts (cumulative counters: bytes sent, energy used), where the
 * deltas are large but each differs little from the last.
 */
export const dodZigzagRans2: IntChainCoder = {
  id: ID,
  encode(v: Float64Array, w: ByteWriter): void {
    const n = v.length;
    const z = zigzagDeltaChanges(v);
    const d1 = n > 1 ? v[1]! - v[0]! : 0;
    if (!ransDeltasFit(z, d1, 1)) throw new EncodingError(`${ID}: delta changes too wide for the rANS coder`);
    w.svarint(n > 0 ? v[0]! : 0);
    w.svarint(d1);
    encodeRans(z, w, 2);
  },
  /**
   * The kernel folds the changes into the deltas (starting from the first delta), then a
   * second pass sums the deltas into the values, each sum checked to stay exact (a corrupt
   * page could drift past 2^53), and divides by `divisor` (ALP).
   */
  decode(r: ByteReader, n: number, divisor: number, into?: Float64Array): Float64Array {
    const first = r.svarint();
    const d1 = r.svarint();
    if (!(Math.abs(first) < SAFE_MAGNITUDE_MAX) || !(Math.abs(d1) < FIRST_DELTA_EXACT_BELOW)) throw new EncodingError(`${ID} page out of the exact range (first ${first}, first delta ${d1})`);
    const out = decodeDeltaRans(r, n, 2, d1, 1, 1, into);
    if (n === 0) return out;
    let x = first;
    out[0] = first / divisor;
    for (let i = 1; i < n; i++) {
      x += out[i]!;
      if (!(Math.abs(x) <= Number.MAX_SAFE_INTEGER)) throw new EncodingError(`${ID} value ${i} of ${n} outside the exact range`);
      out[i] = x / divisor;
    }
    return out;
  },
  trial: { when: (v: Float64Array, picked: string) => DELTA_BITSPLIT_IDS.includes(picked) && v.length >= TRIAL_VALUES_MIN && dodLooksCheaper(v) },
};
