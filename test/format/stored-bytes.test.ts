import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferSource, openChunk, writeChunk } from '../../src/format/index.js';
import type { ByteSource } from '../../src/format/types.js';
import { storedBytes, storedBytesClass, STORED_BYTES_CLASS_MIN } from '../../src/format/buffer-pool.js';
import { type ColumnSpec, columnValues, makeBatches } from './helpers.js';

/**
 * Reads into reused memory (ChunkReader.readPages over a source with readRangesInto): the
 * stored bytes of a read go back to `storedBytes` once decoded, unless a decoded page views
 * them; a page held by the caller is never overwritten by later reads.
 */

/** The chunk's bytes as a source that copies ranges into the caller's buffer, as the local store does. */
function intoSource(bytes: Uint8Array, name: string): ByteSource & { intoReads: number } {
  const inner = bufferSource(bytes, name);
  const source = {
    ...inner,
    intoReads: 0,
    readRangesInto: async (ranges: readonly { offset: number; length: number }[], into: Uint8Array) => {
      source.intoReads++;
      let at = 0;
      for (const r of ranges) {
        into.set(bytes.subarray(r.offset, r.offset + r.length), at);
        at += r.length;
      }
    },
  };
  return source;
}

const T0 = 1_767_225_600_000n;
const n = 2048;
const specs: ColumnSpec[] = [
  { name: 'time', kind: 'time', values: Array.from({ length: n }, (_, i) => T0 + BigInt(i) * 1000n) },
  { name: 'p', kind: 'float64', values: Array.from({ length: n }, (_, i) => i * 0.25 - 100) },
  { name: 'v', kind: 'float64', values: Array.from({ length: n }, (_, i) => Math.round(Math.sin(i) * 1e4) / 100) },
  { name: 's', kind: 'utf8', values: Array.from({ length: n }, (_, i) => `s${i % 37}`) },
];
const chunk = writeChunk(makeBatches(specs), {
  timeColumn: 'time', tags: [], pageRows: 256,
  columns: { p: { encoding: 'plain', codec: 'none' }, s: { codec: 'none' } },
}).bytes;

test('storedBytesClass rounds reads up to powers of two from STORED_BYTES_CLASS_MIN', () => {
  assert.equal(storedBytesClass(1), STORED_BYTES_CLASS_MIN);
  assert.equal(storedBytesClass(STORED_BYTES_CLASS_MIN), STORED_BYTES_CLASS_MIN);
  assert.equal(storedBytesClass(STORED_BYTES_CLASS_MIN + 1), 2 * STORED_BYTES_CLASS_MIN);
  assert.equal(storedBytesClass(5 * STORED_BYTES_CLASS_MIN), 8 * STORED_BYTES_CLASS_MIN);
});

test('multi-page reads give their stored bytes back: the next read copies into the same memory, values exact', async () => {
  const source = intoSource(chunk, 'reuse.qvr');
  const reader = await openChunk(source);
  const reusedBefore = storedBytes.reused;
  const expected = (name: string) => specs.find((s) => s.name === name)!.values;
  for (let round = 0; round < 3; round++) {
    const batch = await reader.read({ columns: ['time', 'p', 'v', 's'] });
    for (const name of ['p', 'v', 's']) assert.deepEqual(columnValues(batch, name), expected(name), `${name}, round ${round}`);
    assert.deepEqual(columnValues(batch, 'time'), expected('time'), `time, round ${round}`);
  }
  assert.equal(source.intoReads, 3, 'every read went through readRangesInto');
  assert.ok(storedBytes.reused >= reusedBefore + 2, `reads 2 and 3 reused the first one's buffer (${storedBytes.reused - reusedBefore} reuses)`);
});

test('pages held across later reads stay unchanged, and none views a read buffer (plain pages under codec none included)', async () => {
  const reader = await openChunk(intoSource(chunk, 'held.qvr'));
  // One plain page under codec none, read alone: its values are copied out of the stored
  // bytes (plain.ts aligns them); were a decoder ever to return a view, readPages keeps that
  // read's buffer out of the pool (viewsBuffer), so it could not be overwritten either.
  const [held] = await reader.readColumnPages('p', [2]);
  const [text] = await reader.readColumnPages('s', [3]);
  const batch = await reader.read({ columns: ['time', 'p', 'v', 's'], pages: [1, 2, 3] });
  assert.ok(held !== undefined && held.values.kind === 'f64' && text !== undefined && text.values.kind === 'utf8');
  for (const b of [held.values.values.buffer, text.values.data.buffer, text.values.offsets.buffer, ...batch.data.children.map((c) => c.values.buffer)]) {
    assert.equal(storedBytes.isLent(b), false, 'no decoded page views a lent read buffer');
  }
  const copies = [Float64Array.from(held.values.values), Uint8Array.from(text.values.data), JSON.stringify(['p', 'v', 's'].map((c) => columnValues(batch, c)))];
  for (let k = 0; k < 6; k++) {
    await reader.readColumnPages('p', [k]);
    await reader.readColumnPages('v', [0, 1, 2, 3]);
    await reader.read({ columns: ['p', 's'], pages: [k % 8] });
    await reader.read({ columns: ['time', 'p', 'v', 's'], pages: [1, 2, 3] });
  }
  assert.deepEqual(held.values.values, copies[0]);
  assert.deepEqual(text.values.data, copies[1]);
  assert.equal(JSON.stringify(['p', 'v', 's'].map((c) => columnValues(batch, c))), copies[2]);
});
