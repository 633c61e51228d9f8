/**
 * Values at and beyond the ranges a table holds: times outside the int64 range of the
 * table's unit and integers outside int64 / uint64 (or not exactly a double) are errors
 * naming the value and the range, through every way in — library rows, Arrow batches,
 * Arrow IPC and Parquet files, CSV cells, scan bounds — never wrapped or rounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DateDay, Field, Float64, Int32, Int64, makeData, RecordBatch, RecordBatchStreamWriter, Schema, Struct, TimestampSecond, Uint64, Utf8,
  vectorFromArray, type Data,
} from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { InputError, SchemaError, UsageError } from '../../src/errors.js';
import { importFiles } from '../../src/io/import.js';
import { civilFromDays, daysFromCivil, formatTime, parseIsoNs, partitionOf, timeRangeText, toTableTime } from '../../src/core/time.js';
import { rejection, rowsOf } from '../io/helpers.js';
import { rng } from '../../bench/rng.js';

const NS_RANGE = '1677-09-21T00:12:43.145224192Z … 2262-04-11T23:47:16.854775807Z for ns';
const Y2300_S = BigInt(Date.UTC(2300, 0, 1) / 1000);

async function fresh() {
  return Quiver.open(new MemoryChunkManager());
}

function batchOf(columns: Record<string, Data>): RecordBatch {
  const fields = Object.entries(columns).map(([n, d]) => new Field(n, d.type, true));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: Object.values(columns)[0]!.length, nullCount: 0, children: Object.values(columns) }));
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-range-'));
  try { return await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('the range of each unit is the int64 range, and the messages print it', () => {
  assert.equal(timeRangeText('ns'), NS_RANGE);
  assert.equal(timeRangeText('s'), '-292277022657-01-27T08:29:52Z … +292277026596-12-04T15:30:07Z for s');
  assert.equal(toTableTime('1677-09-21T00:12:43.145224192Z', 'ns'), -(2n ** 63n));
  assert.equal(toTableTime('2262-04-11T23:47:16.854775807Z', 'ns'), 2n ** 63n - 1n);
  assert.equal(toTableTime(2n ** 63n - 1n, 'ns'), 2n ** 63n - 1n);
  for (const [input, shown] of [['2300-01-01T00:00:00Z', '"2300-01-01T00:00:00Z"'], ['1600-01-01', '"1600-01-01"'], [2n ** 63n, '9223372036854775808 (epoch ns)'],
    ['2262-04-11T23:47:16.854775808Z', '"2262-04-11T23:47:16.854775808Z"'], [new Date(Date.UTC(2300, 0, 1)), '2300-01-01T00:00:00.000Z'], [1e16, '10000000000000000 (epoch ms)']] as const) {
    assert.throws(() => toTableTime(input, 'ns', 'from'), (e: unknown) => e instanceof UsageError && e.message === `from: ${shown} is outside the representable range ${NS_RANGE}`, String(input));
  }
  // Coarser units reach far: year 2300 and 1600 are plain values there, and bigint ns beyond int64 convert.
  assert.equal(toTableTime('2300-01-01T00:00:00Z', 'us'), Y2300_S * 1_000_000n);
  assert.equal(toTableTime(2n ** 64n, 's'), 2n ** 64n / 1_000_000_000n + 1n); // a bound finer than the unit rounds up
  assert.equal(toTableTime('-001000-06-01T12:00:00Z', 's'), BigInt(daysFromCivil(-1000, 6, 1)) * 86400n + 43200n);
});

test('ISO-8601 policy: real dates, hours 00–23, no leap second, offsets to ±23:59, fractions to the nanosecond, no zone = UTC', () => {
  const ns = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
  // Accepted forms.
  assert.equal(parseIsoNs('2026-01-01T00:00:00Z'), ns('2026-01-01T00:00:00Z'));
  assert.equal(parseIsoNs('2026-01-01 00:00:00'), ns('2026-01-01T00:00:00Z'), 'no zone means UTC');
  assert.equal(parseIsoNs('2026-01-01t00:00z'), ns('2026-01-01T00:00:00Z'));
  assert.equal(parseIsoNs('2026-01-01'), ns('2026-01-01T00:00:00Z'));
  assert.equal(parseIsoNs('2026-01-01T01:30:00+01:30'), ns('2026-01-01T00:00:00Z'));
  assert.equal(parseIsoNs('2025-12-31T23:00:00-0100'), ns('2026-01-01T00:00:00Z'));
  assert.equal(parseIsoNs('2026-01-01T23:00:00+23:59'), ns('2025-12-31T23:01:00Z'));
  assert.equal(parseIsoNs('2026-01-01T00:00:00,5Z'), ns('2026-01-01T00:00:00Z') + 500_000_000n);
  assert.equal(parseIsoNs('2026-01-01T00:00:00.123456789000Z'), ns('2026-01-01T00:00:00Z') + 123_456_789n, 'zeros past ns');
  assert.equal(parseIsoNs('2024-02-29'), ns('2024-02-29T00:00:00Z'));
  assert.equal(parseIsoNs('+012026-01-01T00:00:00Z'), BigInt(daysFromCivil(12026, 1, 1)) * 86_400_000_000_000n);
  // Refused, each with its reason.
  for (const [text, reason] of [
    ['2026-01-01T00:00:00+25:00', 'offset +25:00 is beyond ±23:59'], ['2026-01-01T00:00:00-24:00', 'offset -24:00 is beyond ±23:59'],
    ['2026-01-01T00:00:00+01:60', 'offset +01:60 is beyond ±23:59'], ['2026-02-30', 'day 30 is not in 2026-02'], ['2025-02-29', 'day 29 is not in 2025-02'],
    ['2026-04-31T00:00:00Z', 'day 31 is not in 2026-04'], ['2026-13-01', 'month 13 is not 1–12'], ['2026-01-01T24:00:00Z', 'hour 24 is not 00–23'],
    ['2026-01-01T00:60:00Z', 'minute 60 is not 00–59'], ['2016-12-31T23:59:60Z', 'second 60 (a leap second) has no Unix time'],
    ['2026-01-01T00:00:00.1234567891Z', 'a fraction of a second finer than nanoseconds'], ['2026-01-01T00:00:00.Z', 'no digits after the decimal point'],
    ['2026-01-01T00:00:00Q', 'unexpected text after the time'], ['yesterday', 'not a date YYYY-MM-DD'],
  ] as const) {
    assert.throws(() => parseIsoNs(text, 'at'), (e: unknown) => e instanceof UsageError && e.message === `at: expected ISO-8601 like 2026-01-01T00:00:00Z, got ${JSON.stringify(text)} (${reason})`, text);
  }
});

test('formatTime and the civil calendar agree with Date over its whole range, and partitions of far years have keys', () => {
  const random = rng(0x71e);
  for (let k = 0; k < 20_000; k++) {
    const ms = Math.floor((random() * 2 - 1) * 8.64e15);
    const iso = new Date(ms).toISOString();
    assert.equal(formatTime(BigInt(ms), 'ms', false), iso, String(ms));
    const days = Math.floor(ms / 86_400_000);
    const { y, m, d } = civilFromDays(days);
    assert.equal(daysFromCivil(y, m, d), days);
  }
  assert.equal(formatTime(2n ** 63n - 1n, 'ns'), '2262-04-11T23:47:16.854775807Z');
  assert.equal(formatTime(1_767_225_600_500_000_000n, 'ns'), '2026-01-01T00:00:00.5Z');
  const far = toTableTime('+012026-03-05T13:10:00Z', 's');
  assert.deepEqual([partitionOf(far, 's', 'hour'), partitionOf(far, 's', 'day'), partitionOf(far, 's', 'month')], ['+012026-03-05T13', '+012026-03-05', '+012026-03']);
});

test('library rows and writePoint: out-of-range times and integers are errors naming row, column, value and range', async () => {
  const db = await fresh();
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'i', type: 'int64' }, { name: 'u', type: 'uint64' }, { name: 'f', type: 'float64' }] });
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ time: '2300-01-01T00:00:00Z' }, /^row 0 column time: "2300-01-01T00:00:00Z" is outside the representable range 1677-09-21T00:12:43\.145224192Z … 2262-04-11T23:47:16\.854775807Z for ns$/],
    [{ time: 2n ** 63n }, /^row 0 column time: 9223372036854775808 \(epoch ns\) is outside the representable range .* for ns$/],
    [{ i: 2n ** 63n }, /^row 0: column i is int64: 9223372036854775808n is outside the int64 range -9223372036854775808 … 9223372036854775807$/],
    [{ i: -(2n ** 63n) - 1n }, /column i is int64: -9223372036854775809n is outside the int64 range/],
    [{ u: 2n ** 64n }, /^row 0: column u is uint64: 18446744073709551616n is outside the uint64 range 0 … 18446744073709551615$/],
    [{ u: -1n }, /column u is uint64: -1n is outside the uint64 range/],
    [{ u: -1 }, /column u is uint64: -1 is outside the uint64 range/],
    [{ i: 1.5 }, /^row 0: column i is int64: 1\.5 is not an integer$/],
    [{ i: 2 ** 60 }, /^row 0: column i is int64: 1152921504606847000 is beyond 2\^53, where a number no longer holds every integer: pass a bigint$/],
    [{ i: NaN }, /column i is int64: NaN is not an integer/],
    [{ f: 2n ** 60n + 1n }, /^row 0: column f is float64: 1152921504606846977n is not exactly representable as float64/],
  ];
  for (const [extra, message] of refused) {
    const error = await rejection(t.append([{ time: Date.UTC(2026, 0, 1), host: 'a', ...extra }]));
    assert.ok(error instanceof SchemaError, String(error));
    assert.match(error.message, message);
  }
  assert.equal(t.pendingRows, 0, 'a refused append buffers nothing');
  const edges = [
    { time: '1677-09-21T00:12:43.145224192Z', host: 'a', i: -(2n ** 63n), u: 0n, f: 2n ** 60n },
    { time: 2n ** 63n - 1n, host: 'a', i: 2n ** 63n - 1n, u: 2n ** 64n - 1n, f: -(2 ** 53) },
    { time: Date.UTC(2026, 0, 1), host: 'a', i: -(2 ** 53) + 1, u: 2 ** 53 - 1, f: 0.5 },
  ];
  await t.append(edges);
  await t.flush();
  const rows = rowsOf((await t.query({})).batches);
  assert.deepEqual(rows.map((r) => [r.time, r.i, r.u, r.f]), [
    [-(2n ** 63n), -(2n ** 63n), 0n, 2 ** 60],
    [1_767_225_600_000_000_000n, -(2n ** 53n) + 1n, 2n ** 53n - 1n, 0.5],
    [2n ** 63n - 1n, 2n ** 63n - 1n, 2n ** 64n - 1n, -(2 ** 53)],
  ]);
  const point = await rejection(db.writePoint('ticks', '2300-01-01T00:00:00Z', 1, { sym: 'A' }));
  assert.match(point.message, /"2300-01-01T00:00:00Z" is outside the representable range .* for ns/);
  for (const bound of [{ from: '2300-01-01T00:00:00Z' }, { to: 2n ** 63n }, { from: '2026-02-30' }]) {
    const scan = await rejection((async () => { for await (const _ of t.scan(bound)) { /* drain */ } })());
    assert.ok(scan instanceof UsageError, String(scan));
    const query = await rejection(t.query({ ...bound, agg: { f: 'max' } }));
    assert.ok(query instanceof UsageError, String(query));
    assert.equal(query.message, scan.message);
  }
});

test('Arrow batches appended through the library: a coarser time unit that overflows, and integer columns narrowed into the table', async () => {
  const db = await fresh();
  const t = await db.createTable('m', { tags: [], fields: [{ name: 'i', type: 'int64' }, { name: 'u', type: 'uint64' }, { name: 'f', type: 'float64' }] });
  const time = (values: bigint[]) => makeData({ type: new TimestampSecond(), length: values.length, nullCount: 0, data: BigInt64Array.from(values) } as never);
  const s0 = 1_767_225_600n;
  const overflow = await rejection(t.append(batchOf({ time: time([s0, Y2300_S]) })));
  assert.equal(overflow.message, `row 1: time column time: 2300-01-01T00:00:00Z (${Y2300_S} s) is outside the representable range ${NS_RANGE}`);
  const ints = (type: Int64 | Uint64 | Int32, values: bigint[] | number[]) => {
    const data = type instanceof Uint64 ? BigUint64Array.from(values as bigint[]) : type instanceof Int64 ? BigInt64Array.from(values as bigint[]) : Int32Array.from(values as number[]);
    return makeData({ type, length: values.length, nullCount: 0, data } as never) as Data;
  };
  const refused: [Record<string, Data>, string][] = [
    [{ i: ints(new Uint64(), [1n, 2n ** 63n]) }, 'row 1: column i: expected int64, got 9223372036854775808, which is above the int64 maximum 9223372036854775807'],
    [{ u: ints(new Int64(), [5n, -7n]) }, 'row 1: column u: expected uint64, got -7, which is negative, and uint64 holds 0 … 18446744073709551615'],
    [{ u: ints(new Int32(), [-3, 0]) }, 'row 0: column u: expected uint64, got -3, which is negative, and uint64 holds 0 … 18446744073709551615'],
    [{ f: ints(new Int64(), [0n, 2n ** 60n + 1n]) }, 'row 1: column f: expected float64, got 1152921504606846977, which is not exactly representable as float64 (above 2^53 a double rounds it)'],
  ];
  for (const [columns, message] of refused) {
    const error = await rejection(t.append(batchOf({ time: time([s0, s0 + 1n]), ...columns })));
    assert.ok(error instanceof SchemaError, String(error));
    assert.equal(error.message, message);
  }
  await t.append(batchOf({ time: time([s0, s0 + 1n]), i: ints(new Uint64(), [0n, 2n ** 63n - 1n]), u: ints(new Int64(), [0n, 2n ** 63n - 1n]), f: ints(new Int64(), [2n ** 60n, -(2n ** 53n) - 2n]) }));
  await t.flush();
  const rows = rowsOf((await t.query({})).batches);
  assert.deepEqual(rows.map((r) => [r.i, r.u, r.f]), [[0n, 0n, 2 ** 60], [2n ** 63n - 1n, 2n ** 63n - 1n, -(2 ** 53) - 2]]);
});

test('Arrow IPC files: Timestamp(s), Date32, epoch integers and ISO strings out of the ns range; integers narrowed on append', async () => {
  await withDir(async (dir) => {
    const write = (name: string, columns: Record<string, Data>) => {
      const path = join(dir, name);
      writeFileSync(path, RecordBatchStreamWriter.writeAll([batchOf(columns)]).toUint8Array(true));
      return path;
    };
    const v = vectorFromArray([1.5, 2.5], new Float64()).data[0]!;
    const s0 = 1_767_225_600n;
    const cases: [string, Record<string, Data>, string][] = [
      ['ts-s.arrows', { time: makeData({ type: new TimestampSecond(), length: 2, nullCount: 0, data: BigInt64Array.from([s0, Y2300_S]) } as never), v },
        `row 2 (column time): 2300-01-01T00:00:00Z (${Y2300_S} s) is outside the representable range ${NS_RANGE}`],
      ['ts-s-1600.arrows', { time: makeData({ type: new TimestampSecond(), length: 2, nullCount: 0, data: BigInt64Array.from([BigInt(Date.UTC(1600, 0, 1) / 1000), s0]) } as never), v },
        `row 1 (column time): 1600-01-01T00:00:00Z (${Date.UTC(1600, 0, 1) / 1000} s) is outside the representable range ${NS_RANGE}`],
      ['date.arrows', { date: makeData({ type: new DateDay(), length: 2, nullCount: 0, data: Int32Array.from([20454, daysFromCivil(2300, 1, 1)]) }), v },
        `row 2 (column date): 2300-01-01 is outside the representable range ${NS_RANGE}`],
      ['epoch.arrows', { ts: makeData({ type: new Int64(), length: 2, nullCount: 0, data: BigInt64Array.from([s0, Y2300_S]) } as never), v },
        `row 2 (column ts): ${Y2300_S} (epoch s) is outside the representable range ${NS_RANGE}`],
      ['iso.arrows', { time: vectorFromArray(['2026-01-01T00:00:00Z', '2300-01-01T00:00:00Z'], new Utf8()).data[0]!, v },
        `row 2 (column time): "2300-01-01T00:00:00Z" is outside the representable range ${NS_RANGE}`],
      ['offset.arrows', { time: vectorFromArray(['2026-01-01T00:00:00Z', '2026-01-01T00:00:00+25:00'], new Utf8()).data[0]!, v },
        'row 2 (column time): expected an ISO-8601 timestamp, got "2026-01-01T00:00:00+25:00"'],
    ];
    for (const [name, columns, message] of cases) {
      const db = await fresh();
      const path = write(name, columns);
      const error = await rejection(importFiles(db, [path], { table: 't', ...(name === 'epoch.arrows' ? { timeFormat: 's' as const } : {}) }));
      assert.ok(error instanceof InputError, `${name}: ${error}`);
      assert.equal(error.message, `${path}: ${message}`, name);
      assert.equal(await db.hasTable('t'), false, `${name}: nothing committed`);
      // The same file into a table in seconds holds those times exactly.
      if (name.startsWith('ts-s')) {
        await importFiles(db, [path], { table: 's', timeUnit: 's' });
        const rows = rowsOf((await (await db.table('s')).query({})).batches);
        assert.deepEqual(rows.map((r) => r.time).sort(), [...(columns.time!.values as BigInt64Array)].sort());
      }
    }
    // Appending a file whose integer columns the table holds as the other signedness.
    const db = await fresh();
    const time = makeData({ type: new TimestampSecond(), length: 2, nullCount: 0, data: BigInt64Array.from([s0, s0 + 1n]) } as never);
    await importFiles(db, [write('base.arrows', { time, i: makeData({ type: new Int64(), length: 2, nullCount: 0, data: BigInt64Array.from([1n, 2n]) } as never), u: makeData({ type: new Uint64(), length: 2, nullCount: 0, data: BigUint64Array.from([1n, 2n]) } as never) })], { table: 't', duplicates: 'keep' }); // the appends below reuse its times
    const bigU = write('big-u.arrows', { time, i: makeData({ type: new Uint64(), length: 2, nullCount: 0, data: BigUint64Array.from([3n, 2n ** 63n]) } as never) });
    const e1 = await rejection(importFiles(db, [bigU], { table: 't', append: true }));
    assert.equal(e1.message, `${bigU}: row 2 (column i): expected int64, got 9223372036854775808, which is above the int64 maximum 9223372036854775807`);
    const negative = write('neg-i.arrows', { time, u: makeData({ type: new Int64(), length: 2, nullCount: 0, data: BigInt64Array.from([-1n, 3n]) } as never) });
    const e2 = await rejection(importFiles(db, [negative], { table: 't', append: true }));
    assert.equal(e2.message, `${negative}: row 1 (column u): expected uint64, got -1, which is negative, and uint64 holds 0 … 18446744073709551615`);
    await importFiles(db, [write('ok.arrows', { time, i: makeData({ type: new Uint64(), length: 2, nullCount: 0, data: BigUint64Array.from([3n, 2n ** 63n - 1n]) } as never) })], { table: 't', append: true });
    const rows = rowsOf((await (await db.table('t')).query({})).batches);
    assert.deepEqual(rows.map((r) => r.i as bigint).sort((a, b) => (a < b ? -1 : 1)), [1n, 2n, 3n, 2n ** 63n - 1n]);
  });
});

test('Parquet written by DuckDB: a TIMESTAMP of year 2300 into a ns table is refused, into a us table kept', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'far.parquet');
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      await conn.run(`COPY (SELECT * FROM (VALUES (TIMESTAMP '2026-01-01 00:00:00', 1.5), (TIMESTAMP '2300-01-01 00:00:00', 2.5)) v(time, x)) TO '${path}' (FORMAT parquet)`);
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
    const db = await fresh();
    const error = await rejection(importFiles(db, [path], { table: 't' }));
    assert.ok(error instanceof InputError, String(error));
    assert.match(error.message, /row 2 \(column time\): 2300-01-01T00:00:00Z \(10413792000000000 us\) is outside the representable range 1677-09-21T00:12:43\.145224192Z … 2262-04-11T23:47:16\.854775807Z for ns$/);
    await importFiles(db, [path], { table: 'u', timeUnit: 'us' });
    const rows = rowsOf((await (await db.table('u')).query({})).batches);
    assert.deepEqual(rows.map((r) => r.time), [1_767_225_600_000_000n, 10_413_792_000_000_000n]);
  });
});

test('CSV time cells out of the table unit range: file:line:column and the range; epoch digits of any length', async () => {
  await withDir(async (dir) => {
    const cases: [string, string, string][] = [
      ['iso.csv', 'time,v\n2026-01-01T00:00:00Z,1\n2300-01-01T00:00:00Z,2\n', `iso.csv:3:1 (column time): expected a time within ${NS_RANGE} (the table's unit), got "2300-01-01T00:00:00Z"`],
      ['old.csv', 'time,v\n1600-01-01,1\n', `old.csv:2:1 (column time): expected a time within ${NS_RANGE} (the table's unit), got "1600-01-01"`],
      ['offset.csv', 'time,v\n2026-01-01T00:00:00Z,1\n2026-01-01T00:00:00+25:00,2\n', 'offset.csv:3:1 (column time): expected an ISO-8601 timestamp, got "2026-01-01T00:00:00+25:00"'],
      ['feb30.csv', 'time,v\n2026-01-01T00:00:00Z,1\n2026-02-30T00:00:00Z,2\n', 'feb30.csv:3:1 (column time): expected an ISO-8601 timestamp, got "2026-02-30T00:00:00Z"'],
      ['epoch.csv', 'time,v\n1767225600,1\n10413792000,2\n', `epoch.csv:3:1 (column time): expected a time within ${NS_RANGE} (the table's unit), got "10413792000"`],
      ['huge.csv', 'time,v\n1767225600,1\n100000000000000000000000000,2\n', `huge.csv:3:1 (column time): expected a time within ${NS_RANGE} (the table's unit), got "100000000000000000000000000"`],
    ];
    for (const [name, text, message] of cases) {
      const path = join(dir, name);
      writeFileSync(path, text);
      const db = await fresh();
      const error = await rejection(importFiles(db, [path], { table: 't', ...(name === 'epoch.csv' || name === 'huge.csv' ? { timeFormat: 's' as const } : {}) }));
      assert.ok(error instanceof InputError, `${name}: ${error}`);
      assert.equal(error.message, `${path.slice(0, -name.length)}${message}`, name);
    }
    // A seconds table holds year 2300 and 1600, and scans them back exactly.
    const path = join(dir, 'far.csv');
    writeFileSync(path, 'time,v\n1600-01-01T00:00:00Z,1\n2300-01-01T00:00:00Z,2\n');
    const db = await fresh();
    await importFiles(db, [path], { table: 's', timeUnit: 's' });
    const rows = rowsOf((await (await db.table('s')).query({})).batches);
    assert.deepEqual(rows.map((r) => r.time), [BigInt(Date.UTC(1600, 0, 1) / 1000), Y2300_S]);
  });
});
