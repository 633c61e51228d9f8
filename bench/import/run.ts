/**
 * Bulk import: Quiver vs DuckDB loading the same cpu CSV and its Parquet export into their
 * own storage, each run in a fresh process (time, rows/s, peak RSS), in one run. Each
 * figure is the median of --runs runs (default 3: the machine is shared, timings are noisy).
 * "Quiver" is importFiles with its defaults (on two cores, CSV is parsed on the importing
 * thread); "parse worker" is the same import with the CSV parsed in a worker thread.
 * Usage: npm run bench:import [-- --hosts 100 --scale 10 --runs 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CPU, writeCpuCsv } from '../datasets.js';
import { duckdb, fmt, median } from '../duckdb.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : fallback; };
const hosts = arg('hosts', CPU.hosts);
const scale = arg('scale', 0);
const runs = arg('runs', 3);
const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-import-'));
const child = join(import.meta.dirname, 'child.js');

interface Run { seconds: number; rows: number; maxRssMb: number }

function once(engine: string, file: string): Run {
  return JSON.parse(execFileSync(process.execPath, [child, engine, file], { encoding: 'utf8' }).trim().split('\n').pop()!);
}

/** Median seconds and the peak RSS of the runs, engines interleaved run by run. */
function measure(engines: string[], file: string): Map<string, Run> {
  const all = new Map<string, Run[]>(engines.map((e) => [e, []]));
  for (let r = 0; r < runs; r++) for (const e of engines) all.get(e)!.push(once(e, file));
  return new Map([...all].map(([e, list]) => [e, { seconds: median(list.map((x) => x.seconds)), rows: list[0]!.rows, maxRssMb: Math.max(...list.map((x) => x.maxRssMb)) }]));
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
  console.log(`# import: cpu dataset, ${hosts} hosts × 24 h @10 s (${(hosts * 8640).toLocaleString('en-US')} rows × 21 columns), median of ${runs} runs\n`);
  console.log('| input | MB | Quiver s | Quiver rows/s | Quiver MB/s | Quiver peak RSS MB | Quiver parse worker s | DuckDB s | DuckDB rows/s | DuckDB peak RSS MB | speed ratio (DuckDB time / Quiver time) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [label, file] of inputs) {
    const isCsv = !file.endsWith('.parquet');
    const m = measure(isCsv ? ['quiver', 'quiver-worker', 'duckdb'] : ['quiver', 'duckdb'], file);
    const q = m.get('quiver')!;
    const k = m.get('duckdb')!;
    if (q.rows !== k.rows) throw new Error(`row counts differ on ${label}: Quiver ${q.rows}, DuckDB ${k.rows}`);
    const mb = statSync(file).size / 1e6;
    const worker = m.get('quiver-worker');
    console.log(`| ${label} | ${fmt(mb, 0)} | ${fmt(q.seconds)} | ${Math.round(q.rows / q.seconds).toLocaleString('en-US')} | ${fmt(mb / q.seconds, 0)} | ${fmt(q.maxRssMb, 0)} | ${worker ? fmt(worker.seconds) : '–'} | ${fmt(k.seconds)} | ${Math.round(k.rows / k.seconds).toLocaleString('en-US')} | ${fmt(k.maxRssMb, 0)} | ${fmt(k.seconds / q.seconds)} |`);
  }
  rmSync(dir, { recursive: true, force: true });
}

await main();
