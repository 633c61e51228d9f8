/**
 * One measured import in a fresh process: prints JSON {seconds, rows, maxRssMb}.
 * Engines: quiver (importFiles' defaults), quiver-worker (CSV parsed in a worker thread
 * whatever the core count), duckdb (CREATE TABLE AS SELECT * FROM read_csv/read_parquet,
 * CHECKPOINT). DuckDB's library loads only in its own runs, so Quiver's RSS excludes it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { importFiles } from '../../src/io/import.js';
import { CPU_TAGS } from '../datasets.js';
import { peakRssMb } from '../rss.js';

const [engine, file] = process.argv.slice(2) as ['quiver' | 'quiver-worker' | 'duckdb', string];
const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-import-'));
const t0 = performance.now();
let rows = 0;
if (engine === 'quiver' || engine === 'quiver-worker') {
  const db = await Quiver.open(join(dir, 'store'));
  const summary = await importFiles(db, [file], { table: 'cpu', tags: [...CPU_TAGS], ...(engine === 'quiver-worker' ? { parallel: true } : {}) });
  rows = summary.rows;
  await db.close();
} else {
  const { duckdb } = await import('../duckdb.js');
  const d = await duckdb(join(dir, 'db.duckdb'));
  const source = file.endsWith('.parquet') ? `read_parquet('${file}')` : `read_csv('${file}')`;
  await d.conn.run(`CREATE TABLE cpu AS SELECT * FROM ${source}`);
  await d.conn.run('CHECKPOINT');
  rows = Number((await d.rows('SELECT count(*) FROM cpu'))[0]![0]);
  d.close();
}
const seconds = (performance.now() - t0) / 1000;
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ seconds, rows, maxRssMb: peakRssMb() }));

