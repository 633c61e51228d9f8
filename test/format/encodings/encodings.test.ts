import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePage, encodePage, knownEncodings } from '../../../src/format/encodings/registry.js';
import { EncodingError, type PageValues } from '../../../src/format/encodings/types.js';
import { ByteReader, ByteWriter } from '../../../src/format/encodings/bytes.js';
import { decodeInts, encodeInts } from '../../../src/format/encodings/ints.js';
import { encodeIntsSmallest } from '../../../src/format/encodings/int-picker.js';

// Seeded property tests, golden bytes and picker choices for every encoding chain.
const SEED = Number(process.env.QUIVER_SEED ?? Date.now() % 1_000_000);
console.log(`# encodings seed ${SEED} (rerun with QUIVER_SEED=${SEED})`);

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32; };
}
const rand = rng(SEED);
const gauss = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());

function bytesOf(v: PageValues): Buffer {
  switch (v.kind) {
    case 'bool': return Buffer.from(v.bits.subarray(0, (v.length + 7) >>> 3)).map((b, i, a) => (i === a.length - 1 && v.length % 8 ? b & ((1 << (v.length % 8)) - 1) : b)) as Buffer;
    case 'utf8': return Buffer.concat([Buffer.from(v.offsets.buffer, v.offsets.byteOffset, v.offsets.byteLength), Buffer.from(v.data)]);
    case 'fixed': return Buffer.from(v.data);
    default: return Buffer.from(v.values.buffer, v.values.byteOffset, v.values.byteLength);
  }
}

function count(v: PageValues): number {
  return v.kind === 'bool' ? v.length : v.kind === 'utf8' ? v.offsets.length - 1 : v.kind === 'fixed' ? v.data.length / v.width : v.values.length;
}

/** Encodes with the picker and with every applicable forced chain; all must round-trip bit-exactly. */
function roundTrip(v: PageValues, label: string): string {
  const picked = encodePage(v);
  const width = v.kind === 'fixed' ? v.width : 0;
  const back = decodePage(picked.encoding, picked.bytes, v.kind, count(v), undefined, width);
  assert.ok(bytesOf(back).equals(bytesOf(v)), `${label}: picked ${picked.encoding} does not round-trip`);
  for (const chain of knownEncodings()) {
    let forced;
    try { forced = encodePage(v, { encoding: chain }); } catch (e) { assert.ok(e instanceof EncodingError); continue; }
    const again = decodePage(forced.encoding, forced.bytes, v.kind, count(v), undefined, width);
    assert.ok(bytesOf(again).equals(bytesOf(v)), `${label}: forced ${chain} does not round-trip`);
  }
  return picked.encoding;
}

const f64 = (a: number[] | Float64Array): PageValues => ({ kind: 'f64', values: Float64Array.from(a) });
const i64 = (a: bigint[]): PageValues => ({ kind: 'i64', values: BigInt64Array.from(a) });
const i32 = (a: number[]): PageValues => ({ kind: 'i32', values: Int32Array.from(a) });

test('edge cases round-trip under every chain', () => {
  const nanPayload = new Float64Array(new BigInt64Array([0x7ff8000000000123n]).buffer)[0]!;
  const cases: [string, PageValues][] = [
    ['empty f64', f64([])], ['one f64', f64([1.5])], ['all equal', f64(Array(1000).fill(3.25))],
    ['specials', f64([NaN, nanPayload, -0, 0, Infinity, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, 1.1, 2.2])],
    ['decimals with exceptions', f64(Array.from({ length: 500 }, (_, i) => (i % 97 === 0 ? Math.PI * i : i / 100)))],
    ['i64 extremes', i64([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 1n])],
    ['i64 empty', i64([])], ['i64 one', i64([42n])],
    ['ns timestamps', i64(Array.from({ length: 3000 }, (_, i) => 1767225600000000000n + BigInt(i) * 10_000_000_000n))],
    ['i32 extremes', i32([-2147483648, 2147483647, 0, -1])],
    ['all-null validity', { kind: 'bool', bits: new Uint8Array(128), length: 1000 }],
    ['all-valid validity', { kind: 'bool', bits: new Uint8Array(128).fill(255), length: 1021 }],
    ['utf8', { kind: 'utf8', offsets: Int32Array.from([0, 1, 1, 3]), data: new TextEncoder().encode('aé') }],
    ['fixed 16', { kind: 'fixed', width: 16, data: Uint8Array.from({ length: 16 * 5 }, (_, i) => (i * 37) & 255) }],
    ['fixed 3 empty', { kind: 'fixed', width: 3, data: new Uint8Array(0) }],
    // Days of dates (Date32) and times of day: signed int32 pages of every spread.
    ['i32 dates around the epoch', i32(Array.from({ length: 3000 }, (_, i) => i * 7 - 10_000))],
    ['i32 random', i32(Array.from({ length: 3000 }, () => Math.floor(rand() * 2 ** 32) - 2 ** 31))],
  ];
  for (const [label, v] of cases) roundTrip(v, label);
});

test(`seeded random pages round-trip (seed ${SEED})`, () => {
  for (let trial = 0; trial < 60; trial++) {
    const n = Math.floor(rand() ** 2 * 20000);
    const kind = trial % 4;
    if (kind === 0) {
      let x = rand() * 100;
      const e = Math.floor(rand() * 5);
      roundTrip(f64(Array.from({ length: n }, () => (x = Math.round((x + gauss()) * 10 ** e) / 10 ** e))), `walk e=${e} n=${n}`);
    } else if (kind === 1) {
      roundTrip(f64(Array.from({ length: n }, () => (rand() - 0.5) * 10 ** Math.floor(rand() * 30 - 15))), `random doubles n=${n}`);
    } else if (kind === 2) {
      let t = BigInt(Math.floor(rand() * 2 ** 40)) * 1_000_000n;
      roundTrip(i64(Array.from({ length: n }, () => (t += BigInt(Math.floor(rand() * 5000))))), `irregular ts n=${n}`);
    } else {
      const bits = new Uint8Array((n + 7) >>> 3).map(() => (rand() < 0.5 ? 0 : Math.floor(rand() * 256)));
      roundTrip({ kind: 'bool', bits, length: n }, `bool n=${n}`);
      roundTrip(i32(Array.from({ length: n }, (_, i) => Math.floor(i / (1 + rand() * 3000)))), `codes n=${n}`);
    }
  }
});

test(`delta>rle int64: runs of any delta, across 32-bit word carries and the int64 extremes (seed ${SEED})`, () => {
  const bigs = [0n, 1n, -1n, 4294967295n, 4294967296n, -4294967296n, 10_000_000_000n, 2n ** 52n, -(2n ** 52n)];
  const bases = [0n, 4294967295n, -4294967297n, 1767225600000000000n, 2n ** 63n - 2n ** 53n, -(2n ** 63n) + 5n];
  for (let trial = 0; trial < 40; trial++) {
    const values: bigint[] = [bases[Math.floor(rand() * bases.length)]!];
    const runs = 1 + Math.floor(rand() * 6);
    for (let k = 0; k < runs; k++) {
      const d = rand() < 0.5 ? bigs[Math.floor(rand() * bigs.length)]! : BigInt(Math.floor(gauss() * 2 ** 40));
      const length = 1 + Math.floor(rand() * 300);
      for (let i = 0; i < length; i++) values.push(BigInt.asIntN(64, values[values.length - 1]! + d));
    }
    const v = i64(values);
    let forced;
    try { forced = encodePage(v, { encoding: 'delta>rle' }); } catch (e) { assert.ok(e instanceof EncodingError); continue; }
    const back = decodePage('delta>rle', forced.bytes, 'i64', values.length);
    assert.ok(bytesOf(back).equals(bytesOf(v)), `trial ${trial}: delta>rle int64 does not round-trip`);
  }
});

test('rANS: the default codes steps with rANS; preferSize also tries bitsplit and keeps the smaller; near the entropy of a random walk', () => {
  let x = 50;
  const walk = f64(Array.from({ length: 8192 }, () => (x = Math.round(Math.min(100, Math.max(0, x + gauss())) * 100) / 100)));
  const fast = encodePage(walk);
  const small = encodePage(walk, { preferSize: true });
  assert.equal(fast.encoding, 'alp>delta>zigzag>ransx');
  assert.equal(small.encoding, 'alp>delta>zigzag>ransx');
  assert.ok(small.bytes.length < encodePage(walk, { encoding: 'alp>delta>zigzag>bitsplit' }).bytes.length);
  // Steps that repeat with a period: zstd's matches in bitsplit's planes beat an order-0
  // coder, so preferSize keeps bitsplit; the default does not try it.
  const pattern = Array.from({ length: 37 }, () => Math.round((rand() - 0.5) * 10000));
  let y = 0;
  const periodic = i64(Array.from({ length: 8192 }, (_, i) => BigInt((y += pattern[i % 37]!))));
  const periodicSmall = encodePage(periodic, { preferSize: true });
  assert.equal(periodicSmall.encoding, 'delta>zigzag>bitsplit');
  assert.equal(encodePage(periodic).encoding, 'delta>zigzag>ransx');
  assert.ok(periodicSmall.bytes.length < encodePage(periodic).bytes.length / 2);
  // Steps of N(0, 1) in hundredths: log2(100·√(2πe)) ≈ 8.69 bits each; clamping makes it a bit less.
  const bitsPerValue = (small.bytes.length * 8) / 8192;
  assert.ok(bitsPerValue < 8.85, `rANS page: ${bitsPerValue.toFixed(3)} bits per value`);
  const back = decodePage(small.encoding, small.bytes, 'f64', 8192);
  assert.ok(bytesOf(back).equals(bytesOf(walk)));
  // Constant deltas: run-length wins whatever the preference.
  assert.equal(encodePage(i64(Array.from({ length: 1000 }, (_, i) => BigInt(i * 10))), { preferSize: true }).encoding, 'delta>rle');
});

test('the picker chooses the chain that fits each kind of data', () => {
  const ts = i64(Array.from({ length: 8192 }, (_, i) => 1767225600000000000n + BigInt(i) * 10_000_000_000n));
  assert.equal(encodePage(ts).encoding, 'delta>rle');
  let t = 1767225600000n * 1_000_000n;
  const irregularMs = i64(Array.from({ length: 8192 }, () => (t += BigInt(1 + Math.floor(rand() * 900)) * 1_000_000n)));
  assert.equal(encodePage(irregularMs).encoding, 'delta>gcd>rans2', 'ms timestamps in ns divide out the 10^6; ascending, they need no zigzag');
  let x = 50;
  const gauge = f64(Array.from({ length: 8192 }, () => (x = Math.round(Math.min(100, Math.max(0, x + gauss())) * 100) / 100)));
  const g = encodePage(gauge);
  assert.equal(g.encoding, 'alp>delta>zigzag>ransx');
  assert.ok(g.bytes.length * 8 / 8192 < 9.6, `2-decimal random walk costs ${(g.bytes.length * 8 / 8192).toFixed(2)} bits/value`);
  assert.equal(encodePage(f64(Array.from({ length: 4096 }, () => rand()))).encoding, 'bss');
  const codes = i32(Array.from({ length: 8192 }, (_, i) => Math.floor(i / 3000)));
  const c = encodePage(codes);
  assert.equal(c.encoding, 'rle');
  assert.ok(c.bytes.length < 16);
  const noise = f64(Array.from({ length: 4096 }, () => Math.round(rand() * 1000)));
  assert.equal(encodePage(noise).encoding, 'alp>for>bitsplit');
  assert.equal(encodePage({ kind: 'bool', bits: new Uint8Array(1024).fill(255), length: 8192 }).encoding, 'rle');
  // Trade volumes: mostly round lots, some odd lots — few distinct values, no order.
  const lots = i64(Array.from({ length: 8192 }, () => BigInt(rand() < 0.8 ? 100 * (1 + Math.floor(-Math.log(1 - rand()) * 3)) : 1 + Math.floor(rand() * 99))));
  const l = encodePage(lots);
  assert.equal(l.encoding, 'dict>rans2');
  assert.ok(l.bytes.length < encodePage(lots, { encoding: 'for>bitsplit' }).bytes.length * 0.8, 'the dictionary beats bitsplit by a fifth');
  // Irregular ms timestamps of two series (exponential gaps; the page steps back once): no
  // zigzag, the step back kept aside.
  let at = 1767225600000n * 1_000_000n;
  const twoSeries = i64(Array.from({ length: 8192 }, (_, i) => (at = i === 5000 ? at - 3_600_000n * 1_000_000n : at + BigInt(1 + Math.round(-Math.log(1 - rand()) * 40)) * 1_000_000n)));
  const small = encodePage(twoSeries, { preferSize: true });
  assert.equal(small.encoding, 'delta>gcd>rans2');
  assert.ok(small.bytes.length < encodePage(twoSeries, { encoding: 'delta>gcd>zigzag>bitsplit' }).bytes.length * 0.95, 'smaller than bitsplit by a twentieth');
  const oneSeries = i64(Array.from((twoSeries as { values: BigInt64Array }).values.subarray(0, 4999)));
  assert.ok(encodePage(oneSeries, { encoding: 'delta>gcd>rans' }).bytes.length < encodePage(oneSeries, { encoding: 'delta>gcd>zigzag>rans' }).bytes.length * 0.9, 'no zigzag: ~a bit per value less than the zigzagged rANS chain');
  assert.equal(encodePage(twoSeries).encoding, 'delta>gcd>rans2', 'by default too');
  // A cumulative counter whose rate drifts (bytes sent): each delta differs little from the
  // last, so delta-of-delta wins; as a float counter (ALP) too. A random walk's deltas do not drift.
  let rate = 5000;
  let total = 0;
  const counter = Array.from({ length: 8192 }, () => { rate = Math.max(0, rate + Math.round(gauss() * 4)); return (total += rate); });
  const c64 = encodePage(i64(counter.map(BigInt)));
  assert.equal(c64.encoding, 'dod>zigzag>rans2');
  assert.ok(c64.bytes.length < encodePage(i64(counter.map(BigInt)), { encoding: 'delta>zigzag>rans2' }).bytes.length * 0.75, 'a quarter smaller than delta');
  assert.equal(encodePage(f64(counter.map((x) => x / 100))).encoding, 'alp>dod>zigzag>rans2');
  assert.notEqual(encodePage(gauge).encoding, 'alp>dod>zigzag>rans2');
});

/**
 * ms timestamps in ns of `series` series, each `per` values a day long (jittered by whole ms),
 * merged by series: every crossing steps back almost a day (the compaction of a week's
 * overlapping flushes of many hosts writes such time pages).
 */
function seriesDays(series: number, per: number): PageValues {
  const start = 1767225600000n * 1_000_000n;
  const step = 86_400_000n * 1_000_000n / BigInt(per);
  return i64(Array.from({ length: series * per }, (_, k) => {
    const s = Math.floor(k / per);
    const j = k % per;
    return start + BigInt(j) * step + BigInt((j * 7919 + s * 104729) % 1000) * 1_000_000n;
  }));
}

test('delta>gcd>rans: exceptions whose deltas add up past the exact range are refused, and the picker takes another chain', () => {
  // 30 series of 64 values: 29 steps back of ~8.5e13 ns sum past 2^51, which the reader
  // refuses; 20 series stay under it. Both are within the exception count (1/64 of the page).
  const many = seriesDays(30, 64);
  const few = seriesDays(20, 64);
  const values = (v: PageValues) => (v as { values: BigInt64Array }).values;
  const relative = (v: PageValues) => Float64Array.from(values(v), (x) => Number(x - values(v)[0]!));
  // At the chain: the encoder refuses rather than write bytes its decoder rejects…
  for (const chain of ['delta>gcd>rans', 'delta>gcd>rans2']) {
    assert.throws(() => encodeInts(chain, relative(many), new ByteWriter(4096)), EncodingError, `${chain} refuses the page`);
    const w = new ByteWriter(4096);
    encodeInts(chain, relative(few), w);
    assert.deepEqual(decodeInts(chain, new ByteReader(w.finish(), 'page'), values(few).length), relative(few), `${chain} keeps the page under the bound`);
  }
  // …so the picker falls back to a chain that holds it, by default and preferring size.
  for (const preferSize of [false, true]) {
    const w = new ByteWriter(4096);
    const chain = encodeIntsSmallest('delta>gcd>zigzag>bitsplit', relative(many), w, preferSize);
    assert.notEqual(chain, 'delta>gcd>rans2');
    assert.deepEqual(decodeInts(chain, new ByteReader(w.finish(), 'page'), values(many).length), relative(many), `${chain} round-trips`);
  }
  assert.equal(roundTrip(many, 'many series a day apart').startsWith('delta>gcd>rans'), false);
  assert.equal(roundTrip(few, 'few series a day apart'), 'delta>gcd>rans2', 'under the bound, the ascending chain still wins');
});

// Golden bytes: a change to any encoding's layout shows up here and must be a new id.
const GOLDEN: [string, PageValues][] = [
  ['rle', i32([7, 7, 7, 2])],
  ['delta>rle', i64([100n, 110n, 120n, 130n])],
  ['delta>zigzag>bitsplit', i64([5n, 3n, 8n, 8n])],
  ['delta>gcd>zigzag>bitsplit', i64([1000n, 3000n, 4000n, 4000n])],
  ['for>bitsplit', i64([10n, 12n, 11n])],
  ['alp>for>bitsplit', f64([1.5, 2.25, NaN])],
  ['bss', f64([1, 2])],
  ['delta>zigzag>rans', i64([5n, 3n, 8n, 8n])],
  ['delta>gcd>zigzag>rans', i64([1000n, 3000n, 4000n, 4000n])],
  ['dict>rans', i64([300n, 100n, 300n, 7n])],
  ['delta>gcd>rans', i64([1000n, 3000n, 4000n, 2000n, 5000n])],
  ['delta>zigzag>rans2', i64([5n, 3n, 8n, 8n])],
  ['delta>gcd>zigzag>rans2', i64([1000n, 3000n, 4000n, 4000n])],
  ['dict>rans2', i64([300n, 100n, 300n, 7n])],
  ['delta>gcd>rans2', i64([1000n, 3000n, 4000n, 2000n, 5000n])],
  ['dod>zigzag>rans2', i64([100n, 110n, 121n, 131n])],
  ['delta>zigzag>ransx', i64([5n, 3n, 8n, 8n])],
  ['delta>gcd>zigzag>ransx', i64([1000n, 3000n, 4000n, 4000n])],
];

test('golden bytes per encoding id', () => {
  const actual = GOLDEN.map(([chain, v]) => [chain, Buffer.from(encodePage(v, { encoding: chain }).bytes).toString('hex')]);
  const expected: Record<string, string> = {
    // rle: 2 runs, (zigzag 7, ×3), (zigzag 2, ×1)
    'rle': '020e030401',
    // i64 base 100, first 0, 1 run of delta zigzag(10) × 3
    'delta>rle': '640000000000000000011403',
    'delta>zigzag>bitsplit': '05000000000000000000040002300a',
    // base 1000, first 0, gcd 1000, zigzag deltas 0 4 2 0 packed
    'delta>gcd>zigzag>bitsplit': 'e80300000000000000e80700030002a000',
    'for>bitsplit': '0a00000000000000000002000118',
    // e=2, one exception (NaN bits at position 2), then frame-of-reference ints 150, 225, 225
    'alp>for>bitsplit': '020102000000000000f87fac0201000003004b4b0000',
    'bss': '0002000000020000000200000002000000020000000200000002f00000023f40',
    // base 5, first 0, zigzag deltas 0 3 10 0: s = 0 low bits, 3 symbols (0: 2047+1, 3: 1023+1,
    // 10: 1023+1 of 4096), 4 rANS bytes (the final state), no low bits
    'delta>zigzag>rans': '050000000000000000020200ff1701ff070400a0bd042c',
    // base 1000, first 0, gcd 1000, zigzag deltas 0 4 2 0 → s = 1 low bit: symbols 0 and 1 (2 and 4 halved)
    'delta>gcd>zigzag>rans': 'e80300000000000000e807030100ff1f0400008000a000',
    // base 300; dictionary of 3: -293, then gaps 93 and 200 (relative values -293, -200, 0);
    // indexes 2 1 2 0 rANS-coded with s = 2: one symbol (0, frequency 4096), all bits raw (0x26)
    'dict>rans': '2c0100000000000003c9045dc801020100ff1f040000800026',
    // base 1000, first 0, gcd 1000, one exception (index gap 3, svarint delta -2), then the
    // deltas 0 2 1 0 3 rANS-coded with s = 2: one symbol (0), all bits raw (0x18 0x03)
    'delta>gcd>rans': 'e80300000000000000e807010303020100ff1f04000080001803',
    // The two-lane ids: the same bytes up to the rANS stream, which holds two 4-byte states
    // (lane 0 coded values 0 and 2, lane 1 values 1 and 3; no renormalisation bytes), then
    // the same low bits
    'delta>zigzag>rans2': '050000000000000000020200ff1701ff070800b8aa020088e3002c',
    'delta>gcd>zigzag>rans2': 'e80300000000000000e807030100ff1f080000800000008000a000',
    'dict>rans2': '2c0100000000000003c9045dc801020100ff1f08000080000000800026',
    'delta>gcd>rans2': 'e80300000000000000e807010303020100ff1f0800008000000080001803',
    // base 100, first 0, first delta svarint 10; delta changes 0 0 1 -1 zigzagged (0 0 2 1)
    // with s = 2: one symbol (0), both states 2^23, all bits raw (0x60)
    'dod>zigzag>rans2': '64000000000000000014020100ff1f08000080000000800060',
    // The lane count in the page (0x10: 16) after the first value (and gcd), then the same
    // tables, and a stream of 16 states: lanes 0–3 coded the four values, the other twelve
    // are still 2^23 (00 00 80 00); the same low bits
    'delta>zigzag>ransx': '05000000000000000010020200ff1701ff074000a8aa0000a8aa00000c000200a8aa000000800000008000000080000000800000008000000080000000800000008000000080000000800000008000000080002c',
    'delta>gcd>zigzag>ransx': 'e80300000000000000e80710030100ff1f4000008000000080000000800000008000000080000000800000008000000080000000800000008000000080000000800000008000000080000000800000008000a000',
  };
  for (const [chain, hex] of actual) {
    if (process.env.QUIVER_PRINT_GOLDEN) console.log(`    '${chain}': '${hex}',`);
  }
  for (const [chain, hex] of actual) assert.equal(hex, expected[chain!], `golden bytes of ${chain}`);
  // And the bytes decode to the values: pages of every id, including the one-state rANS ids
  // the writer no longer picks, still read.
  for (const [chain, v] of GOLDEN) {
    const back = decodePage(chain, Buffer.from(expected[chain]!, 'hex'), v.kind, count(v));
    assert.ok(bytesOf(back).equals(bytesOf(v)), `golden ${chain} decodes to its values`);
  }
});

test('corrupt encoded pages raise EncodingError, never another exception or a hang', () => {
  const pages: PageValues[] = [
    f64(Array.from({ length: 3000 }, (_, i) => Math.round(Math.sin(i / 50) * 10000) / 100)),
    i64(Array.from({ length: 3000 }, (_, i) => 1767225600000n + BigInt(i * 1000 + (i % 7)))),
    i32(Array.from({ length: 3000 }, (_, i) => Math.floor(i / 500))),
    f64(Array.from({ length: 1000 }, () => rand())),
  ];
  const walk = (() => { let x = 50; return f64(Array.from({ length: 4000 }, () => (x = Math.round(Math.min(100, Math.max(0, x + gauss())) * 100) / 100))); })();
  let tick = 1767225600000n;
  const ascending = i64(Array.from({ length: 3000 }, (_, i) => (i % 1000 === 999 ? (tick -= 5000n) : (tick += BigInt(1 + Math.floor(rand() * 40))))));
  const squares = i64(Array.from({ length: 3000 }, (_, i) => BigInt(i * i % 9973)));
  const lots = i64(Array.from({ length: 3001 }, () => BigInt(rand() < 0.8 ? 100 * (1 + Math.floor(rand() * 5)) : 1 + Math.floor(rand() * 99))));
  const forced: [PageValues, string][] = [
    [walk, 'alp>delta>zigzag>rans'], [squares, 'delta>zigzag>rans'], [ascending, 'delta>gcd>rans'], [lots, 'dict>rans'],
    [walk, 'alp>delta>zigzag>rans2'], [squares, 'delta>gcd>zigzag>rans2'], [ascending, 'delta>gcd>rans2'], [lots, 'dict>rans2'],
    [squares, 'dod>zigzag>rans2'], [walk, 'alp>dod>zigzag>rans2'],
  ];
  const cases = [...pages.map((v) => [v, encodePage(v)] as const), ...forced.map(([v, chain]) => [v, encodePage(v, { encoding: chain })] as const)];
  for (const [v, e] of cases) {
    const n = count(v);
    for (let trial = 0; trial < 300; trial++) {
      const bad = Uint8Array.from(e.bytes);
      if (trial % 3 === 0) {
        const cut = bad.subarray(0, Math.floor(rand() * bad.length));
        assert.throws(() => decodePage(e.encoding, cut, v.kind, n), EncodingError, `${e.encoding} truncated`);
        continue;
      }
      bad[Math.floor(rand() * bad.length)]! ^= 1 << Math.floor(rand() * 8);
      try {
        const out = decodePage(e.encoding, bad, v.kind, n);
        assert.equal(count(out), n); // a flip that lands in data decodes to other values of the right count
      } catch (error) {
        assert.ok(error instanceof EncodingError, `${e.encoding}: ${(error as Error).name}: ${(error as Error).message}`);
      }
    }
    assert.throws(() => decodePage(e.encoding, e.bytes, v.kind, n + 1), EncodingError);
    assert.throws(() => decodePage('no-such-chain', e.bytes, v.kind, n), EncodingError);
  }
});
