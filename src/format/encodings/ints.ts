import { ByteReader, ByteWriter, SAFE_MAGNITUDE_MAX, zigzag, unzigzag } from './bytes.js';
import { decodeBitsplit, decodeBitsplitOffset, decodeDeltaBitsplitFused, encodeBitsplit } from './bitsplit.js';
import { EncodingError } from './types.js';
import { zstdCodec } from '../codecs/zstd.js';
import { decodeDeltaRans, decodeRansDict, encodeRans, ransDeltasFit, type RansLanes } from './rans.js';
import { fromRelative } from './int64.js';

/**
 * Integer chains over safe integers (|v| < 2^51, as float64 numbers: exact, and far faster
 * in V8 than BigInt). 64-bit columns reach them relative to a base value (int64.ts); ALP
 * reaches them through its scaled integers (alp.ts); tag codes directly.
 *
 * Stable ids (the chain after any prefix):
 * - `rle`                    runs of equal values: varint runs, then (svarint value, varint length)…
 * - `delta>rle`              first value, then runs of equal deltas (regular timestamps)
 * - `delta>zigzag>bitsplit`  svarint first value, then deltas (the first 0), zigzagged, split
 *                            into entropy-coded planes (random walks)
 * - `delta>gcd>zigzag>bitsplit` as above with the deltas divided by their greatest common
 *                            divisor (varint after the first value): ms timestamps stored in ns,
 *                            prices in whole ticks
 * - `for>bitsplit`           frame of reference: svarint min, then (v - min) split (bounded noise)
 * - `delta>zigzag>rans`, `delta>gcd>zigzag>rans`  the delta chains with the zigzagged deltas
 *                            rANS-coded (rans.ts) instead of split: kept when smaller
 * - `dict>rans`              few distinct values (≤ 256, e.g. trade volumes in round lots):
 *                            varint count, svarint smallest, varint gaps of the sorted
 *                            distinct values, then each value's index rANS-coded
 * - `delta>gcd>rans`         ascending values (timestamps within a series): svarint first
 *                            value, varint gcd, varint exception count, per exception (varint
 *                            index gap, svarint delta / gcd), then the deltas / gcd rANS-coded
 *                            as they are (0 at the first value and at exceptions). Exceptions
 *                            are the deltas that are negative or far above the rest (a page
 *                            crossing into the next series). No zigzag: the zigzagged deltas'
 *                            low bit is always 0, a whole raw bit per value to the rANS stage.
 * - `…>rans2`                each rANS chain with two interleaved rANS states (rans.ts): the
 *                            same layout but for the stream's initial states; what the writer
 *                            picks. The one-state `…>rans` ids, written before, still decode.
 * - `dod>zigzag>rans2`       delta-of-delta: svarint first value, svarint first delta, then
 *                            the changes of the delta (0 for the first two values) zigzagged
 *                            and rANS-coded. For values whose rate drifts (cumulative
 *                            counters: bytes sent, energy used), where the deltas are large
 *                            but each differs little from the last.
 */
export const INT_CHAINS = [
  'rle', 'delta>rle', 'delta>zigzag>bitsplit', 'delta>gcd>zigzag>bitsplit', 'for>bitsplit',
  'delta>zigzag>rans', 'delta>gcd>zigzag>rans', 'dict>rans', 'delta>gcd>rans',
  'delta>zigzag>rans2', 'delta>gcd>zigzag>rans2', 'dict>rans2', 'delta>gcd>rans2',
  'dod>zigzag>rans2',
] as const;

/** The rANS chain ids (`…>rans`: one state, `…>rans2`: two). */
type RansChain = Extract<IntChain, `${string}>rans` | `${string}>rans2`>;
/** A rANS chain's layout, named by its one-state id (`dod>zigzag>rans` has only a two-state id). */
type RansFamily = 'delta>zigzag>rans' | 'delta>gcd>zigzag>rans' | 'dict>rans' | 'delta>gcd>rans' | 'dod>zigzag>rans';

function isRansChain(chain: IntChain): chain is RansChain {
  return chain.endsWith('>rans') || chain.endsWith('>rans2');
}

/** A rANS chain's layout and the lanes (rANS states) its id stands for. */
function ransChainOf(chain: RansChain): { family: RansFamily; lanes: RansLanes } {
  const two = chain.endsWith('2');
  return { family: (two ? chain.slice(0, -1) : chain) as RansFamily, lanes: two ? 2 : 1 };
}

/** Most exceptions a `delta>gcd>rans` page may carry: a share of its values, and at least 4. */
const ASCENDING_EXCEPTIONS_SHARE = 1 / 64;
const ascendingExceptionsMax = (n: number) => Math.max(4, Math.floor(n * ASCENDING_EXCEPTIONS_SHARE));

/** Distinct values a `dict>rans` page may hold (its codes are rANS symbols). */
export const DICT_VALUES_MAX = 256;
export type IntChain = (typeof INT_CHAINS)[number];

export function isIntChain(id: string): id is IntChain {
  return (INT_CHAINS as readonly string[]).includes(id);
}

/** Runs of equal values (count only, for the picker). */
function countRuns(v: Float64Array): number {
  let runs = v.length > 0 ? 1 : 0;
  for (let i = 1; i < v.length; i++) if (v[i] !== v[i - 1]) runs++;
  return runs;
}

function countDeltaRuns(v: Float64Array): number {
  let runs = v.length > 1 ? 1 : 0;
  for (let i = 2; i < v.length; i++) if (v[i]! - v[i - 1]! !== v[i - 1]! - v[i - 2]!) runs++;
  return runs;
}

/** The sorted distinct values, or null when there are more than `max` (or one is not a safe integer). */
export function distinctSorted(v: Float64Array, max: number): number[] | null {
  const seen = new Set<number>();
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (seen.has(x)) continue;
    if (seen.size === max || !Number.isSafeInteger(x)) return null;
    seen.add(x);
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * Picks the chain for a page: run-length when runs are few (sorted tag codes, constant
 * columns, regular timestamps), otherwise delta or frame-of-reference by which leaves the
 * smaller magnitudes (sum of log2, a cheap entropy proxy), then bitsplit.
 */
export function pickIntChain(v: Float64Array): IntChain {
  const n = v.length;
  if (n <= 1) return 'rle';
  const runs = countRuns(v);
  if (runs * 8 <= n) return 'rle';
  const deltaRuns = countDeltaRuns(v);
  if (deltaRuns * 8 <= n) return 'delta>rle';
  let min = v[0]!;
  let max = v[0]!;
  let deltaCost = 0;
  let deltaOk = true;
  for (let i = 1; i < n; i++) {
    const x = v[i]!;
    if (x < min) min = x;
    if (x > max) max = x;
    const d = Math.abs(x - v[i - 1]!);
    if (d >= SAFE_MAGNITUDE_MAX) deltaOk = false;
    deltaCost += bitsOf(d * 2);
  }
  let forCost = 0;
  const step = Math.max(1, Math.floor(n / 1024));
  for (let i = 0; i < n; i += step) forCost += bitsOf(v[i]! - min);
  forCost *= step;
  if (!(deltaOk && deltaCost < forCost)) return 'for>bitsplit';
  return deltaGcd(v) > 1 ? 'delta>gcd>zigzag>bitsplit' : 'delta>zigzag>bitsplit';
}

/** Bits of a non-negative integer: the picker's cost proxy (clz32 when it fits, log2 above). */
function bitsOf(x: number): number {
  return x < 4294967296 ? 32 - Math.clz32(x) : Math.log2(x + 1);
}

function gcd(a: number, b: number): number {
  while (b) { const t = a % b; a = b; b = t; }
  return a;
}

/** Greatest common divisor of the page's deltas (0 when all are 0). */
export function deltaGcd(v: Float64Array): number {
  let g = 0;
  for (let i = 1; i < v.length && g !== 1; i++) {
    const d = Math.abs(v[i]! - v[i - 1]!);
    if (d !== 0) g = g === 0 ? d : gcd(g, d);
  }
  return g;
}

/** Zigzagged deltas (divided by `g`) of a page, with its first value in front. */
function zigzagDeltas(v: Float64Array, g: number): Float64Array {
  const n = v.length;
  const z = new Float64Array(n);
  let prev = n > 0 ? v[0]! : 0;
  for (let i = 0; i < n; i++) { const x = v[i]!; z[i] = zigzag((x - prev) / g); prev = x; }
  return z;
}

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
  return dodBits < deltaBits * 0.75;
}

/**
 * The deltas / g of a page for `delta>gcd>rans` (0 at the first value and at exceptions),
 * and the exceptions [index, delta / g]: negative deltas, and those above 8× the 99th
 * percentile of a sample (at least 255) so one jump does not widen every symbol. Null when
 * there would be more than ascendingExceptionsMax.
 */
function ascendingDeltas(v: Float64Array, g: number): { d: Float64Array; exceptions: [number, number][] } | null {
  const n = v.length;
  const d = new Float64Array(n);
  for (let i = 1; i < n; i++) d[i] = (v[i]! - v[i - 1]!) / g;
  const size = Math.min(n, 1024);
  const sample = Float64Array.from({ length: size }, (_, k) => Math.abs(d[Math.floor((k * n) / size)]!)).sort();
  const limit = Math.max(255, 8 * (sample[Math.floor(size * 0.99)] ?? 0));
  const exceptions: [number, number][] = [];
  const most = ascendingExceptionsMax(n);
  for (let i = 1; i < n; i++) {
    const x = d[i]!;
    if (x >= 0 && x <= limit) continue;
    if (exceptions.length === most) return null;
    exceptions.push([i, x]);
    d[i] = 0;
  }
  return { d, exceptions };
}

/** Whether a delta chain's page can be rANS-coded with a decode that stays exact in float64 (ransDeltasFit). */
function ransFits(v: Float64Array, z: Float64Array, step: number): boolean {
  return ransDeltasFit(z, v.length > 0 ? v[0]! : 0, step);
}

/** A page's size once the default block codec (zstd) has compressed it. */
function storedSize(bytes: Uint8Array): number {
  return bytes.length < 64 ? bytes.length : Math.min(bytes.length, zstdCodec.encode(bytes).length);
}

/** Whether few enough of the page's steps go down for delta>gcd>rans (a cheap test before trying it). */
function mostlyAscending(v: Float64Array): boolean {
  let down = 0;
  const most = ascendingExceptionsMax(v.length);
  for (let i = 1; i < v.length; i++) if (v[i]! < v[i - 1]! && ++down > most) return false;
  return true;
}

/**
 * Encodes with `chain` (as the picker named it) or another candidate, keeping the smallest:
 * - the delta-bitsplit chains' rANS twin, on pages of 256+ values. By default it replaces
 *   bitsplit outright (a random walk's steps cost ~7% less, within 1% of their entropy, and
 *   the native coder encodes as fast as bitsplit and decodes faster than zstd-only pages);
 *   with `preferSize` both are tried. A page the twin cannot take keeps bitsplit.
 * - `delta>gcd>rans` when the page ascends (timestamps): about a bit per value less;
 * - `dod>zigzag>rans2` when the deltas drift (counters): their changes are smaller;
 * - `dict>rans` when the page has few distinct values.
 * Returns the chain written.
 */
export function encodeIntsSmallest(chain: IntChain, v: Float64Array, w: ByteWriter, preferSize: boolean): IntChain {
  const twin: IntChain | null = chain === 'delta>zigzag>bitsplit' ? 'delta>zigzag>rans2' : chain === 'delta>gcd>zigzag>bitsplit' ? 'delta>gcd>zigzag>rans2' : null;
  const candidates: IntChain[] = twin !== null && v.length >= 256 ? (preferSize ? [chain, twin] : [twin]) : [chain];
  if (twin !== null && v.length >= 256 && mostlyAscending(v)) candidates.push('delta>gcd>rans2');
  if (twin !== null && v.length >= 256 && dodLooksCheaper(v)) candidates.push('dod>zigzag>rans2');
  if (v.length >= 256 && chain !== 'rle' && chain !== 'delta>rle' && distinctSorted(v, DICT_VALUES_MAX) !== null) candidates.push('dict>rans2');
  if (candidates.length === 1 && candidates[0] === chain) { encodeInts(chain, v, w); return chain; }
  let best: { chain: IntChain; bytes: Uint8Array; size: number } | null = null;
  for (const candidate of candidates) {
    const out = new ByteWriter(v.length + 64);
    try {
      encodeInts(candidate, v, out);
    } catch (error) {
      if (!(error instanceof EncodingError)) throw error;
      continue;
    }
    // With preferSize, judged as stored: after the block codec (zstd by default), which
    // takes back what a page's outliers cost rANS in raw low bits, but nothing from bitsplit.
    const bytes = out.finish();
    const size = preferSize && candidates.length > 1 ? storedSize(bytes) : bytes.length;
    if (best === null || size < best.size) best = { chain: candidate, bytes, size };
  }
  if (best === null) { encodeInts(chain, v, w); return chain; } // the picker's chain (rethrows its error)
  w.bytes(best.bytes);
  return best.chain;
}

/** The rANS chains (one family's layout; `lanes` rANS states). `chain` names errors. */
function encodeRansChain(family: RansFamily, lanes: RansLanes, chain: IntChain, v: Float64Array, w: ByteWriter): void {
  const n = v.length;
  switch (family) {
    case 'delta>zigzag>rans':
    case 'delta>gcd>zigzag>rans': {
      const g = family === 'delta>gcd>zigzag>rans' ? Math.max(1, deltaGcd(v)) : 1;
      const z = zigzagDeltas(v, g);
      if (!ransFits(v, z, g)) throw new EncodingError(`${chain}: deltas too wide for the rANS coder`);
      w.svarint(n > 0 ? v[0]! : 0);
      if (family === 'delta>gcd>zigzag>rans') w.varint(g);
      encodeRans(z, w, lanes);
      return;
    }
    case 'delta>gcd>rans': {
      const g = Math.max(1, deltaGcd(v));
      const split = ascendingDeltas(v, g);
      if (split === null || !ransFits(v, split.d, g)) throw new EncodingError(`${chain}: the page is not ascending, or its deltas are too wide for the rANS coder`);
      w.svarint(n > 0 ? v[0]! : 0);
      w.varint(g);
      w.varint(split.exceptions.length);
      let last = 0;
      for (const [at, delta] of split.exceptions) { w.varint(at - last); w.svarint(delta); last = at; }
      encodeRans(split.d, w, lanes);
      return;
    }
    case 'dod>zigzag>rans': {
      const z = zigzagDeltaChanges(v);
      const d1 = n > 1 ? v[1]! - v[0]! : 0;
      if (!ransDeltasFit(z, d1, 1)) throw new EncodingError(`${chain}: delta changes too wide for the rANS coder`);
      w.svarint(n > 0 ? v[0]! : 0);
      w.svarint(d1);
      encodeRans(z, w, lanes);
      return;
    }
    case 'dict>rans': {
      const dictionary = distinctSorted(v, DICT_VALUES_MAX);
      if (dictionary === null) throw new EncodingError(`${chain}: more than ${DICT_VALUES_MAX} distinct values`);
      w.varint(dictionary.length);
      if (dictionary.length > 0) w.svarint(dictionary[0]!);
      for (let k = 1; k < dictionary.length; k++) w.varint(dictionary[k]! - dictionary[k - 1]!);
      const index = new Map(dictionary.map((x, k) => [x, k]));
      encodeRans(Float64Array.from(v, (x) => index.get(x)!), w, lanes);
      return;
    }
  }
}

export function encodeInts(chain: IntChain, v: Float64Array, w: ByteWriter): void {
  if (isRansChain(chain)) {
    const { family, lanes } = ransChainOf(chain);
    encodeRansChain(family, lanes, chain, v, w);
    return;
  }
  const n = v.length;
  switch (chain) {
    case 'rle': {
      w.varint(countRuns(v));
      for (let i = 0; i < n;) {
        let j = i + 1;
        while (j < n && v[j] === v[i]) j++;
        w.svarint(v[i]!);
        w.varint(j - i);
        i = j;
      }
      return;
    }
    case 'delta>rle': {
      if (n === 0) return;
      w.svarint(v[0]!);
      w.varint(countDeltaRuns(v));
      for (let i = 1; i < n;) {
        const d = v[i]! - v[i - 1]!;
        let j = i + 1;
        while (j < n && v[j]! - v[j - 1]! === d) j++;
        w.svarint(d);
        w.varint(j - i);
        i = j;
      }
      return;
    }
    case 'delta>zigzag>bitsplit': {
      // The first value goes in front, so one large start does not widen every delta.
      const z = new Float64Array(n);
      let prev = n > 0 ? v[0]! : 0;
      w.svarint(prev);
      for (let i = 0; i < n; i++) { const x = v[i]!; z[i] = zigzag(x - prev); prev = x; }
      encodeBitsplit(z, w);
      return;
    }
    case 'delta>gcd>zigzag>bitsplit': {
      const g = Math.max(1, deltaGcd(v));
      const z = new Float64Array(n);
      let prev = n > 0 ? v[0]! : 0;
      w.svarint(prev);
      w.varint(g);
      for (let i = 0; i < n; i++) { const x = v[i]!; z[i] = zigzag((x - prev) / g); prev = x; }
      encodeBitsplit(z, w);
      return;
    }
    case 'for>bitsplit': {
      let min = n > 0 ? v[0]! : 0;
      for (let i = 1; i < n; i++) if (v[i]! < min) min = v[i]!;
      w.svarint(min);
      const z = new Float64Array(n);
      for (let i = 0; i < n; i++) z[i] = v[i]! - min;
      encodeBitsplit(z, w);
      return;
    }
  }
}

/**
 * Decodes an integer chain; `divisor` (ALP's 10^e) is applied to the result, fused into
 * the delta loop when the fast path applies.
 */
export function decodeInts(chain: IntChain, r: ByteReader, n: number, divisor = 1, into?: Float64Array): Float64Array {
  if (isRansChain(chain)) {
    const { family, lanes } = ransChainOf(chain);
    return decodeRansChain(family, lanes, chain, r, n, divisor, into);
  }
  if (chain === 'delta>zigzag>bitsplit' || chain === 'delta>gcd>zigzag>bitsplit') {
    const at = r.pos;
    const first = r.svarint();
    const step = chain === 'delta>gcd>zigzag>bitsplit' ? r.varint() : 1;
    if (step < 1) throw new EncodingError('delta gcd of 0');
    const fused = decodeDeltaBitsplitFused(r, n, first, step, divisor, into);
    if (fused) return fused;
    r.pos = at;
  }
  const out = decodeIntsSlow(chain, r, n);
  if (divisor !== 1) for (let i = 0; i < n; i++) out[i] = out[i]! / divisor;
  if (into) { into.set(out); return into; }
  return out;
}

/** A `dict>rans` page's sorted distinct values. */
function readDictionary(r: ByteReader, n: number, chain: IntChain): Float64Array {
  const k = r.varint();
  if (k > DICT_VALUES_MAX || (n > 0 && k === 0)) throw new EncodingError(`${chain} dictionary of ${k} values`);
  const dictionary = new Float64Array(k);
  let x = k > 0 ? r.svarint() : 0;
  for (let i = 0; i < k; i++) {
    if (i > 0) x += r.varint();
    if (!Number.isSafeInteger(x)) throw new EncodingError(`${chain} dictionary value ${x} outside the exact range`);
    dictionary[i] = x;
  }
  return dictionary;
}

/** Whether `chain` is a dictionary chain (`dict>rans`, `dict>rans2`): int64 pages decode it with decodeDictInt64. */
export function isDictChain(chain: string): chain is RansChain {
  return isIntChain(chain) && isRansChain(chain) && ransChainOf(chain).family === 'dict>rans';
}

/**
 * A dictionary page of an int64 column straight into int64: the dictionary (≤ 256 values)
 * goes from base-relative to int64 once, and each value is a copy of its entry — no float64
 * pass and no relative-to-int64 pass over the page.
 */
export function decodeDictInt64(chain: RansChain, r: ByteReader, n: number, base: bigint, into?: BigInt64Array): BigInt64Array {
  const { lanes } = ransChainOf(chain);
  const dictionary = fromRelative(base, readDictionary(r, n, chain));
  return decodeRansDict(r, n, lanes, dictionary, into ?? new BigInt64Array(n));
}

/** Decodes a rANS chain (`family`'s layout, `lanes` states); `chain` names errors. */
function decodeRansChain(family: RansFamily, lanes: RansLanes, chain: IntChain, r: ByteReader, n: number, divisor: number, into?: Float64Array): Float64Array {
  if (family === 'dict>rans') {
    const dictionary = readDictionary(r, n, chain);
    // Dividing the dictionary once gives the same doubles as dividing every value (ALP).
    if (divisor !== 1) for (let i = 0; i < dictionary.length; i++) dictionary[i] = dictionary[i]! / divisor;
    return decodeRansDict(r, n, lanes, dictionary, into ?? new Float64Array(n));
  }
  if (family === 'delta>gcd>rans') return decodeAscendingRans(r, n, lanes, divisor, into, chain);
  if (family === 'dod>zigzag>rans') return decodeDodRans(r, n, lanes, divisor, into, chain);
  const first = r.svarint();
  const step = family === 'delta>gcd>zigzag>rans' ? r.varint() : 1;
  if (step < 1 || !(Math.abs(first) < 2 ** 51)) throw new EncodingError(`${chain} page out of the exact range (first ${first}, step ${step}, ${n} values)`);
  return decodeDeltaRans(r, n, lanes, first, step, divisor, into);
}

/**
 * `delta>gcd>rans`: the rANS-coded deltas folded by the kernel, then each exception's delta
 * added to its value and every later one (with exceptions, the kernel folds undivided and
 * the division by `divisor` follows, so values round exactly as without exceptions).
 */
function decodeAscendingRans(r: ByteReader, n: number, lanes: RansLanes, divisor: number, into: Float64Array | undefined, chain: IntChain): Float64Array {
  const first = r.svarint();
  const g = r.varint();
  const count = r.count(n, `${chain} exceptions`);
  if (g < 1 || !(Math.abs(first) < 2 ** 51)) throw new EncodingError(`${chain} page out of the exact range (first ${first}, gcd ${g}, ${n} values)`);
  const at = new Float64Array(count);
  const delta = new Float64Array(count);
  let index = 0;
  let total = 0;
  for (let k = 0; k < count; k++) {
    const gap = r.varint();
    index += gap;
    const x = r.svarint() * g;
    total += Math.abs(x);
    if (gap < 1 || index >= n || !(total <= 2 ** 51)) throw new EncodingError(`${chain} exception ${k} at value ${index} of ${n} (delta ${x}) out of range`);
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
}

/**
 * `dod>zigzag>rans2`: the kernel folds the changes into the deltas (starting from the first
 * delta), then a second pass sums the deltas into the values, each sum checked to stay
 * exact (a corrupt page could drift past 2^53), and divides by `divisor` (ALP).
 */
function decodeDodRans(r: ByteReader, n: number, lanes: RansLanes, divisor: number, into: Float64Array | undefined, chain: IntChain): Float64Array {
  const first = r.svarint();
  const d1 = r.svarint();
  if (!(Math.abs(first) < 2 ** 51) || !(Math.abs(d1) < 2 ** 52)) throw new EncodingError(`${chain} page out of the exact range (first ${first}, first delta ${d1})`);
  const out = decodeDeltaRans(r, n, lanes, d1, 1, 1, into);
  if (n === 0) return out;
  let x = first;
  out[0] = first / divisor;
  for (let i = 1; i < n; i++) {
    x += out[i]!;
    if (!(Math.abs(x) <= Number.MAX_SAFE_INTEGER)) throw new EncodingError(`${chain} value ${i} of ${n} outside the exact range`);
    out[i] = x / divisor;
  }
  return out;
}

/** The chains without a fused decoder (the rANS chains all decode in decodeRansChain). */
function decodeIntsSlow(chain: Exclude<IntChain, RansChain>, r: ByteReader, n: number): Float64Array {
  const out = new Float64Array(n);
  switch (chain) {
    case 'rle': {
      const runs = r.count(n, 'rle runs');
      let at = 0;
      for (let k = 0; k < runs; k++) {
        const value = r.svarint();
        const length = r.varint();
        if (length === 0 || at + length > n) throw new EncodingError(`rle run ${k} of length ${length} overflows ${n} values`);
        out.fill(value, at, at + length);
        at += length;
      }
      if (at !== n) throw new EncodingError(`rle runs cover ${at} values, expected ${n}`);
      return out;
    }
    case 'delta>rle': {
      if (n === 0) return out;
      let x = r.svarint();
      out[0] = x;
      const runs = r.count(n, 'delta runs');
      let at = 1;
      for (let k = 0; k < runs; k++) {
        const d = r.svarint();
        const length = r.varint();
        if (length === 0 || at + length > n) throw new EncodingError(`delta run ${k} of length ${length} overflows ${n} values`);
        for (let e = at + length; at < e; at++) out[at] = x += d;
      }
      if (at !== n) throw new EncodingError(`delta runs cover ${at} values, expected ${n}`);
      checkSafe(out);
      return out;
    }
    case 'delta>zigzag>bitsplit': {
      let x = r.svarint();
      const z = decodeBitsplit(r, n);
      if (z instanceof Uint32Array) {
        // Integer fast path: 32-bit zigzag values decode with shifts. Each step moves by
        // less than 2^31, so from a start below 2^51 a page of ≤ 2^20 values stays exact.
        for (let i = 0; i < n; i++) { const zi = z[i]!; out[i] = x += (zi >>> 1) ^ -(zi & 1); }
        if (Math.abs(out[0] ?? 0) >= SAFE_MAGNITUDE_MAX || n > 2 ** 20) checkSafe(out);
      } else {
        for (let i = 0; i < n; i++) { const zi = z[i]!; out[i] = x += unzigzag(zi); }
        checkSafe(out);
      }
      return out;
    }
    case 'delta>gcd>zigzag>bitsplit': {
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
    case 'for>bitsplit': {
      const min = r.svarint();
      // Native: planes, high bits and the offset in one pass (32-bit values; exact below 2^51 + 2^32).
      if (Math.abs(min) < 2 ** 51 && decodeBitsplitOffset(r, n, min, out)) return out;
      const z = decodeBitsplit(r, n);
      if (z instanceof Uint32Array) for (let i = 0; i < n; i++) out[i] = z[i]! + min;
      else for (let i = 0; i < n; i++) out[i] = z[i]! + min;
      checkSafe(out);
      return out;
    }
  }
}

/** Hostile bytes could walk a prefix sum out of the exact range; refuse rather than round. */
function checkSafe(v: Float64Array): void {
  for (let i = 0; i < v.length; i++) {
    if (!(Math.abs(v[i]!) <= Number.MAX_SAFE_INTEGER)) throw new EncodingError(`decoded integer ${v[i]} at ${i} outside the exact range`);
  }
}

/** Whether every value is a safe integer within the encodings' range. */
export function allSafeInts(v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isInteger(x) || Math.abs(x) >= SAFE_MAGNITUDE_MAX || Object.is(x, -0)) return false;
  }
  return true;
}
