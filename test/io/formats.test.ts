import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { RecordBatchFileWriter, RecordBatchStreamWriter, tableFromArrays, type Table as ArrowTable } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles } from '../../src/io/import.js';

const dir = mkdtempSync(join(tmpdir(), 'quiver-formats-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Rows of a Quiver query as sorted strings: time (epoch µs), host, v, n, ok, s. */
function quiverRows(t: ArrowTable): string[] {
  const out: string[] = [];
  const time = t.getChild('time')!.data[0]!.values as BigInt64Array;
  for (let i = 0; i < t.numRows; i++) {
    const cell = (c: string) => { const v = t.getChild(c)!; return v.isValid(i) ? String(v.get(i)) : 'null'; };
    out.push([time[i]! / 1000n, cell('host'), cell('v'), cell('n'), cell('ok'), cell('s')].join('|'));
  }
  return out.sort();
}

const SQL = `SELECT TIMESTAMP '2026-01-01 00:00:00' + to_microseconds(i * 1500) AS time,
  'h' || (i % 5) AS host, CASE WHEN i % 7 = 0 THEN NULL ELSE i / 8.0 END AS v,
  (i * 1000003)::BIGINT AS n, i % 3 = 0 AS ok, CASE WHEN i % 11 = 0 THEN NULL ELSE 'x' || i END AS s
  FROM range(5000) t(i)`;

test('Parquet written by DuckDB in every codec and with v2 encodings imports as DuckDB reads it', async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const variants = [['zstd', ''], ['snappy', ''], ['gzip', ''], ['uncompressed', ''], ['lz4', ''], ['brotli', ''], ['zstd', ', PARQUET_VERSION v2']];
  for (const [codec, extra] of variants) {
    const file = join(dir, `d-${codec}${extra ? '-v2' : ''}.parquet`);
    await conn.run(`COPY (${SQL}) TO '${file}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 2048${extra})`);
    const expected = (await conn.runAndReadAll(`SELECT epoch_us(time), host, v, n, ok, s FROM read_parquet('${file}')`)).getRows()
      .map((r) => r.map((c) => (c === null ? 'null' : String(c))).join('|')).sort();
    const db = await Quiver.open(new MemoryChunkManager());
    const summary = await importFiles(db, [file], { table: 't', tags: ['host'] });
    assert.equal(summary.rows, 5000, codec);
    const table = await db.table('t');
    assert.deepEqual(table.schema.fields.map((f) => `${f.name}:${f.type}`), ['v:float64', 'n:int64', 'ok:bool', 's:utf8'], codec);
    assert.deepEqual(quiverRows(await table.query({})), expected, `${codec}${extra}`);
  }
  conn.closeSync();
  instance.closeSync();
});

test('Arrow IPC files and streams import with their types', async () => {
  const n = 1000;
  const source = tableFromArrays({
    time: BigInt64Array.from({ length: n }, (_, i) => BigInt(Date.UTC(2026, 0, 1) + i * 1000) * 1000n),
    host: Array.from({ length: n }, (_, i) => `h${i % 4}`),
    v: Float64Array.from({ length: n }, (_, i) => i / 4),
  });
  for (const [name, Writer] of [['f.arrow', RecordBatchFileWriter], ['s.arrows', RecordBatchStreamWriter]] as const) {
    const file = join(dir, name);
    writeFileSync(file, (Writer as typeof RecordBatchFileWriter).writeAll(source).toUint8Array(true));
    const db = await Quiver.open(new MemoryChunkManager());
    const summary = await importFiles(db, [file], { table: 't', time: 'time', tags: ['host'] });
    assert.equal(summary.rows, n, name);
    const out = await (await db.table('t')).query({ where: { host: 'h1' } });
    assert.equal(out.numRows, n / 4);
    const v = out.getChild('v')!;
    let sum = 0;
    for (let i = 0; i < out.numRows; i++) sum += v.get(i) as number;
    assert.equal(sum, Array.from({ length: n }, (_, i) => i).filter((i) => i % 4 === 1).reduce((s, i) => s + i / 4, 0));
  }
});
