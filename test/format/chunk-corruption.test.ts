import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { CorruptChunkError, LimitExceededError } from '../../src/errors.js';
import {
  type BlockCodecId, type ByteSource, bufferSource, type ChunkLimits, openChunk, writeChunk,
} from '../../src/format/index.js';
import { type ColumnSpec, makeBatches, rng, seedFromEnv, withFooter } from './helpers.js';

function specs(n: number): ColumnSpec[] {
  return [
    { name: 'time', kind: 'time', values: Array.from({ length: n }, (_, i) => 1_700_000_000_000n + BigInt(i) * 10n) },
    { name: 'host', kind: 'tag', values: Array.from({ length: n }, (_, i) => `h${i % 3}`) },
    { name: 'v', kind: 'float64', values: Array.from({ length: n }, (_, i) => (i % 4 === 1 ? null : i / 3)) },
    { name: 'c', kind: 'int64', values: Array.from({ length: n }, (_, i) => BigInt(i * i)) },
    { name: 'ok', kind: 'bool', values: Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : i % 2 === 0)) },
    { name: 'msg', kind: 'utf8', values: Array.from({ length: n }, (_, i) => (i % 6 === 0 ? null : `m${i}`)) },
  ];
}

function chunk(n: number, codec: BlockCodecId, pageRows = 16): Uint8Array {
  return writeChunk(makeBatches(specs(n)), { timeColumn: 'time', tags: ['host'], codec, pageRows }).bytes;
}

/**
 * Opens, reads everything and verifies (with decoding). Returns 'ok' when all of that
 * succeeds; otherwise asserts the failure is a CorruptChunkError naming the chunk. Runs
 * twice, with every page entry validated at open and with `lazyPages` (each column's page
 * entries validated when first read: footer-split.ts), and asserts both accept or both refuse.
 */
async function openReadVerify(source: ByteSource, limits?: Partial<ChunkLimits>): Promise<'ok' | 'corrupt'> {
  const eager = await outcomeOf(source, limits, false);
  const lazy = await outcomeOf(source, limits, true);
  // With several problems, which one is met first may differ (a column's role at open, a
  // page's limit at its first read): both must fail, or neither.
  assert.equal(lazy === 'ok', eager === 'ok', `${source.name}: lazyPages ${lazy === 'ok' ? 'reads' : 'refuses'} it, eager ${eager === 'ok' ? 'reads' : 'refuses'} it`);
  if (eager instanceof LimitExceededError) throw eager;
  return eager as 'ok' | 'corrupt';
}

async function outcomeOf(source: ByteSource, limits: Partial<ChunkLimits> | undefined, lazyPages: boolean): Promise<'ok' | 'corrupt' | LimitExceededError> {
  try {
    const reader = await openChunk(source, limits, { lazyPages });
    await reader.read();
    const result = await reader.verify({ decode: true });
    if (result.ok) return 'ok';
    for (const error of result.errors) {
      assert.ok(error instanceof CorruptChunkError);
      assert.equal(error.path, source.name);
    }
    return 'corrupt';
  } catch (error) {
    if (error instanceof LimitExceededError) return error;
    if (!(error instanceof CorruptChunkError)) {
      throw new assert.AssertionError({ message: `expected CorruptChunkError (lazyPages ${lazyPages}), got ${(error as Error).name}: ${(error as Error).message}\n${(error as Error).stack}` });
    }
    assert.equal(error.path, source.name);
    assert.ok(error.message.includes(source.name), error.message);
    assert.ok(Number.isInteger(error.offset) && error.offset >= 0, `offset ${error.offset}`);
    return 'corrupt';
  }
}

describe('chunk corruption', () => {
  test('the unmodified chunk reads and verifies', async () => {
    for (const codec of ['zstd', 'lz4', 'none'] as BlockCodecId[]) {
      assert.equal(await openReadVerify(bufferSource(chunk(100, codec), 'good.qvr')), 'ok');
    }
  });

  test('truncation at every offset class (and a random sample) is a CorruptChunkError', async () => {
    const seed = seedFromEnv('truncation');
    const random = rng(seed);
    for (const codec of ['zstd', 'none'] as BlockCodecId[]) {
      const bytes = chunk(100, codec);
      const footerBytes = new DataView(bytes.buffer).getUint32(bytes.length - 16, true);
      const footerOffset = bytes.length - 16 - footerBytes;
      const cuts = new Set([0, 1, 3, 4, 5, 27, 28, footerOffset - 1, footerOffset, footerOffset + 1, footerOffset + 8,
        bytes.length - 16, bytes.length - 12, bytes.length - 8, bytes.length - 4, bytes.length - 1]);
      for (let i = 0; i < 60; i++) cuts.add(Math.floor(random() * bytes.length));
      for (const cut of cuts) {
        const outcome = await openReadVerify(bufferSource(bytes.subarray(0, cut), `cut-${cut}.qvr`));
        assert.equal(outcome, 'corrupt', `seed ${seed} codec ${codec} cut at ${cut} of ${bytes.length}`);
      }
    }
  });

  test('a source that returns short reads (file shrunk after size()) is a CorruptChunkError', async () => {
    const bytes = chunk(100, 'zstd');
    const inner = bufferSource(bytes, 'shrunk.qvr');
    const reader = await openChunk(inner);
    const shrunk: ByteSource = { name: 'shrunk.qvr', size: inner.size, read: async (o, l) => (await inner.read(o, l)).subarray(0, Math.max(0, l - 1)) };
    const reopened = new (reader.constructor as any)(shrunk, reader.footer, reader.size, reader.limits);
    await assert.rejects(reopened.read(), (e: Error) => e instanceof CorruptChunkError && /returned/.test(e.message));
  });

  test('every byte of a small chunk: a flipped bit is always detected as CorruptChunkError', async () => {
    const seed = seedFromEnv('bit flips, every byte');
    const random = rng(seed);
    const bytes = chunk(20, 'zstd', 8);
    let detected = 0;
    for (let at = 0; at < bytes.length; at++) {
      const bad = bytes.slice();
      const bit = Math.floor(random() * 8);
      bad[at]! ^= 1 << bit;
      const outcome = await openReadVerify(bufferSource(bad, `flip-${at}.${bit}.qvr`));
      assert.equal(outcome, 'corrupt', `seed ${seed}: flip of bit ${bit} at byte ${at} of ${bytes.length} went unnoticed`);
      detected++;
    }
    assert.equal(detected, bytes.length);
  });

  test('random multi-bit flips across bigger chunks of every codec are always CorruptChunkError', async () => {
    const seed = seedFromEnv('bit flips, random');
    const random = rng(seed);
    for (const codec of ['zstd', 'lz4', 'none'] as BlockCodecId[]) {
      const bytes = chunk(600, codec, 64);
      for (let i = 0; i < 120; i++) {
        const bad = bytes.slice();
        const flips = 1 + Math.floor(random() * 4);
        const where: number[] = [];
        for (let f = 0; f < flips; f++) {
          const at = Math.floor(random() * bad.length);
          bad[at]! ^= 1 << Math.floor(random() * 8);
          where.push(at);
        }
        if (bad.every((b, k) => b === bytes[k])) continue; // two flips cancelled out
        const outcome = await openReadVerify(bufferSource(bad, `flips-${codec}-${i}.qvr`));
        assert.equal(outcome, 'corrupt', `seed ${seed} codec ${codec}: flips at ${where.join(',')} went unnoticed`);
      }
    }
  });

  test('hostile footers with a valid CRC are CorruptChunkError naming the chunk', async () => {
    const bytes = chunk(100, 'zstd');
    const cases: [string, Uint8Array][] = [
      ['bad JSON', withFooter(bytes, () => {}, '{"formatVersion": 1,')],
      ['not an object', withFooter(bytes, () => {}, '[1,2,3]')],
      ['deep nesting', withFooter(bytes, () => {}, '['.repeat(100000) + ']'.repeat(100000))],
      ['invalid UTF-8', withFooter(bytes, () => {}, new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))],
      ['unknown codec', withFooter(bytes, (f) => { f.columns[2].codec = 'brotli'; })],
      ['unknown encoding', withFooter(bytes, (f) => { f.columns[2].pages[0].encoding = 'gorilla9'; })],
      ['page offset past the footer', withFooter(bytes, (f) => { f.columns[5].pages[6].offset = 1e9; })],
      ['pages not contiguous', withFooter(bytes, (f) => { f.columns[1].pages[1].offset += 1; })],
      ['column region overlapping', withFooter(bytes, (f) => { f.columns[1].offset = f.columns[0].offset; })],
      ['region length negative', withFooter(bytes, (f) => { f.columns[0].length = -1; })],
      ['row count mismatch', withFooter(bytes, (f) => { f.rowCount = 99; })],
      ['page rows mismatch', withFooter(bytes, (f) => { f.pageRowStarts[1] = 15; })],
      ['encodedBytes off by one', withFooter(bytes, (f) => { f.columns[3].pages[0].encodedBytes += 1; })],
      ['rawBytes wrong for utf8', withFooter(bytes, (f) => { f.columns[5].pages[0].rawBytes += 3; f.columns[5].rawBytes += 3; })],
      ['null count without validity', withFooter(bytes, (f) => { f.columns[3].pages[0].nullCount = 1; f.columns[3].nullCount += 1; })],
      ['validity null count lies', withFooter(bytes, (f) => { f.columns[2].pages[0].nullCount += 1; f.columns[2].nullCount += 1; f.columns[2].pages[0].rawBytes += 0; })],
      ['dictionary unsorted', withFooter(bytes, (f) => { f.columns[1].dictionary.reverse(); })],
      ['dictionary too short for the codes', withFooter(bytes, (f) => { f.columns[1].dictionary.pop(); })],
      ['stat of the wrong type', withFooter(bytes, (f) => { f.columns[3].min = 5; })],
      ['int64 stat out of range', withFooter(bytes, (f) => { f.columns[3].max = '9223372036854775808'; })],
      ['two time columns', withFooter(bytes, (f) => { f.columns[3].role = 'time'; f.columns[3].type = 'timestamp'; })],
      ['tags disagree', withFooter(bytes, (f) => { f.tags = ['msg']; })],
      ['version mismatch inside the footer', withFooter(bytes, (f) => { f.formatVersion = 2; })],
      ['crc of a page wrong', withFooter(bytes, (f) => { f.columns[0].pages[0].crc32 = (f.columns[0].pages[0].crc32 ^ 1) >>> 0; })],
      ['page max lies', withFooter(bytes, (f) => { f.columns[2].pages[1].max = 1e9; })],
      ['column min lies', withFooter(bytes, (f) => { f.columns[3].min = '-5'; })],
      ['float page sum lies', withFooter(bytes, (f) => { f.columns[2].pages[1].sum += 0.5; })],
      ['int page sum lies', withFooter(bytes, (f) => { f.columns[3].pages[2].sum = String(BigInt(f.columns[3].pages[2].sum) + 1n); })],
      ['int page sum not a decimal', withFooter(bytes, (f) => { f.columns[3].pages[0].sum = 12; })],
      ['a sum on a tag column', withFooter(bytes, (f) => { f.columns[1].pages[0].sum = 1; })],
      ['tag stat lies', withFooter(bytes, (f) => { f.columns[1].pages[0].min = 'h1'; })],
      ['time range lies', withFooter(bytes, (f) => { f.timeMax = '1800000000000'; })],
      ['metadata value not a string', withFooter(bytes, (f) => { f.metadata = { a: 1 }; })],
    ];
    for (const [what, bad] of cases) {
      const outcome = await openReadVerify(bufferSource(bad, `hostile-${what}.qvr`));
      assert.equal(outcome, 'corrupt', what);
    }
  });

  test('seeded footer mutations (valid CRC): ok, CorruptChunkError or LimitExceededError, nothing else', async () => {
    const seed = seedFromEnv('footer mutations');
    const random = rng(seed);
    const bytes = chunk(60, 'lz4', 16);
    const footerBytes = new DataView(bytes.buffer).getUint32(bytes.length - 16, true);
    const original = JSON.parse(Buffer.from(bytes.subarray(bytes.length - 16 - footerBytes + 8, bytes.length - 16)).toString('utf8'));
    const paths: (string | number)[][] = [];
    const walk = (value: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
      else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    };
    walk(original, []);
    const replacements = (): unknown[] => [
      null, true, 'x', '', [], {}, 0, -1, 1, 0.5, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e300, Math.floor(random() * 5000),
      'plain', 'zstd', 'none', '-0', 'Infinity', '9223372036854775807', 'time',
    ];
    const outcomes = { ok: 0, corrupt: 0, limit: 0 };
    for (let i = 0; i < 400; i++) {
      const footer = structuredClone(original);
      const edits = 1 + Math.floor(random() * 3);
      const done: string[] = [];
      for (let e = 0; e < edits; e++) {
        const path = paths[1 + Math.floor(random() * (paths.length - 1))]!;
        let parent: any = footer;
        for (const key of path.slice(0, -1)) parent = parent?.[key];
        if (parent === null || typeof parent !== 'object') continue;
        const key = path[path.length - 1]!;
        if (random() < 0.15) {
          if (Array.isArray(parent)) parent.splice(Number(key), 1);
          else delete parent[key];
          done.push(`delete ${path.join('.')}`);
        } else {
          const options = replacements();
          parent[key] = options[Math.floor(random() * options.length)];
          done.push(`${path.join('.')} = ${JSON.stringify(parent[key])}`);
        }
      }
      const bad = withFooter(bytes, () => {}, JSON.stringify(footer));
      try {
        outcomes[await openReadVerify(bufferSource(bad, `mutated-${i}.qvr`))]++;
      } catch (error) {
        if (error instanceof LimitExceededError) { outcomes.limit++; continue; }
        throw new Error(`seed ${seed} mutation ${i} (${done.join('; ')}): ${(error as Error).message}`);
      }
    }
    assert.ok(outcomes.corrupt > 200, JSON.stringify(outcomes));
  });

  test('a "__proto__" metadata key stays plain data', async () => {
    const bytes = withFooter(chunk(10, 'none'), (f) => { f.metadata = JSON.parse('{"__proto__":"x","table":"cpu"}'); });
    const reader = await openChunk(bufferSource(bytes, 'proto.qvr'));
    assert.equal(Object.getPrototypeOf(reader.footer.metadata), Object.prototype);
    assert.deepEqual(Object.entries(reader.footer.metadata), [['__proto__', 'x'], ['table', 'cpu']]);
  });

  test('trailer problems: footer length beyond the file, unknown version, not a chunk', async () => {
    const bytes = chunk(50, 'lz4');
    const long = bytes.slice();
    new DataView(long.buffer).setUint32(long.length - 16, long.length, true);
    await assert.rejects(openChunk(bufferSource(long, 'long.qvr')), (e: Error) => e instanceof CorruptChunkError && /footer length \d+ exceeds file size/.test(e.message) && e.path === 'long.qvr');
    const v2 = bytes.slice();
    new DataView(v2.buffer).setUint32(v2.length - 8, 2, true);
    await assert.rejects(openChunk(bufferSource(v2, 'v2.qvr')), (e: Error) => e instanceof CorruptChunkError && /unsupported format version 2/.test(e.message));
    await assert.rejects(openChunk(bufferSource(new TextEncoder().encode('time,value\n1,2\n'.repeat(5)), 'data.csv')), (e: Error) => e instanceof CorruptChunkError && /trailing magic/.test(e.message));
    await assert.rejects(openChunk(bufferSource(new Uint8Array(0), 'empty.qvr')), CorruptChunkError);
  });

  test('limits: footer, declared decompressed sizes, rows, columns, read bytes → LimitExceededError', async () => {
    const bytes = chunk(100, 'zstd');
    await assert.rejects(openChunk(bufferSource(bytes, 'a.qvr'), { footerBytesMax: 200 }), (e: Error) => e instanceof LimitExceededError && /footerBytesMax/.test(e.message));
    await assert.rejects(openChunk(bufferSource(bytes, 'a.qvr'), { rowsMax: 99 }), LimitExceededError);
    await assert.rejects(openChunk(bufferSource(bytes, 'a.qvr'), { columnsMax: 5 }), LimitExceededError);
    await assert.rejects(openChunk(bufferSource(bytes, 'a.qvr'), { pagesMax: 6 }), LimitExceededError);
    await assert.rejects(openChunk(bufferSource(bytes, 'a.qvr'), { pageDecodedBytesMax: 100 }), LimitExceededError);
    const reader = await openChunk(bufferSource(bytes, 'a.qvr'), { readDecodedBytesMax: 1000 });
    await assert.rejects(reader.read(), (e: Error) => e instanceof LimitExceededError && /readDecodedBytesMax/.test(e.message));
    assert.equal((await reader.read({ columns: ['c'], pages: [0] })).numRows, 16, 'a small read stays allowed');
    // A footer declaring a giant decoded page is refused when opened, before any page is read.
    const bomb = withFooter(bytes, (f) => { f.columns[3].pages[0].encodedBytes = 2 ** 40; });
    await assert.rejects(openChunk(bufferSource(bomb, 'bomb.qvr')), (e: Error) => e instanceof LimitExceededError && /pageDecodedBytesMax/.test(e.message));
    // A footer header declaring a giant decoded footer (valid CRC) is refused before decompressing.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const footerBytes = view.getUint32(bytes.length - 16, true);
    const footerOffset = bytes.length - 16 - footerBytes;
    const giant = bytes.slice();
    new DataView(giant.buffer).setUint32(footerOffset + 4, 2 ** 31, true);
    new DataView(giant.buffer).setUint32(giant.length - 12, crc32(giant.subarray(footerOffset, footerOffset + footerBytes)), true);
    await assert.rejects(openChunk(bufferSource(giant, 'giant.qvr')), (e: Error) => e instanceof LimitExceededError && /footerBytesMax/.test(e.message));
  });
});
