import { type ByteReader, type ByteWriter, SAFE_MAGNITUDE_MAX } from '../bytes.js';
import { deltaGcd, ransId, TRIAL_VALUES_MIN, zigzagDeltas, type IntChainCoder } from '../int-chain.js';
import { decodeDeltaRans, encodeRans, RANS_LANES_WRITTEN, ransDeltasFit, readLanes, writeLanes } from '../rans.js';
import { EncodingError } from '../types.js';

/**
 * `delta>zigzag>rans`, `delta>gcd>zigzag>rans` (and their `…>rans2` and `…>ransx` ids): the
 * delta-bitsplit chains' layout with the zigzagged deltas rANS-coded (rans.ts) instead of
 * split: svarint first value, (varint gcd,) (`…>ransx`: u8 lane count,) then the rANS stream.
 * `…>rans` pages have one state, `…>rans2` two, `…>ransx` the count they store (the writer
 * gives them RANS_LANES_WRITTEN; a reader refuses a count it does not know).
 *
 * The `…>ransx` chain is the picked bitsplit chain's twin on pages of TRIAL_VALUES_MIN+
 * values: by default it replaces bitsplit outright (a random walk's steps cost ~7% less,
 * within 1% of their entropy, and the native coder encodes as fast as bitsplit and decodes
 * faster than zstd-only pages); a writer preferring size tries both. A page the twin cannot
 * take keeps bitsplit.
 */
function deltaRans(withGcd: boolean, lanes: 1 | 2 | 'page'): IntChainCoder {
  const stages = withGcd ? 'delta>gcd>zigzag>rans' : 'delta>zigzag>rans';
  const id = ransId(stages, lanes);
  const twinOf = withGcd ? 'delta>gcd>zigzag>bitsplit' : 'delta>zigzag>bitsplit';
  return {
    id,
    encode(v: Float64Array, w: ByteWriter): void {
      const g = withGcd ? Math.max(1, deltaGcd(v)) : 1;
      const z = zigzagDeltas(v, g);
      if (!ransDeltasFit(z, v.length > 0 ? v[0]! : 0, g)) throw new EncodingError(`${id}: deltas too wide for the rANS coder`);
      w.svarint(v.length > 0 ? v[0]! : 0);
      if (withGcd) w.varint(g);
      if (lanes === 'page') writeLanes(w, RANS_LANES_WRITTEN);
      encodeRans(z, w, lanes === 'page' ? RANS_LANES_WRITTEN : lanes);
    },
    decode(r: ByteReader, n: number, divisor: number, into?: Float64Array): Float64Array {
      const first = r.svarint();
      const step = withGcd ? r.varint() : 1;
      if (step < 1 || !(Math.abs(first) < SAFE_MAGNITUDE_MAX)) throw new EncodingError(`${id} page out of the exact range (first ${first}, step ${step}, ${n} values)`);
      return decodeDeltaRans(r, n, lanes === 'page' ? readLanes(r) : lanes, first, step, divisor, into);
    },
    ...(lanes === 'page' ? { trial: { replaces: twinOf, when: (v: Float64Array, picked: string) => picked === twinOf && v.length >= TRIAL_VALUES_MIN } } : {}),
  };
}

export const deltaZigzagRans = deltaRans(false, 1);
export const deltaGcdZigzagRans = deltaRans(true, 1);
export const deltaZigzagRans2 = deltaRans(false, 2);
export const deltaGcdZigzagRans2 = deltaRans(true, 2);
export const deltaZigzagRansX = deltaRans(false, 'page');
export const deltaGcdZigzagRansX = deltaRans(true, 'page');
