import { ByteWriter, SAFE_MAGNITUDE_MAX } from './bytes.js';
import { bitsOf, deltaGcd } from './int-chain.js';
import { encodeInts, trialChains } from './ints.js';
import { countDeltaRuns, countRuns } from './chains/runs.js';
import { EncodingError } from './types.js';
import { zstdCodec } from '../codecs/zstd.js';

/** Run-length when a page has at most one run (of values, or of deltas) per this many values. */
const VALUES_PER_RUN_MIN = 8;
/** Values of a page sampled for frame-of-reference's cost. */
const FOR_COST_SAMPLES = 1024;
/** Pages smaller than this are judged as they are: the block codec would not shrink them. */
const STORED_SIZE_MIN_BYTES = 64;

/**
 * Picks the chain for a page from its statistics: run-length when runs are few (sorted tag
 * codes, constant columns, regular timestamps), otherwise delta or frame-of-reference by
 * which leaves the smaller magnitudes (sum of log2, a cheap entropy proxy), then bitsplit.
 */
export function pickIntChain(v: Float64Array): string {
  const n = v.length;
  if (n <= 1) return 'rle';
  const runs = countRuns(v);
  if (runs * VALUES_PER_RUN_MIN <= n) return 'rle';
  const deltaRuns = countDeltaRuns(v);
  if (deltaRuns * VALUES_PER_RUN_MIN <= n) return 'delta>rle';
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
  const step = Math.max(1, Math.floor(n / FOR_COST_SAMPLES));
  for (let i = 0; i < n; i += step) forCost += bitsOf(v[i]! - min);
  forCost *= step;
  if (!(deltaOk && deltaCost < forCost)) return 'for>bitsplit';
  return deltaGcd(v) > 1 ? 'delta>gcd>zigzag>bitsplit' : 'delta>zigzag>bitsplit';
}

/** A page's size once the default block codec (zstd) has compressed it. */
function storedSize(bytes: Uint8Array): number {
  return bytes.length < STORED_SIZE_MIN_BYTES ? bytes.length : Math.min(bytes.length, zstdCodec.encode(bytes).length);
}

/**
 * Encodes with `chain` (as pickIntChain named it) or another candidate, keeping the smallest:
 * the chains of the table with a `trial` whose `when` holds for the page (ints.ts, in table
 * order; a trial that `replaces` the picked chain stands in for it unless `preferSize`).
 * Returns the chain written.
 */
export function encodeIntsSmallest(chain: string, v: Float64Array, w: ByteWriter, preferSize: boolean): string {
  const trials = trialChains().filter((c) => c.trial?.when(v, chain) === true);
  const replaced = trials.some((c) => c.trial?.replaces === chain);
  const candidates = [...(replaced && !preferSize ? [] : [chain]), ...trials.map((c) => c.id)];
  if (candidates.length === 1 && candidates[0] === chain) { encodeInts(chain, v, w); return chain; }
  let best: { chain: string; bytes: Uint8Array; size: number } | null = null;
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
