/**
 * Query benchmark: Quiver vs DuckDB on the same cpu rows (default 100 hosts × 24 h at 10 s =
 * 864,000 rows; `--scale N` makes it N days: 100 hosts × 10 days = 8.64 M rows at 10).
 * Usage: `npm run bench:queries -- [--hosts N] [--scale N] [--runs N] [--cold-runs N] [--no-cold]`.
 *
 *   Q1 max(usage_user) per host per hour, 8 hosts, 12 hours
 *   Q2 last point of every host
 *   Q3 all ten fields of one host for one hour (a plain scan)
 *   Q4 mean of all ten fields per host per hour over the whole table (24 h × scale)
 *   Q5 count(*) and sum(usage_user) over the whole table
 *
 * Each query: one warm-up, then the median of `runs` (15) warm runs, each Quiver variant
 * interleaved run by run with DuckDB (ratios use the DuckDB median of the same pairing); results are checked equal
 * (exact for max/count/last, 1e-9 relative for means and sums). Quiver runs twice when the
 * table layer is present: end-to-end (local store in a temp dir: decode + aggregate) and
 * "engine" (the same aggregation over already-decoded Arrow batches in memory), which
 * separates the aggregation's cost from storage and decoding, and once more without the
 * decoded-page cache ("engine" and "1 thread" only at scale 1: they hold the data in memory).
 * Then a full-table decode's throughput against memory bandwidth (default threads; main thread only; main
 * thread with each batch released to the decode buffer pool), and, unless `--no-cold`,
 * cold runs, each a fresh process with the OS page cache warm, medians of `--cold-runs` (5)
 * alternating runs: the `quiver` CLI running the query (whole process: start-up, opening
 * the store, the query, printing) against a fresh node process running DuckDB on its own
 * file (duck-once.ts: the same steps), with the peak RSS of each; the first query's own time
 * inside a fresh process using the library; and the CLI's start-up line: `quiver tables` and
 * `quiver inspect cpu` start to first byte of output against `node -e 0` and DuckDB's fresh
 * process listing its tables.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import type { RecordBatch, Table } from 'apache-arrow';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { QueryableTable, QueryOptions } from '../../src/scan/query-types.js';
import type { CreateTableSpec, ScanOptions } from '../../src/core/types.js';
import { runQuery } from '../../src/scan/query.js';
import { CPU_DEFAULTS, CPU_FIELDS, CPU_SCHEMA, cpuBatches, writeCpuCsv, type CpuOptions } from './cpu-data.js';
import { MemoryTable } from './memory-table.js';
import { medianRuns } from './process.js';

type Row = Record<string, unknown>;

interface BenchQuery {
  name: string;
  what: string;
  /** The query through Quiver's API, returning its Arrow result (what is timed). */
  quiver: (t: QueryTarget) => Promise<unknown>;
  /** The result as rows, for the comparison with DuckDB (not timed, like DuckDB's). */
  rows: (result: unknown) => Row[];
  duck: string;
  /** The same query as `quiver` CLI arguments (after `--store DIR`), for the cold runs. */
  cli: string[];
  /** Columns compared exactly; the others within 1e-9 relative. */
  exact: string[];
}

interface QueryTarget {
  query(options: QueryOptions): Promise<Table>;
  scan(options: ScanOptions): AsyncIterable<RecordBatch>;
}

/** What the benchmark needs of Quiver's table layer (src/quiver.ts, src/table/table.ts). */
interface QuiverTable extends QueryableTable {
  append(batch: RecordBatch): Promise<unknown>;
  flush?(): Promise<unknown>;
  query(options: QueryOptions): Promise<Table>;
}
interface QuiverDb {
  decodePool?: { whenReady(): Promise<void> };
  queryThreads?: { whenReady(): Promise<void>; piecesRead: number };
  createTable(name: string, spec: CreateTableSpec): Promise<QuiverTable>;
  table(name: string): Promise<QuiverTable>;
  close?(): Promise<void>;
}

async function openQuiver(dir: string, options: { decodedCacheBytes?: number; decodeThreads?: number } = {}, waitForThreads = true): Promise<QuiverDb | null> {
  const module = join(here, '../../src/quiver.js');
  if (!existsSync(module)) return null;
  const { Quiver } = await import(pathToFileURL(module).href) as { Quiver: { open(url: string, options?: object): Promise<QuiverDb> } };
  const db = await Quiver.open(dir, options);
  if (waitForThreads) await db.decodePool?.whenReady(); // warm runs measure decoding, not thread start-up
  if (waitForThreads) await db.queryThreads?.whenReady();
  return db;
}

/** Bytes per second of a large Float64Array copy (read + write), the machine's practical memory bandwidth for one core. */
function memoryBandwidth(): number {
  const n = 32 * 1024 * 1024;
  const src = new Float64Array(n).fill(1.5);
  const dst = new Float64Array(n);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t);
  }
  return (2 * n * 8) / (best / 1000);
}

/** Values per second of a full-table decode (every column, no cache), and its output bytes per second. */
async function fullDecode(dir: string, decodeThreads?: number, release = false): Promise<{ values: number; bytes: number; valuesPerSecond: number; bytesPerSecond: number }> {
  const db = (await openQuiver(dir, { decodedCacheBytes: 0, ...(decodeThreads !== undefined ? { decodeThreads } : {}) }))!;
  const table = await db.table('cpu');
  // A consumer that drops each batch hands its decode buffers back (src/format/buffer-pool.ts).
  const releaseBatch = release ? (await import(pathToFileURL(join(here, '../../src/format/buffer-pool.js')).href) as { releaseBatch(batch: RecordBatch): number }).releaseBatch : null;
  let best = Infinity;
  let values = 0;
  let bytes = 0;
  for (let r = 0; r < 3; r++) {
    values = 0; bytes = 0;
    const t = performance.now();
    for await (const batch of table.scan({})) {
      for (const child of batch.data.children) {
        values += child.length;
        bytes += (child.values as ArrayLike<unknown> & { byteLength: number }).byteLength;
      }
      releaseBatch?.(batch);
    }
    best = Math.min(best, performance.now() - t);
  }
  await db.close?.();
  return { values, bytes, valuesPerSecond: values / (best / 1000), bytesPerSecond: bytes / (best / 1000) };
}

const HOUR_MS = 3_600_000;

function tableToRows(table: Table): Row[] {
  const rows: Row[] = [];
  const names = table.schema.fields.map((f) => f.name);
  for (const batch of table.batches) rows.push(...batchRows(batch, names));
  return rows;
}

function batchRows(batch: RecordBatch, names = batch.schema.fields.map((f) => f.name)): Row[] {
  const cols = names.map((n) => batch.getChild(n)!);
  const out: Row[] = [];
  for (let i = 0; i < batch.numRows; i++) {
    const row: Row = {};
    names.forEach((n, c) => {
      const col = cols[c]!;
      row[n] = !col.isValid(i) ? null : col.type.typeId === 10 ? Number((col.data[0]!.values as BigInt64Array)[i]! / 1000n) : col.get(i);
    });
    out.push(row);
  }
  return out;
}

function queries(opts: CpuOptions): BenchQuery[] {
  const t0 = opts.start_ms;
  const ts = (ms: number) => `make_timestamp(${ms * 1000})`;
  const hosts8 = Array.from({ length: Math.min(8, opts.hosts) }, (_, i) => `host_${i * Math.floor(opts.hosts / 8 || 1)}`);
  const one = `host_${Math.min(7, opts.hosts - 1)}`;
  const end = opts.duration_ms;
  return [
    {
      name: 'Q1', what: 'max(usage_user) per host per hour, 8 hosts, 12 h',
      quiver: (t) => t.query({ from: t0, to: t0 + 12 * HOUR_MS, where: { hostname: hosts8 }, every: '1h', by: ['hostname'], agg: { usage_user: 'max' } }),
      rows: (r) => tableToRows(r as Table),
      cli: ['query', 'cpu', '--agg', 'max:usage_user', '--every', '1h', '--by', 'hostname', '--where', `hostname=${hosts8.join('|')}`, '--from', String(t0), '--to', String(t0 + 12 * HOUR_MS), '--format', 'csv'],
      duck: `SELECT epoch_us(time_bucket(INTERVAL '1 hour', time)) AS time, hostname, max(usage_user) AS max_usage_user FROM cpu
             WHERE hostname IN (${hosts8.map((h) => `'${h}'`).join(',')}) AND time >= ${ts(t0)} AND time < ${ts(t0 + 12 * HOUR_MS)}
             GROUP BY ALL ORDER BY hostname, time`,
      exact: ['time', 'hostname', 'max_usage_user'],
    },
    {
      name: 'Q2', what: 'last point of every host',
      quiver: (t) => t.query({ latest: true, by: ['hostname'] }),
      rows: (r) => tableToRows(r as Table),
      cli: ['query', 'cpu', '--latest', '--by', 'hostname', '--format', 'csv'],
      duck: `SELECT epoch_us(max(time)) AS time, hostname, ${CPU_FIELDS.map((f) => `arg_max(${f}, time) AS ${f}`).join(', ')}
             FROM cpu GROUP BY hostname ORDER BY hostname`,
      exact: ['time', 'hostname', ...CPU_FIELDS],
    },
    {
      name: 'Q3', what: 'all ten fields of one host for one hour (scan)',
      quiver: async (t) => {
        const batches: RecordBatch[] = [];
        for await (const b of t.scan({ from: t0 + HOUR_MS, to: t0 + 2 * HOUR_MS, where: { hostname: one }, columns: [...CPU_FIELDS] })) batches.push(b);
        return batches;
      },
      rows: (r) => (r as RecordBatch[]).flatMap((b) => batchRows(b)),
      cli: ['scan', 'cpu', '--from', String(t0 + HOUR_MS), '--to', String(t0 + 2 * HOUR_MS), '--where', `hostname=${one}`, '--columns', CPU_FIELDS.join(','), '--format', 'csv'],
      duck: `SELECT epoch_us(time) AS time, ${CPU_FIELDS.join(', ')} FROM cpu
             WHERE hostname = '${one}' AND time >= ${ts(t0 + HOUR_MS)} AND time < ${ts(t0 + 2 * HOUR_MS)} ORDER BY time`,
      exact: ['time', ...CPU_FIELDS],
    },
    {
      name: 'Q4', what: `mean of 10 fields per host per hour, ${end / HOUR_MS} h`,
      quiver: (t) => t.query({ from: t0, to: t0 + end, every: '1h', by: ['hostname'], agg: Object.fromEntries(CPU_FIELDS.map((f) => [f, 'mean'])) }),
      rows: (r) => tableToRows(r as Table),
      cli: ['query', 'cpu', '--agg', CPU_FIELDS.map((f) => `mean:${f}`).join(','), '--every', '1h', '--by', 'hostname', '--from', String(t0), '--to', String(t0 + end), '--format', 'csv'],
      duck: `SELECT epoch_us(time_bucket(INTERVAL '1 hour', time)) AS time, hostname, ${CPU_FIELDS.map((f) => `avg(${f}) AS mean_${f}`).join(', ')}
             FROM cpu WHERE time >= ${ts(t0)} AND time < ${ts(t0 + end)} GROUP BY ALL ORDER BY hostname, time`,
      exact: ['time', 'hostname'],
    },
    {
      name: 'Q5', what: 'count(*), sum(usage_user), whole table',
      quiver: (t) => t.query({ agg: { '*': 'count', usage_user: 'sum' } }),
      rows: (r) => tableToRows(r as Table).map(({ count, sum_usage_user }) => ({ count, sum_usage_user })),
      cli: ['query', 'cpu', '--agg', 'count,sum:usage_user', '--format', 'csv'],
      duck: `SELECT count(*) AS count, sum(usage_user) AS sum_usage_user FROM cpu`,
      exact: ['count'],
    },
  ];
}

function compare(q: BenchQuery, got: Row[], expected: Row[]): string | null {
  if (got.length !== expected.length) return `${q.name}: ${got.length} rows vs DuckDB ${expected.length}`;
  for (let i = 0; i < got.length; i++) {
    for (const [col, e] of Object.entries(expected[i]!)) {
      const g = got[i]![col];
      if (typeof e === 'string' || typeof g === 'string') { if (g !== e) return `${q.name} row ${i} ${col}: ${String(g)} vs ${String(e)}`; continue; }
      const gn = Number(g), en = Number(e);
      const ok = q.exact.includes(col) ? gn === en : Math.abs(gn - en) <= 1e-9 * Math.max(1, Math.abs(en));
      if (!ok) return `${q.name} row ${i} ${col}: ${gn} vs DuckDB ${en}`;
    }
  }
  return null;
}

/**
 * Median ms of each function over `runs` rounds after one warm-up each. Rounds interleave the
 * engines (one run of each per round), so a noisy neighbour slows them alike.
 */
async function timeAll(fns: (() => Promise<unknown>)[], runs: number): Promise<number[]> {
  for (const fn of fns) await fn();
  const ms: number[][] = fns.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let f = 0; f < fns.length; f++) {
      const t = performance.now();
      await fns[f]!();
      ms[f]!.push(performance.now() - t);
    }
  }
  return ms.map((m) => m.sort((a, b) => a - b)[Math.floor(m.length / 2)]!);
}

async function loadQuiver(dir: string, opts: CpuOptions): Promise<{ table: QuiverTable; db: QuiverDb } | null> {
  const db = await openQuiver(dir);
  if (!db) return null;
  const table = await db.createTable('cpu', { time: 'time', timeUnit: 'ns', tags: [...CPU_SCHEMA.tags], fields: CPU_SCHEMA.fields });
  for (const batch of cpuBatches(opts)) await table.append(batch);
  await table.flush?.();
  return { table, db };
}

async function loadDuck(dir: string, opts: CpuOptions): Promise<{ conn: DuckDBConnection; close(): void }> {
  const csv = join(dir, 'cpu.csv');
  await writeCpuCsv(opts, csv);
  const instance = await DuckDBInstance.create(join(dir, 'cpu.duckdb'));
  const conn = await instance.connect();
  await conn.run(`SET TimeZone = 'UTC'`);
  await conn.run(`CREATE TABLE cpu AS SELECT make_timestamp(time_us) AS time, * EXCLUDE (time_us)
                  FROM read_csv('${csv}', header = true) ORDER BY hostname, time`);
  await conn.run('CHECKPOINT');
  rmSync(csv);
  return { conn, close: () => { conn.closeSync(); instance.closeSync(); } };
}

function fmt(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { hosts: { type: 'string' }, scale: { type: 'string' }, runs: { type: 'string' }, 'cold-runs': { type: 'string' }, 'no-cold': { type: 'boolean' }, 'cold-child': { type: 'string' }, dir: { type: 'string' } } });
  const scale = Number(values.scale ?? 1);
  if (!(Number.isInteger(scale) && scale >= 1)) throw new Error(`--scale takes a whole number ≥ 1, got ${values.scale}`);
  const opts: CpuOptions = { ...CPU_DEFAULTS, hosts: Number(values.hosts ?? CPU_DEFAULTS.hosts), duration_ms: CPU_DEFAULTS.duration_ms * scale };
  if (values['cold-child']) return coldChild(values['cold-child'], values.dir!, opts);
  const runs = Number(values.runs ?? (scale > 1 ? 5 : 15));
  const coldRuns = Number(values['cold-runs'] ?? 5);
  const rows = opts.hosts * Math.floor(opts.duration_ms / opts.interval_ms);
  const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-queries-'));
  try {
    let t = performance.now();
    // The in-memory engine holds every row decoded: only at scale 1.
    const memory = scale === 1 ? new MemoryTable(CPU_SCHEMA) : null;
    if (memory) for (const batch of cpuBatches(opts, 8192)) memory.add(batch, String(batch.getChild('hostname')!.get(0)));
    const memoryTarget: QueryTarget | null = memory ? { query: (o) => runQuery(memory, o), scan: (o) => memory.scan(o) } : null;
    console.log(`cpu: ${rows.toLocaleString('en-US')} rows (${opts.hosts} hosts × ${opts.duration_ms / HOUR_MS} h every ${opts.interval_ms / 1000} s)${memory ? `, generated in ${(performance.now() - t).toFixed(0)} ms` : ''}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${availableParallelism()} cores`);
    t = performance.now();
    const quiver = await loadQuiver(join(dir, 'quiver'), opts).catch((error: unknown) => {
      console.log(`Quiver table layer failed to load the data: ${(error as Error).message}`);
      return null;
    });
    console.log(quiver ? `Quiver: loaded into a local store in ${(performance.now() - t).toFixed(0)} ms` : 'Quiver: table layer (src/quiver.ts) not available — engine figures only');
    t = performance.now();
    const duck = await loadDuck(dir, opts);
    console.log(`DuckDB: loaded into its own table file in ${(performance.now() - t).toFixed(0)} ms`);
    const quiverTarget: QueryTarget | null = quiver ? { query: (o) => quiver.table.query(o), scan: (o) => quiver.table.scan(o) } : null;
    // The same store without the decoded-page cache: every query reads and decodes its pages.
    const uncachedDb = quiver ? await openQuiver(join(dir, 'quiver'), { decodedCacheBytes: 0 }) : null;
    const uncachedTable = uncachedDb ? await uncachedDb.table('cpu') : null;
    const uncachedTarget: QueryTarget | null = uncachedTable ? { query: (o) => uncachedTable.query(o), scan: (o) => uncachedTable.scan(o) } : null;
    // …and without decode threads either: every page decodes on the main thread.
    const serialDb = quiver && scale === 1 ? await openQuiver(join(dir, 'quiver'), { decodedCacheBytes: 0, decodeThreads: 0 }) : null;
    const serialTable = serialDb ? await serialDb.table('cpu') : null;
    const serialTarget: QueryTarget | null = serialTable ? { query: (o) => serialTable.query(o), scan: (o) => serialTable.scan(o) } : null;

    console.log(`\nmedian of ${runs} warm runs, ms`);
    console.log('quiver: decoded-page cache on (the default); no cache: decodedCacheBytes 0 (decode threads as by default); 1 thread: also decodeThreads 0; engine: aggregation over in-memory batches');
    console.log(['query', 'quiver', 'no cache', '1 thread', 'engine', 'duckdb', 'quiver/duck', 'nocache/duck', '1thread/duck', 'engine/duck', 'rows', 'check'].map((h, i) => (i ? h.padStart(13) : h.padEnd(52))).join(''));
    let failures = 0;
    const warm = new Map<string, { cached: number | null; uncached: number | null }>();
    const piecesRead = () => (quiver?.db.queryThreads?.piecesRead ?? 0) + (uncachedDb?.queryThreads?.piecesRead ?? 0);
    for (const q of queries(opts)) {
      const piecesBefore = piecesRead();
      const expected = await duckRowsOf(duck.conn, q.duck);
      const problems: string[] = [];
      for (const target of [memoryTarget, quiverTarget, uncachedTarget, serialTarget]) {
        if (!target) continue;
        const problem = compare(q, q.rows(await q.quiver(target)), expected);
        if (problem) { problems.push(problem); failures++; }
      }
      // Each Quiver variant is timed interleaved with DuckDB, one variant at a time: the
      // uncached runs allocate ~100 MB each, and their garbage would be collected during
      // whichever run came next.
      const duckRun = () => duck.conn.runAndReadAll(q.duck);
      const pair = async (target: QueryTarget | null) => (target ? await timeAll([duckRun, () => q.quiver(target)], runs) : null);
      const [duckMs, quiverMs] = (await pair(quiverTarget)) ?? [(await timeAll([duckRun], runs))[0]!, null];
      const engine = await pair(memoryTarget);
      const uncached = await pair(uncachedTarget);
      const serial = await pair(serialTarget);
      const ratio = (x: number | null | undefined, d: number | null | undefined = duckMs) => (x === null || x === undefined ? '—' : (x / d!).toFixed(2));
      warm.set(q.name, { cached: quiverMs === null || quiverMs === undefined ? null : quiverMs / duckMs!, uncached: uncached ? uncached[1]! / uncached[0]! : null });
      console.log([
        `${q.name} ${q.what}`.padEnd(52), fmt(quiverMs).padStart(13), fmt(uncached?.[1]).padStart(13), fmt(serial?.[1]).padStart(13), fmt(engine?.[1]).padStart(13), fmt(duckMs).padStart(13),
        ratio(quiverMs).padStart(13), ratio(uncached?.[1], uncached?.[0]).padStart(13), ratio(serial?.[1], serial?.[0]).padStart(13), ratio(engine?.[1], engine?.[0]).padStart(13),
        String(expected.length).padStart(13), (problems.length ? 'DIFFERENT' : 'identical').padStart(13),
      ].join(''));
      for (const p of problems) console.log(`  ${p}`);
      // Query threads take part when a core is free at the query's start (src/query-threads.ts).
      if (piecesRead() > piecesBefore) console.log(`  pieces read by query threads in these runs: ${piecesRead() - piecesBefore}`);
    }
    // Cold runs need the files unlocked: close this process's handles first.
    duck.close();
    await quiver?.db.close?.();
    await uncachedDb?.close?.();
    await serialDb?.close?.();
    if (quiver) {
      const bandwidth = memoryBandwidth();
      for (const [threads, release] of [[undefined, false], [0, false], [0, true]] as const) {
        const decode = await fullDecode(join(dir, 'quiver'), threads, release);
        console.log(`${threads === undefined ? '\n' : ''}full-table decode (every column, no cache, ${threads === 0 ? 'main thread only' : 'decode threads as by default'}${release ? ', each batch released' : ''}): ${(decode.valuesPerSecond / 1e6).toFixed(0)} M values/s, ` +
          `${(decode.bytesPerSecond / 1e9).toFixed(2)} GB/s of Arrow output; memory bandwidth (one core, copy): ${(bandwidth / 1e9).toFixed(1)} GB/s ` +
          `→ decode runs at ${(100 * decode.bytesPerSecond / bandwidth).toFixed(1)}% of it`);
      }
    }
    if (!values['no-cold'] && quiver) {
      console.log(`\ncold: each a fresh process, OS page cache warm, median of ${coldRuns} alternating runs; CLI and DuckDB: whole process (start, open, query, print), ms and peak RSS MB; library: the first query's own time in a fresh process`);
      console.log(['query', 'quiver CLI', 'duckdb', 'CLI/duck', 'CLI MB', 'duck MB', 'library', 'cached/duck', 'nocache/duck'].map((h, i) => (i ? h.padStart(13) : h.padEnd(52))).join(''));
      for (const q of queries(opts)) {
        const [cli, duckOnce] = await medianRuns([quiverCli(dir, q.cli), duckOnceRun(dir, q.duck)], coldRuns);
        const library = coldRun(`quiver:${q.name}`, dir, opts);
        const w = warm.get(q.name);
        console.log([
          `${q.name} ${q.what}`.padEnd(52), fmt(cli!.ms).padStart(13), fmt(duckOnce!.ms).padStart(13), (cli!.ms / duckOnce!.ms).toFixed(2).padStart(13),
          fmt(cli!.rssMb).padStart(13), fmt(duckOnce!.rssMb).padStart(13), fmt(library).padStart(13),
          (w?.cached?.toFixed(2) ?? '—').padStart(13), (w?.uncached?.toFixed(2) ?? '—').padStart(13),
        ].join(''));
      }
      const [tables, inspect, nodeOnly, duckTables] = await medianRuns([
        quiverCli(dir, ['tables']), quiverCli(dir, ['inspect', 'cpu']), { command: process.execPath, args: ['-e', '0'] }, duckOnceRun(dir, 'SHOW TABLES'),
      ], Math.max(coldRuns, 7));
      // bin/quiver.js runs the light bundle (dist/cli/quiver-light.cjs) for tables and inspect,
      // the full one for the rest, or the ES modules when the bundles are missing or older than tsc's output.
      const version = spawnSync(quiverCli(dir, []).command, [quiverCli(dir, []).args[0]!, '--store', join(dir, 'quiver'), 'tables'], { encoding: 'utf8', env: { ...process.env, QUIVER_CLI_TRACE: '1' } });
      const bundle = /^QUIVER_CLI_BUNDLE (\w+)/m.exec(version.stderr)?.[1];
      const cliPath = bundle ? `the ${bundle} CLI bundle` : 'the CLI from ES modules: no fresh bundle, run npm run build:cli';
      const cpu = (r: { cpuMs: number | null }) => (r.cpuMs === null ? '' : `, CPU ${fmt(r.cpuMs)}`);
      console.log(`\nCLI start-up (${cliPath}), start to first byte of output (median ms; CPU: user + system of the whole process): quiver tables ${fmt(tables!.firstByteMs)}${cpu(tables!)}, quiver inspect cpu ${fmt(inspect!.firstByteMs)}${cpu(inspect!)}; ` +
        `node -e 0 (whole process) ${fmt(nodeOnly!.ms)}${cpu(nodeOnly!)}; DuckDB fresh process (node + @duckdb/node-api, SHOW TABLES) ${fmt(duckTables!.firstByteMs)}${cpu(duckTables!)}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    }
    if (failures) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const here = dirname(fileURLToPath(import.meta.url));

/** `quiver --store DIR/quiver ARGS` as a fresh process (bin/quiver.js of this checkout). */
function quiverCli(dir: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [join(here, '../../../bin/quiver.js'), '--store', join(dir, 'quiver'), ...args] };
}

/** DuckDB's equivalent: a fresh node process opening its own file and running `sql`. */
function duckOnceRun(dir: string, sql: string): { command: string; args: string[] } {
  return { command: process.execPath, args: [join(here, 'duck-once.js'), join(dir, 'cpu.duckdb'), sql] };
}

/** Runs one query once in a fresh process; returns its time in ms. */
function coldRun(which: string, dir: string, opts: CpuOptions): number {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--cold-child', which, '--dir', dir, '--hosts', String(opts.hosts)], { encoding: 'utf8' });
  const match = /^cold (\S+)$/m.exec(child.stdout);
  if (child.status !== 0 || !match) throw new Error(`cold run ${which} failed (status ${child.status}): ${child.stderr.slice(0, 500)}`);
  return Number(match[1]);
}

async function coldChild(which: string, dir: string, opts: CpuOptions): Promise<void> {
  const [engine, name] = which.split(':');
  const q = queries(opts).find((x) => x.name === name)!;
  if (engine === 'duck') {
    const instance = await DuckDBInstance.create(join(dir, 'cpu.duckdb'));
    const conn = await instance.connect();
    await conn.run(`SET TimeZone = 'UTC'`);
    const t = performance.now();
    await conn.runAndReadAll(q.duck);
    console.log(`cold ${performance.now() - t}`);
    conn.closeSync(); instance.closeSync();
    return;
  }
  const db = (await openQuiver(join(dir, 'quiver'), {}, false))!; // cold: thread start-up counts
  const t = performance.now();
  const table = await db.table('cpu');
  await q.quiver({ query: (o) => table.query(o), scan: (o) => table.scan(o) });
  console.log(`cold ${performance.now() - t}`);
  await db.close?.();
}

async function duckRowsOf(conn: DuckDBConnection, sql: string): Promise<Row[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Row[];
}

await main();
