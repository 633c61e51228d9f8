/**
 * Repeated points in files written by another writer (DuckDB's `COPY … TO`, Parquet and CSV),
 * imported one after another under each duplicate policy: the table holds exactly what the
 * README's Duplicates section promises, field by field (under last/first each field holds the
 * last/first non-null value written, so a later null never erases a value; keep holds every
 * row as written), through scans, query aggregates, after compaction, and as DuckDB reads
 * Quiver's Parquet export. The expectation is computed here from the rows in write order (file
 * after file, rows in file order). Seeded: QUIVER_DUP_DUCKDB_SEED replays a seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBTimestampMillisecondsValue, type DuckDBConnection } from '@duckdb/node-api';
import { rng as random } from '../../bench/rng.js';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles } from '../../src/io/import.js';
import { exportTable } from '../../src/export/export.js';
import type { DuplicatePolicy } from '../../src/core/types.js';
import type { Table } from '../../src/table/table.js';

const SEED = Number(process.env.QUIVER_DUP_DUCKDB_SEED ?? 20261204);
const T0 = Date.UTC(2026, 0, 1);

interface Point { time: number; host: string; v: number | null; n: bigint | null; s: string | null }
const FIELDS = ['v', 'n', 's'] as const;

/** Rows of `files` files, each with points repeated inside it and across files; nulls in every field. */
function generate(seed: number, files: number): Point[][] {
  const r = random(seed);
  const int = (k: number) => Math.floor(r() * k);
  const maybe = <T>(v: T): T | null => (r() < 0.3 ? null : v);
  const out: Point[][] = [];
  for (let f = 0; f < files; f++) {
    const rows: Point[] = [];
    for (let i = 0; i < 150 + int(100); i++) {
      rows.push({
        time: T0 + 60_000 * int(30), host: ['a', 'b', 'c'][int(3)]!,
        v: maybe([-0, 0.1, 2.5, -7.25, 1e300, 123.456][int(6)]! + (r() < 0.5 ? 0 : int(1000))),
        n: maybe(BigInt(int(2_000_001) - 1_000_000) * 1_000_003n),
        s: maybe(r() < 0.15 ? '' : `s${int(50)},"q"`),
      });
    }
    out.push(rows);
  }
  return out;
}

/** What the table must hold under `policy`: rows per point key, in write order (keep) or folded. */
function model(files: Point[][], policy: DuplicatePolicy): Map<string, Point[]> {
  const out = new Map<string, Point[]>();
  for (const rows of files) {
    for (const p of rows) {
      const key = `${p.host}@${p.time}`;
      const list = out.get(key);
      if (!list) { out.set(key, [{ ...p }]); continue; }
      if (policy === 'keep') { list.push({ ...p }); continue; }
      const held = list[0]! as unknown as Record<string, unknown>;
      for (const f of FIELDS) {
        if (p[f] === null) continue; // a null written never erases a value
        if (policy === 'last' || held[f] === null) held[f] = p[f];
      }
    }
  }
  return out;
}

const bits = (v: number | null) => { if (v === null) return 'null'; const d = new DataView(new ArrayBuffer(8)); d.setFloat64(0, v); return d.getBigUint64(0).toString(16); };
const cell = (p: { time: number | bigint; host: string; v: number | null; n: bigint | string | null; s: string | null }) =>
  JSON.stringify([String(p.time), p.host, bits(p.v), p.n === null ? null : String(p.n), p.s]);

function expectedCells(m: Map<string, Point[]>): string[] {
  return [...m.values()].flat().map(cell).sort();
}

async function scannedCells(table: Table): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of table.scan({})) {
    const time = batch.getChild('time')!.data[0]!.values as BigInt64Array;
    for (let i = 0; i < batch.numRows; i++) {
      const v = batch.getChild('v')!.get(i) as number | null, n = batch.getChild('n')!.get(i) as bigint | null, s = batch.getChild('s')!.get(i) as string | null;
      out.push(cell({ time: time[i]!, host: String(batch.getChild('host')!.get(i)), v, n, s }));
    }
  }
  return out.sort();
}

/** Per host: count(*), count(v), min(v), max(v), sum(n) of the model. */
function expectedAggregates(m: Map<string, Point[]>): string[] {
  const by = new Map<string, Point[]>();
  for (const p of [...m.values()].flat()) { const l = by.get(p.host) ?? []; l.push(p); by.set(p.host, l); }
  return [...by].map(([host, ps]) => {
    const vs = ps.map((p) => p.v).filter((v): v is number => v !== null);
    const ns = ps.map((p) => p.n).filter((v): v is bigint => v !== null);
    const min = vs.reduce((a, b) => (b < a || (b === 0 && a === 0 && Object.is(b, -0)) ? b : a), Infinity);
    const max = vs.reduce((a, b) => (b > a ? b : a), -Infinity);
    return JSON.stringify([host, String(ps.length), String(vs.length), vs.length ? min : null, vs.length ? max : null, ns.length ? String(ns.reduce((a, b) => a + b, 0n)) : null]);
  }).sort();
}

async function queriedAggregates(table: Table): Promise<string[]> {
  const q = await table.query({ by: ['host'], agg: { '*': 'count', v: ['count', 'min', 'max'], n: 'sum' } });
  const names = q.schema.fields.map((f) => f.name);
  const col = (want: string) => { const name = names.find((x) => x === want); assert.ok(name, `column ${want} in ${names.join(', ')}`); return q.getChild(name)!; };
  const out: string[] = [];
  for (let i = 0; i < q.numRows; i++) {
    const val = (c: string) => { const v: unknown = col(c).get(i); return v === null || v === undefined ? null : v; };
    const min = val('min_v') as number | null, max = val('max_v') as number | null, sum = val('sum_n');
    out.push(JSON.stringify([String(val('host')), String(val('count')), String(val('count_v')), min, max, sum === null ? null : String(sum)]));
  }
  return out.sort();
}

/** Writes each file's rows with DuckDB (appender into a table, then COPY in row order). */
async function writeFiles(conn: DuckDBConnection, files: Point[][], dir: string, format: 'parquet' | 'csv'): Promise<string[]> {
  const paths: string[] = [];
  for (let f = 0; f < files.length; f++) {
    await conn.run('CREATE OR REPLACE TABLE src (seq INTEGER, time TIMESTAMP_MS, host VARCHAR, v DOUBLE, n BIGINT, s VARCHAR)');
    const appender = await conn.createAppender('src');
    files[f]!.forEach((p, seq) => {
      appender.appendInteger(seq);
      appender.appendTimestampMilliseconds(new DuckDBTimestampMillisecondsValue(BigInt(p.time)));
      appender.appendVarchar(p.host);
      if (p.v === null) appender.appendNull(); else appender.appendDouble(p.v);
      if (p.n === null) appender.appendNull(); else appender.appendBigInt(p.n);
      if (p.s === null) appender.appendNull(); else appender.appendVarchar(p.s);
      appender.endRow();
    });
    appender.closeSync();
    const path = join(dir, `w${f}.${format}`);
    const time = format === 'csv' ? 'epoch_ms(time) AS time' : 'time';
    await conn.run(`COPY (SELECT ${time}, host, v, n, s FROM src ORDER BY seq) TO '${path}' (FORMAT ${format}${format === 'csv' ? ', HEADER' : ''})`);
    paths.push(path);
  }
  return paths;
}

for (const format of ['parquet', 'csv'] as const) {
  test(`repeated points in ${format} written by DuckDB, imported under last, first and keep: scans, aggregates, compaction and DuckDB's read of the export give what the policy says (seed ${SEED})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-dup-duckdb-'));
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      const files = generate(SEED + (format === 'csv' ? 1 : 0), 3);
      const paths = await writeFiles(conn, files, dir, format);
      for (const policy of ['last', 'first', 'keep'] as const) {
        const label = `${format}, ${policy}`;
        const db = await Quiver.open(new MemoryChunkManager(), { autoCompact: 0 });
        let duplicateRows = 0;
        for (let f = 0; f < paths.length; f++) {
          const summary = await importFiles(db, [paths[f]!], {
            table: 't', tags: ['host'], timeUnit: 'ms', duplicates: policy, append: f > 0,
            ...(format === 'csv' ? { timeFormat: 'ms', schema: { v: 'float64', n: 'int64', s: 'utf8' } } : {}),
          });
          duplicateRows += summary.duplicateRows;
        }
        const table = await db.table('t');
        const want = model(files, policy);
        const total = files.reduce((s, rows) => s + rows.length, 0);
        const points = new Set(files.flat().map((p) => `${p.host}@${p.time}`)).size;
        assert.ok(points < total, `${label}: the files repeat points`);
        assert.equal(duplicateRows, total - points, `${label}: rows that met a point already written`);
        assert.ok(table.currentManifest.chunks.length >= 3, `${label}: a chunk per import at least`);
        const cells = expectedCells(want);
        assert.deepEqual(await scannedCells(table), cells, `${label}: scan`);
        const aggregates = expectedAggregates(want);
        assert.deepEqual(await queriedAggregates(table), aggregates, `${label}: query aggregates`);
        await table.compact();
        assert.deepEqual(await scannedCells(table), cells, `${label}: scan after compaction`);
        assert.deepEqual(await queriedAggregates(table), aggregates, `${label}: query aggregates after compaction`);
        // Quiver's Parquet export, read by DuckDB.
        const out = join(dir, `export-${format}-${policy}.parquet`);
        await exportTable(table, out);
        const back = (await conn.runAndReadAll(`SELECT epoch_ms(time) AS t, host, v, n::VARCHAR AS n, s FROM read_parquet('${out}')`)).getRowObjects()
          .map((r) => cell({ time: BigInt(r.t as bigint), host: r.host as string, v: r.v as number | null, n: r.n as string | null, s: r.s as string | null })).sort();
        assert.deepEqual(back, cells, `${label}: DuckDB's read of the export`);
        await db.close();
      }
    } finally {
      conn.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
