/**
 * The AVX-512 fold's ALP quotient (native/src/rans_avx512.h AlpQuotient: x·y corrected by two
 * multiply-adds, y = RN(1/10^e)) against IEEE division x / 10^e, bit for bit, for every ALP
 * exponent e = 0 … 14: every integer |x| ≤ --exhaustive (default 2^26), --count random
 * integers of uniformly random bit length up to 53 (default 200 M), and --count integers next
 * to the quotients nearest a rounding tie (the four nearest x = t·10^e, t a midpoint between
 * two adjacent doubles). Prints per e how many were checked and how many differ (all must be
 * 0: the fold relies on it), and the CPU time.
 * Usage: `node dist/bench/queries/alp-quotient.js [--count N] [--exhaustive N] [--seed N]`.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { nativeAddon } from '../../src/native/addon.js';

const { values: args } = parseArgs({ options: { count: { type: 'string' }, exhaustive: { type: 'string' }, seed: { type: 'string' } } });
const count = Number(args.count ?? 200e6);
const exhaustive = Number(args.exhaustive ?? 2 ** 26);
const seed = Number(args.seed ?? 1);
const addon = nativeAddon();
if (!addon?.alpQuotientCheck || addon.ransAvx512 !== true) {
  console.log('no AVX-512 fold on this CPU (or no addon): the fold divides, nothing to check');
  process.exit(0);
}
const check = addon.alpQuotientCheck;
let failed = 0;
const start = process.cpuUsage();
let total = 0;
for (let e = 0; e <= 14; e++) {
  const cells: string[] = [];
  for (const [mode, n] of [['exhaustive', exhaustive], ['random', count], ['adversarial', count]] as const) {
    const [checked, mismatches] = check(e, mode, n, seed * 1000 + e)!;
    total += checked;
    failed += mismatches;
    cells.push(`${mode} ${checked.toLocaleString('en-US')} checked, ${mismatches} differ`);
  }
  console.log(`e ${String(e).padStart(2)}: ${cells.join('; ')}`);
}
const used = process.cpuUsage(start);
console.log(`${total.toLocaleString('en-US')} quotients, ${failed} differ; ${((used.user + used.system) / 1e6).toFixed(1)} s CPU; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
process.exit(failed === 0 ? 0 : 1);
