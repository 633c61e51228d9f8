import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float64, makeData, RecordBatch, Schema, Struct, TimestampSecond } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { exportParquet, exportTable, partitionFolder } from '../../src/export/export.js';
import { ParquetFileWriter } from '../../src/export/parquet-writer.js';
import { readStruct, writeStruct } from '../../src/export/thrift.js';
import { InputError, UsageError } from '../../src/errors.js';
import { START_MS, makeRows, makeTable, toNs, cmp, timesOf, duck, readBack, expectedCells, kv } from './helpers.js';
import { runCli } from '../cli/in-process.js';

for (const unit of ['ns', 'us', 'ms', 's'] as const) {
  test(`Parquet export (${unit}): DuckDB reads every value back exactly, with the time unit, UTC and row groups per partition`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-export-'));
    const db = await Quiver.open(new MemoryChunkManager());
    try {
      const rows = makeRows(unit, 3000);
      const table = await makeTable(db, 'm', unit, rows);
      const file = join(dir, 'm.parquet');
      const result = await exportTable(table, file, { rowGroupRows: 600 });
      assert.equal(result.rows, rows.length);
      const conn = await duck();
      // The exact values in the file, through another reader (arrow-rs): every unit, UTC.
      assert.deepEqual(timesOf(readFileSync(file)), rows.map((r) => (unit === 's' ? r.time * 1000n : r.time)).sort(cmp));
      if (unit === 'ns') {
        // DuckDB reads UTC nanoseconds as TIMESTAMPTZ (microseconds); zone-less ones exactly.
        const naive = join(dir, 'naive.parquet');
        await exportTable(table, naive, { utc: false });
        assert.deepEqual(await readBack(conn, naive, unit), expectedCells(rows));
        const naiveType = (await conn.runAndReadAll(`DESCRIBE SELECT time FROM read_parquet('${naive}')`)).getRowObjects()[0]!.column_type;
        assert.equal(naiveType, 'TIMESTAMP_NS');
      } else {
        assert.deepEqual(await readBack(conn, file, unit), expectedCells(rows));
      }
      const types = new Map((await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjects().map((r) => [r.column_name, r.column_type]));
      assert.equal(types.get('time'), 'TIMESTAMP WITH TIME ZONE');
      assert.equal(types.get('u'), 'UBIGINT');
      assert.equal(types.get('i'), 'BIGINT');
      const schema = (await conn.runAndReadAll(`SELECT name, logical_type FROM parquet_schema('${file}') WHERE name = 'time'`)).getRowObjects();
      const expectUnit = { s: 'MILLIS', ms: 'MILLIS', us: 'MICROS', ns: 'NANOS' }[unit];
      assert.match(String(schema[0]!.logical_type), new RegExp(`isAdjustedToUTC=1.*${expectUnit}|${expectUnit}.*isAdjustedToUTC=1`, 's'));
      // Three days of ~1000 rows, each split at 600 rows: two row groups per partition, none spanning two.
      const groups = (await conn.runAndReadAll(`SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${file}') ORDER BY 1`)).getRowObjects();
      const perDay = [0, 1, 2].map((d) => rows.filter((r) => Number(toNs(r.time, unit) / 1_000_000n - START_MS) >= d * 86_400_000 && Number(toNs(r.time, unit) / 1_000_000n - START_MS) < (d + 1) * 86_400_000).length);
      assert.deepEqual(groups.map((g) => Number(g.row_group_num_rows)), perDay.flatMap((n) => [Math.min(n, 600), n - Math.min(n, 600)].filter((x) => x > 0)));
      const codecs = (await conn.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)).getRowObjects();
      assert.deepEqual(codecs.map((c) => c.compression), ['ZSTD']);
      // Tags are dictionary-encoded.
      const enc = (await conn.runAndReadAll(`SELECT DISTINCT encodings FROM parquet_metadata('${file}') WHERE path_in_schema = 'host'`)).getRowObjects();
      assert.ok(enc.every((e) => /DICTIONARY/.test(String(e.encodings))), JSON.stringify(enc));
      const meta = await kv(conn, file);
      assert.equal(meta.get('quiver.table'), 'm');
      assert.equal(meta.get('quiver.version'), String(table.version));
      assert.equal(meta.get('quiver.time_unit'), unit);
      const times = rows.map((r) => r.time).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.equal(meta.get('quiver.time_min_raw'), times[0]!.toString());
      assert.equal(meta.get('quiver.time_max_raw'), times.at(-1)!.toString());
      assert.ok(meta.has('ARROW:schema'));
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('Parquet export of a time range, tag filter and projection equals the same scan', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-export-'));
  const db = await Quiver.open(new MemoryChunkManager());
  try {
    const rows = makeRows('ns', 2000);
    const table = await makeTable(db, 'm', 'ns', rows);
    const file = join(dir, 'sub.parquet');
    const from = '2026-01-01T12:00:00Z';
    const to = '2026-01-02T18:00:00.5Z';
    await exportTable(table, file, { from, to, where: { host: ['host_1', 'host_3'] }, columns: ['i', 's'], utc: false });
    const conn = await duck();
    const got = (await conn.runAndReadAll(`SELECT epoch_ns(time)::VARCHAR AS t, i::VARCHAR AS i, s FROM read_parquet('${file}')`)).getRowObjects()
      .map((r) => JSON.stringify([r.t, r.i, r.s])).sort();
    const lo = BigInt(Date.parse(from)) * 1_000_000n;
    const hi = BigInt(Date.parse(to)) * 1_000_000n;
    const want = rows.filter((r) => r.time >= lo && r.time < hi && (r.host === 'host_1' || r.host === 'host_3'))
      .map((r) => JSON.stringify([r.time.toString(), r.i === null ? null : r.i.toString(), r.s])).sort();
    assert.ok(want.length > 100);
    assert.deepEqual(got, want);
    const cols = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjects().map((r) => r.column_name);
    assert.deepEqual(cols, ['time', 'i', 's']);
    const meta = await kv(conn, file);
    assert.equal(meta.get('quiver.from'), '2026-01-01T12:00:00Z');
    assert.equal(meta.get('quiver.to'), '2026-01-02T18:00:00.5Z');
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty export is a valid Parquet file with the columns and no rows; a bad column writes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-export-'));
  const db = await Quiver.open(new MemoryChunkManager());
  try {
    const table = await makeTable(db, 'm', 'ms', makeRows('ms', 300));
    const file = join(dir, 'empty.parquet');
    const result = await exportTable(table, file, { from: '2030-01-01', to: '2030-01-02' });
    assert.equal(result.rows, 0);
    const conn = await duck();
    assert.equal(Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${file}')`)).getRowObjects()[0]!.n), 0);
    const cols = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjects().map((r) => r.column_name);
    assert.deepEqual(cols, ['time', 'host', 'dc', 'f', 'i', 'u', 'b', 's']);
    const bad = join(dir, 'bad.parquet');
    await assert.rejects(exportTable(table, bad, { columns: ['nope'] }), /nope/);
    assert.deepEqual(readdirSync(dir).sort(), ['empty.parquet']);
    await assert.rejects(exportTable(table, 's3://bucket/file.parquet'), UsageError);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('second timestamps beyond what Parquet milliseconds hold are refused, not wrapped', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  try {
    const table = await db.createTable('far', { timeUnit: 's', fields: [{ name: 'v', type: 'float64' }], partition: 'none' });
    const type = new TimestampSecond();
    const fields = [new Field('time', type, false), new Field('v', new Float64(), true)];
    const times = makeData({ type, length: 2, nullCount: 0, data: new BigInt64Array([0n, 2n ** 62n]) } as never);
    const values = makeData({ type: new Float64(), length: 2, nullCount: 0, data: new Float64Array([1, 2]) });
    await table.append(new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 2, nullCount: 0, children: [times, values] })));
    await table.flush();
    const parts: Uint8Array[] = [];
    await assert.rejects(exportParquet(table, { write: async (b) => { parts.push(b); } }), InputError);
  } finally {
    await db.close();
  }
});

test('the Thrift codec re-encodes a Parquet footer to the same bytes', async () => {
  const parts: Uint8Array[] = [];
  const db = await Quiver.open(new MemoryChunkManager());
  try {
    const table = await makeTable(db, 'm', 'us', makeRows('us', 500), 1);
    await exportParquet(table, { write: async (b) => { parts.push(b.slice()); } });
    const file = Buffer.concat(parts);
    const len = file.readUInt32LE(file.length - 8);
    const footer = file.subarray(file.length - 8 - len, file.length - 8);
    assert.deepEqual(Buffer.from(writeStruct(readStruct(footer))), Buffer.from(footer));
    assert.throws(() => readStruct(footer.subarray(0, footer.length - 3)), InputError);
  } finally {
    await db.close();
  }
});

test('ParquetFileWriter rejects unknown codecs', () => {
  assert.throws(() => new ParquetFileWriter({ write: async () => {} }, { codec: 'lzo' as never }), UsageError);
});

test('export to a directory writes one file per partition in Hive folders that DuckDB reads as one table', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-export-'));
  const db = await Quiver.open(new MemoryChunkManager());
  try {
    const rows = makeRows('us', 1500);
    const table = await makeTable(db, 'm', 'us', rows);
    const result = await exportTable(table, `${dir}/out/`);
    assert.deepEqual(result.files.map((f) => f.partition), ['2026-01-01', '2026-01-02', '2026-01-03']);
    for (const d of ['2026-01-01', '2026-01-02', '2026-01-03']) assert.ok(existsSync(join(dir, 'out', `date=${d}`, 'm.parquet')));
    const conn = await duck();
    assert.deepEqual(await readBack(conn, `${dir}/out/*/*.parquet`, 'us'), expectedCells(rows));
    const byDate = (await conn.runAndReadAll(`SELECT date::VARCHAR AS d, count(*)::INTEGER AS n, min(time)::DATE::VARCHAR AS lo, max(time)::DATE::VARCHAR AS hi FROM read_parquet('${dir}/out/*/*.parquet', hive_partitioning = true) GROUP BY 1 ORDER BY 1`)).getRowObjects();
    assert.deepEqual(byDate.map((r) => [r.d, r.lo, r.hi]), [['2026-01-01', '2026-01-01', '2026-01-01'], ['2026-01-02', '2026-01-02', '2026-01-02'], ['2026-01-03', '2026-01-03', '2026-01-03']]);
    assert.equal(byDate.reduce((s, r) => s + Number(r.n), 0), rows.length);
    assert.equal((await kv(conn, join(dir, 'out', 'date=2026-01-02', 'm.parquet'))).get('quiver.partition'), '2026-01-02');
    assert.equal(partitionFolder('2026-01-01T13', 'hour'), 'date=2026-01-01/hour=13/');
    assert.equal(partitionFolder('2026-01', 'month'), 'month=2026-01/');
    assert.equal(partitionFolder('all', 'none'), '');
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('quiver export CLI: --out file.parquet with scan options and --codec, --json result, usage errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-export-'));
  const store = join(dir, 'store');
  try {
    const db = await Quiver.open(store);
    const rows = makeRows('ns', 900);
    await makeTable(db, 'm', 'ns', rows);
    await db.close();
    const file = join(dir, 'cli.parquet');
    const r = await runCli(store, 'export', 'm', '--out', file, '--codec', 'snappy', '--where', 'host=host_2', '--naive-time', '--json');
    assert.equal(r.code, 0, r.out);
    const json = JSON.parse(r.out);
    const want = rows.filter((x) => x.host === 'host_2');
    assert.equal(json.rows, want.length);
    const conn = await duck();
    assert.deepEqual(await readBack(conn, file, 'ns'), expectedCells(want));
    const codecs = (await conn.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)).getRowObjects();
    assert.deepEqual(codecs.map((c) => c.compression), ['SNAPPY']);
    assert.equal((await runCli(store, 'export', 'm')).code, 2);
    assert.equal((await runCli(store, 'export', 'm', '--out', file, '--codec', 'lzo')).code, 2);
    const missing = await runCli(store, 'export', 'nope', '--out', join(dir, 'x.parquet'));
    assert.equal(missing.code, 1);
    assert.match(missing.out, /no table named nope/);
    assert.ok(readFileSync(file).subarray(0, 4).toString() === 'PAR1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
