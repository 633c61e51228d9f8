/**
 * What the duplicate policy 'last' costs a read: the bench's cpu rows (default 20 hosts × 24 h
 * at 10 s = 172,800 rows) imported once ("clean"), and imported twice ("overlap": every chunk
 * shares every point with one of the other import, so scans merge and fold them and no page is
 * answered from statistics), then the overlap table compacted (one row per point again).
 * Usage: `npm run bench:duplicates -- [--hosts N] [--runs N]`.
 *
 *   scan   every column of every row
 *   count  count(*) and sum(usage_user) over the table (page statistics when allowed)
 *   hourly mean of usage_user per host per hour
 *
 * Each: one warm-up, then the median of `runs` runs; ratios are against "clean".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Quiver } from '../../src/quiver.js';
import type { Table } from '../../src/table/table.js';
import { CPU_DEFAULTS, CPU_SCHEMA, cpuBatches } from './cpu-data.js';

const { values } = parseArgs({ options: { hosts: { type: 'string', default: '20' }, runs: { type: 'string', default: '7' } } });
const options = { ...CPU_DEFAULTS, hosts: Number(values.hosts) };
const runs = Number(values.runs);

async function load(db: Quiver, name: string, times: number): Promise<Table> {
  const table = await db.createTable(name, { ...CPU_SCHEMA, duplicates: 'last' });
  for (let k = 0; k < times; k++) {
    const writer = table.writer();
    for (const batch of cpuBatches(options)) await writer.append(batch);
    await writer.commit();
  }
  return table;
}

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const WORK: [string, (t: Table) => Promise<unknown>][] = [
  ['scan', async (t) => { let n = 0; for await (const b of t.scan({})) n += b.numRows; return n; }],
  ['count', (t) => t.query({ agg: { '*': 'count', usage_user: 'sum' } })],
  ['hourly', (t) => t.query({ every: '1h', by: ['hostname'], agg: { usage_user: 'mean' } })],
];

const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-dup-'));
try {
  const db = await Quiver.open(join(dir, 'store'), { autoCompact: 0 });
  const clean = await load(db, 'clean', 1);
  const overlap = await load(db, 'overlap', 2);
  const rows = (await clean.query({ agg: { '*': 'count' } })).getChild('count')!.get(0);
  console.log(`${options.hosts} hosts, ${rows} points; overlap: ${overlap.currentManifest.chunks.reduce((n, c) => n + c.rows, 0)} stored rows in ${overlap.currentManifest.chunks.length} chunks; median of ${runs} runs`);
  const base = new Map<string, number>();
  const report = async (label: string, table: Table) => {
    for (const [name, fn] of WORK) {
      const ms = await median(() => fn(table));
      if (!base.has(name)) base.set(name, ms);
      console.log(`${label.padEnd(18)} ${name.padEnd(7)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / base.get(name)!).toFixed(2)}x`);
    }
  };
  await report('clean', clean);
  await report('overlap (2 writes)', overlap);
  await overlap.compact();
  await report('overlap compacted', overlap);
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
