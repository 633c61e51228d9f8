/**
 * Lifecycle benchmark (issue 15): a year of cpu data at 10 s (bench/queries/cpu-data.ts: ten
 * tags, ten float fields; `--hosts`, default 1 = 3.15 M rows), an hourly rollup
 * (`every 1h by hostname`, mean/max/min of usage_user, mean of usage_system and usage_idle),
 * then a 30-day retention on the raw table. Reports:
 *
 * - bytes kept: the raw table for the year, the raw table after retention, the rollup;
 * - `query --every 1d --by hostname --agg mean:usage_user,max:usage_user` over the year: from
 *   the rollup, from the raw rows (before retention drops them), and DuckDB over the same rows
 *   in its own table file; then over the last 30 days (what raw still has): rollup, raw,
 *   DuckDB. Median of `--runs` warm runs each, engines interleaved; answers checked equal.
 *
 * The clock is injected (the year ends "now"), so retention drops exactly the first 335 days.
 *
 *   npm run bench:lifecycle -- [--hosts 1] [--runs 5] [--days 365]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { Quiver } from '../../src/quiver.js';
import { setRetention } from '../../src/table/retention.js';
import type { QueryOptions } from '../../src/scan/query-types.js';
import { CPU_DEFAULTS, CPU_FIELDS, CPU_TAGS, cpuBatches, writeCpuCsv, type CpuOptions } from '../queries/cpu-data.js';
import { median } from '../duckdb.js';

const DAY = 86_400_000;

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { hosts: { type: 'string' }, runs: { type: 'string' }, days: { type: 'string' } } });
  const hosts = Number(values.hosts ?? 1);
  const runs = Number(values.runs ?? 5);
  const days = Number(values.days ?? 365);
  const start = Date.UTC(2025, 0, 1);
  const opts: CpuOptions = { ...CPU_DEFAULTS, hosts, start_ms: start, duration_ms: days * DAY };
  const now = start + days * DAY;
  const rows = hosts * (days * DAY) / opts.interval_ms;
  const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-lifecycle-'));
  try {
    console.log(`cpu: ${rows.toLocaleString('en-US')} rows (${hosts} host(s) × ${days} days every ${opts.interval_ms / 1000} s, ${CPU_TAGS.length} tags, ${CPU_FIELDS.length} fields); now = ${new Date(now).toISOString()}`);
    const db = await Quiver.open(join(dir, 'quiver'), { clock: () => now });
    const cpu = await db.createTable('cpu', { tags: [...CPU_TAGS], fields: CPU_FIELDS.map((name) => ({ name, type: 'float64' as const })) });
    const rollupMs = await time(() => db.createRollup('cpu_1h', { source: 'cpu', every: '1h', by: ['hostname'], agg: { usage_user: ['mean', 'max', 'min'], usage_system: ['mean'], usage_idle: ['mean'] } }));
    let t = performance.now();
    const writer = cpu.writer();
    for (const batch of cpuBatches(opts)) await writer.append(batch);
    const appendMs = performance.now() - t;
    await writer.commit(); // the commit's rollup maintenance recomputes every partition
    const loadMs = performance.now() - t;
    const rollup = await db.table('cpu_1h');
    const raw = await cpu.describe(), roll = await rollup.describe();
    console.log(`Quiver: loaded in ${(loadMs / 1000).toFixed(1)} s: ${(appendMs / 1000).toFixed(1)} s writing chunks, ${((loadMs - appendMs) / 1000).toFixed(1)} s for the commit and the rollup's maintenance of ${raw.chunks} partitions (rollup created empty in ${rollupMs.toFixed(0)} ms)`);

    t = performance.now();
    const csv = join(dir, 'cpu.csv');
    await writeCpuCsv(opts, csv);
    const instance = await DuckDBInstance.create(join(dir, 'cpu.duckdb'));
    const duck = await instance.connect();
    await duck.run(`SET TimeZone = 'UTC'`);
    await duck.run(`CREATE TABLE cpu AS SELECT make_timestamp(time_us) AS time, * EXCLUDE (time_us) FROM read_csv('${csv}', header = true) ORDER BY hostname, time`);
    await duck.run('CHECKPOINT');
    rmSync(csv);
    console.log(`DuckDB: loaded into its own table file in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const daily = (from?: number): QueryOptions => ({ every: '1d', by: ['hostname'], agg: { usage_user: ['mean', 'max'] }, ...(from !== undefined ? { from } : {}) });
    const duckSql = (from?: number) => `SELECT epoch_ms(time_bucket(INTERVAL '1 day', time)) AS t, hostname, avg(usage_user) AS mean, max(usage_user) AS max FROM cpu
      ${from !== undefined ? `WHERE time >= make_timestamp(${from * 1000})` : ''} GROUP BY ALL ORDER BY hostname, t`;
    const check = async (options: QueryOptions, sql: string, what: string) => {
      const q = await cpu.query(options);
      const d = (await duck.runAndReadAll(sql)).getRows();
      if (q.numRows !== d.length) throw new Error(`${what}: ${q.numRows} rows vs DuckDB ${d.length}`);
      const mean = q.getChild('mean_usage_user')!, max = q.getChild('max_usage_user')!;
      for (let i = 0; i < d.length; i++) {
        const [, , m, x] = d[i]! as [unknown, unknown, number, number];
        if (max.get(i) !== x || Math.abs(mean.get(i) - m) > 1e-9 * Math.abs(m)) throw new Error(`${what} row ${i}: ${mean.get(i)}/${max.get(i)} vs DuckDB ${m}/${x}`);
      }
      return q.numRows;
    };
    const measure = async (label: string, from?: number) => {
      const viaRollup = (await cpu.explainQuery(daily(from))).answeredFrom;
      if (viaRollup !== 'cpu_1h') throw new Error(`${label}: not answered from the rollup`);
      const n = await check(daily(from), duckSql(from), `${label} rollup`);
      await check({ ...daily(from), rollups: false }, duckSql(from), `${label} raw`);
      const r: number[] = [], w: number[] = [], k: number[] = [];
      for (let i = 0; i < runs; i++) {
        r.push(await time(() => cpu.query(daily(from))));
        w.push(await time(() => cpu.query({ ...daily(from), rollups: false })));
        k.push(await time(() => duck.runAndReadAll(duckSql(from))));
      }
      const [mr, mw, mk] = [median(r), median(w), median(k)];
      console.log(`${label.padEnd(44)}${String(n).padStart(7)}${mr.toFixed(1).padStart(12)}${mw.toFixed(1).padStart(12)}${mk.toFixed(1).padStart(12)}${(mr / mk).toFixed(2).padStart(14)}${(mw / mk).toFixed(2).padStart(12)}`);
    };
    console.log(`\nbytes kept: raw year ${mb(raw.bytes)} (${raw.rows.toLocaleString('en-US')} rows, ${raw.chunks} chunks); rollup ${mb(roll.bytes)} (${roll.rows.toLocaleString('en-US')} rows, ${roll.chunks} chunks)`);
    console.log(`\n${'query --every 1d --by hostname mean,max usage_user'.padEnd(44)}${'rows'.padStart(7)}${'rollup ms'.padStart(12)}${'raw ms'.padStart(12)}${'duckdb ms'.padStart(12)}${'rollup/duck'.padStart(14)}${'raw/duck'.padStart(12)}`);
    await measure('over the year (before retention)');
    const last30 = now - 30 * DAY;
    await measure('over the last 30 days', last30);

    t = performance.now();
    const { dropped } = await setRetention(cpu, 30 * DAY);
    const vac = await cpu.vacuum({ olderThanMs: 0 });
    const after = await cpu.describe(), rollAfter = await rollup.describe();
    console.log(`\nretention 30d: ${dropped.length} chunks dropped by one commit, vacuum deleted ${vac.deletedChunks.length} files (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    console.log(`bytes kept: raw ${mb(after.bytes)} (${after.rows.toLocaleString('en-US')} rows); rollup ${mb(rollAfter.bytes)} (${rollAfter.rows.toLocaleString('en-US')} rows, still the whole year)`);
    const yearFromRollup = await cpu.query(daily());
    const rawLeft = await cpu.query({ ...daily(), rollups: false });
    console.log(`query over the year after retention: rollup ${yearFromRollup.numRows} rows (every day), raw ${rawLeft.numRows} rows (the last 30 days)`);
    await measure('over the last 30 days, after retention', last30);
    duck.closeSync();
    instance.closeSync();
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
