/**
 * The round trip's other half (issue 12): values a table cannot hold exactly — times outside
 * the unit's range or finer than the unit, integers beyond int64 or uint64, decimals beyond
 * their precision — hidden at a seeded position among valid rows and written through every
 * path (rows, RecordBatch, CSV, Parquet by parquet-wasm, Arrow IPC file and stream). Each
 * write must fail with a typed error naming the column, and the table must hold no row of it:
 * never a changed value.
 *
 *   QUIVER_ROUNDTRIP_CASES=200 npm test -- out-of-range      a longer run (default 3 per path × kind)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Decimal, Field, Int64, makeData, RecordBatch, Schema, Struct, Table as ArrowTable, TimestampMillisecond, TimestampNanosecond, TimestampSecond, Uint64,
  tableToIPC, type Data, type DataType,
} from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { QuiverError } from '../../src/errors.js';
import { importFiles } from '../../src/io/import.js';
import type { CreateTableSpec, Row } from '../../src/core/types.js';
import { PATHS, type PathName } from './paths.js';
import { Rand } from './generate.js';

const CASES = Number(process.env.QUIVER_ROUNDTRIP_CASES ?? 3);
const T0_S = 1_767_225_600n;
const Y2300_S = BigInt(Date.UTC(2300, 0, 1) / 1000);

/**
 * One kind of value a table cannot hold: the table, the column it sits in, a valid value and
 * the bad one as each path writes it (a plain row value, an Arrow column, a CSV cell).
 */
interface BadKind {
  name: string;
  spec: CreateTableSpec;
  /** The column the bad value is in (the error must name it). */
  column: string;
  /** Arrow type of the column in batches and files, and its data from stored integers. */
  arrowType: DataType;
  data(values: bigint[]): Data;
  /** A valid value (as the integer Arrow stores) and the bad one. */
  good(r: Rand, i: number): bigint;
  bad: bigint;
  /** How rows and CSV cells spell a stored integer. */
  row(v: bigint): unknown;
  cell(v: bigint): string;
  /** CSV import options. */
  csv: { schema?: Record<string, string>; timeFormat?: 'ns' };
}

const words = (values: bigint[]) => {
  const out = new Uint32Array(values.length * 4);
  values.forEach((v, i) => { let x = BigInt.asUintN(128, v); for (let w = 0; w < 4; w++) { out[i * 4 + w] = Number(x & 0xffffffffn); x >>= 32n; } });
  return out;
};
const ints = (type: DataType, array: (v: bigint[]) => ArrayBufferView) => (values: bigint[]) => makeData({ type, length: values.length, nullCount: 0, data: array(values) } as never) as Data;
const decimalText = (v: bigint) => { const s = (v < 0n ? -v : v).toString().padStart(3, '0'); return `${v < 0n ? '-' : ''}${s.slice(0, -2)}.${s.slice(-2)}`; };

const KINDS: readonly BadKind[] = [
  {
    name: 'an int64 field given 2^63', column: 'big_i', spec: { tags: ['host'], fields: [{ name: 'big_i', type: 'int64' }] },
    arrowType: new Uint64(), data: ints(new Uint64(), (v) => BigUint64Array.from(v)),
    good: (r) => r.big(0n, 2n ** 63n - 1n), bad: 2n ** 63n, row: (v) => v, cell: String, csv: { schema: { big_i: 'int64' } },
  },
  {
    name: 'a uint64 field given -1', column: 'big_u', spec: { tags: ['host'], fields: [{ name: 'big_u', type: 'uint64' }] },
    arrowType: new Int64(), data: ints(new Int64(), (v) => BigInt64Array.from(v)),
    good: (r) => r.big(0n, 2n ** 63n - 1n), bad: -1n, row: (v) => v, cell: String, csv: { schema: { big_u: 'uint64' } },
  },
  {
    name: 'a decimal(6,2) field given 12345.67', column: 'dec', spec: { tags: ['host'], fields: [{ name: 'dec', type: 'decimal(6,2)' }] },
    arrowType: new Decimal(2, 10, 128), data: (v) => makeData({ type: new Decimal(2, 10, 128), length: v.length, nullCount: 0, data: words(v) } as never),
    good: (r) => r.big(-999_999n, 999_999n), bad: 1_234_567n, row: decimalText, cell: decimalText, csv: { schema: { dec: 'decimal(6,2)' } },
  },
  {
    name: 'a ns table given year 2300', column: 'time', spec: { tags: ['host'], fields: [{ name: 'v', type: 'int64' }] },
    arrowType: new TimestampSecond(), data: ints(new TimestampSecond(), (v) => BigInt64Array.from(v)),
    good: (_r, i) => T0_S + BigInt(i), bad: Y2300_S, row: (v) => new Date(Number(v) * 1000).toISOString(), cell: (v) => new Date(Number(v) * 1000).toISOString(), csv: {},
  },
  {
    name: 'a ms table given a nanosecond', column: 'time', spec: { tags: ['host'], fields: [{ name: 'v', type: 'int64' }], timeUnit: 'ms' },
    arrowType: new TimestampNanosecond(), data: ints(new TimestampNanosecond(), (v) => BigInt64Array.from(v)),
    good: (_r, i) => (T0_S + BigInt(i)) * 1_000_000_000n, bad: T0_S * 1_000_000_000n + 1n, row: (v) => v, cell: String, csv: { timeFormat: 'ns' },
  },
];

function batchOf(kind: BadKind, values: bigint[]): RecordBatch {
  const n = values.length;
  const host = makeData({ type: new Int64(), length: n, nullCount: 0, data: BigInt64Array.from(values, (_, i) => BigInt(i % 3)) } as never);
  const columns: [string, Data][] = kind.column === 'time'
    ? [['time', kind.data(values)], ['host', host], ['v', makeData({ type: new Int64(), length: n, nullCount: 0, data: BigInt64Array.from(values, (_, i) => BigInt(i)) } as never)]]
    : [['time', makeData({ type: new TimestampMillisecond(), length: n, nullCount: 0, data: BigInt64Array.from(values, (_, i) => (T0_S + BigInt(i)) * 1000n) } as never)], ['host', host], [kind.column, kind.data(values)]];
  const fields = columns.map(([name, d]) => new Field(name, d.type, false));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children: columns.map(([, d]) => d) }));
}

function rowsOf(kind: BadKind, values: bigint[]): Row[] {
  return values.map((v, i) => (kind.column === 'time'
    ? { time: kind.row(v), host: String(i % 3), v: BigInt(i) }
    : { time: new Date(Number(T0_S + BigInt(i)) * 1000), host: String(i % 3), [kind.column]: kind.row(v) }) as Row);
}

function csvOf(kind: BadKind, values: bigint[]): string {
  const lines = values.map((v, i) => (kind.column === 'time'
    ? `${kind.cell(v)},${i % 3},${i}`
    : `${new Date(Number(T0_S + BigInt(i)) * 1000).toISOString()},${i % 3},${kind.cell(v)}`));
  return `time,host,${kind.column === 'time' ? 'v' : kind.column}\n${lines.join('\n')}\n`;
}

async function writeThrough(path: PathName, kind: BadKind, values: bigint[], db: Quiver, dir: string): Promise<void> {
  const table = await db.table('t');
  if (path === 'rows') { await table.append(rowsOf(kind, values)); return; }
  if (path === 'batch') { await table.append(batchOf(kind, values)); return; }
  const file = join(dir, { csv: 'in.csv', parquet: 'in.parquet', 'arrow-file': 'in.arrow', 'arrow-stream': 'in.arrows' }[path]);
  if (path === 'csv') writeFileSync(file, csvOf(kind, values));
  else if (path === 'parquet') {
    const pq = await import('parquet-wasm/node');
    writeFileSync(file, pq.writeParquet(pq.Table.fromIPCStream(tableToIPC(new ArrowTable([batchOf(kind, values)]), 'stream'))));
  } else writeFileSync(file, tableToIPC(new ArrowTable([batchOf(kind, values)]), path === 'arrow-file' ? 'file' : 'stream'));
  await importFiles(db, [file], { table: 't', append: true, tags: ['host'], ...(path === 'csv' ? kind.csv : {}) });
}

for (const path of PATHS) {
  test(`out-of-range values through ${path}: a typed error naming the column, and no row stored (${CASES} seeded cases per kind)`, async () => {
    for (const kind of KINDS) {
      for (let seed = 1; seed <= CASES; seed++) {
        const r = new Rand(seed * 7919 + PATHS.indexOf(path) * 131 + KINDS.indexOf(kind));
        const n = 1 + r.int(300);
        const values = Array.from({ length: n }, (_, i) => kind.good(r, i));
        const at = r.int(n);
        values[at] = kind.bad;
        const label = `${kind.name} through ${path}, seed ${seed}, row ${at} of ${n}`;
        const dir = mkdtempSync(join(tmpdir(), 'quiver-out-of-range-'));
        const db = await Quiver.open(new MemoryChunkManager());
        try {
          const t = await db.createTable('t', kind.spec);
          await assert.rejects(writeThrough(path, kind, values, db, dir), (e: unknown) => {
            assert.ok(e instanceof QuiverError, `${label}: ${e}`);
            assert.ok(e.message.includes(kind.column), `${label}: the error names the column ${kind.column}: ${e.message}`);
            return true;
          }, label);
          await t.flush();
          const stored = (await (await db.table('t')).query({})).numRows;
          assert.equal(stored, 0, `${label}: ${stored} row(s) stored`);
        } finally {
          await db.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  });
}
