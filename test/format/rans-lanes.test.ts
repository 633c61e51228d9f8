import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nativeAddon } from '../../src/native/addon.js';
import { deltaRansJs, encodeRans, RANS_LANES, RANS_LANES_WRITTEN, ransDictJs, readTables, type RansLanes } from '../../src/format/encodings/rans.js';
import { ByteReader, ByteWriter, zigzag } from '../../src/format/encodings/bytes.js';
import { decodeKernels } from '../../src/format/encodings/kernels.js';
import { decodePage, encodePage } from '../../src/format/encodings/registry.js';
import { EncodingError, type PageValues } from '../../src/format/encodings/types.js';
import { rng, seedFromEnv } from './helpers.js';

// Pages of every lane count (1 and 2 written before, 4–32 by `…>ransx`): the native kernels
// (their AVX2 loops and their scalar loop) and the JS twins decode them to the same bits.

const random = rng(seedFromEnv('rans-lanes'));
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Zigzagged deltas of one of several shapes: a walk, runs, extremes, one repeated value. */
function codedValues(n: number, shape: number): Float64Array {
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (shape) {
      case 0: { // a random walk's steps
        const g = Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
        z[i] = zigzag(Math.round(g * 100));
        break;
      }
      case 1: z[i] = random() < 0.9 ? 0 : Math.floor(random() * 5); break; // runs
      case 2: z[i] = random() < 0.5 ? 2 ** 31 - 1 - Math.floor(random() * 3) : Math.floor(random() * 2 ** 31); break; // extremes
      case 3: z[i] = 7; break; // one symbol
      default: z[i] = Math.floor(random() * 2 ** (1 + Math.floor(random() * 30))); // every width
    }
  }
  return z;
}

/** Page sizes: 1..40 (tails of every lane count), then sizes around the kernels' block of 512. */
function pageSizes(): number[] {
  const sizes = Array.from({ length: 40 }, (_, i) => i + 1);
  for (const n of [511, 512, 513, 1023, 1025, 4096 + 17, 8192]) sizes.push(n);
  for (let k = 0; k < 6; k++) sizes.push(1 + Math.floor(random() * 9000));
  return sizes;
}

test('deltaRans and ransDict: native = JS twin for every lane count, page size and value shape', () => {
  const addon = nativeAddon();
  assert.ok(addon?.deltaRans && addon.ransDict, 'the addon has the kernels');
  let trials = 0;
  for (const lanes of RANS_LANES) {
    for (const n of pageSizes()) {
      const shape = (n + lanes) % 5;
      const z = codedValues(n, shape);
      const w = new ByteWriter(64);
      encodeRans(z, w, lanes);
      const t = readTables(new ByteReader(w.finish(), 'test page'), n, lanes);
      // Integer pages (the integer fold) and a fractional first value (the double fold).
      const first = [0, -(2 ** 40) + 3, 2 ** 40, 0.5][trials % 4]!;
      // Every running sum within the exact integers, as the reader requires of a page.
      const step = trials % 3 === 0 && Math.abs(first) + n * 1000 * t.valueMax <= 2 ** 53 ? 1000 : 1;
      const divisor = [1, 100, 1e14][trials % 3]!;
      for (const zig of [true, false]) {
        const a = new Float64Array(n), b = new Float64Array(n);
        assert.equal(addon.deltaRans(t.freq, t.stream, t.low, t.s, n, lanes, first, step, divisor, a, zig), -1, `${lanes} lanes, ${n} values: clean`);
        deltaRansJs(t.freq, t.stream, t.low, t.s, n, lanes, first, step, divisor, b, zig);
        assert.ok(bits(a).equals(bits(b)), `${lanes} lanes, ${n} values, shape ${shape}, zigzag ${zig}, first ${first}: native and JS differ`);
      }
      // Without the fold: the coded values themselves through an identity dictionary.
      if (shape === 1 || shape === 3) {
        const dictionary = Float64Array.from({ length: 8 }, (_, i) => i);
        const a = new Float64Array(n), b = new Float64Array(n);
        assert.equal(addon.ransDict(t.freq, t.stream, t.low, t.s, n, lanes, dictionary, a), ransDictJs(t.freq, t.stream, t.low, t.s, n, lanes, dictionary, b));
        assert.ok(bits(a).equals(bits(b)) && bits(a).equals(bits(z)), `${lanes} lanes, ${n} values: ransDict`);
      }
      trials++;
    }
  }
});

test('every lane count reports a truncated or overlong stream the same way, native and JS', () => {
  const addon = nativeAddon();
  assert.ok(addon?.deltaRans);
  for (const lanes of RANS_LANES) {
    const n = 3000;
    const z = codedValues(n, 0);
    const w = new ByteWriter(64);
    encodeRans(z, w, lanes);
    const t = readTables(new ByteReader(w.finish(), 'test page'), n, lanes);
    for (const stream of [t.stream.subarray(0, t.stream.length - 1), t.stream.subarray(0, t.stream.length >> 1), Uint8Array.from([...t.stream, 0])]) {
      const status = addon.deltaRans(t.freq, stream, t.low, t.s, n, lanes, 0, 1, 1, new Float64Array(n));
      assert.ok(status >= 0, `${lanes} lanes, ${stream.length} of ${t.stream.length} bytes: the kernel reports it`);
      assert.throws(() => deltaRansJs(t.freq, stream, t.low, t.s, n, lanes, 0, 1, 1, new Float64Array(n)), EncodingError);
      const dictionary = Float64Array.from({ length: 256 }, (_, i) => i);
      assert.equal(addon.ransDict!(t.freq, stream, t.low, t.s, n, lanes, dictionary, new Float64Array(n)), ransDictJs(t.freq, stream, t.low, t.s, n, lanes, dictionary, new Float64Array(n)), `${lanes} lanes: the same status`);
    }
  }
  // A lane count the kernels do not know is refused, not guessed.
  const freq = new Uint16Array(256);
  freq[0] = 4096;
  for (const lanes of [0, 3, 5, 64]) {
    assert.throws(() => addon.deltaRans!(freq, new Uint8Array(512), new Uint8Array(0), 0, 10, lanes, 0, 1, 1, new Float64Array(10)), /deltaRans: bad arguments/);
  }
});

function f64(values: number[]): PageValues {
  return { kind: 'f64', values: Float64Array.from(values) };
}

/** Doubles with ALP exceptions: NaN payloads, -0, infinities, extremes, between two-decimal walks. */
function awkwardDoubles(n: number): Float64Array {
  const out = new Float64Array(n);
  const raw = new DataView(out.buffer);
  let x = 50;
  // A page may hold 5% of exceptions (at least one): one NaN at the end of any page of 2+,
  // a -0 from 40 values on, random ones in long pages.
  const nanAt = (i: number) => raw.setBigUint64(i * 8, 0x7ff8000000000000n | BigInt(Math.floor(random() * 2 ** 40)), true);
  for (let i = 0; i < n; i++) {
    const r = n >= 300 && i > 0 ? random() : 1;
    if (i > 0 && i === n - 1) nanAt(i);
    else if (i === 1 && n >= 40) out[i] = -0;
    else if (r < 0.01) raw.setBigUint64(i * 8, 0x7ff8000000000000n | BigInt(Math.floor(random() * 2 ** 40)), true); // NaN with a payload
    else if (r < 0.015) out[i] = -0;
    else if (r < 0.02) out[i] = [Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MAX_VALUE][Math.floor(random() * 5)]!;
    else out[i] = x = Math.round((x + (random() - 0.5) * 3) * 100) / 100;
  }
  return out;
}

test('alp>delta>zigzag>ransx pages: NaN payloads, -0 and extremes come back bit for bit, native and JS alike', () => {
  const pages: { bytes: Uint8Array; values: Float64Array }[] = [];
  for (const n of [1, 2, 15, 16, 17, 33, 300, 8192]) {
    const values = awkwardDoubles(n);
    const page = encodePage({ kind: 'f64', values }, { encoding: 'alp>delta>zigzag>ransx' });
    pages.push({ bytes: page.bytes, values });
  }
  const decodeAll = () => pages.map((p) => {
    const back = decodePage('alp>delta>zigzag>ransx', p.bytes, 'f64', p.values.length);
    assert.ok(back.kind === 'f64');
    return Buffer.from(bits(back.values));
  });
  const native = decodeAll();
  native.forEach((b, i) => assert.ok(b.equals(bits(pages[i]!.values)), `page of ${pages[i]!.values.length}: round trip`));
  const saved = { ...decodeKernels };
  try {
    delete decodeKernels.deltaRans;
    decodeAll().forEach((b, i) => assert.ok(b.equals(native[i]!), `page of ${pages[i]!.values.length}: JS and native differ`));
  } finally {
    Object.assign(decodeKernels, saved);
  }
});

test('the writer picks the lane-count chain for walks, and the pages say how many lanes they have', () => {
  let x = 50;
  const walk = f64(Array.from({ length: 8192 }, () => (x = Math.round(Math.min(100, Math.max(0, x + (random() - 0.5) * 2)) * 100) / 100)));
  const page = encodePage(walk);
  assert.equal(page.encoding, 'alp>delta>zigzag>ransx');
  const back = decodePage(page.encoding, page.bytes, 'f64', 8192);
  assert.ok(back.kind === 'f64' && bits(back.values).equals(bits((walk as { values: Float64Array }).values)));
  // i64 page: base (8 bytes), svarint first (one byte for 0), then the lane count.
  const ints: PageValues = { kind: 'i64', values: BigInt64Array.from([0n, 5n, 3n, 8n, 8n, -4n]) };
  const bytes = encodePage(ints, { encoding: 'delta>zigzag>ransx' }).bytes;
  assert.equal(bytes[9], RANS_LANES_WRITTEN);
  assert.ok(RANS_LANES.includes(RANS_LANES_WRITTEN as RansLanes));
  for (const lanes of [0, 3, 12, 64, 255]) {
    const bad = Uint8Array.from(bytes);
    bad[9] = lanes;
    assert.throws(() => decodePage('delta>zigzag>ransx', bad, 'i64', 6), (e: unknown) => e instanceof EncodingError && e.message.includes(`rans page of ${lanes} interleaved states: this reader decodes 1, 2, 4, 8, 16, 32`));
  }
  // Each known lane count decodes when the page was coded with it.
  for (const lanes of RANS_LANES) {
    const z = Float64Array.from([0, 10, 3, 16, 0, 25], (v) => v);
    const w = new ByteWriter(64);
    w.i64(0n); w.svarint(0); w.u8(lanes);
    encodeRans(z, w, lanes);
    const got = decodePage('delta>zigzag>ransx', w.finish(), 'i64', 6);
    assert.deepEqual([...(got as { values: BigInt64Array }).values], [0n, 5n, 3n, 11n, 11n, -2n], `${lanes} lanes`);
  }
});

test('the scalar loop (CPUs without AVX2, QUIVER_NO_SIMD=1) and the AVX2 fold (QUIVER_NO_AVX512=1) decode what the AVX-512 fold decodes', () => {
  const addon = nativeAddon();
  assert.ok(addon?.deltaRans);
  // The child decodes pages of 8, 16 and 32 lanes with the scalar loop and prints a digest per
  // page; this process does the same with its loops (AVX2 where the CPU has it).
  const probe = `
    import { createHash } from 'node:crypto';
    const { encodeRans, readTables } = await import(${JSON.stringify(new URL('../../src/format/encodings/rans.js', import.meta.url).href)});
    const { ByteReader, ByteWriter } = await import(${JSON.stringify(new URL('../../src/format/encodings/bytes.js', import.meta.url).href)});
    const { nativeAddon } = await import(${JSON.stringify(new URL('../../src/native/addon.js', import.meta.url).href)});
    const addon = nativeAddon();
    let seed = 99;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const lines = [String(addon.ransSimd) + ' ' + String(addon.ransAvx512)];
    for (const lanes of [8, 16, 32]) for (const n of [7, 64, 999, 8192]) for (const divisor of [1, 100, 1e14]) {
      const z = Float64Array.from({ length: n }, () => Math.floor(rand() * 2 ** (1 + Math.floor(rand() * 20))));
      const w = new ByteWriter(64);
      encodeRans(z, w, lanes);
      const t = readTables(new ByteReader(w.finish(), 'p'), n, lanes);
      const out = new Float64Array(n);
      const status = addon.deltaRans(t.freq, t.stream, t.low, t.s, n, lanes, 12345, 1, divisor, out, true);
      lines.push(lanes + ' ' + n + ' ' + divisor + ' ' + status + ' ' + createHash('sha256').update(new Uint8Array(out.buffer)).digest('hex'));
    }
    console.log(lines.join('\\n'));`;
  const run = (noSimd: string, noAvx512: string) => spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', cwd: fileURLToPath(new URL('.', import.meta.url)), env: { ...process.env, QUIVER_NO_NATIVE: '', QUIVER_NO_SIMD: noSimd, QUIVER_NO_AVX512: noAvx512 } });
  const scalar = run('1', '');
  const avx2 = run('', '1');
  const vector = run('', '');
  for (const child of [scalar, avx2, vector]) assert.equal(child.status, 0, child.stderr);
  const [scalarSimd, ...scalarLines] = scalar.stdout.trim().split('\n');
  const [avx2Simd, ...avx2Lines] = avx2.stdout.trim().split('\n');
  const [vectorSimd, ...vectorLines] = vector.stdout.trim().split('\n');
  assert.equal(scalarSimd, 'false false', 'QUIVER_NO_SIMD=1 turns the vector loops off');
  assert.equal(avx2Simd, `${addon.ransSimd} false`, 'QUIVER_NO_AVX512=1 turns the AVX-512 fold off');
  assert.equal(vectorSimd, `${addon.ransSimd} ${addon.ransAvx512}`);
  assert.equal(scalarLines.length, 36);
  assert.deepEqual(vectorLines, scalarLines);
  assert.deepEqual(avx2Lines, scalarLines);
  for (const line of scalarLines) assert.match(line, / -1 [0-9a-f]{64}$/, 'every page decodes cleanly');
});
