import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeAddon } from '../../src/native/addon.js';

// The AVX-512 fold divides ALP's integers by 10^e with multiply-adds (native/src/rans_avx512.h
// AlpQuotient); pages written before must read bit for bit, so its quotient must be IEEE
// division's for every integer the fold can meet (|x| ≤ 2^53) and every e of ALP. Here a few
// million per exponent; bench/queries/alp-quotient.ts runs hundreds of millions.

test('ALP quotient by multiply-adds = IEEE division by 10^e, e = 0 … 14: every |x| ≤ 2^16, random and near-tie integers up to 2^53', () => {
  const addon = nativeAddon();
  const check = addon?.alpQuotientCheck;
  assert.ok(addon && check, 'the addon has the check');
  if (addon.ransAvx512 !== true) {
    // Without AVX-512F + FMA the fold divides: the check says it has nothing to compare.
    assert.equal(check(2, 'random', 10, 1), null);
    return;
  }
  const seed = Number(process.env.QUIVER_SEED ?? 18);
  for (let e = 0; e <= 14; e++) {
    for (const [mode, count] of [['exhaustive', 2 ** 16], ['random', 200_000], ['adversarial', 200_000]] as const) {
      const got: [number, number] | null = check(e, mode, count, seed + e);
      assert.ok(got !== null);
      const [checked, mismatches]: [number, number] = got;
      assert.ok(checked >= (mode === 'exhaustive' ? 2 * count + 1 : count * 0.9), `e ${e} ${mode}: checked ${checked} (seed ${seed + e})`);
      assert.equal(mismatches, 0, `e ${e} ${mode}: ${mismatches} of ${checked} quotients differ from division (seed ${seed + e})`);
    }
  }
});
