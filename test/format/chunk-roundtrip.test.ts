import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TimeUnit } from 'apache-arrow';
import {
  type BlockCodecId, bufferSource, FORMAT_VERSION, openChunk, writeChunk,
} from '../../src/format/index.js';
import { type ColumnSpec, columnValues, countingSource, makeBatches, rng, seedFromEnv } from './helpers.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function timeValues(n: number, start = 1_700_000_000_000n, step = 1000n): bigint[] {
  return Array.from({ length: n }, (_, i) => start + BigInt(i) * step);
}

/** A table exercising every column type, special values and nulls. */
function everyType(n: number): ColumnSpec[] {
  const specials = [NaN, 0, -0, Infinity, -Infinity, 1.5, -2.25, Number.MAX_VALUE, Number.MIN_VALUE];
  return [
    { name: 'time', kind: 'time', values: timeValues(n) },
    { name: 'host', kind: 'tag', values: Array.from({ length: n }, (_, i) => `host-${i % 5}`) },
    { name: 'region', kind: 'tag', plain: true, values: Array.from({ length: n }, (_, i) => (i % 11 === 0 ? null : ['eu', 'us', 'ünï', '日本', ''][i % 5]!)) },
    { name: 'f', kind: 'float64', values: Array.from({ length: n }, (_, i) => (i % 7 === 3 ? null : specials[i % specials.length]!)) },
    { name: 'i', kind: 'int64', values: Array.from({ length: n }, (_, i) => (i % 6 === 1 ? null : [INT64_MIN, INT64_MAX, 0n, -1n, 42n][i % 5]!)) },
    { name: 'u', kind: 'uint64', values: Array.from({ length: n }, (_, i) => (i % 8 === 2 ? null : [UINT64_MAX, 0n, 1n, 2n ** 63n][i % 4]!)) },
    { name: 'b', kind: 'bool', values: Array.from({ length: n }, (_, i) => (i % 5 === 4 ? null : i % 3 === 0)) },
    { name: 's', kind: 'utf8', values: Array.from({ length: n }, (_, i) => (i % 9 === 0 ? null : ['', 'a', 'héllo', '🎉 emoji', 'x'.repeat(i % 50)][i % 5]!)) },
    { name: 'allnull', kind: 'float64', values: Array.from({ length: n }, () => null) },
  ];
}

function expected(spec: ColumnSpec, rows?: number[]): unknown[] {
  const values = spec.values as unknown[];
  return rows === undefined ? values : rows.map((r) => values[r]);
}

function assertSame(actual: unknown[], wanted: unknown[], what: string): void {
  assert.equal(actual.length, wanted.length, `${what}: length`);
  for (let i = 0; i < wanted.length; i++) {
    const a = actual[i];
    const w = wanted[i];
    if (typeof w === 'number' && typeof a === 'number') {
      assert.ok(Object.is(a, w), `${what}[${i}]: ${a} vs ${w}`);
    } else {
      assert.deepEqual(a, w, `${what}[${i}]`);
    }
  }
}

async function roundTrip(specs: ColumnSpec[], options: Partial<Parameters<typeof writeChunk>[1]> = {}, splits?: number[]) {
  const { bytes, footer } = writeChunk(makeBatches(specs, splits), { timeColumn: 'time', tags: specs.filter((s) => s.kind === 'tag').map((s) => s.name), ...options });
  const reader = await openChunk(bufferSource(bytes, 'test.qvr'));
  assert.deepEqual(reader.footer, footer, 'footer read back equals footer written');
  const batch = await reader.read();
  for (const spec of specs) assertSame(columnValues(batch, spec.name), expected(spec), spec.name);
  const verified = await reader.verify({ decode: true });
  assert.equal(verified.ok, true, verified.errors.map((e) => e.message).join('; '));
  return { bytes, footer, reader, batch };
}

describe('chunk round trip', () => {
  for (const codec of ['zstd', 'lz4', 'none'] as BlockCodecId[]) {
    test(`every column type with nulls and special values, codec ${codec}`, async () => {
      const { footer } = await roundTrip(everyType(1000), { codec, pageRows: 128 });
      assert.equal(footer.formatVersion, FORMAT_VERSION);
      assert.equal(footer.pageRowStarts.length, Math.ceil(1000 / 128) + 1);
      for (const c of footer.columns) assert.equal(c.codec, codec);
    });
  }

  test('footer stats: time range, NaN ignored, ±Inf, int64/uint64 extremes as decimal strings, tags sorted', async () => {
    const { footer } = await roundTrip(everyType(200), { pageRows: 64 });
    const col = (name: string) => footer.columns.find((c) => c.name === name)!;
    assert.equal(footer.timeMin, '1700000000000');
    assert.equal(footer.timeMax, String(1_700_000_000_000n + 199n * 1000n));
    assert.equal(col('f').min, -Infinity);
    assert.equal(col('f').max, Infinity);
    assert.equal(col('i').min, INT64_MIN.toString());
    assert.equal(col('i').max, INT64_MAX.toString());
    assert.equal(col('u').min, '0');
    assert.equal(col('u').max, UINT64_MAX.toString());
    assert.deepEqual(col('host').dictionary, ['host-0', 'host-1', 'host-2', 'host-3', 'host-4']);
    assert.deepEqual(col('region').dictionary, ['', 'eu', 'us', 'ünï', '日本']);
    assert.equal(col('region').min, '');
    assert.equal(col('b').min, false);
    assert.equal(col('b').max, true);
    assert.equal(col('allnull').min, null);
    assert.equal(col('allnull').nullCount, 200);
    assert.equal(col('time').nullable, false);
    const pageNulls = col('f').pages.reduce((s, p) => s + p.nullCount, 0);
    assert.equal(pageNulls, col('f').nullCount);
    assert.equal(col('f').nullCount, expected(everyType(200).find((s) => s.name === 'f')!).filter((v) => v === null).length);
  });

  test('float stats keep -0 and a page of only NaN has null stats', async () => {
    const specs: ColumnSpec[] = [
      { name: 'time', kind: 'time', values: timeValues(4) },
      { name: 'z', kind: 'float64', values: [-0, 0, NaN, NaN] },
    ];
    const { footer } = await roundTrip(specs, { pageRows: 2 });
    const z = footer.columns[1]!;
    assert.ok(Object.is(z.pages[0]!.min, -0));
    assert.ok(Object.is(z.pages[0]!.max, 0));
    assert.equal(z.pages[1]!.min, null);
    assert.equal(z.pages[1]!.max, null);
  });

  test('time units, timezone and tags given as plain Utf8', async () => {
    for (const unit of [TimeUnit.SECOND, TimeUnit.MILLISECOND, TimeUnit.MICROSECOND, TimeUnit.NANOSECOND]) {
      const specs: ColumnSpec[] = [
        { name: 'time', kind: 'time', unit, timezone: 'UTC', values: [INT64_MIN, -1n, 0n, INT64_MAX] },
        { name: 'host', kind: 'tag', plain: true, values: ['b', 'a', 'b', 'a'] },
      ];
      const { footer, batch } = await roundTrip(specs);
      assert.equal(footer.timeUnit, ['s', 'ms', 'us', 'ns'][unit]);
      assert.equal(footer.timeZone, 'UTC');
      assert.equal(footer.timeMin, INT64_MIN.toString());
      const timeType = batch.schema.fields[0]!.type as { unit: TimeUnit; timezone: string | null };
      assert.equal(timeType.unit, unit);
      assert.equal(timeType.timezone, 'UTC');
      assert.equal(String(batch.schema.fields[1]!.type), 'Dictionary<Int32, Utf8>');
    }
  });

  test('multi-batch input with page boundaries not aligned to batches', async () => {
    const specs = everyType(777);
    await roundTrip(specs, { pageRows: 100 }, [0, 1, 250, 251, 600, 777]);
  });

  test('sliced input batches (non-zero Data offsets in bitmaps, offsets and dictionaries)', async () => {
    const specs = everyType(500);
    const [whole] = makeBatches(specs);
    const slices = [whole!.slice(0, 3), whole!.slice(3, 250), whole!.slice(250, 251), whole!.slice(251, 500)];
    assert.ok(slices[1]!.data.children[0]!.offset === 3, 'slices keep offsets into the parent buffers');
    const { bytes } = writeChunk(slices, { timeColumn: 'time', tags: ['host', 'region'], pageRows: 77 });
    const batch = await (await openChunk(bufferSource(bytes, 'sliced.qvr'))).read();
    for (const spec of specs) assertSame(columnValues(batch, spec.name), expected(spec), `sliced ${spec.name}`);
    const single = writeChunk(whole!.slice(123, 456), { timeColumn: 'time', tags: ['host', 'region'], pageRows: 50 });
    const back = await (await openChunk(bufferSource(single.bytes, 'sliced-one.qvr'))).read();
    const rows = Array.from({ length: 333 }, (_, i) => 123 + i);
    for (const spec of specs) assertSame(columnValues(back, spec.name), expected(spec, rows), `single slice ${spec.name}`);
  });

  test('zero rows: no pages, null time range, empty batch back', async () => {
    const { footer, batch, bytes } = await roundTrip(everyType(0));
    assert.equal(footer.rowCount, 0);
    assert.deepEqual(footer.pageRowStarts, [0]);
    assert.equal(footer.timeMin, null);
    assert.equal(batch.numRows, 0);
    assert.equal(batch.numCols, everyType(0).length);
    assert.ok(bytes.length < 4096);
  });

  test('page subsets and column subsets', async () => {
    const specs = everyType(1000);
    const { reader } = await roundTrip(specs, { pageRows: 100 });
    const pageSets = [[0], [9], [2, 3, 4], [0, 5, 9], [1, 2, 7, 8]];
    for (const pages of pageSets) {
      const rows = pages.flatMap((p) => Array.from({ length: 100 }, (_, i) => p * 100 + i));
      const batch = await reader.read({ columns: ['s', 'time', 'b'], pages });
      assert.deepEqual(batch.schema.fields.map((f) => f.name), ['s', 'time', 'b']);
      assert.equal(batch.numRows, rows.length);
      for (const name of ['s', 'time', 'b']) {
        assertSame(columnValues(batch, name), expected(specs.find((s) => s.name === name)!, rows), `${name} pages ${pages}`);
      }
    }
    const none = await reader.read({ columns: ['f'], pages: [] });
    assert.equal(none.numRows, 0);
    await assert.rejects(reader.read({ columns: ['nope'] }), { name: 'SchemaError' });
    await assert.rejects(reader.read({ pages: [3, 2] }), { name: 'UsageError' });
    await assert.rejects(reader.read({ pages: [10] }), { name: 'UsageError' });
  });

  test('single-page read is zero-copy: Arrow data views the decoded page buffer', async () => {
    const n = 1000;
    const specs: ColumnSpec[] = [
      { name: 'time', kind: 'time', values: timeValues(n) },
      { name: 'v', kind: 'float64', values: Array.from({ length: n }, (_, i) => i * 0.25) },
      { name: 's', kind: 'utf8', values: Array.from({ length: n }, (_, i) => `s${i}`) },
    ];
    const { bytes } = writeChunk(makeBatches(specs), { timeColumn: 'time', tags: [], pageRows: 256, columns: { v: { encoding: 'plain' } } });
    const reader = await openChunk(bufferSource(bytes, 'zc.qvr'));
    const [page] = await reader.readColumnPages('v', [2]);
    const data = reader.toArrowData('v', [page!]);
    assert.equal(page!.values.kind, 'f64');
    assert.equal(data.values.buffer, (page!.values as { values: Float64Array }).values.buffer, 'same ArrayBuffer');
    assert.equal(data.values.byteOffset, (page!.values as { values: Float64Array }).values.byteOffset);
    const [spage] = await reader.readColumnPages('s', [1]);
    const sdata = reader.toArrowData('s', [spage!]);
    assert.equal(sdata.valueOffsets.buffer, (spage!.values as { offsets: Int32Array }).offsets.buffer);
    assert.equal(sdata.values.buffer, (spage!.values as { data: Uint8Array }).data.buffer);
    // Through read(): the Float64 buffer holds exactly the page (no bigger scratch behind it).
    const batch = await reader.read({ columns: ['v'], pages: [2] });
    const vdata = batch.getChild('v')!.data[0]!;
    assert.equal(vdata.values.byteOffset, 0);
    assert.equal(vdata.values.buffer.byteLength, 256 * 8);
  });

  test('multi-page plain reads decompress into one buffer: pages are adjacent views, Arrow data views them all', async () => {
    const n = 1000;
    const specs: ColumnSpec[] = [
      { name: 'time', kind: 'time', values: timeValues(n) },
      { name: 'v', kind: 'float64', values: Array.from({ length: n }, (_, i) => (i % 10 === 0 ? null : i * 0.25)) },
    ];
    const { bytes } = writeChunk(makeBatches(specs), { timeColumn: 'time', tags: [], pageRows: 100, columns: { v: { encoding: 'plain' } } });
    const reader = await openChunk(bufferSource(bytes, 'adjacent.qvr'));
    const pages = await reader.readColumnPages('v', [2, 3, 4]);
    const views = pages.map((p) => (p.values as { values: Float64Array }).values);
    assert.ok(views.every((v) => v.buffer === views[0]!.buffer));
    assert.deepEqual(views.map((v) => v.byteOffset), [0, 800, 1600]);
    const data = reader.toArrowData('v', pages);
    assert.equal(data.values.buffer, views[0]!.buffer, 'no concatenation copy');
    assert.equal(data.length, 300);
    assert.equal(data.nullCount, 30);
  });

  test('pagesToData concatenates pages that are not adjacent (every kind, with validity)', async () => {
    const specs = everyType(300);
    const { bytes } = writeChunk(makeBatches(specs), { timeColumn: 'time', tags: ['host', 'region'], pageRows: 64 });
    const reader = await openChunk(bufferSource(bytes, 'concat.qvr'));
    for (const spec of specs) {
      // Pages read one by one live in separate buffers, so pagesToData must copy them together.
      const pages = [...await reader.readColumnPages(spec.name, [1]), ...await reader.readColumnPages(spec.name, [3]), ...await reader.readColumnPages(spec.name, [4])];
      const data = reader.toArrowData(spec.name, pages);
      const rows = [...Array.from({ length: 64 }, (_, i) => 64 + i), ...Array.from({ length: 64 }, (_, i) => 192 + i), ...Array.from({ length: 300 - 256 }, (_, i) => 256 + i)];
      const batch = await reader.read({ columns: [spec.name], pages: [1, 3, 4] });
      assertSame(columnValues(batch, spec.name), expected(spec, rows), `read ${spec.name}`);
      const { makeVector } = await import('apache-arrow');
      const vector = makeVector(data);
      const got = spec.kind === 'time'
        ? Array.from(data.values as BigInt64Array)
        : Array.from({ length: vector.length }, (_, i) => vector.get(i));
      assertSame(got, expected(spec, rows), `concat ${spec.name}`);
    }
  });

  test('I/O: open is one tail read; a read fetches one range per column per run of pages, in one readRanges call', async () => {
    const specs = everyType(1000);
    const { bytes } = writeChunk(makeBatches(specs), { timeColumn: 'time', tags: ['host', 'region'], pageRows: 100 });
    const source = countingSource(bufferSource(bytes, 'io.qvr'));
    const reader = await openChunk(source);
    assert.equal(source.reads, 1);
    assert.equal(source.bytes, bytes.length, 'small file: the tail read is the whole file');
    source.reads = 0;
    source.bytes = 0;
    await reader.read({ columns: ['f', 'i'], pages: [2, 3, 4, 7] });
    assert.equal(source.reads, 1);
    const ranges = source.calls[source.calls.length - 1]!.split(' ')[1]!.split(',');
    assert.equal(ranges.length, 4, '2 columns × 2 runs of pages');
    const f = reader.footer.columns.find((c) => c.name === 'f')!;
    const expectBytes = [2, 3, 4, 7].reduce((s, p) => s + f.pages[p]!.length, 0) + [2, 3, 4, 7].reduce((s, p) => s + reader.footer.columns.find((c) => c.name === 'i')!.pages[p]!.length, 0);
    assert.equal(source.bytes, expectBytes, 'reads only the selected pages');
  });

  test('I/O without readRanges: one read per range, issued together; verify reads each region once', async () => {
    const { bytes } = writeChunk(makeBatches(everyType(1000)), { timeColumn: 'time', tags: ['host', 'region'], pageRows: 100 });
    const counted = countingSource(bufferSource(bytes, 'plain-io.qvr'));
    const source = { name: counted.name, size: counted.size, read: counted.read };
    const reader = await openChunk(source);
    counted.reads = 0;
    await reader.read({ columns: ['time', 'f'], pages: [0, 1, 5] });
    assert.equal(counted.reads, 4, '2 columns × 2 runs');
    counted.reads = 0;
    counted.bytes = 0;
    const result = await reader.verify();
    assert.equal(result.ok, true);
    assert.equal(counted.reads, 1 + reader.footer.columns.length, 'head magic + one read per column region');
    assert.equal(result.bytesChecked, reader.footer.columns.reduce((s, c) => s + c.length, 0));
  });

  test('large footer: zstd-compressed, read with a second request past the tail', async () => {
    const n = 20000;
    const specs: ColumnSpec[] = [
      { name: 'time', kind: 'time', values: timeValues(n) },
      { name: 'host', kind: 'tag', values: Array.from({ length: n }, (_, i) => `host-${((i * 2654435761) >>> 0).toString(36)}-${i}`) },
    ];
    const { bytes, footer } = writeChunk(makeBatches(specs), { timeColumn: 'time', tags: ['host'], pageRows: 1000, codec: 'lz4' });
    const source = countingSource(bufferSource(bytes, 'big-footer.qvr'));
    const reader = await openChunk(source);
    assert.ok(reader.footer.columns[1]!.dictionary!.length === n);
    assert.deepEqual(reader.footer, footer);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const footerBytes = view.getUint32(bytes.length - 16, true);
    assert.ok(footerBytes + 16 > 64 * 1024, `footer of ${footerBytes} bytes does not fit the 64 KiB tail read`);
    assert.equal(bytes[bytes.length - 16 - footerBytes], 1, 'footer encoding 1 = zstd JSON');
    assert.equal(source.reads, 2, 'tail read, then the rest of the footer');
    const batch = await reader.read({ columns: ['host'], pages: [19] });
    assert.equal(columnValues(batch, 'host')[999], `host-${(((n - 1) * 2654435761) >>> 0).toString(36)}-${n - 1}`);
  });

  test('regions() tiles the whole file: magic, pages, footer, trailer, no gaps', async () => {
    const { bytes } = writeChunk(makeBatches(everyType(300)), { timeColumn: 'time', tags: ['host', 'region'], pageRows: 64 });
    const reader = await openChunk(bufferSource(bytes, 'regions.qvr'));
    const regions = reader.regions();
    let next = 0;
    for (const r of regions) {
      assert.equal(r.offset, next, `${r.kind} ${r.column ?? ''} ${r.page ?? ''}`);
      next += r.length;
    }
    assert.equal(next, bytes.length);
    assert.equal(regions.filter((r) => r.kind === 'page').length, reader.footer.columns.length * 5);
  });

  test('per-column codec, zstd level and forced encoding are recorded', async () => {
    const specs = everyType(300);
    const { footer } = await roundTrip(specs, {
      codec: 'lz4',
      columns: { f: { codec: 'zstd', codecLevel: 9 }, s: { codec: 'none', encoding: 'plain' } },
    });
    const col = (name: string) => footer.columns.find((c) => c.name === name)!;
    assert.equal(col('f').codec, 'zstd');
    assert.equal(col('f').codecLevel, 9);
    assert.equal(col('s').codec, 'none');
    assert.equal(col('s').pages[0]!.encoding, 'plain');
    assert.equal(col('i').codec, 'lz4');
    assert.throws(() => writeChunk(makeBatches(specs), { timeColumn: 'time', tags: [], columns: { f: { codecLevel: 99 } } }), { name: 'UsageError' });
    assert.throws(() => writeChunk(makeBatches(specs), { timeColumn: 'time', tags: [], codec: 'brotli' as BlockCodecId }), { name: 'UsageError' });
    assert.throws(() => writeChunk(makeBatches(specs), { timeColumn: 'time', tags: [], columns: { nope: {} } }), { name: 'UsageError' });
  });

  test("codec 'auto' (the default) keeps zstd only for the columns where it saves 2%, and reads back the same", async () => {
    let x = 50;
    const n = 5000;
    const specs: ColumnSpec[] = [
      { name: 'time', kind: 'time', values: timeValues(n) },
      { name: 'host', kind: 'tag', values: Array.from({ length: n }, (_, i) => (i < 2500 ? 'a' : 'b')) },
      // A random walk: rANS-coded, nothing left for zstd.
      { name: 'walk', kind: 'float64', values: Array.from({ length: n }, () => (x = Math.round((x + Math.sin(x * 7919) * 3) * 100) / 100)) },
      // Repetitive free text: plain offsets and bytes, which zstd shrinks a lot.
      { name: 'msg', kind: 'utf8', values: Array.from({ length: n }, (_, i) => `request ${i % 7} served from cache`) },
    ];
    const auto = await roundTrip(specs);
    const zstd = await roundTrip(specs, { codec: 'zstd' });
    const col = (footer: typeof auto.footer, name: string) => footer.columns.find((c) => c.name === name)!;
    for (const name of ['time', 'host', 'walk']) {
      assert.equal(col(auto.footer, name).codec, 'none', name);
      assert.equal(col(auto.footer, name).codecLevel, undefined, name);
      assert.ok(col(auto.footer, name).storedBytes <= col(zstd.footer, name).storedBytes, `${name}: no larger without zstd`);
    }
    assert.equal(col(auto.footer, 'msg').codec, 'zstd');
    assert.equal(col(auto.footer, 'msg').codecLevel, 3);
    assert.equal(col(auto.footer, 'msg').storedBytes, col(zstd.footer, 'msg').storedBytes);
    assert.ok(col(zstd.footer, 'walk').codec === 'zstd', 'an explicit codec is kept');
    // Per column too, and the walk's pages are the same encoded bytes either way.
    const mixed = await roundTrip(specs, { codec: 'lz4', columns: { walk: { codec: 'auto' } } });
    assert.equal(col(mixed.footer, 'walk').codec, 'none');
    assert.equal(col(mixed.footer, 'msg').codec, 'lz4');
    assert.deepEqual(col(mixed.footer, 'walk').pages.map((p) => p.encodedBytes), col(auto.footer, 'walk').pages.map((p) => p.encodedBytes));
  });

  test('a Dictionary<Utf8> column that is not a tag is stored and read back as utf8', async () => {
    const specs: ColumnSpec[] = [
      { name: 'time', kind: 'time', values: timeValues(6) },
      { name: 'host', kind: 'tag', values: ['x', null, 'yy', 'x', '', 'ü'] },
    ];
    const { bytes, footer } = writeChunk(makeBatches(specs, [0, 2, 6]), { timeColumn: 'time', tags: [] });
    assert.equal(footer.columns[1]!.type, 'utf8');
    assert.equal(footer.columns[1]!.nullCount, 1);
    const batch = await (await openChunk(bufferSource(bytes, 'dict-field.qvr'))).read();
    assert.equal(String(batch.schema.fields[1]!.type), 'Utf8');
    assert.deepEqual(columnValues(batch, 'host'), ['x', null, 'yy', 'x', '', 'ü']);
  });

  test('writer rejects bad input with typed errors', () => {
    const specs = everyType(10);
    assert.throws(() => writeChunk(makeBatches(specs), { timeColumn: 'missing', tags: [] }), { name: 'SchemaError' });
    assert.throws(() => writeChunk(makeBatches(specs), { timeColumn: 'f', tags: [] }), { name: 'SchemaError' });
    assert.throws(() => writeChunk(makeBatches(specs), { timeColumn: 'time', tags: ['f'] }), { name: 'SchemaError' });
    assert.throws(() => writeChunk([], { timeColumn: 'time', tags: [] }), { name: 'InputError' });
    assert.throws(() => writeChunk(makeBatches(specs), { timeColumn: 'time', tags: [], limits: { rowsMax: 5 } }), { name: 'LimitExceededError' });
    assert.throws(() => writeChunk(makeBatches(specs), { timeColumn: 'time', tags: [], pageRows: 0 }), { name: 'UsageError' });
  });

  test('seeded random round trips against an in-memory reference', async () => {
    const seed = seedFromEnv('random round trips');
    const random = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    for (let iteration = 0; iteration < 12; iteration++) {
      const n = Math.floor(random() * 3000);
      const nullRate = pick([0, 0.01, 0.5, 1]);
      const maybeNull = <T>(v: T): T | null => (random() < nullRate ? null : v);
      const specs: ColumnSpec[] = [
        { name: 'time', kind: 'time', values: timeValues(n, BigInt(Math.floor(random() * 1e12)), BigInt(1 + Math.floor(random() * 1000))) },
        { name: 'tag', kind: 'tag', plain: random() < 0.5, values: Array.from({ length: n }, () => maybeNull(`t${Math.floor(random() * 20)}`)) },
        { name: 'f', kind: 'float64', values: Array.from({ length: n }, () => maybeNull(pick([random() * 1e6 - 5e5, NaN, -0, Infinity, Math.round(random() * 100) / 100]))) },
        { name: 'i', kind: 'int64', values: Array.from({ length: n }, () => maybeNull(BigInt(Math.floor((random() - 0.5) * 2 ** 53)) * pick([1n, 1024n]))) },
        { name: 'u', kind: 'uint64', values: Array.from({ length: n }, () => maybeNull(BigInt(Math.floor(random() * 2 ** 53)) * pick([1n, 2048n]))) },
        { name: 'b', kind: 'bool', values: Array.from({ length: n }, () => maybeNull(random() < 0.5)) },
        { name: 's', kind: 'utf8', values: Array.from({ length: n }, () => maybeNull(pick(['', 'α', 'plain', '🎉', 'x'.repeat(Math.floor(random() * 30))]))) },
      ];
      const splits = [0];
      while (splits[splits.length - 1]! < n) splits.push(Math.min(n, splits[splits.length - 1]! + 1 + Math.floor(random() * n)));
      if (n === 0) splits.push(0);
      const pageRows = pick([1, 7, 64, 1000, 8192]);
      const codec = pick(['zstd', 'lz4', 'none'] as BlockCodecId[]);
      const what = `seed ${seed} iteration ${iteration} (n ${n}, pageRows ${pageRows}, codec ${codec}, nullRate ${nullRate})`;
      const { bytes } = writeChunk(makeBatches(specs, splits), { timeColumn: 'time', tags: ['tag'], pageRows, codec });
      const reader = await openChunk(bufferSource(bytes, 'random.qvr'));
      const pageCount = reader.footer.pageRowStarts.length - 1;
      const pages = Array.from({ length: pageCount }, (_, i) => i).filter(() => random() < 0.5);
      const columns = specs.map((s) => s.name).filter(() => random() < 0.7);
      const batch = await reader.read({ columns, pages });
      const rows = pages.flatMap((p) => {
        const start = reader.footer.pageRowStarts[p]!;
        return Array.from({ length: reader.footer.pageRowStarts[p + 1]! - start }, (_, i) => start + i);
      });
      for (const name of columns) assertSame(columnValues(batch, name), expected(specs.find((s) => s.name === name)!, rows), `${what} column ${name}`);
      const all = await reader.read();
      for (const spec of specs) assertSame(columnValues(all, spec.name), expected(spec), `${what} full ${spec.name}`);
    }
  });
});
