import { type ByteReader, type ByteWriter, SAFE_MAGNITUDE_MAX } from '../bytes.js';
import { checkSafe, DELTA_BITSPLIT_IDS, deltaGcd, ransId, TRIAL_VALUES_MIN, type IntChainCoder } from '../int-chain.js';
import { decodeDeltaRans, encodeRans, ransDeltasFit } from '../rans.js';
import { EncodingError } from '../types.js';

/** Most exceptions a `delta>gcd>rans` page may carry: a share of its values, and at least 4. */
const EXCEPTIONS_SHARE = 1 / 64;
const EXCEPTIONS_MIN = 4;
const exceptionsMax = (n: number) => Math.max(EXCEPTIONS_MIN, Math.floor(n * EXCEPTIONS_SHARE));
/** A delta is an exception above EXCEPTION_FACTOR × this percentile of a sample of the page's deltas… */
const EXCEPTION_PERCENTILE = 0.99;
const EXCEPTION_FACTOR = 8;
/** …and above this floor, whatever the percentile. */
const EXCEPTION_FLOOR = 255;
/** Deltas sampled for the percentile. */
const SAMPLE_SIZE = 1024;

/**
 * Most the exceptions' deltas may add up to (in magnitude): the reader folds them into a
 * running shift and refuses a page past this (a corrupt count or delta could otherwise walk
 * the shift out of the exact range), so the writer holds every page it writes to the same sum.
 */
const EXCEPTIONS_TOTAL_MAX = SAFE_MAGNITUDE_MAX;

/** Adds an exception's delta (delta / g times g, as the reader computes it) to the running total; false past the bound. */
function addException(total: { sum: number }, delta: number): boolean {
  total.sum += Math.abs(delta);
  return total.sum <= EXCEPTIONS_TOTAL_MAX;
}

/**
 * The deltas / g of a page (0 at the first value and at exceptions), and the exceptions
 * [index, delta / g]: negative deltas, and those far above the rest, so one jump does not
 * widen every symbol. Null when there would be more than exceptionsMax, or when their deltas
 * add up past EXCEPTIONS_TOTAL_MAX (pages of many series a day or more apart, merged by
 * series: each crossing jumps back a whole span; the delta chains take those).
 */
function ascendingDeltas(v: Float64Array, g: number): { d: Float64Array; exceptions: [number, number][] } | null {
  const n = v.length;
  const d = new Float64Array(n);
  for (let i = 1; i < n; i++) d[i] = (v[i]! - v[i - 1]!) / g;
  const size = Math.min(n, SAMPLE_SIZE);
  const sample = Float64Array.from({ length: size }, (_, k) => Math.abs(d[Math.floor((k * n) / size)]!)).sort();
  const limit = Math.max(EXCEPTION_FLOOR, EXCEPTION_FACTOR * (sample[Math.floor(size * EXCEPTION_PERCENTILE)] ?? 0));
  const exceptions: [number, number][] = [];
  const most = exceptionsMax(n);
  const total = { sum: 0 };
  for (let i = 1; i < n; i++) {
    const x = d[i]!;
    if (x >= 0 && x <= limit) continue;
    if (exceptions.length === most || !addException(total, x * g)) return null;
    exceptions.push([i, x]);
    d[i] = 0;
  }
  return { d, exceptions };
}

/** Whether few enough of the page's steps go down for delta>gcd>rans (a cheap test before trying it). */
function mostlyAscending(v: Float64Array): boolean {
  let down = 0;
  const most = exceptionsMax(v.length);
  for (let i = 1; i < v.length; i++) if (v[i]! < v[i - 1]! && ++down > most) return false;
  return true;
}

/**
 * `delta>gcd>rans` (`…>rans2`): ascending values (timestamps within a series): svarint first
 * value, varint gcd, varint exception count, per exception (varint index gap, svarint
 * delta / gcd), then the deltas / gcd rANS-coded as they are (0 at the first value and at
 * exceptions). Exceptions are the deltas that are negative or far above the rest (a page
 * crossing into the next series). No zigzag: the zigzagged deltas' low bit is always 0, a
 * whole raw bit per value to the rANS stage. About a bit per value less than the delta
 * chains on timestamps: tried where the picker named a delta-bitsplit chain and the page
 * mostly ascends.
 */
function ascendingRans(lanes: 1 | 2): IntChainCoder {
  const id = ransId('delta>gcd>rans', lanes);
  return {
    id,
    encode(v: Float64Array, w: ByteWriter): void {
      const g = Math.max(1, deltaGcd(v));
      const split = ascendingDeltas(v, g);
      if (split === null || !ransDeltasFit(split.d, v.length > 0 ? v[0]! : 0, g)) throw new EncodingError(`${id}: the page is not ascending, or its deltas are too wide for the rANS coder`);
      w.svarint(v.length > 0 ? v[0]! : 0);
      w.varint(g);
      w.varint(split.exceptions.length);
      let last = 0;
      for (const [at, delta] of split.exceptions) { w.varint(at - last); w.svarint(delta); last = at; }
      encodeRans(split.d, w, lanes);
    },
    /**
     * The rANS-coded deltas folded by the kernel, then each exception's delta added to its
     * value and every later one (with exceptions, the kernel folds undivided and the division
     * by `divisor` follows, so values round exactly as without exceptions).
     */
    decode(r: ByteReader, n: number, divisor: number, into?: Float64Array): Float64Array {
      const first = r.svarint();
      const g = r.varint();
      const count = r.count(n, `${id} exceptions`);
      if (g < 1 || !(Math.abs(first) < SAFE_MAGNITUDE_MAX)) throw new EncodingError(`${id} page out of the exact range (first ${first}, gcd ${g}, ${n} values)`);
      const at = new Float64Array(count);
      const delta = new Float64Array(count);
      let index = 0;
      const total = { sum: 0 };
      for (let k = 0; k < count; k++) {
        const gap = r.varint();
        index += gap;
        const x = r.svarint() * g;
        if (!addException(total, x) || gap < 1 || index >= n) throw new EncodingError(`${id} exception ${k} at value ${index} of ${n} (delta ${x}) out of range`);
        at[k] = index;
        delta[k] = x;
      }
      if (count === 0) return decodeDeltaRans(r, n, lanes, first, g, divisor, into, false);
      const out = decodeDeltaRans(r, n, lanes, first, g, 1, into, false);
      let shift = 0;
      for (let k = 0; k < count; k++) {
        shift += delta[k]!;
        const end = k + 1 < count ? at[k + 1]! : n;
        for (let i = at[k]!; i < end; i++) out[i] = out[i]! + shift;
      }
      // Each sum above is exact when its result is a safe integer; a larger one means a corrupt page.
      checkSafe(out);
      if (divisor !== 1) for (let i = 0; i < n; i++) out[i] = out[i]! / divisor;
      return out;
    },
    ...(lanes === 2 ? { trial: { when: (v: Float64Array, picked: string) => DELTA_BITSPLIT_IDS.includes(picked) && v.length >= TRIAL_VALUES_MIN && mostlyAscending(v) } } : {}),
  };
}

export const ascendingRans1 = ascendingRans(1);
export const ascendingRans2 = ascendingRans(2);
