// Column names are user data (issue 13): `constructor`, `toString`, `valueOf`,
// `hasOwnProperty` and `__proto__` are names like any other, as tags, fields and the time
// column, through CSV (inline and in the worker), Arrow IPC and Parquet imports and --schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Field, Float64, Int64, makeData, RecordBatch, RecordBatchFileWriter, Schema, Struct, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles, type ImportOptions } from '../../src/io/import.js';
import { rowsOf } from './helpers.js';

const NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'] as const;
const T0 = Date.UTC(2026, 0, 1);

/** An object with own properties of these names (a literal `{ __proto__: … }` would set the prototype). */
const own = (entries: [string, string][]): Record<string, string> => Object.fromEntries(entries);

/** Rows as [name, value] lists, in time order, time as epoch ms. */
async function tableRows(db: Quiver, timeName: string): Promise<[string, unknown][][]> {
  const out = await (await db.table('t')).query({});
  return rowsOf(out.batches)
    .map((r) => Object.entries(r).map(([k, v]): [string, unknown] => [k, k === timeName ? Number(v as bigint / 1_000_000n) - T0 : v]).sort((a, b) => a[0].localeCompare(b[0])))
    .sort((a, b) => (a.find(([k]) => k === timeName)![1] as number) - (b.find(([k]) => k === timeName)![1] as number));
}

/** The same three rows for every role the names take: time, two tags, a float and an int field. */
const EXPECTED = (time: string, tagA: string, tagB: string, float: string, int: string) => [0, 1000, 2000].map((t, k) =>
  [[time, t], [tagA, `a${k % 2}`], [tagB, 'b'], [float, k + 0.5], [int, BigInt(k * 10)]].sort((x, y) => String(x[0]).localeCompare(String(y[0]))));

/** Rotations of NAMES over the roles, so each name is the time column, a tag and a field once. */
const ROLES = NAMES.map((_, k) => NAMES.map((__, j) => NAMES[(j + k) % NAMES.length]!));

test('CSV: prototype-like column names as the time column, tags and fields, with --schema and --tags (inline and worker)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-names-'));
  try {
    for (const [time, tagA, tagB, float, int] of ROLES) {
      const header = [time, tagA, tagB, float, int].join(',');
      const lines = [0, 1, 2].map((k) => `${new Date(T0 + k * 1000).toISOString()},a${k % 2},b,${k + 0.5},${k * 10}`);
      const file = join(dir, 'n.csv');
      writeFileSync(file, `${header}\n${lines.join('\n')}\n`);
      const variants: Partial<ImportOptions>[] = [
        { time, tags: [tagA!, tagB!] },
        { time, schema: own([[tagA!, 'string'], [tagB!, 'string'], [float!, 'float64'], [int!, 'int64']]) },
      ];
      for (const variant of variants) {
        for (const parallel of [false, true]) {
          const db = await Quiver.open(new MemoryChunkManager());
          const summary = await importFiles(db, [file], { table: 't', parallel, workerBytesMin: 0, ...variant });
          assert.equal(summary.rows, 3);
          const schema = (await db.table('t')).schema;
          assert.deepEqual([schema.time, schema.tags, schema.fields.map((f) => [f.name, f.type])], [time, [tagA, tagB], [[float, 'float64'], [int, 'int64']]]);
          assert.deepEqual(await tableRows(db, time!), EXPECTED(time!, tagA!, tagB!, float!, int!), `${header} ${JSON.stringify(variant)} parallel ${parallel}`);
        }
      }
      // The long layout: these names as field names.
      const long = ['time,host,field,value', ...[float, int].flatMap((name, f) => [0, 1].map((k) => `${new Date(T0 + k * 1000).toISOString()},h,${name},${f === 0 ? k + 0.5 : k}`))];
      writeFileSync(join(dir, 'l.csv'), `${long.join('\n')}\n`);
      const db = await Quiver.open(new MemoryChunkManager());
      await importFiles(db, [join(dir, 'l.csv')], { table: 't', layout: 'long', fieldColumn: 'field', valueColumn: 'value', schema: own([[int!, 'int64']]) });
      assert.deepEqual((await db.table('t')).schema.fields.map((f) => [f.name, f.type]), [[float, 'float64'], [int, 'int64']]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Arrow IPC and Parquet: prototype-like column names import as any other', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-names-'));
  const duck = await DuckDBInstance.create(':memory:');
  const conn = await duck.connect();
  try {
    for (const [time, tagA, tagB, float, int] of ROLES.slice(0, 3)) {
      const fields = [new Field(time!, new TimestampMillisecond(), false), new Field(tagA!, new Utf8(), true), new Field(tagB!, new Utf8(), true), new Field(float!, new Float64(), true), new Field(int!, new Int64(), true)];
      const children = [
        makeData({ type: new TimestampMillisecond(), length: 3, nullCount: 0, data: new BigInt64Array([0, 1, 2].map((k) => BigInt(T0 + k * 1000))) as never }),
        vectorFromArray(['a0', 'a1', 'a0'], new Utf8()).data[0]!, vectorFromArray(['b', 'b', 'b'], new Utf8()).data[0]!,
        makeData({ type: new Float64(), length: 3, nullCount: 0, data: new Float64Array([0.5, 1.5, 2.5]) }),
        makeData({ type: new Int64(), length: 3, nullCount: 0, data: new BigInt64Array([0n, 10n, 20n]) as never }),
      ];
      const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 3, nullCount: 0, children }));
      const arrowFile = join(dir, 'n.arrow');
      writeFileSync(arrowFile, RecordBatchFileWriter.writeAll([batch]).toUint8Array(true));
      const parquetFile = join(dir, 'n.parquet');
      await conn.run(`COPY (SELECT make_timestamp(${T0 * 1000}::BIGINT + k * 1000000) AS "${time}", 'a' || (k % 2) AS "${tagA}", 'b' AS "${tagB}", (k + 0.5)::DOUBLE AS "${float}", (k * 10)::BIGINT AS "${int}" FROM range(3) t(k)) TO '${parquetFile}' (FORMAT parquet)`);
      for (const file of [arrowFile, parquetFile]) {
        const db = await Quiver.open(new MemoryChunkManager());
        await importFiles(db, [file], { table: 't', time });
        const schema = (await db.table('t')).schema;
        assert.deepEqual([schema.time, schema.tags, schema.fields.map((f) => f.name)], [time, [tagA, tagB], [float, int]], file);
        assert.deepEqual(await tableRows(db, time!), EXPECTED(time!, tagA!, tagB!, float!, int!), file);
      }
    }
  } finally {
    conn.closeSync();
    duck.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
});
