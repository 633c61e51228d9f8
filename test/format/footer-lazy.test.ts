import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CorruptChunkError } from '../../src/errors.js';
import { type BlockCodecId, bufferSource, type ChunkFooter, openChunk, writeChunk } from '../../src/format/index.js';
import { type ColumnSpec, makeBatches, rng, seedFromEnv, withFooter } from './helpers.js';

/** Tag values that put JSON's delimiters, escapes and non-ASCII text into page statistics. */
const AWKWARD = ['a]b', 'c}"d', '[{', '\\', '\\"]', 'plain', 'é]', '😀}', ']]}}', '"'];

function specs(n: number, random: () => number, tags: readonly string[]): ColumnSpec[] {
  return [
    { name: 'time', kind: 'time', values: Array.from({ length: n }, (_, i) => 1_700_000_000_000n + BigInt(i) * 10n) },
    { name: 'host', kind: 'tag', values: Array.from({ length: n }, () => tags[Math.floor(random() * tags.length)]!) },
    { name: 'v', kind: 'float64', values: Array.from({ length: n }, (_, i) => (random() < 0.2 ? null : i / 3)) },
    { name: 'c', kind: 'int64', values: Array.from({ length: n }, (_, i) => BigInt(i * i)) },
    { name: 'msg', kind: 'utf8', values: Array.from({ length: n }, () => (random() < 0.2 ? null : tags[Math.floor(random() * tags.length)]!)) },
  ];
}

function chunk(n: number, codec: BlockCodecId, pageRows: number, random: () => number, tags: readonly string[] = AWKWARD): Uint8Array {
  return writeChunk(makeBatches(specs(n, random, tags)), { timeColumn: 'time', tags: ['host'], codec, pageRows }).bytes;
}

/** The footer JSON of a chunk written with a plain (uncompressed) footer. */
function footerJson(bytes: Uint8Array): string {
  const footerBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 16, true);
  const region = bytes.subarray(bytes.length - 16 - footerBytes, bytes.length - 16);
  assert.equal(region[0], 0, 'test helper expects a plain JSON footer');
  return Buffer.from(region.subarray(8)).toString('utf8');
}


const isLazy = (footer: ChunkFooter, c: number) => Object.getOwnPropertyDescriptor(footer.columns[c], 'pages')?.get !== undefined;

describe('lazy footer pages (lazyPages)', () => {
  test('a lazily opened footer equals the eager one, page for page (seeded chunks, awkward tag text, plain and zstd footers)', async () => {
    const seed = seedFromEnv('lazy footer pages');
    const random = rng(seed);
    for (let i = 0; i < 24; i++) {
      const rows = 1 + Math.floor(random() * 400);
      const pageRows = 1 + Math.floor(random() * 40);
      const codec = (['zstd', 'none', 'lz4'] as BlockCodecId[])[i % 3]!;
      // Large chunks get a zstd footer, small ones a plain one.
      const bytes = chunk(rows, codec, pageRows, random);
      const eager = await openChunk(bufferSource(bytes, `eager-${i}.qvr`));
      const lazy = await openChunk(bufferSource(bytes, `lazy-${i}.qvr`), undefined, { lazyPages: true });
      const what = `seed ${seed} chunk ${i} (${rows} rows, ${pageRows} per page, ${codec})`;
      for (let c = 0; c < lazy.footer.columns.length; c++) assert.ok(isLazy(lazy.footer, c), `${what}: column ${c} validated at open`);
      assert.deepEqual(lazy.footer.columns.map((c) => c.pages), eager.footer.columns.map((c) => c.pages), what);
      assert.equal(JSON.stringify(lazy.footer), JSON.stringify(eager.footer), what);
      for (let c = 0; c < lazy.footer.columns.length; c++) assert.ok(!isLazy(lazy.footer, c), `${what}: column ${c} still a getter once read`);
      const rowsOf = async (reader: typeof eager) => (await reader.read()).toArray().map((r) => JSON.stringify(r, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
      assert.deepEqual(await rowsOf(lazy), await rowsOf(eager), what);
    }
  });

  test('a bad page entry fails when its column is first read, as the CorruptChunkError an eager open gives', async () => {
    const good = chunk(100, 'none', 16, rng(1), ['a', 'b']);
    const footer = JSON.parse(footerJson(good));
    footer.columns[2].pages[1].crc32 = -1;
    const bad = withFooter(good, () => {}, JSON.stringify(footer));
    const eager = await openChunk(bufferSource(bad, 'bad.qvr')).then(() => null, (e: unknown) => e);
    assert.ok(eager instanceof CorruptChunkError && /columns\[2\]\.pages\[1\]\.crc32/.test(eager.message), String(eager));
    const reader = await openChunk(bufferSource(bad, 'bad.qvr'), undefined, { lazyPages: true });
    assert.equal(reader.footer.columns[3]!.pages.length, 7, 'other columns read');
    assert.equal((await reader.read({ columns: ['time', 'c'] })).numRows, 100);
    for (let attempt = 0; attempt < 2; attempt++) {
      assert.throws(() => reader.footer.columns[2]!.pages, (e: unknown) => e instanceof CorruptChunkError && e.message === eager.message && e.path === 'bad.qvr' && e.offset === eager.offset);
    }
    await assert.rejects(reader.read({ columns: ['v'] }), (e: unknown) => e instanceof CorruptChunkError && e.message === eager.message);
  });
});
