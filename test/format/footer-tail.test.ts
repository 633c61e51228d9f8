import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { CorruptChunkError } from '../../src/errors.js';
import { bufferSource, openChunk, TAIL_READ_BYTES, writeChunk } from '../../src/format/index.js';
import { type ColumnSpec, countingSource, makeBatches, rng } from './helpers.js';

/** The footer region's length, from the trailer. */
function footerBytesOf(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 16, true);
}

test('openChunk reads a small footer with the trailer in one read of TAIL_READ_BYTES', async () => {
  const n = 100;
  const bytes = writeChunk(makeBatches([
    { name: 'time', kind: 'time', values: Array.from({ length: n }, (_, i) => BigInt(i)) },
    { name: 'v', kind: 'float64', values: Array.from({ length: n }, (_, i) => i / 7) },
  ]), { timeColumn: 'time', tags: [], pageRows: 16 }).bytes;
  const source = countingSource(bufferSource(bytes, 'small.qvr'));
  await openChunk(source);
  assert.deepEqual(source.calls, [`read ${Math.max(0, bytes.length - TAIL_READ_BYTES)}+${Math.min(bytes.length, TAIL_READ_BYTES)}`]);
});

test('a footer larger than TAIL_READ_BYTES takes a second read once; later opens read as much tail at once', async () => {
  // 30 columns of random floats over 200 one-row pages: a zstd footer well above 16 KiB.
  const random = rng(7);
  const n = 200;
  const specs: ColumnSpec[] = [{ name: 'time', kind: 'time', values: Array.from({ length: n }, (_, i) => BigInt(i)) }];
  for (let c = 0; c < 30; c++) specs.push({ name: `f${c}`, kind: 'float64', values: Array.from({ length: n }, () => random()) });
  const bytes = writeChunk(makeBatches(specs), { timeColumn: 'time', tags: [], pageRows: 1 }).bytes;
  const footerBytes = footerBytesOf(bytes);
  assert.ok(footerBytes + 16 > TAIL_READ_BYTES, `footer of ${footerBytes} bytes`);
  const first = countingSource(bufferSource(bytes, 'wide.qvr'));
  await openChunk(first);
  assert.ok(first.reads <= 2, first.calls.join('; '));
  for (let i = 0; i < 2; i++) {
    const again = countingSource(bufferSource(bytes, 'wide.qvr'));
    const reader = await openChunk(again);
    assert.deepEqual(again.calls, [`read ${bytes.length - footerBytes - 16}+${footerBytes + 16}`], 'one read of the footer and trailer');
    assert.equal(reader.footer.columns.length, 31);
  }
});

test('a footer that fails validation (its CRC holding) does not grow later tail reads', async () => {
  const random = rng(11);
  const n = 200;
  const specs: ColumnSpec[] = [{ name: 'time', kind: 'time', values: Array.from({ length: n }, (_, i) => BigInt(i)) }];
  for (let c = 0; c < 30; c++) specs.push({ name: `f${c}`, kind: 'float64', values: Array.from({ length: n }, () => random()) });
  const wide = writeChunk(makeBatches(specs), { timeColumn: 'time', tags: [], pageRows: 1 }).bytes;
  await openChunk(bufferSource(wide, 'wide.qvr'));
  // The tail reads before (as much as the largest valid footer met in this process so far).
  const before = countingSource(bufferSource(wide, 'wide.qvr'));
  await openChunk(before);
  assert.equal(before.reads, 1, before.calls.join('; '));
  const expected = before.calls;
  // A hostile chunk: 4 MiB of footer that is no JSON, under a CRC that holds.
  const text = Buffer.alloc(4 * 1024 * 1024, 0x20);
  text[0] = 0x7b;
  const region = new Uint8Array(8 + text.length);
  new DataView(region.buffer).setUint32(4, text.length, true);
  region.set(text, 8);
  const hostile = new Uint8Array(4 + region.length + 16);
  hostile.set([0x51, 0x56, 0x52, 0x31], 0);
  hostile.set(region, 4);
  const trailer = new DataView(hostile.buffer, 4 + region.length);
  trailer.setUint32(0, region.length, true);
  trailer.setUint32(4, crc32(region), true);
  trailer.setUint32(8, 1, true);
  hostile.set([0x51, 0x56, 0x52, 0x31], hostile.length - 4);
  await assert.rejects(openChunk(bufferSource(hostile, 'hostile.qvr')), CorruptChunkError);
  const again = countingSource(bufferSource(wide, 'wide.qvr'));
  await openChunk(again);
  assert.deepEqual(again.calls, expected, 'the tail read is the valid wide footer\'s, not the hostile one\'s 4 MiB');
});
