/**
 * Bulk import: Quiver vs DuckDB loading the same cpu CSV and its Parquet export into their
 * own storage, each in a fresh process (time, rows/s, peak RSS), in one run.
 * Usage: npm run bench:import [-- --hosts 100 --scale 10]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CPU, writeCpuCsv } from '../datasets.js';
import { duckdb, fmt } from '../duckdb.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : fallback; };
const hosts = arg('hosts', CPU.hosts);
const scale = arg('scale', 0);
const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-import-'));
const child = join(import.meta.dirname, 'child.js');

function measure(engine: 'quiver' | 'duckdb', file: string): { seconds: number; rows: number; maxRssMb: number } {
  return JSON.parse(execFileSync(process.execPath, [child, engine, file], { encoding: 'utf8' }).trim().split('\n').pop()!);
}

async function main() {
  const csv = join(dir, 'cpu.csv');
  await writeCpuCsv(csv, { ...CPU, hosts });
  const parquet = join(dir, 'cpu.parquet');
  const d = await duckdb();
  await d.conn.run(`COPY (SELECT * FROM read_csv('${csv}')) TO '${parquet}' (FORMAT parquet, COMPRESSION zstd)`);
  d.close();
  const inputs: [string, string][] = [['CSV', csv], ['Parquet (zstd)', parquet]];
  if (scale > 1) {
    const big = join(dir, `cpu-x${scale}.csv`);
    await writeCpuCsv(big, { ...CPU, hosts: hosts * scale });
    inputs.push([`CSV ×${scale}`, big]);
  }
  console.log(`# import: cpu dataset, ${hosts} hosts × 24 h @10 s (${(hosts * 8640).toLocaleString('en-US')} rows × 21 columns)\n`);
  console.log('| input | MB | Quiver s | Quiver rows/s | Quiver peak RSS MB | DuckDB s | DuckDB rows/s | DuckDB peak RSS MB | speed ratio (DuckDB time / Quiver time) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [label, file] of inputs) {
    const q = measure('quiver', file);
    const k = measure('duckdb', file);
    if (q.rows !== k.rows) throw new Error(`row counts differ on ${label}: Quiver ${q.rows}, DuckDB ${k.rows}`);
    console.log(`| ${label} | ${fmt(statSync(file).size / 1e6, 0)} | ${fmt(q.seconds)} | ${Math.round(q.rows / q.seconds).toLocaleString('en-US')} | ${fmt(q.maxRssMb, 0)} | ${fmt(k.seconds)} | ${Math.round(k.rows / k.seconds).toLocaleString('en-US')} | ${fmt(k.maxRssMb, 0)} | ${fmt(k.seconds / q.seconds)} |`);
  }
  rmSync(dir, { recursive: true, force: true });
}

await main();
