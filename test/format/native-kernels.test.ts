import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { nativeAddon } from '../../src/native/addon.js';
import { deltaBitsplitJs } from '../../src/format/encodings/bitsplit.js';
import { deltaRansJs, encodeRans, ransDictJs, ransEncodeJs, readTables } from '../../src/format/encodings/rans.js';
import { ByteReader, ByteWriter } from '../../src/format/encodings/bytes.js';
import { decodePage, encodePage } from '../../src/format/encodings/registry.js';
import { rng } from './helpers.js';

// The native decode kernels must give the JS loops' values bit for bit: pages written on one
// machine read the same everywhere, with or without the addon.

const random = rng(Number(process.env.QUIVER_SEED ?? 17));
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('native deltaBitsplit = its JS twin, for every highBits, with and without a low plane, any step and divisor', () => {
  const addon = nativeAddon();
  assert.ok(addon?.deltaBitsplit, 'the addon has the kernel');
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(random() * 3000);
    const highBits = Math.floor(random() * 25);
    const low = random() < 0.5 ? Uint8Array.from({ length: n }, () => Math.floor(random() * 256)) : null;
    const packed = Uint8Array.from({ length: Math.ceil((n * highBits) / 8) }, () => Math.floor(random() * 256));
    const first = Math.floor((random() - 0.5) * 2 ** 40);
    const step = random() < 0.5 ? 1 : 1 + Math.floor(random() * 1000);
    const divisor = [1, 10, 100, 1e3, 1e6, 1e14][Math.floor(random() * 6)]!;
    const a = new Float64Array(n), b = new Float64Array(n);
    addon.deltaBitsplit(low, packed, highBits, n, first, step, divisor, a);
    deltaBitsplitJs(low, packed, highBits, n, first, step, divisor, b);
    assert.ok(bits(a).equals(bits(b)), `trial ${trial}: highBits ${highBits}, low ${low !== null}, step ${step}, divisor ${divisor}`);
  }
});

test('native deltaRans = its JS twin on real pages; both refuse a broken stream', () => {
  const addon = nativeAddon();
  assert.ok(addon?.deltaRans, 'the addon has the kernel');
  for (let trial = 0; trial < 30; trial++) {
    let x = 50;
    const scale = [1, 10, 100][trial % 3]!;
    const values = Float64Array.from({ length: 500 + Math.floor(random() * 8000) }, () => {
      const g = Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
      return (x = Math.round((x + g * scale) * 100) / 100);
    });
    const page = encodePage({ kind: 'f64', values }, { encoding: 'alp>delta>zigzag>rans' });
    const back = decodePage(page.encoding, page.bytes, 'f64', values.length);
    assert.ok(back.kind === "f64" && bits(back.values).equals(bits(values)), `trial ${trial}: round trip`);
  }
  // Plain (not zigzagged) deltas, as delta>gcd>rans folds them: the kernel and the twin agree.
  for (let trial = 0; trial < 20; trial++) {
    const n = 300 + Math.floor(random() * 8000);
    const mean = [3, 40, 3000][trial % 3]!;
    const z = Float64Array.from({ length: n }, () => Math.round(-Math.log(1 - random()) * mean));
    const lanes = (1 + (trial % 2)) as 1 | 2;
    const w = new ByteWriter(64);
    encodeRans(z, w, lanes);
    const tables = readTables(new ByteReader(w.finish(), 'test page'), n, lanes);
    const first = Math.floor(random() * 2 ** 40), step = [1, 1000, 1_000_000][trial % 3]!, divisor = [1, 100][(trial >> 1) % 2]!;
    const a = new Float64Array(n), b = new Float64Array(n);
    assert.equal(addon.deltaRans(tables.freq, tables.stream, tables.low, tables.s, n, lanes, first, step, divisor, a, false), -1);
    deltaRansJs(tables.freq, tables.stream, tables.low, tables.s, n, lanes, first, step, divisor, b, false);
    assert.ok(bits(a).equals(bits(b)), `trial ${trial}: plain deltas, ${lanes} lanes`);
    let x = first;
    assert.ok(z.every((d, i) => a[i] === (x += d * step) / divisor), `trial ${trial}: the values are the folded deltas`);
  }
  // Direct: a uniform table (every symbol 16 slots) over streams that are too short, with one
  // and with two lanes (each lane's state 2^23, then two bytes).
  const freq = new Uint16Array(256).fill(16);
  const dictionary = Float64Array.from({ length: 300 }, (_, i) => i * 100);
  const small = dictionary.subarray(0, 3);
  assert.ok(addon.ransDict, 'the addon has ransDict');
  for (const lanes of [1, 2] as const) {
    const stream = Uint8Array.from([...(lanes === 2 ? [0, 0, 128, 0] : []), 0, 0, 128, 0, 1, 2]);
    const status = addon.deltaRans(freq, stream, new Uint8Array(0), 0, 100, lanes, 0, 1, 1, new Float64Array(100));
    assert.ok(status >= 0, `${lanes} lanes: the native kernel reports the broken stream`);
    assert.throws(() => deltaRansJs(freq, stream, new Uint8Array(0), 0, 100, lanes, 0, 1, 1, new Float64Array(100)), /rans stream/);
    // ransDict: the same broken stream, and a dictionary smaller than the symbols, give the same status.
    assert.equal(addon.ransDict(freq, stream, new Uint8Array(0), 0, 100, lanes, dictionary, new Float64Array(100)),
      ransDictJs(freq, stream, new Uint8Array(0), 0, 100, lanes, dictionary, new Float64Array(100)));
    const status2 = addon.ransDict(freq, stream, new Uint8Array(0), 0, 100, lanes, small, new Float64Array(100));
    assert.ok(status2 >= 0 && status2 < 100);
    assert.equal(status2, ransDictJs(freq, stream, new Uint8Array(0), 0, 100, lanes, small, new Float64Array(100)));
    // A lane whose initial state is below 2^23 is refused at value 0 (the unchecked rounds
    // rely on states staying in range).
    const low = stream.slice();
    low[4 * lanes - 2] = 0;
    assert.equal(addon.deltaRans(freq, low, new Uint8Array(0), 0, 100, lanes, 0, 1, 1, new Float64Array(100)), 0);
  }
  const stream = Uint8Array.from([0, 0, 128, 0, 1, 2]);
  // The kernels build their slot tables from freq: a table that does not fill the 4096 slots
  // exactly (short or over) is refused before any decoding, as are lane counts but 1 and 2
  // and a stream shorter than its lanes' states.
  for (const bad of [new Uint16Array(256).fill(15), Uint16Array.from({ length: 256 }, (_, i) => (i === 0 ? 17 : 16)), new Uint16Array(255).fill(16)]) {
    assert.throws(() => addon.deltaRans!(bad, stream, new Uint8Array(0), 0, 100, 1, 0, 1, 1, new Float64Array(100)), /deltaRans: bad arguments/);
    assert.throws(() => addon.ransDict!(bad, stream, new Uint8Array(0), 0, 100, 1, dictionary, new Float64Array(100)), /ransDict: bad arguments/);
  }
  for (const [lanes, bytes] of [[0, stream], [3, new Uint8Array(16)], [2, stream]] as const) {
    assert.throws(() => addon.deltaRans!(freq, bytes, new Uint8Array(0), 0, 100, lanes, 0, 1, 1, new Float64Array(100)), /deltaRans: bad arguments/);
  }
});

test('every page decodes to the same bits with the native kernels and with the JS fallbacks', async () => {
  const { decodeKernels } = await import('../../src/format/encodings/kernels.js');
  assert.ok(decodeKernels.deltaRunsInt64 && decodeKernels.deltaBitsplit && decodeKernels.deltaRans && decodeKernels.ransDict && decodeKernels.relativeToInt64 && decodeKernels.bitsplitOffset, 'kernels loaded');
  let x = 20;
  const walk = Float64Array.from({ length: 8192 }, () => (x = Math.round(Math.max(0, x + (random() - 0.5) * 3) * 100) / 100));
  // Runs of 50 equal deltas, each random up to 2^33 either way: low-word carries and borrows.
  const stamps = new BigInt64Array(5000);
  stamps[0] = -(2n ** 62n) + 123n;
  let delta = 0n;
  for (let i = 1; i < stamps.length; i++) {
    if (i % 50 === 1) delta = BigInt(Math.floor((random() - 0.5) * 2 ** 34));
    stamps[i] = stamps[i - 1]! + delta;
  }
  const pages = [
    encodePage({ kind: 'f64', values: walk }, { encoding: 'alp>delta>zigzag>bitsplit' }),
    encodePage({ kind: 'f64', values: walk }, { encoding: 'alp>delta>zigzag>rans' }),
    encodePage({ kind: 'i64', values: stamps }, { encoding: 'delta>rle' }),
    encodePage({ kind: 'i64', values: stamps }, { encoding: 'delta>zigzag>bitsplit' }),
    encodePage({ kind: 'i64', values: stamps }, { encoding: 'for>bitsplit' }),
  ].map((p, i) => ({ ...p, kind: (i < 2 ? 'f64' : 'i64') as 'f64' | 'i64', n: i < 2 ? walk.length : stamps.length }));
  // Two-lane rANS, on an odd count (the last value goes through lane 0 alone).
  const odd = walk.subarray(0, 8191);
  pages.push({ ...encodePage({ kind: 'f64', values: odd }, { encoding: 'alp>delta>zigzag>rans2' }), kind: 'f64', n: odd.length });
  // Small integers (volumes): for>bitsplit with one plane and a few high bits.
  const volumes = BigInt64Array.from({ length: 3000 }, () => BigInt(Math.floor(random() * 5000)));
  pages.push({ ...encodePage({ kind: 'i64', values: volumes }, { encoding: 'for>bitsplit' }), kind: 'i64', n: volumes.length });
  // Round lots and odd lots (few distinct values): dict>rans.
  const lots = BigInt64Array.from({ length: 4000 }, () => BigInt(random() < 0.8 ? 100 * (1 + Math.floor(-Math.log(1 - random()) * 3)) : 1 + Math.floor(random() * 99)));
  pages.push({ ...encodePage({ kind: 'i64', values: lots }, { encoding: 'dict>rans' }), kind: 'i64', n: lots.length });
  pages.push({ ...encodePage({ kind: 'i64', values: lots }, { encoding: 'dict>rans2' }), kind: 'i64', n: lots.length });
  // Ascending timestamps with a step back (an exception): delta>gcd>rans2.
  const ticks = BigInt64Array.from({ length: 3001 }, (_, i) => BigInt(1_700_000_000_000 + i * 1000 + (i % 7) * 3 - (i > 2000 ? 500_000 : 0)) * 1_000_000n);
  pages.push({ ...encodePage({ kind: 'i64', values: ticks }, { encoding: 'delta>gcd>rans2' }), kind: 'i64', n: ticks.length });
  // A counter with a drifting rate: dod>zigzag>rans2.
  let rate = 4000;
  let total = 0n;
  const counter = BigInt64Array.from({ length: 5001 }, () => (total += BigInt((rate = Math.max(0, rate + Math.floor((random() - 0.5) * 9))))));
  pages.push({ ...encodePage({ kind: 'i64', values: counter }, { encoding: 'dod>zigzag>rans2' }), kind: 'i64', n: counter.length });
  const decodeAll = () => pages.map((p) => {
    const v = decodePage(p.encoding, p.bytes, p.kind, p.n);
    return Buffer.from((v as { values: Float64Array | BigInt64Array }).values.buffer.slice(0));
  });
  const native = decodeAll();
  const saved = { ...decodeKernels };
  try {
    delete decodeKernels.deltaRunsInt64; delete decodeKernels.deltaBitsplit; delete decodeKernels.deltaRans; delete decodeKernels.relativeToInt64; delete decodeKernels.bitsplitOffset; delete decodeKernels.ransDict;
    const js = decodeAll();
    native.forEach((b, i) => assert.ok(b.equals(js[i]!), `${pages[i]!.encoding}: native and JS differ`));
  } finally {
    Object.assign(decodeKernels, saved);
  }
  for (const i of [2, 3, 4]) assert.ok(native[i]!.equals(Buffer.from(stamps.buffer)), `${pages[i]!.encoding}: timestamps round-trip`);
  assert.ok(native[6]!.equals(Buffer.from(volumes.buffer)), 'volumes round-trip');
  assert.ok(native[5]!.equals(Buffer.from(odd.slice().buffer)), 'odd-length walk round-trips through two lanes');
  assert.ok(native[7]!.equals(Buffer.from(lots.buffer)) && native[8]!.equals(Buffer.from(lots.buffer)), 'lots round-trip');
  assert.ok(native[9]!.equals(Buffer.from(ticks.buffer)), 'ascending timestamps round-trip');
  assert.ok(native[10]!.equals(Buffer.from(counter.buffer)), 'the counter round-trips');
});

test('native ransEncode = its JS twin: the same bytes and low bits, the same refusals', () => {
  const addon = nativeAddon();
  assert.ok(addon?.ransEncode, 'the addon has the kernel');
  for (let trial = 0; trial < 60; trial++) {
    const n = Math.floor(random() * 9000);
    const s = Math.floor(random() * 12);
    const symbols = 1 + Math.floor(random() * 256);
    // A table over `symbols` symbols with random frequencies summing to 4096.
    const weights = Array.from({ length: symbols }, () => random() + 0.01);
    const total = weights.reduce((a, b) => a + b, 0);
    const freq = new Uint16Array(256);
    let sum = 0;
    for (let h = 0; h < symbols; h++) { freq[h] = Math.max(1, Math.floor((weights[h]! / total) * (4096 - symbols))); sum += freq[h]!; }
    freq[0]! += 4096 - sum;
    const cum = new Uint32Array(257);
    for (let h = 0; h < 256; h++) cum[h + 1] = cum[h]! + freq[h]!;
    const z = Float64Array.from({ length: n }, () => Math.floor(random() * symbols) * 2 ** s + Math.floor(random() * 2 ** s));
    const size = trial % 10 === 9 ? Math.floor(n / 4) : n * 2 + 16; // some outputs too short
    const outA = new Uint8Array(size), outB = new Uint8Array(size);
    const lowA = new Uint8Array(Math.ceil((n * s) / 8)), lowB = new Uint8Array(lowA.length);
    const lanes = (1 + (trial % 2)) as 1 | 2;
    const a: number = addon.ransEncode!(z, s, freq, cum, outA, lowA, lanes);
    const b = ransEncodeJs(z, s, freq, cum, outB, lowB, lanes);
    assert.equal(a, b, `trial ${trial}: start (${lanes} lanes)`);
    if (a >= 0) {
      assert.ok(Buffer.from(outA.subarray(a)).equals(Buffer.from(outB.subarray(b))), `trial ${trial}: stream`);
      assert.ok(Buffer.from(lowA).equals(Buffer.from(lowB)), `trial ${trial}: low bits`);
    }
  }
  const freq = new Uint16Array(256); freq[0] = 4096;
  const cum = new Uint32Array(257).fill(4096); cum[0] = 0;
  const outside = Float64Array.from([0, 5, 0]);
  assert.equal(addon.ransEncode!(outside, 0, freq, cum, new Uint8Array(64), new Uint8Array(0)), -2);
  assert.equal(ransEncodeJs(outside, 0, freq, cum, new Uint8Array(64), new Uint8Array(0)), -2);
});

test('decoding keeps freed buffers in the allocator (glibc), unless the user chose malloc thresholds', () => {
  // In a child: the setting is process-wide, and the user's MALLOC_* variables must win.
  const probe = `const k = await import(${JSON.stringify(new URL('../../src/format/encodings/kernels.js', import.meta.url).href)}); console.log(k.keepsFreedMemory)`;
  const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', env: { ...process.env, QUIVER_NO_NATIVE: '', ...env } });
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime !== undefined;
  const plain = run({});
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(plain.stdout.trim(), String(glibc && nativeAddon() !== null));
  const chosen = run({ MALLOC_TRIM_THRESHOLD_: '1048576' });
  assert.equal(chosen.status, 0, chosen.stderr);
  assert.equal(chosen.stdout.trim(), 'false');
  const addon = nativeAddon();
  if (glibc && addon?.keepFreedMemory) assert.throws(() => addon.keepFreedMemory!(-1, 0), RangeError);
});
