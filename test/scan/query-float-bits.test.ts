/**
 * Aggregates that pick a stored value (first, last) return a float64 bit for bit: a NaN keeps
 * its payload and its signalling bit, -0 stays -0; also through gap filling ('previous'
 * copies the value). V8 silences or canonicalises a NaN stored in a JavaScript array, so the
 * result columns are built from typed arrays (src/scan/query-output.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Table as ArrowTable } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';

const T0 = Date.UTC(2026, 0, 1);
const fromBits = (b: bigint) => new Float64Array(new BigUint64Array([b]).buffer)[0]!;
const bitsOf = (t: ArrowTable, name: string) => {
  const col = t.getChild(name)!;
  const out: (string | null)[] = [];
  for (const d of col.data) {
    const v = d.values as Float64Array;
    const u = new BigUint64Array(v.buffer, v.byteOffset, v.length);
    for (let i = 0; i < d.length; i++) out.push(d.getValid(i) ? u[i]!.toString(16) : null);
  }
  return out;
};

const VALUES = [0x7ff8000000000001n, 0xfff0000000000abcn, 0x8000000000000000n, 0x7ff0000000000005n, 0xfff8dead0000beefn];

test('first and last return float64 values bit for bit, with and without gap filling', async () => {
  const db = await Quiver.open(new MemoryChunkManager('float-bits'));
  try {
    const t = await db.createTable('m', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    // host hI has one value at T0 + i seconds: every bucket of 1 s after it is filled from it.
    await t.append(VALUES.map((b, i) => ({ time: T0 + i * 1000, host: `h${i}`, v: fromBits(b) })));
    await t.flush();
    const want = VALUES.map((b) => b.toString(16));
    for (const agg of ['first', 'last'] as const) {
      const grouped = await t.query({ by: ['host'], agg: { v: [agg] } });
      assert.deepEqual(bitsOf(grouped, `${agg}_v`), want, `${agg} by host`);
      const bucketed = await t.query({ by: ['host'], every: '1s', agg: { v: [agg] } });
      assert.deepEqual(bitsOf(bucketed, `${agg}_v`), want, `${agg} by host every 1s`);
      const filled = await t.query({ by: ['host'], every: '1s', from: T0, to: T0 + 5000, fill: 'previous', agg: { v: [agg] } });
      // Rows by host then bucket: host i has nulls before second i, then its value to the end.
      const expected = VALUES.flatMap((b, i) => Array.from({ length: 5 }, (_, s) => (s < i ? null : b.toString(16))));
      assert.deepEqual(bitsOf(filled, `${agg}_v`), expected, `${agg} filled with previous`);
    }
  } finally {
    await db.close();
  }
});
