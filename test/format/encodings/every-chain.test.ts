import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferSource, openChunk, writeChunk } from '../../../src/format/index.js';
import { knownEncodings } from '../../../src/format/encodings/registry.js';
import { isIntChain } from '../../../src/format/encodings/ints.js';
import { type ColumnSpec, columnValues, makeBatches } from '../helpers.js';

/**
 * A chunk written with each chain the registry knows (forced per column) reads back value by
 * value, names the chain in its footer and verifies with a decode of every page: old chunks of
 * any chain keep reading whatever the chains' code looks like (the golden bytes per id are in
 * encodings.test.ts). A new chain is covered here as soon as it is in the table.
 */
const ROWS = 700;
const PAGE_ROWS = 200; // four pages, the last one short (≤ 256 distinct times a page, for dict)

// Values every integer chain takes: ascending (delta>gcd>rans), a steady rate
// (dod), ≤ 256 distinct (dict), a gcd of 7; with nulls.
const ints = Array.from({ length: ROWS }, (_, i) => (i % 50 === 13 ? null : 1_000_000n + BigInt(Math.floor(i / 3) * 7)));
const decimals = ints.map((v) => (v === null ? null : Number(v) / 100));
const tags = Array.from({ length: ROWS }, (_, i) => `host_${Math.floor(i / 40)}`);
const times = Array.from({ length: ROWS }, (_, i) => 1_767_225_600_000n + BigInt(i) * 1000n);

function specs(): ColumnSpec[] {
  return [
    { name: 'time', kind: 'time', values: times },
    { name: 'host', kind: 'tag', values: tags },
    { name: 'n', kind: 'int64', values: ints },
    { name: 'x', kind: 'float64', values: decimals },
  ];
}

/** Which columns a chain applies to: integer chains to time, int64 and tag codes; alp> and bss to doubles. */
function columnsFor(chain: string): string[] {
  if (chain === 'plain') return ['time', 'host', 'n', 'x'];
  if (isIntChain(chain)) return ['time', 'host', 'n'];
  if (chain.startsWith('alp>') || chain === 'bss') return ['x'];
  throw new Error(`no column in this test takes ${chain}: add one`);
}

test('a chunk written with every chain reads back exactly and verifies', async () => {
  const chains = knownEncodings();
  assert.ok(chains.length >= 30, `every chain listed (${chains.length})`);
  for (const chain of chains) {
    const forced = columnsFor(chain);
    const { bytes } = writeChunk(makeBatches(specs()), {
      timeColumn: 'time', tags: ['host'], pageRows: PAGE_ROWS, codec: 'none',
      columns: Object.fromEntries(forced.map((c) => [c, { encoding: chain, ...(chain === 'plain' || chain === 'rle' ? { validityEncoding: chain } : {}) }])),
    });
    const reader = await openChunk(bufferSource(bytes, `${chain}.qvr`));
    for (const name of forced) {
      const column = reader.footer.columns.find((c) => c.name === name)!;
      assert.deepEqual(column.pages.map((p) => p.encoding), [chain, chain, chain, chain], `${chain}: the footer of ${name} names it`);
    }
    const batch = await reader.read();
    assert.deepEqual(columnValues(batch, 'time'), times, `${chain}: time`);
    assert.deepEqual(columnValues(batch, 'host'), tags, `${chain}: host`);
    assert.deepEqual(columnValues(batch, 'n'), ints, `${chain}: n`);
    assert.deepEqual(columnValues(batch, 'x'), decimals, `${chain}: x`);
    const verified = await reader.verify({ decode: true });
    assert.deepEqual(verified.errors, [], `${chain}: verify`);
  }
});
