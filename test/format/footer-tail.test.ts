import assert from 'node:assert/strict';
import { test } from 'node:test';
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
