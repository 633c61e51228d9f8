/** Query edge cases: schema evolution inside a scan, limits, huge time spans, errors, abort, projection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordBatch } from 'apache-arrow';
import type { ScanOptions, TableSchema } from '../../src/core/types.js';
import type { QueryableTable } from '../../src/scan/query-types.js';
import { runQuery } from '../../src/scan/query.js';
import { AbortError, SchemaError, UsageError } from '../../src/errors.js';
import { FakeTable, makeBatch, tableRows, type TestRow } from './query-fixture.test.js';

const schema: TableSchema = {
  time: 'time', timeUnit: 'ns', tags: ['host', 'dc'],
  fields: [{ name: 'v', type: 'float64' }, { name: 'w', type: 'int64' }, { name: 'flag', type: 'bool' }],
};
const DAY_NS = 86_400_000_000_000n;

/** A table whose first batch predates the 'dc' tag and the 'w' field. */
class EvolvedTable implements QueryableTable {
  readonly schema = schema;
  scans: ScanOptions[] = [];
  constructor(private readonly batches: RecordBatch[]) {}
  async *scan(options: ScanOptions): AsyncIterable<RecordBatch> {
    this.scans.push(options);
    yield* this.batches;
  }
}

test('batches without a tag or field column count as null tags and null values', async () => {
  const old: TestRow[] = [{ time: 1n, host: 'a', v: 1, flag: true }, { time: 2n, host: 'a', v: 2, flag: false }];
  const recent: TestRow[] = [{ time: 3n, host: 'a', dc: 'x', v: 3, w: 30n, flag: true }];
  const oldBatch = makeBatch({ ...schema, tags: ['host'], fields: schema.fields.filter((f) => f.name !== 'w') }, old);
  const table = new EvolvedTable([oldBatch, makeBatch(schema, recent)]);
  const got = tableRows(await runQuery(table, { by: ['dc'], agg: { v: 'sum', w: ['count', 'max'], '*': 'count' } }));
  assert.deepEqual(got.map((r) => [r.dc, r.sum_v, r.count_w, r.max_w, r.count]), [['x', 3, 1n, 30n, 1n], [null, 3, 0n, null, 2n]]);
  const latest = tableRows(await runQuery(table, { latest: true, by: ['host'] }));
  assert.deepEqual(latest.map((r) => [r.host, r.time, r.v, r.w]), [['a', 3n, 3, 30n]]);
  assert.deepEqual(table.scans[0]!.columns!.sort(), ['dc', 'v', 'w'], 'projection: only the needed columns');
});

test('a batch spanning more than 2^53 ns still buckets exactly', async () => {
  const rows: TestRow[] = [
    { time: 5n, host: 'a', dc: 'x', v: 1, w: 1n, flag: true },
    { time: 20_000n * DAY_NS + 7n, host: 'a', dc: 'x', v: 2, w: 2n, flag: true },
    { time: 20_000n * DAY_NS + 9n, host: 'a', dc: 'x', v: 4, w: 3n, flag: true },
  ];
  const got = tableRows(await runQuery(new FakeTable(schema, rows), { every: '1d', agg: { v: ['sum', 'first', 'last'] } }));
  assert.deepEqual(got.map((r) => [r.time, r.sum_v, r.first_v, r.last_v]), [[0n, 1, 1, 1], [20_000n * DAY_NS, 6, 2, 4]]);
});

test('limit caps output rows; latest honours columns', async () => {
  const rows: TestRow[] = Array.from({ length: 50 }, (_, i) => ({ time: BigInt(i) * 1_000_000_000n, host: `h${i % 5}`, dc: 'x', v: i, w: BigInt(i), flag: i % 2 === 0 }));
  const table = new FakeTable(schema, rows, { batchRowsMax: 7 });
  const limited = await runQuery(table, { every: '10s', by: ['host'], agg: { v: 'max' }, limit: 3 });
  assert.equal(limited.numRows, 3);
  const latest = await runQuery(table, { latest: true, columns: ['flag'] });
  assert.deepEqual(latest.schema.fields.map((f) => f.name), ['time', 'host', 'dc', 'flag']);
  assert.deepEqual(tableRows(latest).map((r) => [r.host, r.time, r.flag]), [
    ['h0', 45_000_000_000n, false], ['h1', 46_000_000_000n, true], ['h2', 47_000_000_000n, false], ['h3', 48_000_000_000n, true], ['h4', 49_000_000_000n, false]]);
});

test('invalid queries are typed errors that name the problem', async () => {
  const table = new FakeTable(schema, []);
  const cases: [object, typeof UsageError | typeof SchemaError, RegExp][] = [
    [{ agg: { nope: 'max' } }, SchemaError, /"nope" is not a field/],
    [{ agg: { host: 'count' } }, SchemaError, /it is a tag/],
    [{ agg: { flag: 'sum' } }, SchemaError, /needs a numeric field, it is bool/],
    [{ agg: { '*': 'sum' } }, UsageError, /'\*' only takes count/],
    [{ agg: { v: 'percentile:1.5' } }, UsageError, /unknown aggregation/],
    [{ agg: { v: 'median' } }, UsageError, /unknown aggregation "median"/],
    [{ agg: { v: ['max', 'max'] } }, UsageError, /max_v asked twice/],
    [{ latest: true, agg: { v: 'max' } }, UsageError, /latest/],
    [{ by: ['rack'], agg: { v: 'max' } }, SchemaError, /"rack" is not a tag/],
    [{}, UsageError, /needs agg/],
    [{ every: '1 hour', agg: { v: 'max' } }, UsageError, /every/],
    [{ every: '1d', timeZone: 'Nowhere/City', agg: { v: 'max' } }, UsageError, /time zone/],
    [{ agg: { v: 'max' }, filter: { field: 'time', op: '>', value: 1 } }, UsageError, /use from\/to/],
  ];
  for (const [options, type, message] of cases) {
    await assert.rejects(runQuery(table, options), (e: Error) => e instanceof type && message.test(e.message), JSON.stringify(options));
  }
});

test('an aborted signal stops the query', async () => {
  const rows: TestRow[] = Array.from({ length: 100 }, (_, i) => ({ time: BigInt(i), host: 'a', dc: 'x', v: i, w: 1n, flag: true }));
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(runQuery(new FakeTable(schema, rows, { batchRowsMax: 10 }), { agg: { v: 'sum' }, signal: controller.signal }), AbortError);
});

test('a tag column arriving as plain Utf8 groups like a dictionary one', async () => {
  const plain = makeBatch({ time: 'time', timeUnit: 'ns', tags: [], fields: [{ name: 'host', type: 'utf8' }, { name: 'v', type: 'float64' }] },
    [{ time: 1n, host: 'b', v: 1 }, { time: 2n, host: 'a', v: 2 }, { time: 3n, host: null, v: 4 }, { time: 4n, host: 'b', v: 8 }]);
  const dict = makeBatch({ time: 'time', timeUnit: 'ns', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] }, [{ time: 5n, host: 'a', v: 16 }]);
  const table = new EvolvedTable([plain, dict]);
  const got = tableRows(await runQuery(table, { by: ['host'], agg: { v: 'sum' } }));
  assert.deepEqual(got.map((r) => [r.host, r.sum_v]), [['a', 18], ['b', 9], [null, 4]]);
});

test('latest reads fields only from the earliest series end on (two phases)', async () => {
  const rows: TestRow[] = [];
  for (let i = 0; i < 100; i++) rows.push({ time: BigInt(i) * 1_000_000_000n, host: 'a', dc: 'x', v: i, w: BigInt(i), flag: true });
  for (let i = 0; i < 60; i++) rows.push({ time: BigInt(i) * 1_000_000_000n + 1n, host: 'b', dc: 'x', v: -i, w: 0n, flag: false });
  const table = new FakeTable(schema, rows, { batchRowsMax: 9 });
  const got = tableRows(await runQuery(table, { latest: true, columns: ['v'] }));
  assert.deepEqual(got.map((r) => [r.host, r.time, r.v]), [['a', 99_000_000_000n, 99], ['b', 59_000_000_001n, -59]]);
  assert.equal(table.scans.length, 2);
  assert.deepEqual(table.scans[0]!.columns!.sort(), ['dc', 'host'], 'phase 1: time and tags only');
  assert.equal(table.scans[1]!.from, 59_000_000_001n, 'phase 2 starts at the earliest series end (epoch ns)');
  const empty = await runQuery(new FakeTable(schema, []), { latest: true });
  assert.equal(empty.numRows, 0);
  assert.deepEqual(empty.schema.fields.map((f) => f.name), ['time', 'host', 'dc', 'v', 'w', 'flag']);
});
