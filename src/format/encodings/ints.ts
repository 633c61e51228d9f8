import { SAFE_MAGNITUDE_MAX, type ByteReader, type ByteWriter } from './bytes.js';
import type { IntChainCoder } from './int-chain.js';
import { EncodingError } from './types.js';
import { deltaRle, rle } from './chains/runs.js';
import { deltaGcdZigzagBitsplit, deltaZigzagBitsplit } from './chains/delta-bitsplit.js';
import { forBitsplit } from './chains/for-bitsplit.js';
import { deltaGcdZigzagRans, deltaGcdZigzagRans2, deltaGcdZigzagRansX, deltaZigzagRans, deltaZigzagRans2, deltaZigzagRansX } from './chains/delta-rans.js';
import { dictRans1, dictRans2 } from './chains/dict-rans.js';
import { ascendingRans1, ascendingRans2 } from './chains/ascending-rans.js';
import { dodZigzagRans2 } from './chains/dod-rans.js';

export type { IntChainCoder } from './int-chain.js';

/**
 * The integer chains: one entry per chain, each coded in its stage file (chains/*.ts, the
 * interface in int-chain.ts). A new chain is its file plus one line here; its id is stable
 * forever once a chunk holds it. Every process and decode worker knows exactly these.
 *
 * The order is the picker's trial order (int-picker.ts: of equal sizes the earlier wins).
 * The one-state `…>rans` ids were written before `…>rans2`, and the two-state delta ids
 * before `…>ransx` (the lane count in the page); all still decode. The writer
 * picks only the chains with a `trial` or the statistics picker's own (pickIntChain).
 */
const INT_CHAIN_TABLE: readonly IntChainCoder[] = [
  rle,                      // runs of equal values
  deltaRle,                 // runs of equal deltas (regular timestamps)
  deltaZigzagBitsplit,      // random walks
  deltaGcdZigzagBitsplit,   // random walks in steps of a gcd (ms in ns, whole ticks)
  forBitsplit,              // bounded noise
  deltaZigzagRans,          // one-state rANS (read only)
  deltaGcdZigzagRans,
  dictRans1,
  ascendingRans1,
  deltaZigzagRans2,         // two-state rANS (read only)
  deltaGcdZigzagRans2,
  ascendingRans2,           // ascending pages (timestamps within a series)
  dodZigzagRans2,           // drifting rates (counters)
  dictRans2,                // few distinct values
  deltaZigzagRansX,         // the bitsplit chains' rANS twins (lane count in the page)
  deltaGcdZigzagRansX,
];

/** Ids a test may register chains under (registerIntChain): no chunk a table writes holds one. */
export const TEST_CHAIN_PREFIX = 'test-';

const chains = new Map<string, IntChainCoder>();
for (const coder of INT_CHAIN_TABLE) addChain(coder);

function addChain(coder: IntChainCoder): void {
  if (chains.has(coder.id)) throw new Error(`encoding chain ${JSON.stringify(coder.id)} is registered twice`);
  chains.set(coder.id, coder);
}

/**
 * Registers a chain from a test (the table above is where real chains go: decode workers and
 * other processes know only those). Its id must start with TEST_CHAIN_PREFIX, so it can never
 * claim an id a real chain holds or will hold; the picker never tries it (only a forced
 * `encoding` writes it), and it exists only in the registering thread.
 */
export function registerIntChain(coder: IntChainCoder): void {
  if (!coder.id.startsWith(TEST_CHAIN_PREFIX) || coder.id.includes('>')) throw new Error(`a registered chain's id is ${TEST_CHAIN_PREFIX}<name> without '>', not ${JSON.stringify(coder.id)}`);
  addChain({ ...coder, trial: undefined });
}

/** Every integer chain id the registry decodes, table order first. */
export function intChainIds(): string[] {
  return [...chains.keys()];
}

const TRIAL_CHAINS = INT_CHAIN_TABLE.filter((c) => c.trial !== undefined);

/** The chains the picker trial-encodes, in table order. */
export function trialChains(): readonly IntChainCoder[] {
  return TRIAL_CHAINS;
}

/** The chain of an id, or undefined when no chain has it. */
export function intChain(id: string): IntChainCoder | undefined {
  return chains.get(id);
}

export function isIntChain(id: string): boolean {
  return chains.has(id);
}

function chainOf(id: string): IntChainCoder {
  const coder = chains.get(id);
  if (coder === undefined) throw new EncodingError(`unknown integer chain ${JSON.stringify(id)}`);
  return coder;
}

export function encodeInts(chain: string, v: Float64Array, w: ByteWriter): void {
  chainOf(chain).encode(v, w);
}

/** Decodes an integer chain; `divisor` (ALP's 10^e) is applied to the result, fused where the chain can. */
export function decodeInts(chain: string, r: ByteReader, n: number, divisor = 1, into?: Float64Array): Float64Array {
  return chainOf(chain).decode(r, n, divisor, into);
}

/** Whether every value is a safe integer within the encodings' range. */
export function allSafeInts(v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isInteger(x) || Math.abs(x) >= SAFE_MAGNITUDE_MAX || Object.is(x, -0)) return false;
  }
  return true;
}
