import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompressionType, Float64, Int64, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { compress as zstdCompress } from 'zstd-napi';
import { CodecError, getBlockCodec, knownBlockCodecs, registerArrowCodecs } from '../../src/format/index.js';
import { rng, seedFromEnv } from './helpers.js';

function sampleBytes(random: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  // Compressible: runs and a small alphabet, with some noise.
  for (let i = 0; i < n; i++) out[i] = random() < 0.8 ? (i >> 5) & 0x0f : Math.floor(random() * 256);
  return out;
}

describe('block codecs', () => {
  test('registry knows exactly zstd, lz4, none; unknown ids are CodecError', () => {
    assert.deepEqual(knownBlockCodecs().sort(), ['lz4', 'none', 'zstd']);
    assert.throws(() => getBlockCodec('snappy'), CodecError);
  });

  for (const id of ['zstd', 'lz4', 'none']) {
    test(`${id}: seeded round trips, empty input, exact decoded size required`, () => {
      const seed = seedFromEnv(`${id} round trips`);
      const random = rng(seed);
      const codec = getBlockCodec(id);
      for (const n of [0, 1, 7, 100, 4096, 100_000]) {
        const input = sampleBytes(random, n);
        const stored = codec.encode(input, 5);
        assert.deepEqual(codec.decode(stored, n), input, `seed ${seed} size ${n}`);
        assert.throws(() => codec.decode(stored, n + 1), CodecError, `declared size ${n + 1} for ${n}`);
        if (n > 0) assert.throws(() => codec.decode(stored, n - 1), CodecError);
      }
    });
  }

  test('zstd: a bomb declaring far more than expected is refused before allocating', () => {
    const bomb = zstdCompress(new Uint8Array(64 * 1024 * 1024), { compressionLevel: 1 });
    assert.ok(bomb.length < 64 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => getBlockCodec('zstd').decode(bomb, 800), (e: Error) => e instanceof CodecError && /declares 67108864/.test(e.message));
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
  });

  test('zstd and lz4: garbage and flipped bytes are CodecError, never another error', () => {
    const seed = seedFromEnv('codec garbage');
    const random = rng(seed);
    for (const id of ['zstd', 'lz4']) {
      const codec = getBlockCodec(id);
      const input = sampleBytes(random, 5000);
      const stored = codec.encode(input);
      for (let i = 0; i < 300; i++) {
        const bad = stored.slice();
        const at = Math.floor(random() * bad.length);
        bad[at]! ^= 1 << Math.floor(random() * 8);
        try {
          const out = codec.decode(bad, input.length);
          assert.equal(out.length, input.length); // a flip lz4/zstd cannot see still yields the exact size
        } catch (error) {
          assert.ok(error instanceof CodecError, `seed ${seed} ${id} flip at ${at}: ${(error as Error).name} ${(error as Error).message}`);
        }
      }
      assert.throws(() => codec.decode(new Uint8Array([1, 2, 3]), 10), CodecError);
    }
  });

  test('lz4: a size prefix above the expected size is refused before lz4 allocates', () => {
    const stored = getBlockCodec('lz4').encode(new Uint8Array(1000));
    const hostile = stored.slice();
    new DataView(hostile.buffer).setUint32(0, 0xfffffff0, true);
    assert.throws(() => getBlockCodec('lz4').decode(hostile, 1000), /declares 4294967280/);
  });

  test('registerArrowCodecs: Arrow IPC with zstd and lz4 body compression round-trips', () => {
    registerArrowCodecs();
    registerArrowCodecs(); // idempotent
    const table = new Table({
      v: vectorFromArray(Array.from({ length: 5000 }, (_, i) => i * 0.5), new Float64()),
      i: vectorFromArray(Array.from({ length: 5000 }, (_, i) => BigInt(i)), new Int64()),
      s: vectorFromArray(Array.from({ length: 5000 }, (_, i) => `s${i % 10}`), new Utf8()),
    });
    for (const type of [CompressionType.ZSTD, CompressionType.LZ4_FRAME]) {
      const plain = tableToIPC(table, 'file');
      const ipc = tableToIPC(table, 'file', type);
      assert.ok(ipc.length < plain.length, `compression ${CompressionType[type]} shrinks the file`);
      const back = tableFromIPC(ipc);
      assert.equal(back.numRows, 5000);
      assert.equal(back.getChild('v')!.get(4999), 4999 * 0.5);
      assert.equal(back.getChild('i')!.get(123), 123n);
      assert.equal(back.getChild('s')!.get(17), 's7');
    }
  });
});
