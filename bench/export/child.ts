/**
 * One measured export in a fresh process: prints JSON {seconds, bytes, maxRssMb}.
 * Engines: quiver (Quiver.export of the whole table to one Parquet file, zstd), duckdb
 * (COPY cpu TO … (FORMAT parquet, COMPRESSION zstd) from its own database file). DuckDB's
 * library loads only in its own runs, so Quiver's RSS excludes it.
 */
import { statSync } from 'node:fs';
import { Quiver } from '../../src/quiver.js';
import { peakRssMb } from '../rss.js';

const [engine, source, out] = process.argv.slice(2) as ['quiver' | 'duckdb', string, string];
const t0 = performance.now();
if (engine === 'quiver') {
  const db = await Quiver.open(source);
  await db.export('cpu', out);
  await db.close();
} else {
  const { duckdb } = await import('../duckdb.js');
  const d = await duckdb(source);
  await d.conn.run(`COPY cpu TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
  d.close();
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ seconds, bytes: statSync(out).size, maxRssMb: peakRssMb() }));
