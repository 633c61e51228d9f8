/**
 * Times finer than the table's unit (issue 12): `…T00:00:00.123456789Z` into a ms table, a ns
 * Arrow column into a us table, a Date with milliseconds into a seconds table. Storing them
 * would floor them to the unit, a silent change; every way in refuses them naming the value,
 * where it is (file:line:column, file: row, or row) and the unit. Times on the unit's grid,
 * however they are written, are kept exactly; scan bounds are not stored and may be finer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DateMillisecond, Field, Float64, makeData, RecordBatch, RecordBatchStreamWriter, Schema, Struct, TimestampMicrosecond, TimestampNanosecond, Utf8,
  vectorFromArray, type Data,
} from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { InputError, SchemaError } from '../../src/errors.js';
import { importFiles } from '../../src/io/import.js';
import { rejection, rowsOf } from '../io/helpers.js';
import type { TimeInput } from '../../src/core/types.js';

const T0_MS = Date.UTC(2026, 0, 1);
const T0_NS = BigInt(T0_MS) * 1_000_000n;
const HINT = 'storing it would drop digits; keep such times in a table of a finer unit (--time-unit, timeUnit) or round them before the import';

function batchOf(columns: Record<string, Data>): RecordBatch {
  const fields = Object.entries(columns).map(([n, d]) => new Field(n, d.type, true));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: Object.values(columns)[0]!.length, nullCount: 0, children: Object.values(columns) }));
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-precision-'));
  try { return await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

const times = async (db: Quiver, table: string) => rowsOf((await (await db.table(table)).query({})).batches).map((r) => r.time as bigint);

test('library rows: a time finer than the table unit is an error naming row, column, value and unit; times on the grid are kept', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const ms = await db.createTable('ms', { tags: [], fields: [{ name: 'v', type: 'float64' }], timeUnit: 'ms' });
  const s = await db.createTable('s', { tags: [], fields: [{ name: 'v', type: 'float64' }], timeUnit: 's' });
  const refused: [typeof ms, TimeInput, string][] = [
    [ms, '2026-01-01T00:00:00.123456789Z', '"2026-01-01T00:00:00.123456789Z" is finer than the table\'s time unit (ms)'],
    [ms, T0_NS + 1n, `${T0_NS + 1n} (epoch ns) is finer than the table's time unit (ms)`],
    [ms, T0_MS + 0.5, `${T0_MS + 0.5} (epoch ms) is finer than the table's time unit (ms)`],
    [s, new Date(T0_MS + 7), '2026-01-01T00:00:00.007Z is finer than the table\'s time unit (s)'],
    [s, '2026-01-01T00:00:01.5Z', '"2026-01-01T00:00:01.5Z" is finer than the table\'s time unit (s)'],
  ];
  for (const [table, time, message] of refused) {
    const error = await rejection(table.append([{ time: T0_MS, v: 1 }, { time, v: 2 }]));
    assert.ok(error instanceof SchemaError, String(error));
    assert.equal(error.message, `row 1 column time: ${message}: ${HINT}`);
  }
  // Nothing of a refused append was buffered; on-grid times in every spelling are exact.
  await ms.append([{ time: '2026-01-01T00:00:00.123000000Z', v: 1 }, { time: T0_NS + 2_000_000n, v: 2 }, { time: new Date(T0_MS + 3), v: 3 }]);
  await ms.flush();
  assert.deepEqual(await times(db, 'ms'), [BigInt(T0_MS) + 2n, BigInt(T0_MS) + 3n, BigInt(T0_MS) + 123n]);
  // writePoint goes the same way.
  await db.createTable('p', { tags: [], timeUnit: 's' });
  await assert.rejects(db.writePoint('p', T0_MS + 1, 1), (e: unknown) => e instanceof SchemaError && /finer than the table's time unit \(s\)/.test((e as Error).message));
  // Scan bounds are not stored: a finer bound is a bound (no error), and it selects exactly
  // the times at or after `from` and before `to` (it was floored: 2.5 ms took in the row at 2 ms).
  const between = async (from: string, to: string) => rowsOf((await ms.query({ from, to })).batches).map((r) => r.time as bigint);
  assert.deepEqual(await between('2026-01-01T00:00:00.0025Z', '2026-01-01T00:00:00.1235Z'), [BigInt(T0_MS) + 3n, BigInt(T0_MS) + 123n]);
  assert.deepEqual(await between('2026-01-01T00:00:00.0015Z', '2026-01-01T00:00:00.0025Z'), [BigInt(T0_MS) + 2n]);
  assert.deepEqual(await between('2026-01-01T00:00:00.0021Z', '2026-01-01T00:00:00.0029Z'), []);
});

test('Arrow batches appended through the library: a ns column into a us table is refused at its first finer value', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('us', { tags: [], fields: [{ name: 'v', type: 'float64' }], timeUnit: 'us' });
  const ns = (values: bigint[]) => makeData({ type: new TimestampNanosecond(), length: values.length, nullCount: 0, data: BigInt64Array.from(values) } as never);
  const v = vectorFromArray([1, 2, 3], new Float64()).data[0]!;
  const error = await rejection(t.append(batchOf({ time: ns([T0_NS, T0_NS + 5_000n, T0_NS + 5_001n]), v })));
  assert.ok(error instanceof SchemaError, String(error));
  assert.equal(error.message, `row 2: time column time: 2026-01-01T00:00:00.000005001Z (${T0_NS + 5_001n} ns) is finer than the table's time unit (us): ${HINT}`);
  assert.equal(t.pendingRows, 0);
  await t.append(batchOf({ time: ns([T0_NS, T0_NS + 5_000n, T0_NS - 7_000n]), v }));
  await t.flush();
  assert.deepEqual(await times(db, 'us'), [T0_NS / 1000n - 7n, T0_NS / 1000n, T0_NS / 1000n + 5n]);
});

test('CSV: ISO fractions and epoch digits finer than the table unit stop the import at file:line:column; the table is not created', async () => {
  await withDir(async (dir) => {
    const cases: [string, string, Record<string, unknown>, string][] = [
      ['iso.csv', 'time,v\n2026-01-01T00:00:00.123Z,1\n2026-01-01T00:00:00.123456789Z,2\n', { timeUnit: 'ms' }, '3:1 (column time): expected a time in whole ms (the table\'s time unit: finer digits would be dropped; import into a table of a finer --time-unit, or round them), got "2026-01-01T00:00:00.123456789Z"'],
      ['epoch-ns.csv', `time,v\n${T0_NS},1\n${T0_NS + 1n},2\n`, { timeUnit: 'us', timeFormat: 'ns' }, `3:1 (column time): expected a time in whole us (the table's time unit: finer digits would be dropped; import into a table of a finer --time-unit, or round them), got "${T0_NS + 1n}"`],
      ['seconds.csv', 'time,v\n2026-01-01 00:00:00,1\n2026-01-01 00:00:00.5,2\n', { timeUnit: 's' }, '3:1 (column time): expected a time in whole s (the table\'s time unit: finer digits would be dropped; import into a table of a finer --time-unit, or round them), got "2026-01-01 00:00:00.5"'],
    ];
    for (const [name, text, options, message] of cases) {
      const path = join(dir, name);
      writeFileSync(path, text);
      const db = await Quiver.open(new MemoryChunkManager());
      const error = await rejection(importFiles(db, [path], { table: 't', ...options }));
      assert.ok(error instanceof InputError, `${name}: ${error}`);
      assert.equal(error.message, `${path}:${message}`, name);
      assert.equal(await db.hasTable('t'), false, `${name}: nothing committed`);
      // The same file into a ns table keeps every digit.
      await importFiles(db, [path], { table: 'ns', ...options, timeUnit: 'ns' });
      assert.equal(new Set(await times(db, 'ns')).size, 2, name);
    }
  });
});

test('Arrow IPC files: a ns Timestamp into a us table, a Date64 with milliseconds and ISO strings into a seconds table name file, row, value and unit', async () => {
  await withDir(async (dir) => {
    const v = vectorFromArray([1.5, 2.5], new Float64()).data[0]!;
    const cases: [string, Record<string, Data>, 's' | 'ms' | 'us', string][] = [
      ['ns.arrows', { time: makeData({ type: new TimestampNanosecond(), length: 2, nullCount: 0, data: BigInt64Array.from([T0_NS, T0_NS + 123_456_789n]) } as never), v }, 'us',
        `row 2 (column time): 2026-01-01T00:00:00.123456789Z (${T0_NS + 123_456_789n} ns) is finer than the table's time unit (us): ${HINT}`],
      ['us.arrows', { time: makeData({ type: new TimestampMicrosecond(), length: 2, nullCount: 0, data: BigInt64Array.from([T0_NS / 1000n + 4_000n, T0_NS / 1000n + 4_001n]) } as never), v }, 'ms',
        `row 2 (column time): 2026-01-01T00:00:00.004001Z (${T0_NS / 1000n + 4_001n} us) is finer than the table's time unit (ms): ${HINT}`],
      ['date64.arrows', { time: makeData({ type: new DateMillisecond(), length: 2, nullCount: 0, data: BigInt64Array.from([BigInt(T0_MS), BigInt(T0_MS + 250)]) } as never), v }, 's',
        `row 2 (column time): 2026-01-01T00:00:00.25Z (${T0_MS + 250} ms) is finer than the table's time unit (s): ${HINT}`],
      ['iso.arrows', { time: vectorFromArray(['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000001Z'], new Utf8()).data[0]!, v }, 's',
        `row 2 (column time): "2026-01-01T00:00:00.000001Z" is finer than the table's time unit (s): ${HINT}`],
    ];
    for (const [name, columns, timeUnit, message] of cases) {
      const path = join(dir, name);
      writeFileSync(path, RecordBatchStreamWriter.writeAll([batchOf(columns)]).toUint8Array(true));
      const db = await Quiver.open(new MemoryChunkManager());
      const error = await rejection(importFiles(db, [path], { table: 't', timeUnit }));
      assert.ok(error instanceof InputError, `${name}: ${error}`);
      assert.equal(error.message, `${path}: ${message}`, name);
      assert.equal(await db.hasTable('t'), false, `${name}: nothing committed`);
      await importFiles(db, [path], { table: 'ns', timeUnit: 'ns' });
      assert.equal(new Set(await times(db, 'ns')).size, 2, name);
    }
  });
});

test('Parquet written by DuckDB: TIMESTAMP_NS values into a us table are refused, on-grid ones kept', async () => {
  await withDir(async (dir) => {
    const fine = join(dir, 'fine.parquet');
    const grid = join(dir, 'grid.parquet');
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      await conn.run(`COPY (SELECT * FROM (VALUES ('2026-01-01 00:00:00.000001'::TIMESTAMP_NS, 1.5), ('2026-01-01 00:00:00.000001001'::TIMESTAMP_NS, 2.5)) v(time, x)) TO '${fine}' (FORMAT parquet)`);
      await conn.run(`COPY (SELECT * FROM (VALUES ('2026-01-01 00:00:00.000001'::TIMESTAMP_NS, 1.5), ('2026-01-01 00:00:00.000002'::TIMESTAMP_NS, 2.5)) v(time, x)) TO '${grid}' (FORMAT parquet)`);
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
    const db = await Quiver.open(new MemoryChunkManager());
    const error = await rejection(importFiles(db, [fine], { table: 't', timeUnit: 'us' }));
    assert.ok(error instanceof InputError, String(error));
    assert.equal(error.message, `${fine}: row 2 (column time): 2026-01-01T00:00:00.000001001Z (${T0_NS + 1_001n} ns) is finer than the table's time unit (us): ${HINT}`);
    await importFiles(db, [grid], { table: 'u', timeUnit: 'us' });
    assert.deepEqual(await times(db, 'u'), [T0_NS / 1000n + 1n, T0_NS / 1000n + 2n]);
  });
});
