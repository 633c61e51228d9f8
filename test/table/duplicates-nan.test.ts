/**
 * NaN payloads and -0 through the duplicate fold (issue 12's exactness, issue 15's policies):
 * a signalling NaN, a negative NaN with a payload, a quiet NaN with a payload and -0, each
 * written twice with null re-writes in between, come back bit for bit from the scan-time
 * fold (one chunk per write), the write-time fold (every write in one flush) and the
 * compaction fold, under last, first and keep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordBatch } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import type { Row } from '../../src/core/types.js';
import type { Table } from '../../src/table/table.js';

const BITS = [0x7ff0000000000001n, 0xfff8000000000123n, 0x7ff8000000000002n, 0x8000000000000000n];
const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);
const floatOf = (bits: bigint) => { U64[0] = bits; return F64[0]!; };
const hex = (bits: bigint | null) => (bits === null ? 'null' : `0x${bits.toString(16)}`);

/**
 * The writes, in order: point h<k> gets BITS[k], null, BITS[k+1], null; point g<k> gets BITS[k],
 * null, BITS[k], null (the same value twice). Each round is one list of rows.
 */
function rounds(): Row[][] {
  const out: Row[][] = [];
  for (let round = 0; round < 4; round++) {
    const rows: Row[] = [];
    BITS.forEach((_, k) => {
      const h = round === 0 ? BITS[k]! : round === 2 ? BITS[(k + 1) % BITS.length]! : null;
      const g = round % 2 === 0 ? BITS[k]! : null;
      rows.push({ time: 1_000, host: `h${k}`, f: h === null ? null : floatOf(h) });
      rows.push({ time: 1_000, host: `g${k}`, f: g === null ? null : floatOf(g) });
    });
    out.push(rows);
  }
  return out;
}

/** What each point holds under a policy, per host: the bits of each row, in write order. */
function expected(policy: 'last' | 'first' | 'keep'): Map<string, (bigint | null)[]> {
  const out = new Map<string, (bigint | null)[]>();
  BITS.forEach((b, k) => {
    const next = BITS[(k + 1) % BITS.length]!;
    if (policy === 'keep') {
      out.set(`h${k}`, [b, null, next, null]);
      out.set(`g${k}`, [b, null, b, null]);
    } else {
      out.set(`h${k}`, [policy === 'last' ? next : b]);
      out.set(`g${k}`, [b]);
    }
  });
  return out;
}

/** Per host, the bits of field f of each row scanned (series then time order, ties in write order). */
async function scanned(table: Table): Promise<Map<string, (bigint | null)[]>> {
  const out = new Map<string, (bigint | null)[]>();
  const take = (batch: RecordBatch) => {
    const f = batch.getChild('f')!.data[0]!;
    const bits = new BigUint64Array(f.values.buffer, f.values.byteOffset, f.length);
    const hosts = batch.getChild('host')!;
    for (let r = 0; r < batch.numRows; r++) {
      const host = String(hosts.get(r));
      let list = out.get(host);
      if (!list) out.set(host, (list = []));
      list.push(f.getValid(r) ? bits[r]! : null);
    }
  };
  for await (const batch of table.scan({ order: 'series' })) take(batch);
  return out;
}

function assertSame(got: Map<string, (bigint | null)[]>, want: Map<string, (bigint | null)[]>, label: string): void {
  const text = (m: Map<string, (bigint | null)[]>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([h, v]) => `${h}: ${v.map(hex).join(' ')}`);
  assert.deepEqual(text(got), text(want), label);
}

for (const policy of ['last', 'first', 'keep'] as const) {
  for (const how of ['one chunk per write (scan-time fold)', 'every write in one flush (write-time fold)'] as const) {
    test(`NaN payloads and -0 through the duplicate fold under '${policy}', ${how}, then compacted: bit for bit`, async () => {
      const db = await Quiver.open(new MemoryChunkManager(), { autoCompact: 0 });
      const table = await db.createTable('m', { tags: ['host'], fields: [{ name: 'f', type: 'float64' }], duplicates: policy });
      for (const rows of rounds()) {
        await table.append(rows);
        if (how.startsWith('one chunk')) await table.flush();
      }
      await table.flush();
      if (how.startsWith('one chunk')) assert.ok(table.currentManifest.chunks.length >= 4, 'a chunk per write');
      const want = expected(policy);
      assertSame(await scanned(table), want, `${policy}, ${how}: scan`);
      await table.compact();
      if (policy !== 'keep') assert.equal(table.currentManifest.chunks.length, 1, 'compacted into one chunk');
      assertSame(await scanned(table), want, `${policy}, ${how}: after compaction`);
      await db.close();
    });
  }
}
