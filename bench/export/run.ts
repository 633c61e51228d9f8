/**
 * Export throughput: Quiver writing a whole table to one Parquet file (zstd) vs DuckDB's
 * `COPY cpu TO 'file.parquet' (FORMAT parquet, COMPRESSION zstd)` from its own database,
 * the same cpu data, each run in a fresh process (time, rows/s, output bytes, peak RSS),
 * engines interleaved run by run; medians of --runs (default 3). Both files are read back
 * by DuckDB and must hold the same rows.
 * Usage: npm run bench:export [-- --hosts 100 --scale 10 --runs 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { importFiles } from '../../src/io/import.js';
import { CPU, CPU_TAGS, writeCpuCsv } from '../datasets.js';
import { duckdb, fmt, median } from '../duckdb.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : fallback; };
const hosts = arg('hosts', CPU.hosts);
const scale = arg('scale', 0);
const runs = arg('runs', 3);
const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-export-'));
const child = join(import.meta.dirname, 'child.js');

interface Run { seconds: number; bytes: number; maxRssMb: number }

function once(engine: string, source: string, out: string): Run {
  return JSON.parse(execFileSync(process.execPath, [child, engine, source, out], { encoding: 'utf8' }).trim().split('\n').pop()!);
}

/** The cpu data (hosts × 24 h) loaded into a Quiver store and a DuckDB file from one CSV. */
async function load(label: string, hostCount: number): Promise<{ store: string; duck: string; rows: number }> {
  const csv = join(dir, `${label}.csv`);
  await writeCpuCsv(csv, { ...CPU, hosts: hostCount });
  const store = join(dir, `${label}-store`);
  const db = await Quiver.open(store);
  const summary = await importFiles(db, [csv], { table: 'cpu', tags: [...CPU_TAGS] });
  await db.close();
  const duck = join(dir, `${label}.duckdb`);
  const d = await duckdb(duck);
  await d.conn.run(`CREATE TABLE cpu AS SELECT * FROM read_csv('${csv}') ORDER BY ${CPU_TAGS.join(', ')}, time`);
  await d.conn.run('CHECKPOINT');
  d.close();
  rmSync(csv);
  return { store, duck, rows: summary.rows };
}

async function countRows(file: string): Promise<number> {
  const d = await duckdb();
  const n = Number((await d.rows(`SELECT count(*) FROM read_parquet('${file}')`))[0]![0]);
  d.close();
  return n;
}

async function main() {
  const inputs: [string, number][] = [['cpu', hosts]];
  if (scale > 1) inputs.push([`cpu ×${scale}`, hosts * scale]);
  console.log(`# export to Parquet (zstd): cpu dataset, ${hosts} hosts × 24 h @10 s, 21 columns; median of ${runs} runs, each in a fresh process\n`);
  console.log('| data | rows | Quiver s | Quiver rows/s | Quiver MB out | Quiver peak RSS MB | DuckDB COPY s | DuckDB rows/s | DuckDB MB out | DuckDB peak RSS MB | DuckDB time / Quiver time |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [label, hostCount] of inputs) {
    const { store, duck, rows } = await load(label.replace(/\W+/g, '_'), hostCount);
    const all: Record<'quiver' | 'duckdb', Run[]> = { quiver: [], duckdb: [] };
    for (let r = 0; r < runs; r++) {
      for (const engine of ['quiver', 'duckdb'] as const) {
        const out = join(dir, `${engine}.parquet`);
        all[engine].push(once(engine, engine === 'quiver' ? store : duck, out));
        const n = await countRows(out);
        if (n !== rows) throw new Error(`${engine} exported ${n} rows of ${rows}`);
        rmSync(out);
      }
    }
    const q = { seconds: median(all.quiver.map((x) => x.seconds)), bytes: all.quiver[0]!.bytes, rss: Math.max(...all.quiver.map((x) => x.maxRssMb)) };
    const k = { seconds: median(all.duckdb.map((x) => x.seconds)), bytes: all.duckdb[0]!.bytes, rss: Math.max(...all.duckdb.map((x) => x.maxRssMb)) };
    console.log(`| ${label} | ${rows.toLocaleString('en-US')} | ${fmt(q.seconds)} | ${Math.round(rows / q.seconds).toLocaleString('en-US')} | ${fmt(q.bytes / 1e6, 1)} | ${fmt(q.rss, 0)} | ${fmt(k.seconds)} | ${Math.round(rows / k.seconds).toLocaleString('en-US')} | ${fmt(k.bytes / 1e6, 1)} | ${fmt(k.rss, 0)} | ${fmt(k.seconds / q.seconds)} |`);
  }
  rmSync(dir, { recursive: true, force: true });
}

await main();
