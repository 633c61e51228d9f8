import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordBatchFileReader, RecordBatchStreamReader, tableFromIPC } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { formatOfPath, pickFormat } from '../../src/export/formats.js';
import { UsageError } from '../../src/errors.js';
import { runCli } from '../cli/in-process.js';
import { duck, expectedCells, makeRows, makeTable, readBack } from './helpers.js';

test('pickFormat: --format wins, else --out\'s extension, else the default; contradictions and unknown extensions are usage errors', () => {
  assert.equal(formatOfPath('a/b.PARQUET'), 'parquet');
  assert.equal(formatOfPath('x.arrow'), 'arrow-file');
  assert.equal(formatOfPath('x.arrows'), 'arrow');
  assert.equal(formatOfPath('x.json'), 'json');
  assert.equal(formatOfPath('x.jsonl'), 'jsonl');
  assert.equal(formatOfPath('x.csv'), 'csv');
  assert.equal(pickFormat(undefined, 'x.parquet', 'table'), 'parquet');
  assert.equal(pickFormat('csv', 'x.csv', 'table'), 'csv');
  assert.equal(pickFormat('csv', 'noext', 'table'), 'csv');
  assert.equal(pickFormat(undefined, undefined, 'jsonl'), 'jsonl');
  assert.throws(() => pickFormat('csv', 'x.parquet', 'table'), UsageError);
  assert.throws(() => pickFormat(undefined, 'x.xlsx', 'table'), /unknown extension/);
  assert.throws(() => pickFormat('yaml', undefined, 'table'), UsageError);
});

test('scan, query and export write the format --out names: Parquet, CSV, Arrow file and stream, JSON lines, JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-formats-'));
  const store = join(dir, 'store');
  try {
    const db = await Quiver.open(store);
    const rows = makeRows('us', 700);
    await makeTable(db, 'm', 'us', rows);
    await db.close();
    const conn = await duck();
    const want = expectedCells(rows);

    // Parquet from scan and from export: DuckDB reads the same rows.
    for (const cmd of ['scan', 'export']) {
      const file = join(dir, `${cmd}.parquet`);
      const r = await runCli(store, cmd, 'm', '--out', file);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(await readBack(conn, file, 'us'), want);
    }

    // Arrow IPC file (.arrow) and stream (.arrows): every row once.
    const arrowFile = join(dir, 'x.arrow');
    assert.equal((await runCli(store, 'scan', 'm', '--out', arrowFile)).code, 0);
    const fileBytes = readFileSync(arrowFile);
    assert.equal(fileBytes.subarray(0, 6).toString(), 'ARROW1');
    const fromFile = tableFromIPC(RecordBatchFileReader.from(fileBytes));
    assert.equal(fromFile.numRows, rows.length);
    // Tags stay dictionary-encoded: one dictionary grown by deltas across the scanned chunks.
    assert.deepEqual(fromFile.getChild('host')!.toArray().map(String).sort(), rows.map((r) => r.host).sort());
    assert.deepEqual(fromFile.getChild('dc')!.toArray().map(String).sort(), rows.map((r) => String(r.dc)).sort()); // the null tag stays null
    assert.equal(fromFile.schema.fields.find((f) => f.name === 'host')!.typeId, -1);
    const arrowStream = join(dir, 'x.arrows');
    assert.equal((await runCli(store, 'export', 'm', '--out', arrowStream)).code, 0);
    const fromStream = tableFromIPC(RecordBatchStreamReader.from(readFileSync(arrowStream)));
    assert.equal(fromStream.numRows, rows.length);
    assert.deepEqual(fromStream.getChild('s')!.toArray().map(String).sort(), fromFile.getChild('s')!.toArray().map(String).sort());

    // CSV, JSON lines and JSON: the same rows.
    const csv = join(dir, 'x.csv');
    assert.equal((await runCli(store, 'export', 'm', '--out', csv)).code, 0);
    const csvRows = (await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_csv('${csv}')`)).getRowObjects();
    assert.equal(csvRows[0]!.n, rows.length);
    const jsonl = join(dir, 'x.jsonl');
    assert.equal((await runCli(store, 'scan', 'm', '--out', jsonl)).code, 0);
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const json = join(dir, 'x.json');
    assert.equal((await runCli(store, 'scan', 'm', '--out', json)).code, 0);
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    assert.ok(Array.isArray(doc));
    assert.equal(doc.length, rows.length);
    assert.deepEqual(doc, lines);

    // query results by extension too; an empty result is still a valid file.
    const q = join(dir, 'q.parquet');
    assert.equal((await runCli(store, 'query', 'm', '--agg', 'count:f,max:i', '--every', '1d', '--out', q)).code, 0);
    const counts = (await conn.runAndReadAll(`SELECT sum(count_f)::INTEGER AS n FROM read_parquet('${q}')`)).getRowObjects();
    assert.equal(counts[0]!.n, rows.filter((r) => r.f !== null).length);
    const empty = join(dir, 'empty.json');
    assert.equal((await runCli(store, 'scan', 'm', '--from', '2030-01-01', '--out', empty)).code, 0);
    assert.deepEqual(JSON.parse(readFileSync(empty, 'utf8')), []);
    const emptyArrow = join(dir, 'empty.arrow');
    assert.equal((await runCli(store, 'scan', 'm', '--from', '2030-01-01', '--out', emptyArrow)).code, 0);
    const emptyTable = tableFromIPC(RecordBatchFileReader.from(readFileSync(emptyArrow)));
    assert.equal(emptyTable.numRows, 0);
    assert.equal(emptyTable.schema.fields[0]!.name, 'time');

    assert.equal((await runCli(store, 'scan', 'm', '--out', join(dir, 'x.xlsx'))).code, 2);
    assert.equal((await runCli(store, 'scan', 'm', '--format', 'csv', '--out', join(dir, 'y.parquet'))).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
