import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32, crc32Combine } from '../../src/format/crc32.js';
import { compareStrings, float64MinMax, float64Sum, int64MinMax, int64Sum, utf8MinMax } from '../../src/format/stats.js';
import { copyBits, sliceBits } from '../../src/format/bits.js';
import { rng, seedFromEnv } from './helpers.js';

/** 1–40 int64 values with random bits in both halves. */
function randomInt64s(random: () => number): BigInt64Array {
  return BigInt64Array.from({ length: 1 + Math.floor(random() * 40) }, () => BigInt.asIntN(64, (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32))));
}

describe('crc32Combine', () => {
  test('crc(A‖B) from crc(A), crc(B), |B| for random splits', () => {
    const seed = seedFromEnv('crc32Combine');
    const random = rng(seed);
    for (let i = 0; i < 200; i++) {
      const a = new Uint8Array(Math.floor(random() * (i < 100 ? 50 : 200_000))).map(() => random() * 256);
      const b = new Uint8Array(Math.floor(random() * (i < 100 ? 50 : 200_000))).map(() => random() * 256);
      const whole = new Uint8Array(a.length + b.length);
      whole.set(a);
      whole.set(b, a.length);
      assert.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(whole), `seed ${seed} |A| ${a.length} |B| ${b.length}`);
    }
  });
});

describe('stats', () => {
  test('compareStrings orders by code point (astral above U+E000–U+FFFF), like UTF-8 bytes', () => {
    const values = ['', 'a', 'b', 'ab', '\uffff', '\ue000', '😀', 'é', 'z', '\u{10ffff}'];
    const byCodePoint = [...values].sort(compareStrings);
    const byBytes = [...values].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(byCodePoint, byBytes);
    assert.ok(compareStrings('😀', '\uffff') > 0, 'astral after U+FFFF');
    assert.ok('😀' < '\uffff', 'unlike UTF-16 order');
  });

  test('float64 min/max ignore NaN and nulls, keep ±0 and ±Inf', () => {
    const v = new Float64Array([NaN, 3, -0, 0, Infinity, -7, NaN]);
    assert.deepEqual(float64MinMax(v, 0, v.length, null), { min: -7, max: Infinity });
    const zeros = float64MinMax(new Float64Array([0, -0]), 0, 2, null);
    assert.ok(Object.is(zeros.min, -0) && Object.is(zeros.max, 0));
    const onlyNegZero = float64MinMax(new Float64Array([-0, -0]), 0, 2, null);
    assert.ok(Object.is(onlyNegZero.min, -0) && Object.is(onlyNegZero.max, -0));
    assert.deepEqual(float64MinMax(new Float64Array([NaN, NaN]), 0, 2, null), { min: null, max: null });
    assert.deepEqual(float64MinMax(new Float64Array([Infinity]), 0, 1, null), { min: Infinity, max: Infinity });
    assert.deepEqual(float64MinMax(new Float64Array([-Infinity]), 0, 1, null), { min: -Infinity, max: -Infinity });
    // validity 0b0110: only indexes 1 and 2 count
    assert.deepEqual(float64MinMax(new Float64Array([-100, 5, 6, 100]), 0, 4, new Uint8Array([0b0110])), { min: 5, max: 6 });
  });

  test('int64/uint64 min/max through 32-bit halves match BigInt comparison', () => {
    const seed = seedFromEnv('int64 stats');
    const random = rng(seed);
    for (let round = 0; round < 50; round++) {
      const values = randomInt64s(random);
      const n = values.length;
      const signed = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual(int64MinMax(values, 0, n, null, false), { min: signed[0]!.toString(), max: signed[n - 1]!.toString() }, `seed ${seed}`);
      const unsigned = [...new BigUint64Array(values.buffer)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual(int64MinMax(values, 0, n, null, true), { min: unsigned[0]!.toString(), max: unsigned[n - 1]!.toString() }, `seed ${seed}`);
    }
  });

  test('page sums: float64 in four lanes with NaN/±Inf/nulls, int64/uint64 exact beyond 64 bits', () => {
    assert.equal(float64Sum(new Float64Array([1, 2, 3, 4, 5]), 0, 5, null), 15);
    assert.equal(float64Sum(new Float64Array([1, 2, 3, 4, 5]), 1, 4, null), 9);
    assert.ok(Number.isNaN(float64Sum(new Float64Array([1, NaN, 3]), 0, 3, null)));
    assert.equal(float64Sum(new Float64Array([1, -Infinity, 3]), 0, 3, null), -Infinity);
    assert.equal(float64Sum(new Float64Array([-100, 5, 6, 100]), 0, 4, new Uint8Array([0b0110])), 11);
    assert.equal(float64Sum(new Float64Array([NaN]), 0, 1, new Uint8Array([0])), 0, 'a null NaN slot does not count');
    const seed = seedFromEnv('int64 sums');
    const random = rng(seed);
    for (let round = 0; round < 50; round++) {
      const values = randomInt64s(random);
      const n = values.length;
      const validity = new Uint8Array(Math.ceil(n / 8)).map(() => Math.floor(random() * 256));
      const valid = (i: number) => ((validity[i >> 3]! >> (i & 7)) & 1) === 1;
      assert.equal(int64Sum(values, 0, n, null, false), [...values].reduce((a, b) => a + b, 0n), `seed ${seed}`);
      assert.equal(int64Sum(values, 0, n, validity, false), [...values].filter((_, i) => valid(i)).reduce((a, b) => a + b, 0n), `seed ${seed}`);
      assert.equal(int64Sum(values, 0, n, null, true), [...new BigUint64Array(values.buffer)].reduce((a, b) => a + b, 0n), `seed ${seed}`);
    }
  });

  test('utf8 min/max by bytes', () => {
    const strings = ['b', '', 'ab', '😀', '\uffff'];
    const data = Buffer.from(strings.join(''));
    const offsets = new Int32Array(strings.length + 1);
    strings.forEach((s, i) => { offsets[i + 1] = offsets[i]! + Buffer.byteLength(s); });
    assert.deepEqual(utf8MinMax(offsets, data, 0, strings.length, null), { min: '', max: '😀' });
  });

  test('copyBits at any bit alignment equals a bit-by-bit copy', () => {
    const seed = seedFromEnv('copyBits');
    const random = rng(seed);
    for (let round = 0; round < 300; round++) {
      const src = new Uint8Array(8).map(() => random() * 256);
      const srcBit = Math.floor(random() * 20);
      const dstBit = Math.floor(random() * 20);
      const count = Math.floor(random() * (64 - Math.max(srcBit, dstBit)));
      const dst = new Uint8Array(8);
      copyBits(src, srcBit, dst, dstBit, count);
      for (let i = 0; i < 64; i++) {
        const inRange = i >= dstBit && i < dstBit + count;
        const want = inRange ? (src[(srcBit + i - dstBit) >> 3]! >> ((srcBit + i - dstBit) & 7)) & 1 : 0;
        assert.equal((dst[i >> 3]! >> (i & 7)) & 1, want, `seed ${seed} round ${round} bit ${i}`);
      }
      const sliced = sliceBits(src, srcBit, count);
      assert.equal(sliced.length, (count + 7) >> 3);
    }
  });
});
