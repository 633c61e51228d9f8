/**
 * Test fixture of the query tests (and a test of the fixture itself): a fake in-memory table
 * implementing QueryableTable — rows split into chunks, each sorted by (series, time) and
 * emitted in random-sized Arrow batches like a real scan — plus DuckDB loading of the same
 * rows and a seeded random generator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Bool, Dictionary, Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct, Uint64, Utf8,
  vectorFromArray, type Data, type DataType, type Table,
} from 'apache-arrow';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { ScanOptions, TableSchema } from '../../src/core/types.js';
import type { QueryableTable } from '../../src/scan/query-types.js';
import { timestampType } from '../../src/scan/query-output.js';
import { toTableTime } from '../../src/scan/query-plan.js';
import { rng } from '../../bench/rng.js';

export type Cell = number | bigint | boolean | string | null;
export interface TestRow { time: bigint; [column: string]: Cell }

export { rng } from '../../bench/rng.js';

export function seedFromEnv(name: string): number {
  const seed = process.env.QUIVER_SEED ? Number(process.env.QUIVER_SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${name}: seed ${seed} (rerun with QUIVER_SEED=${seed})`);
  return seed;
}

function fieldType(type: string): DataType {
  switch (type) {
    case 'float64': return new Float64();
    case 'int64': return new Int64();
    case 'uint64': return new Uint64();
    case 'bool': return new Bool();
    default: return new Utf8();
  }
}

function validity(values: Cell[]): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  const bits = new Uint8Array((values.length + 7) >> 3);
  let nulls = 0;
  values.forEach((v, i) => { if (v === null) nulls++; else bits[i >> 3]! |= 1 << (i & 7); });
  return { nullBitmap: nulls ? bits : undefined, nullCount: nulls };
}

/** An Arrow batch shaped like a scan's: time first, tags as dictionaries, then fields. */
export function makeBatch(schema: TableSchema, rows: TestRow[], columns?: string[]): RecordBatch {
  const fields: Field[] = [];
  const data: Data[] = [];
  const n = rows.length;
  const tt = timestampType(schema.timeUnit);
  fields.push(new Field(schema.time, tt, false));
  data.push(makeData({ type: tt, length: n, nullCount: 0, data: BigInt64Array.from(rows, (r) => r.time) } as never));
  for (const tag of schema.tags) {
    if (columns && !columns.includes(tag)) continue;
    const values = rows.map((r) => r[tag] as string | null);
    const dict: string[] = [];
    const index = new Map<string, number>();
    const codes = new Int32Array(n);
    values.forEach((v, i) => {
      if (v === null) return;
      let k = index.get(v);
      if (k === undefined) { k = dict.length; dict.push(v); index.set(v, k); }
      codes[i] = k;
    });
    const type = new Dictionary(new Utf8(), new Int32());
    fields.push(new Field(tag, type, true));
    data.push(makeData({ type, length: n, ...validity(values), data: codes, dictionary: vectorFromArray(dict, new Utf8()) } as never));
  }
  for (const spec of schema.fields) {
    if (columns && !columns.includes(spec.name)) continue;
    const values = rows.map((r) => (r[spec.name] === undefined ? null : r[spec.name]!));
    const type = fieldType(spec.type);
    fields.push(new Field(spec.name, type, true));
    if (spec.type === 'float64' || spec.type === 'int64' || spec.type === 'uint64') {
      const arr = spec.type === 'float64' ? new Float64Array(n) : spec.type === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
      values.forEach((v, i) => { if (v !== null) arr[i] = (spec.type === 'float64' ? Number(v) : BigInt(v as bigint)) as never; });
      data.push(makeData({ type, length: n, ...validity(values), data: arr } as never));
    } else {
      data.push(vectorFromArray(values as never[], type).data[0]!);
    }
  }
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children: data });
  return new RecordBatch(new Schema(fields), struct);
}

export function seriesKey(schema: TableSchema, row: TestRow): string {
  return schema.tags.map((t) => String(row[t])).join('\u0000');
}

/**
 * A fake table. Rows are split into `chunks` groups by time (like partitions), each chunk
 * sorted by (series, time) and cut into batches of 1..batchRowsMax rows.
 */
export class FakeTable implements QueryableTable {
  scans: ScanOptions[] = [];
  constructor(readonly schema: TableSchema, readonly rows: TestRow[],
              private readonly opts: { chunks?: number; batchRowsMax?: number; seed?: number } = {}) {}

  async *scan(options: ScanOptions): AsyncIterable<RecordBatch> {
    this.scans.push(options);
    const from = options.from === undefined ? null : toTableTime(options.from, this.schema.timeUnit, 'from');
    const to = options.to === undefined ? null : toTableTime(options.to, this.schema.timeUnit, 'to');
    const rows = this.rows.filter((r) => (from === null || r.time >= from) && (to === null || r.time < to) &&
      Object.entries(options.where ?? {}).every(([tag, p]) =>
        typeof p === 'string' ? r[tag] === p : Array.isArray(p) ? p.includes(r[tag] as string) : true));
    const chunks = Math.max(1, this.opts.chunks ?? 1);
    const random = rng(this.opts.seed ?? 1);
    if (rows.length === 0) return;
    const times = rows.map((r) => r.time).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const cuts = Array.from({ length: chunks - 1 }, (_, i) => times[Math.floor(((i + 1) * times.length) / chunks)]!);
    const parts: TestRow[][] = Array.from({ length: chunks }, () => []);
    for (const r of rows) {
      let c = 0;
      while (c < cuts.length && r.time >= cuts[c]!) c++;
      parts[c]!.push(r);
    }
    for (const part of parts) {
      part.sort((a, b) => {
        const ka = seriesKey(this.schema, a), kb = seriesKey(this.schema, b);
        return ka < kb ? -1 : ka > kb ? 1 : a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
      });
      // Odd chunks: one Arrow batch sliced into pieces (Data offsets, shared dictionaries);
      // even chunks: a fresh batch per piece (own dictionaries).
      const whole = parts.indexOf(part) % 2 ? makeBatch(this.schema, part, options.columns) : null;
      let i = 0;
      while (i < part.length) {
        const size = 1 + Math.floor(random() * (this.opts.batchRowsMax ?? 1000));
        yield whole ? whole.slice(i, Math.min(i + size, part.length)) : makeBatch(this.schema, part.slice(i, i + size), options.columns);
        i += size;
      }
    }
  }
}

/** DuckDB with `rows` in table `d`: t BIGINT (table unit), ts TIMESTAMP, tags, fields. */
export async function duckWith(schema: TableSchema, rows: TestRow[]): Promise<{ conn: DuckDBConnection; close: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-query-'));
  const file = join(dir, 'rows.csv');
  const cols = [...schema.tags, ...schema.fields.map((f) => f.name)];
  const lines = [['t', ...cols].join(',')];
  for (const r of rows) lines.push([String(r.time), ...cols.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c])))].join(','));
  writeFileSync(file, lines.join('\n') + '\n');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(`SET TimeZone='UTC'`);
  const sqlType = (t: string) => ({ float64: 'DOUBLE', int64: 'BIGINT', uint64: 'UBIGINT', bool: 'BOOLEAN', utf8: 'VARCHAR' } as Record<string, string>)[t];
  const columnTypes = [`'t': 'BIGINT'`, ...schema.tags.map((t) => `'${t}': 'VARCHAR'`), ...schema.fields.map((f) => `'${f.name}': '${sqlType(f.type)}'`)];
  const toMicros = { s: 't * 1000000', ms: 't * 1000', us: 't', ns: 't // 1000' }[schema.timeUnit];
  await conn.run(`CREATE TABLE d AS SELECT *, make_timestamp(${toMicros}) AS ts FROM read_csv('${file}', header = true, nullstr = '', columns = {${columnTypes.join(', ')}})`);
  rmSync(dir, { recursive: true, force: true });
  return { conn, close: () => { conn.closeSync(); instance.closeSync(); } };
}

/** Rows of a DuckDB query as plain objects. */
export async function duckRows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

/** Rows of an Arrow Table as plain objects, time columns as bigint from the raw values. */
export function tableRows(table: Table): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const names = table.schema.fields.map((f) => f.name);
  for (const batch of table.batches) {
    const cols = names.map((name) => batch.getChild(name)!);
    for (let i = 0; i < batch.numRows; i++) {
      const row: Record<string, unknown> = {};
      names.forEach((name, c) => {
        const col = cols[c]!;
        const typeId = col.type.typeId;
        if (!col.isValid(i)) row[name] = null;
        else if (typeId === 10 /* Timestamp */) row[name] = (col.data[0]!.values as BigInt64Array)[i]; // value buffers are pre-sliced
        else row[name] = col.get(i);
      });
      out.push(row);
    }
  }
  return out;
}

/** Compares numbers: exact or within a relative tolerance. */
export function close(actual: unknown, expected: unknown, what: string, relTol = 1e-9): void {
  if (expected === null || expected === undefined) {
    assert.equal(actual, null, `${what}: expected null, got ${String(actual)}`);
    return;
  }
  assert.notEqual(actual, null, `${what}: expected ${String(expected)}, got null`);
  const a = Number(actual), e = Number(expected);
  if (relTol === 0) { assert.equal(a, e, `${what}: expected ${e}, got ${a}`); return; }
  const scale = Math.max(Math.abs(e), 1e-300);
  assert.ok(Math.abs(a - e) <= relTol * scale || Math.abs(a - e) < 1e-12, `${what}: expected ${e}, got ${a} (rel ${(Math.abs(a - e) / scale).toExponential(2)})`);
}

test('fake table scans honour time range, tag filter and projection, sorted by series per chunk', async () => {
  const schema: TableSchema = { time: 'time', timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'w', type: 'int64' }] };
  const rows: TestRow[] = [];
  for (let i = 0; i < 100; i++) rows.push({ time: BigInt(i * 1000), host: `h${i % 3}`, v: i, w: BigInt(i) });
  const table = new FakeTable(schema, rows, { chunks: 2, batchRowsMax: 7 });
  let seen = 0;
  for await (const b of table.scan({ from: 10_000, to: 50_000, where: { host: 'h1' }, columns: ['v'] })) {
    assert.deepEqual(b.schema.fields.map((f) => f.name), ['time', 'v']);
    seen += b.numRows;
  }
  assert.equal(seen, rows.filter((r) => r.time >= 10_000n && r.time < 50_000n && r.host === 'h1').length);
  assert.equal(toTableTime('2026-01-01T00:00:00.000123456Z', 'ns', 'x'), 1767225600000123456n);
});
