import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { CorruptChunkError } from '../../src/errors.js';
import { type BlockCodecId, bufferSource, type ChunkFooter, openChunk, writeChunk } from '../../src/format/index.js';
import { splitFooterText } from '../../src/format/footer-split.js';
import { type ColumnSpec, makeBatches, rng, seedFromEnv } from './helpers.js';

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

/** The chunk with its footer replaced by `text` (plain JSON) under a valid CRC. */
function withFooterText(bytes: Uint8Array, text: Uint8Array): Uint8Array {
  const footerBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 16, true);
  const footerOffset = bytes.length - 16 - footerBytes;
  const region = new Uint8Array(8 + text.length);
  new DataView(region.buffer).setUint32(4, text.length, true);
  region.set(text, 8);
  const out = new Uint8Array(footerOffset + region.length + 16);
  out.set(bytes.subarray(0, footerOffset));
  out.set(region, footerOffset);
  const trailer = new DataView(out.buffer, footerOffset + region.length);
  trailer.setUint32(0, region.length, true);
  trailer.setUint32(4, crc32(region), true);
  trailer.setUint32(8, 1, true);
  out.set([0x51, 0x56, 0x52, 0x31], out.length - 4);
  return out;
}

const isLazy = (footer: ChunkFooter, c: number) => Object.getOwnPropertyDescriptor(footer.columns[c], 'pages')?.get !== undefined;

describe('footer split (lazyPages)', () => {
  test('a lazily opened footer equals the eager one, page for page (seeded chunks, awkward tag text, every footer encoding)', async () => {
    const seed = seedFromEnv('footer split');
    const random = rng(seed);
    for (let i = 0; i < 24; i++) {
      const rows = 1 + Math.floor(random() * 400);
      const pageRows = 1 + Math.floor(random() * 40);
      const codec = (['zstd', 'none', 'lz4'] as BlockCodecId[])[i % 3]!;
      // Some chunks ASCII only (the text path), some not (the bytes path); large ones get a zstd footer.
      const tags = i % 2 === 0 ? AWKWARD : AWKWARD.filter((t) => /^[\x00-\x7f]*$/.test(t));
      const bytes = chunk(rows, codec, pageRows, random, tags);
      const eager = await openChunk(bufferSource(bytes, `eager-${i}.qvr`));
      const lazy = await openChunk(bufferSource(bytes, `lazy-${i}.qvr`), undefined, { lazyPages: true });
      const what = `seed ${seed} chunk ${i} (${rows} rows, ${pageRows} per page, ${codec})`;
      for (let c = 0; c < lazy.footer.columns.length; c++) assert.ok(isLazy(lazy.footer, c), `${what}: column ${c} parsed at open`);
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
    const bad = withFooterText(good, Buffer.from(JSON.stringify(footer)));
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

  test('pages text that does not parse, or is not UTF-8, fails at its column\'s first read', async () => {
    const good = chunk(100, 'none', 16, rng(2), ['a', 'b']);
    const footer = JSON.parse(footerJson(good));
    footer.columns[2].pages[0].encoding = 'MARK';
    const text = JSON.stringify(footer);
    const unparsable = Buffer.from(text.replace('"encoding":"MARK"', '"encoding":MARK'));
    const notUtf8 = Buffer.from(text);
    notUtf8.set([0xff, 0xfe, 0x41, 0x41], notUtf8.indexOf('MARK'));
    for (const [bytes, message] of [[unparsable, /columns\[2\]\.pages JSON does not parse/], [notUtf8, /columns\[2\]\.pages JSON is not valid UTF-8/]] as const) {
      const chunkBytes = withFooterText(good, bytes);
      await assert.rejects(openChunk(bufferSource(chunkBytes, 'x.qvr')), CorruptChunkError);
      const reader = await openChunk(bufferSource(chunkBytes, 'x.qvr'), undefined, { lazyPages: true });
      assert.equal(reader.footer.columns[1]!.pages.length, 7);
      assert.throws(() => reader.footer.columns[2]!.pages, (e: unknown) => e instanceof CorruptChunkError && message.test(e.message) && e.path === 'x.qvr');
    }
  });

  test('splitFooterText cuts exactly the pages arrays, wherever they sit and whatever their strings hold', () => {
    const pagesA = [{ min: 'a]b', max: '}"{', rows: 1 }, { min: '\\', max: '\\"]', rows: 2 }];
    const pagesB = [{ encoding: 'x>y', sum: 1.5, min: '"pages":[', max: null }];
    const footer = { formatVersion: 1, columns: [{ pages: pagesA, name: 'a' }, { name: 'b', dictionary: [']', '['], pages: pagesB }, { name: 'c' }], tags: ['"columns":[]'] };
    for (const text of [JSON.stringify(footer), JSON.stringify(footer, null, 2)]) {
      const split = splitFooterText(Buffer.from(text));
      assert.ok(split !== null);
      assert.equal(typeof split.skeleton, 'string', 'ASCII text stays text');
      assert.deepEqual(JSON.parse(split.skeleton as string), { ...footer, columns: [{ pages: [], name: 'a' }, { name: 'b', dictionary: [']', '['], pages: [] }, { name: 'c' }] });
      assert.deepEqual(split.pages.map((p) => (p === undefined ? undefined : JSON.parse(p as string))), [pagesA, pagesB, undefined]);
    }
    // Not ASCII: bytes, cut at byte offsets.
    const utf = { columns: [{ name: 'é', pages: [{ min: '😀]', max: 'ü' }] }] };
    const split = splitFooterText(Buffer.from(JSON.stringify(utf)))!;
    assert.ok(split.skeleton instanceof Uint8Array && split.pages[0] instanceof Uint8Array);
    assert.deepEqual(JSON.parse(Buffer.from(split.skeleton).toString('utf8')), { columns: [{ name: 'é', pages: [] }] });
    assert.deepEqual(JSON.parse(Buffer.from(split.pages[0]).toString('utf8')), utf.columns[0]!.pages);
    // An escaped key is not "pages" to the scan: it stays in the skeleton, where JSON.parse reads it.
    const escaped = splitFooterText(Buffer.from('{"columns":[{"pag\\u0065s":[{"rows":1}]}]}'))!;
    assert.deepEqual(escaped.pages, [undefined]);
    assert.deepEqual(JSON.parse(escaped.skeleton as string), { columns: [{ pages: [{ rows: 1 }] }] });
    // Shapes the scan leaves to JSON.parse of the whole text.
    for (const text of ['[1]', '{"columns":{}}', '{"a":1}', '{"columns":[]} x', '{"columns":[{"pages":[1],"pages":[2]}]}', '{"columns":[],"columns":[]}', '{"columns":[{"pages":[{"a":"]}]}', '{"columns":[1]}']) {
      assert.equal(splitFooterText(Buffer.from(text)), null, text);
    }
  });
});
