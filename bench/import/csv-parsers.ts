/**
 * Our CSV reader against the parsers people use (csv-parse, papaparse, udsv) on the same
 * files, each run in a fresh process: rows/s from the file to Arrow columns (time as int64
 * nanoseconds, the ten tags as dictionary codes, the ten fields as float64; batches of
 * 65,536 rows, so memory stays bounded for all), peak RSS, and a csv-spectrum-style table of
 * edge cases saying which parser gets each right (csv-parser-cases.ts).
 *
 * Ours is readCsv (plan, types inferred, every value checked and converted exactly from the
 * bytes). The libraries give strings; the same small converter (csv-parser-child.ts) turns
 * them into the same columns, without our checks (a number that is not one becomes NaN).
 * Usage: npm run build:ts && node dist/bench/import/csv-parsers.js [--hosts 100] [--runs 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CPU, writeCpuCsv } from '../datasets.js';
import { fmt, median } from '../duckdb.js';
import { PARSERS, type ParserName } from './csv-parser-child.js';
import { edgeCaseTable } from './csv-parser-cases.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : fallback; };
const hosts = arg('hosts', CPU.hosts);
const runs = arg('runs', 3);
const child = join(import.meta.dirname, 'csv-parser-child.js');

interface Run { seconds: number; rows: number; maxRssMb: number; checksum: number }

function once(parser: ParserName, file: string): Run {
  return JSON.parse(execFileSync(process.execPath, [child, parser, file], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim().split('\n').pop() ?? '{}') as Run;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-csv-parsers-'));
  try {
    const csv = join(dir, 'cpu.csv');
    await writeCpuCsv(csv, { ...CPU, hosts });
    const mb = statSync(csv).size / 1e6;
    const all = new Map<ParserName, Run[]>(PARSERS.map((p) => [p, []]));
    for (let r = 0; r < runs; r++) for (const p of PARSERS) all.get(p)?.push(once(p, csv));
    console.log(`# CSV parsers: cpu dataset, ${hosts} hosts (${(hosts * 8640).toLocaleString('en-US')} rows × 21 columns, ${fmt(mb, 0)} MB) to Arrow columns, median of ${runs} runs\n`);
    console.log('| parser | s | rows/s | MB/s | peak RSS MB | same rows and values as ours (checksum, 1e-9) |');
    console.log('|---|---:|---:|---:|---:|---|');
    const ours = all.get('quiver')?.[0];
    for (const [p, list] of all) {
      const seconds = median(list.map((x) => x.seconds));
      const first = list[0];
      if (!first) continue;
      console.log(`| ${p} | ${fmt(seconds)} | ${Math.round(first.rows / seconds).toLocaleString('en-US')} | ${fmt(mb / seconds, 0)} | ${fmt(Math.max(...list.map((x) => x.maxRssMb)), 0)} | ${first.rows === ours?.rows && Math.abs(first.checksum - ours.checksum) <= 1e-9 * Math.abs(ours.checksum) ? 'yes' : `no (${first.rows} rows, checksum ${first.checksum})`} |`);
    }
    console.log('\n# Edge cases (✓ right, ✗ wrong: what it returned)\n');
    console.log(await edgeCaseTable());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
