import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Binary, BinaryView, DateDay, DateMillisecond, Decimal, Dictionary, DurationMillisecond, Field, FixedSizeBinary, Float16, Float32, Int8, Int32, LargeBinary,
  LargeUtf8, makeData, Null, RecordBatch, Schema, Struct, TimeMicrosecond, TimeNanosecond, TimestampMillisecond, TimestampNanosecond, Uint32, Utf8,
  Utf8View, vectorFromArray, type Data,
} from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { SchemaError } from '../../src/errors.js';
import { fieldData, fieldTypeInfo, formatValue, type FieldValue } from '../../src/format/field-types.js';
import type { FieldType } from '../../src/format/types.js';
import { expectedKeys, keysOf, timesFrom, typedBatch, typedColumns, type TypedColumn } from './types-fixture.js';
import { seedFromEnv } from '../format/helpers.js';

const T0 = 1_767_225_600_000_000_000n; // 2026-01-01 in ns
const ROWS = 700;

async function fresh(pageRows = 64) {
  const db = await Quiver.open(new MemoryChunkManager());
  return { db, table: await db.createTable('t', { pageRows, rowsPerChunkMax: 256 }) };
}

/** Rows sorted by time (the table keeps one series, so scans are in time order already). */
async function scanAll(t: Awaited<ReturnType<typeof fresh>>['table']) {
  const batches: RecordBatch[] = [];
  for await (const b of t.scan({})) batches.push(b);
  return batches;
}

function assertColumns(batches: RecordBatch[], columns: TypedColumn[], label: string, seed: number): void {
  for (const c of columns) assert.deepEqual(keysOf(batches, c.name, c.type), expectedKeys(c), `${label} seed ${seed}: ${c.type}`);
}

test('every field type round-trips value by value through append(RecordBatch): nulls, extremes, empty and long binary, several chunks and pages', async () => {
  const seed = seedFromEnv('types append');
  const columns = typedColumns(seed, ROWS);
  const times = timesFrom(T0, ROWS);
  const { table } = await fresh();
  // Two batches, so the buffer joins them.
  await table.append(typedBatch(columns, times, 0, 300));
  await table.append(typedBatch(columns, times, 300, ROWS));
  await table.flush();
  assert.deepEqual(table.schema.fields.map((f) => f.type), columns.map((c) => c.type));
  const batches = await scanAll(table);
  assert.ok((await table.describe()).chunks >= 3);
  assertColumns(batches, columns, 'scan', seed);
  // Their Arrow types are the canonical ones (what went in comes out).
  for (const c of columns) assert.equal(String(batches[0]!.schema.fields.find((f) => f.name === c.name)!.type), String(fieldTypeInfo(c.type).arrow), c.type);
  // Compaction reads the chunks back through the write buffer.
  await table.compact({ smallRows: 1_000_000 });
  assertColumns(await scanAll(table), columns, 'compacted', seed);
});

test('every field type round-trips through append(rows) given as text (the types\' text form parses back exactly)', async () => {
  const seed = seedFromEnv('types rows');
  const columns = typedColumns(seed, 200);
  const { db } = await fresh();
  const table = await db.createTable('r', { fields: columns.map((c) => ({ name: c.name, type: c.type })) });
  const rows = Array.from({ length: 200 }, (_, i) => {
    const row: Record<string, string | bigint | null> = { time: T0 + BigInt(i) };
    for (const c of columns) {
      const v = c.values[i]!;
      row[c.name] = v === null ? null : formatValue(fieldTypeInfo(c.type), v);
    }
    return row;
  });
  await table.append(rows);
  await table.flush();
  assertColumns(await scanAll(table as never), columns, 'rows', seed);
});

test('a write-ahead log replays every field type exactly after a crash', async () => {
  const seed = seedFromEnv('types wal');
  const root = mkdtempSync(join(tmpdir(), 'quiver-types-wal-'));
  const store = join(root, 'store'), wal = join(root, 'wal');
  try {
    const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    // A process appends (logged, never flushed) and dies.
    const script = `import { Quiver } from ${module('../../src/quiver.js')};
      import { typedBatch, typedColumns, timesFrom } from ${module('./types-fixture.js')};
      const db = await Quiver.open(${JSON.stringify(store)}, { wal: ${JSON.stringify(wal)} });
      const t = await db.createTable('w', {});
      await t.append(typedBatch(typedColumns(${seed}, 120), timesFrom(${T0}n, 120)));
      process.kill(process.pid, 'SIGKILL');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.signal, 'SIGKILL', `child did not reach its kill: ${r.stderr}`);
    const db = await Quiver.open(store, { wal });
    const table = await db.table('w');
    await table.flush();
    assertColumns(await scanAll(table as never), typedColumns(seed, 120), 'replayed', seed);
    await db.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('queries: count, min, max, first, last of every type, sum and mean of decimals and durations, exact (decoded pages and page statistics alike)', async () => {
  const seed = seedFromEnv('types query');
  const types: FieldType[] = ['date32', 'time(ns)', 'duration(ms)', 'timestamp(us,UTC)', 'decimal(9,2)', 'decimal(38,10)', 'decimal(76,6)', 'binary', 'fixed_binary(16)'];
  // Modest values so decimal sums stay inside decimal(38, s) and durations inside int64.
  const columns = typedColumns(seed, ROWS, types).map((c) => {
    const info = fieldTypeInfo(c.type);
    if (!info.summable) return c;
    const bound = info.family === 'duration' ? 10n ** 15n : 10n ** BigInt(Math.min(info.precision!, 36));
    return { ...c, values: c.values.map((v) => (typeof v === 'bigint' ? v % bound : v)) };
  });
  const times = timesFrom(T0, ROWS);
  const { table } = await fresh(50);
  await table.append(typedBatch(columns, times));
  await table.flush();
  const agg: Record<string, string[]> = {};
  for (const c of columns) {
    const info = fieldTypeInfo(c.type);
    agg[c.name] = ['count', 'first', 'last', ...(info.ordered ? ['min', 'max'] : []), ...(info.summable ? ['sum', 'mean'] : [])];
  }
  // Whole table, no buckets: pages answer from their statistics; 1 ms buckets: each page decodes.
  for (const every of [undefined, '10s']) {
    const out = await table.query({ agg, ...(every ? { every } : {}) });
    for (const c of columns) {
      const info = fieldTypeInfo(c.type);
      // Expected per bucket of `every` (all rows in one without).
      const bucketOf = (i: number) => (every ? Math.floor(i / 10) : 0);
      const buckets = new Map<number, (FieldValue | null)[]>();
      c.values.forEach((v, i) => { const b = bucketOf(i); if (!buckets.has(b)) buckets.set(b, []); buckets.get(b)!.push(v); });
      const expected = { count: [] as string[], first: [] as (string | null)[], last: [] as (string | null)[], min: [] as (string | null)[], max: [] as (string | null)[], sum: [] as (string | null)[], mean: [] as (number | null)[] };
      for (const values of buckets.values()) {
        const present = values.filter((v): v is FieldValue => v !== null);
        expected.count.push(String(present.length));
        const k = (v: FieldValue | undefined) => (v === undefined ? null : typeof v === 'bigint' ? v.toString() : `b:${Buffer.from(v).toString('hex')}`);
        expected.first.push(k(present[0]));
        expected.last.push(k(present[present.length - 1]));
        if (info.ordered) {
          const ints = present as bigint[];
          expected.min.push(ints.length ? ints.reduce((a, b) => (b < a ? b : a)).toString() : null);
          expected.max.push(ints.length ? ints.reduce((a, b) => (b > a ? b : a)).toString() : null);
        }
        if (info.summable) {
          const sum = (present as bigint[]).reduce((a, b) => a + b, 0n);
          expected.sum.push(present.length ? sum.toString() : null);
          const scaled = info.family === 'decimal' ? Number(formatValue(info, sum)) : Number(sum);
          expected.mean.push(present.length ? scaled / present.length : null);
        }
      }
      const label = `${c.type} every ${every ?? '(none)'} seed ${seed}`;
      assert.deepEqual(Array.from(out.getChild(`count_${c.name}`)!, (v) => String(v)), expected.count, `${label} count`);
      const sumType = info.family === 'decimal' ? `decimal(${info.precision! <= 38 ? 38 : 76},${info.scale})` as FieldType : c.type;
      assert.deepEqual(keysOf(out, `first_${c.name}`, c.type), expected.first, `${label} first`);
      assert.deepEqual(keysOf(out, `last_${c.name}`, c.type), expected.last, `${label} last`);
      if (info.ordered) {
        assert.deepEqual(keysOf(out, `min_${c.name}`, c.type), expected.min, `${label} min`);
        assert.deepEqual(keysOf(out, `max_${c.name}`, c.type), expected.max, `${label} max`);
        assert.equal(String(out.schema.fields.find((f) => f.name === `min_${c.name}`)!.type), String(info.arrow));
      }
      if (info.summable) {
        assert.deepEqual(keysOf(out, `sum_${c.name}`, sumType), expected.sum, `${label} sum`);
        assert.equal(String(out.schema.fields.find((f) => f.name === `sum_${c.name}`)!.type), String(fieldTypeInfo(sumType).arrow));
        assert.deepEqual(Array.from(out.getChild(`mean_${c.name}`)!, (v) => v as number | null), expected.mean, `${label} mean`);
      }
    }
  }
  // The latest row keeps every type.
  const latest = await table.query({ latest: true });
  for (const c of columns) assert.deepEqual(keysOf(latest, c.name, c.type), [expectedKeys(c)[ROWS - 1]!], `latest ${c.type}`);
});

test('aggregations that do not apply to a type, and a decimal sum beyond its sum type, are errors naming the field and type', async () => {
  const { table } = await fresh();
  const d = fieldTypeInfo('decimal(38,0)');
  const columns: TypedColumn[] = [
    { name: 'd', type: 'date32', values: [1n, 2n] },
    { name: 'b', type: 'binary', values: [new Uint8Array(1), null] },
    { name: 'big', type: 'decimal(38,0)', values: [d.int!.max, d.int!.max] },
  ];
  await table.append(typedBatch(columns, timesFrom(T0, 2)));
  await table.flush();
  await assert.rejects(table.query({ agg: { d: 'sum' } }), (e: Error) => e instanceof SchemaError && /sum of "d" does not apply to a date32 field \(count, first, last, min, max apply\)/.test(e.message));
  await assert.rejects(table.query({ agg: { d: 'p50' } }), /p50 of "d" does not apply to a date32 field/);
  await assert.rejects(table.query({ agg: { b: 'max' } }), /max of "b" does not apply to a binary field \(count, first, last apply\)/);
  await assert.rejects(table.query({ agg: { big: 'sum' } }), /query sum of decimal\(38,0\) field big .*the sum leaves decimal\(38,0\)/);
  await assert.rejects(table.query({ agg: { d: 'count' }, filter: { field: 'd', op: '>', value: 1 } }), /filter on "d": comparisons of Date32<DAY> columns are not supported/);
  const nulls = await table.query({ agg: { d: 'count' }, filter: { field: 'b', op: 'isNull' } });
  assert.deepEqual(Array.from(nulls.getChild('count_d')!, Number), [1]);
});

/** One column of the given Arrow data under `name`, at times from T0 + `at` seconds on (a second apart). */
function oneColumn(name: string, data: Data, at = 0): RecordBatch {
  const n = data.length;
  const fields = [new Field('time', new TimestampNanosecond(), false), new Field(name, data.type, true)];
  const time = makeData({ type: new TimestampNanosecond(), length: n, nullCount: 0, data: timesFrom(T0 + BigInt(at) * 1_000_000_000n, n) });
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children: [time, data] }));
}

test('input types convert exactly to a field type: narrower numbers widen, large and view types become their plain twins, units and scales convert without loss', async () => {
  const cases: { label: string; data: Data; type: FieldType; expected: (FieldValue | number | string | null)[] }[] = [
    { label: 'Int8 → int64', data: vectorFromArray([-128, 127, null], new Int8()).data[0]!, type: 'int64', expected: [-128n, 127n, null] },
    { label: 'Uint32 → int64', data: vectorFromArray([0, 4294967295, null], new Uint32()).data[0]!, type: 'int64', expected: [0n, 4294967295n, null] },
    { label: 'Float32 → float64', data: vectorFromArray([1.5, -0.1, null], new Float32()).data[0]!, type: 'float64', expected: [1.5, Math.fround(-0.1), null] },
    { label: 'Float16 → float64', data: vectorFromArray([1.5, -2, null], new Float16()).data[0]!, type: 'float64', expected: [1.5, -2, null] },
    { label: 'LargeUtf8 → utf8', data: vectorFromArray(['é', '', null], new LargeUtf8()).data[0]!, type: 'utf8', expected: ['é', '', null] },
    { label: 'Utf8View → utf8', data: vectorFromArray(['a long string over twelve bytes', 'x', null], new Utf8View()).data[0]!, type: 'utf8', expected: ['a long string over twelve bytes', 'x', null] },
    { label: 'LargeBinary → binary', data: vectorFromArray([Uint8Array.of(0xff), new Uint8Array(0), null], new LargeBinary()).data[0]!, type: 'binary', expected: [Uint8Array.of(0xff), new Uint8Array(0), null] },
    { label: 'BinaryView → binary', data: vectorFromArray([new Uint8Array(20).fill(0xfe), Uint8Array.of(1), null], new BinaryView()).data[0]!, type: 'binary', expected: [new Uint8Array(20).fill(0xfe), Uint8Array.of(1), null] },
  ];
  for (const c of cases) {
    const { table } = await fresh();
    await table.append(oneColumn('v', c.data));
    await table.flush();
    assert.equal(table.schema.fields[0]!.type, c.type, c.label);
    const out = await table.query({});
    const got = Array.from({ length: out.numRows }, (_, i) => {
      const v = out.getChild('v')!;
      if (!v.isValid(i)) return null;
      const x = v.get(i) as unknown;
      return x instanceof Uint8Array ? Array.from(x) : x;
    });
    assert.deepEqual(got, c.expected.map((x) => (x instanceof Uint8Array ? Array.from(x) : x)), c.label);
  }
  // Into existing fields of other units and scales: exact, or an error naming the row.
  const { db } = await fresh();
  const t = await db.createTable('x', { fields: [{ name: 'd', type: 'date32' }, { name: 'ms', type: 'duration(ms)' }, { name: 'dec', type: 'decimal(10,3)' }, { name: 'tm', type: 'time(ns)' }] });
  const day = 86_400_000n;
  await t.append(oneColumn('d', makeData({ type: new DateMillisecond(), length: 2, nullCount: 0, data: BigInt64Array.from([day * 3n, -day]) })));
  await assert.rejects(t.append(oneColumn('d', makeData({ type: new DateMillisecond(), length: 2, nullCount: 0, data: BigInt64Array.from([day, day + 1n]) }))),
    (e: Error) => e instanceof SchemaError && /row 1: column d: "1970-01-02T00:00:00\.001Z" is not exactly a date32/.test(e.message));
  await t.append(oneColumn('dec', makeData({ type: new Decimal(1, 9, 128), length: 1, nullCount: 0, data: Uint32Array.from([12345, 0, 0, 0]) }), 2));
  await assert.rejects(t.append(oneColumn('dec', makeData({ type: new Decimal(4, 12, 128), length: 1, nullCount: 0, data: Uint32Array.from([12345, 0, 0, 0]) }))), /row 0: column dec: "1\.2345" is not exactly a decimal\(10,3\)/);
  await t.append(oneColumn('tm', makeData({ type: new TimeMicrosecond(), length: 1, nullCount: 0, data: BigInt64Array.from([5n]) }), 3));
  await assert.rejects(t.append(oneColumn('ms', vectorFromArray(['x'], new Utf8()).data[0]!)), /column ms is Utf8 in the input but duration\(ms\) in the table/);
  await t.flush();
  const out = await t.query({});
  assert.deepEqual(keysOf(out, 'd', 'date32'), ['3', '-1', null, null]);
  assert.deepEqual(keysOf(out, 'dec', 'decimal(10,3)'), [null, null, '1234500', null]);
  assert.deepEqual(keysOf(out, 'tm', 'time(ns)'), [null, null, null, '5000']);
});

test('a Null-typed column adds no field, fills an existing one with nulls; dictionary-encoded binary, other time zones and units are refused or kept apart', async () => {
  const { db, table } = await fresh();
  await table.append(oneColumn('n', makeData({ type: new Null(), length: 3, nullCount: 3 })));
  assert.deepEqual(table.schema.fields, [], 'no field from a Null column');
  const t = await db.createTable('y', { fields: [{ name: 'n', type: 'decimal(12,2)' }] });
  await t.append(oneColumn('n', makeData({ type: new Null(), length: 2, nullCount: 2 })));
  await t.flush();
  assert.deepEqual(keysOf(await t.query({}), 'n', 'decimal(12,2)'), [null, null]);
  // A dictionary of bytes: the values.
  const dict = makeData({ type: new Dictionary(new Binary(), new Int32()), length: 3, nullCount: 1, nullBitmap: Uint8Array.of(0b011), data: Int32Array.from([1, 0, 0]), dictionary: vectorFromArray([Uint8Array.of(1), Uint8Array.of(2, 3)], new Binary()) } as never);
  const { table: b } = await fresh();
  await b.append(oneColumn('bin', dict));
  await b.flush();
  assert.deepEqual(keysOf(await b.query({}), 'bin', 'binary'), ['b:0203', 'b:01', null]);
  // Another zone is another type.
  const z = await db.createTable('z', { fields: [{ name: 'at', type: 'timestamp(ms,UTC)' }] });
  await assert.rejects(z.append(oneColumn('at', makeData({ type: new TimestampMillisecond(), length: 1, nullCount: 0, data: BigInt64Array.from([1n]) }))),
    /column at is Timestamp<MILLISECOND> in the input but timestamp\(ms,UTC\) in the table/);
  await assert.rejects(z.append(oneColumn('x', makeData({ type: new FixedSizeBinary(0), length: 1, nullCount: 0, data: new Uint8Array(0) }))), /fixed-size binary columns take 1 to 4096 bytes/);
  // Creating a table with an unknown type names the field.
  await assert.rejects(db.createTable('bad', { fields: [{ name: 'q', type: 'decimal(99,2)' as FieldType }] }), /field q: field type "decimal\(99,2\)": decimal takes a precision 1 to 76/);
  // Spellings are made canonical.
  const c = await db.createTable('c', { fields: [{ name: 'day', type: 'date' as FieldType }, { name: 'amount', type: 'decimal(10, 2)' as FieldType }] });
  assert.deepEqual(c.schema.fields.map((f) => f.type), ['date32', 'decimal(10,2)']);
  void TimeNanosecond; void DateDay; void DurationMillisecond;
});

test('invalid UTF-8 in an appended string field or tag is an error naming the row and column, and the buffer is left as it was', async () => {
  const bytes = (parts: number[][]) => {
    const offsets = new Int32Array(parts.length + 1);
    parts.forEach((p, i) => { offsets[i + 1] = offsets[i]! + p.length; });
    return makeData({ type: new Utf8(), length: parts.length, nullCount: 0, valueOffsets: offsets, data: Uint8Array.from(parts.flat()) });
  };
  const { db } = await fresh();
  const t = await db.createTable('u', { tags: ['host'], fields: [{ name: 's', type: 'utf8' }] });
  await t.append([{ time: 1n, host: 'a', s: 'ok' }]);
  // A character split across two values: the bytes as a whole are valid UTF-8, each value is not.
  await assert.rejects(t.append(oneColumn('s', bytes([[0x61], [0xc3], [0xa9]]))), (e: Error) => e instanceof SchemaError && /^row 1: column s: invalid UTF-8 in a string column/.test(e.message));
  await assert.rejects(t.append(oneColumn('s', bytes([[0xff]]))), /row 0: column s: invalid UTF-8/);
  const tagBatch = (() => {
    const fields = [new Field('time', new TimestampNanosecond(), false), new Field('host', new Utf8(), true)];
    const time = makeData({ type: new TimestampNanosecond(), length: 2, nullCount: 0, data: BigInt64Array.from([5n, 6n]) });
    return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 2, nullCount: 0, children: [time, bytes([[0x62], [0xed, 0xa0, 0x80]])] }));
  })();
  await assert.rejects(t.append(tagBatch), /row 1: tag host: invalid UTF-8/);
  await t.flush();
  const out = await t.query({});
  assert.equal(out.numRows, 1, 'no row of a refused batch was kept');
  void fieldData;
});
