import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBuffer } from '../../src/table/write-buffer.js';
import { compareStrings } from '../../src/format/stats.js';
import { partitionOf } from '../../src/core/time.js';
import type { Row, TableSchema } from '../../src/core/types.js';
import { rng } from '../io/helpers.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

/** Every row of the drained chunks, as [partition, tags…, time, i, f, b, s] tuples, in chunk order. */
function drained(buffer: WriteBuffer, rowsMax: number, tags: string[], inPlace: boolean): { rows: string[][]; chunkRows: number[]; series: number } {
  const series = new Set<string>();
  const chunks = buffer.drain('day', rowsMax, series, inPlace);
  const rows: string[][] = [];
  for (const c of chunks) {
    const cols = c.batch.schema.fields.map((f) => f.name);
    const time = c.batch.getChild('time')!.data[0]!.values as BigInt64Array;
    const vectors = cols.map((name) => c.batch.getChild(name)!);
    for (let r = 0; r < c.batch.numRows; r++) {
      const row = [c.partition];
      for (const t of tags) row.push(String(vectors[cols.indexOf(t)]!.get(r)));
      for (const c of ['i', 'f', 'b', 's']) row.push(String(vectors[cols.indexOf(c)]!.get(r)));
      row.splice(1 + tags.length, 0, time[r]!.toString());
      rows.push(row);
    }
  }
  return { rows, chunkRows: chunks.map((c) => c.batch.numRows), series: series.size };
}

/** The same rows sorted the slow way: partition, then each tag in code-point order, then time, then arrival. */
function naive(input: Row[], tags: string[]): string[][] {
  const keyed = input.map((row, k) => ({ k, row, day: new Date(Math.floor(Number(row.time) / DAY) * DAY).toISOString().slice(0, 10) }));
  keyed.sort((a, b) => {
    if (a.day !== b.day) return a.day < b.day ? -1 : 1;
    for (const t of tags) { const c = compareStrings(String(a.row[t]), String(b.row[t])); if (c !== 0) return c; }
    const ta = Number(a.row.time), tb = Number(b.row.time);
    return ta !== tb ? ta - tb : a.k - b.k;
  });
  return keyed.map(({ row, day }) => [day, ...tags.map((t) => String(row[t])), (BigInt(row.time as number) * 1_000_000n).toString(), ...['i', 'f', 'b', 's'].map((c) => String(row[c] ?? null))]);
}

for (const [label, cardinality, inPlace] of [['few series (presence-table renumbering)', 5, false], ['many tag values (map renumbering), reordered in place', 3000, true]] as const) {
  test(`write buffer drain: sorted by partition, series, time; chunks cut at rowsMax; ${label}`, () => {
    const random = rng(cardinality);
    const tags = ['host', 'region', 'rack'];
    const schema: TableSchema = { time: 'time', timeUnit: 'ns', tags, fields: [{ name: 'i', type: 'int64', nullable: true }, { name: 'f', type: 'float64', nullable: true }, { name: 'b', type: 'bool', nullable: true }, { name: 's', type: 'utf8', nullable: true }] };
    const buffer = new WriteBuffer(schema, 64);
    const rows: Row[] = [];
    for (let k = 0; k < 6000; k++) {
      rows.push({
        // Out of order, across three days, with repeated timestamps; half within 4 s of a
        // midnight, where 64-bit ns times differ only in their low 32 bits.
        time: random() < 0.5 ? T0 + Math.floor(random() * 3 * DAY / 1000) * 1000 : T0 + Math.floor(random() * 3) * DAY + Math.floor(random() * 4000),
        host: `h${Math.floor(random() * cardinality)}`, region: ['eu', 'us', 'ü'][Math.floor(random() * 3)]!, rack: String(Math.floor(random() * cardinality)),
        i: BigInt.asIntN(64, BigInt(Math.floor(random() * 2 ** 32)) << 31n), f: random() < 0.1 ? null : random(),
        b: random() < 0.1 ? null : random() < 0.5, s: random() < 0.1 ? null : `s${k}`,
      });
    }
    // One series out of order within one 2^32 ns window (equal high halves).
    const window = Number((BigInt(T0 + DAY) * 1_000_000n / 2n ** 32n + 1n) * 2n ** 32n / 1_000_000n) + 1;
    for (const ms of [3000, 1000, 2000, 500, 2500]) rows.push({ time: window + ms, host: 'solo', region: 'eu', rack: '0', i: BigInt(ms), f: ms, b: true, s: 'solo' });
    for (let at = 0; at < rows.length; at += 700) buffer.appendRows(rows.slice(at, at + 700));
    const expected = naive(rows, tags);
    const got = drained(buffer, 1000, tags, inPlace);
    assert.deepEqual(got.rows, expected);
    assert.ok(got.chunkRows.every((n) => n <= 1000 && n > 0), `chunk rows ${got.chunkRows}`);
    assert.equal(got.series, new Set(rows.map((r) => tags.map((t) => r[t]).join('\u0000'))).size);
    assert.equal(buffer.rows, 0);
  });
}

test('write buffer drain: hour and month partitions hold exactly their rows, in or out of time order', () => {
  const random = rng(7);
  const schema: TableSchema = { time: 'time', timeUnit: 'us', tags: ['h'], fields: [{ name: 'v', type: 'float64', nullable: true }] };
  for (const by of ['hour', 'month'] as const) {
    for (const sorted of [true, false]) {
      const buffer = new WriteBuffer(schema, 16);
      const span = by === 'hour' ? 5 * 3_600_000 : 95 * DAY;
      let times = Array.from({ length: 3000 }, () => T0 - DAY + Math.floor(random() * span));
      if (sorted) times = times.sort((a, b) => a - b);
      buffer.appendRows(times.map((time, k) => ({ time, h: `h${k % 4}`, v: k })));
      const chunks = buffer.drain(by, 100_000, undefined, sorted);
      const seen: number[] = [];
      for (const c of chunks) {
        const t = c.batch.getChild('time')!.data[0]!.values as BigInt64Array;
        for (const value of t) {
          assert.equal(partitionOf(value, 'us', by), c.partition, `${by} ${sorted}`);
          seen.push(Number(value / 1000n));
        }
      }
      assert.deepEqual(seen.sort((a, b) => a - b), [...times].sort((a, b) => a - b));
      assert.equal(new Set(chunks.map((c) => c.partition)).size, chunks.length);
    }
  }
});
