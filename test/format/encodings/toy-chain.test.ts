import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferSource, openChunk, writeChunk } from '../../../src/format/index.js';
import { registerIntChain } from '../../../src/format/encodings/ints.js';
import { decodePage, encodePage, knownEncodings } from '../../../src/format/encodings/registry.js';
import { EncodingError } from '../../../src/format/encodings/types.js';
import { type ColumnSpec, columnValues, makeBatches } from '../helpers.js';
import { reversed } from './toy-chain.js';

registerIntChain(reversed); // the one registration line (docs/extending.md)

const ROWS = 500;
const ints = Array.from({ length: ROWS }, (_, i) => (i % 17 === 0 ? null : BigInt(i * i) - 40_000n));
const decimals = Array.from({ length: ROWS }, (_, i) => (i % 23 === 0 ? null : ((i * 37) % 1000 - 300) / 100));
const specs = (): ColumnSpec[] => [
  { name: 'time', kind: 'time', values: Array.from({ length: ROWS }, (_, i) => 1_000n + BigInt(i)) },
  { name: 'n', kind: 'int64', values: ints },
  { name: 'x', kind: 'float64', values: decimals },
];

test('a chain registered from a test file round-trips a column through a chunk (int64, and doubles through ALP)', async () => {
  const { bytes } = writeChunk(makeBatches(specs()), {
    timeColumn: 'time', tags: [], pageRows: 200,
    columns: { n: { encoding: 'test-reversed' }, x: { encoding: 'alp>test-reversed' } },
  });
  const reader = await openChunk(bufferSource(bytes, 'toy.qvr'));
  const encodings = (name: string) => reader.footer.columns.find((c) => c.name === name)!.pages.map((p) => p.encoding);
  assert.deepEqual(encodings('n'), ['test-reversed', 'test-reversed', 'test-reversed']);
  assert.deepEqual(encodings('x'), ['alp>test-reversed', 'alp>test-reversed', 'alp>test-reversed']);
  const batch = await reader.read();
  assert.deepEqual(columnValues(batch, 'n'), ints);
  assert.deepEqual(columnValues(batch, 'x'), decimals);
  assert.deepEqual((await reader.verify({ decode: true })).errors, []);
  assert.ok(knownEncodings().includes('test-reversed') && knownEncodings().includes('alp>test-reversed'));
});

test('the picker never writes a registered chain: only a forced encoding does', () => {
  const values = BigInt64Array.from({ length: 4096 }, (_, i) => BigInt(i * 3 % 1000));
  for (const preferSize of [false, true]) {
    assert.ok(!encodePage({ kind: 'i64', values }, { preferSize }).encoding.includes('test-'));
  }
  const page = encodePage({ kind: 'i64', values }, { encoding: 'test-reversed' });
  const back = decodePage(page.encoding, page.bytes, 'i64', values.length);
  assert.deepEqual(back, { kind: 'i64', values });
});

test('registered ids are reserved: only test-<name>, never twice', () => {
  assert.throws(() => registerIntChain({ ...reversed, id: 'zigzag>varint' }), /test-<name>/);
  assert.throws(() => registerIntChain({ ...reversed, id: 'test-a>b' }), /test-<name>/);
  assert.throws(() => registerIntChain(reversed), /registered twice/);
});

test('a corrupt toy page is an EncodingError (the registry checks every chain ends where its page does)', () => {
  const page = encodePage({ kind: 'i64', values: BigInt64Array.from([1n, 2n, 3n]) }, { encoding: 'test-reversed' });
  assert.throws(() => decodePage('test-reversed', page.bytes.subarray(0, page.bytes.length - 1), 'i64', 3), EncodingError);
  assert.throws(() => decodePage('test-reversed', Uint8Array.from([...page.bytes, 0]), 'i64', 3), EncodingError);
});
