/**
 * Ingestion over HTTP: InfluxDB line protocol on loopback, batches of 5,000 lines posted by
 * several concurrent writers, to `quiver serve` and to InfluxDB 1.6 (Debian's `influxdb`,
 * started here on 127.0.0.1 with its own directory), the same generated cpu data in the same
 * run. Both acknowledge a write once it is durable in their write-ahead log (fsync). Reported
 * per server: points (lines) per second from the first request to the last acknowledgement,
 * field values per second, p50/p99 acknowledgement latency, and the server's peak RSS
 * (VmHWM of its process) and its CPU seconds (user + system, /proc) per million points while
 * the writes ran (less distorted by a loaded machine than points/s). Each run ends by checking
 * that the server counts every point.
 * Usage: npm run bench:server [-- --hosts 100 --hours 6 --writers 4 --batch 5000 --runs 3 --parse-threads 0,default]
 * (QUIVER_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the server)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CPU, CPU_FIELDS, CPU_TAGS, cpuHost } from '../datasets.js';
import { fmt, median } from '../duckdb.js';
import { startInfluxd } from './influxdb.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : fallback; };
const hosts = arg('hosts', CPU.hosts);
const hours = arg('hours', 6);
const writers = arg('writers', 4);
const batchLines = arg('batch', 5000);
const runs = arg('runs', 3);
/** `--parse-threads 0,default`: Quiver once per setting in each run (an A/B of the parse workers); default: the server's default. */
const parseThreadsList = (() => { const i = args.indexOf('--parse-threads'); return i >= 0 ? args[i + 1]!.split(',') : ['default']; })();
const quiverName = (threads: string) => (parseThreadsList.length === 1 && threads === 'default' ? 'Quiver' : `Quiver, parse threads ${threads}`);
const root = join(import.meta.dirname, '..', '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
  });
}

/** The cpu dataset as line protocol in time order (all hosts at t, then t + 10 s…), cut into batches. */
function lineBatches(): { batches: Buffer[]; lines: number } {
  const spec = { ...CPU, hosts, hours };
  const data = Array.from({ length: hosts }, (_, h) => cpuHost(spec, h));
  const prefixes = data.map((d) => `cpu,${CPU_TAGS.map((t, k) => `${t}=${d.tags[k]}`).join(',')} `);
  const n = data[0]!.times.length;
  const batches: Buffer[] = [];
  let lines: string[] = [];
  for (let i = 0; i < n; i++) {
    for (let h = 0; h < hosts; h++) {
      const d = data[h]!;
      lines.push(`${prefixes[h]}${CPU_FIELDS.map((f, k) => `${f}=${d.fields[k]![i]}`).join(',')} ${d.times[i]}`);
      if (lines.length === batchLines) { batches.push(Buffer.from(`${lines.join('\n')}\n`)); lines = []; }
    }
  }
  if (lines.length) batches.push(Buffer.from(`${lines.join('\n')}\n`));
  return { batches, lines: n * hosts };
}

function peakRssMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of /proc/PID/stat (utime, stime), in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Result { seconds: number; latenciesMs: number[]; rssMb: number; cpuSeconds: number; fsyncs?: number; flushes?: number }

/** The WAL fdatasyncs and the flushes the server has made (its /metrics). */
async function writeMetrics(url: string): Promise<{ fsyncs: number; flushes: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let flushes = 0;
  for (const m of text.matchAll(/^quiver_flushes_total(?:\{[^}]*\})? (\d+)/gm)) flushes += Number(m[1]);
  return { fsyncs: Number(/^quiver_wal_fsync_duration_seconds_count(?:\{\})? (\d+)/m.exec(text)?.[1] ?? NaN), flushes };
}

/** Posts every batch, `writers` at a time; each must be acknowledged with 204. */
async function drive(url: string, batches: Buffer[]): Promise<{ seconds: number; latenciesMs: number[] }> {
  let next = 0;
  const latenciesMs: number[] = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, async () => {
    for (let i = next++; i < batches.length; i = next++) {
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', body: batches[i], headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
      const text = await res.text();
      if (res.status !== 204) throw new Error(`${url}: batch ${i}: HTTP ${res.status}: ${text.slice(0, 500)}`);
      latenciesMs.push(performance.now() - t0);
    }
  }));
  return { seconds: (performance.now() - started) / 1000, latenciesMs };
}

async function waitFor(url: string, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await fetch(url).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up at ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runQuiver(batches: Buffer[], lines: number, parseThreads: string): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-server-'));
  const port = await freePort();
  // QUIVER_BENCH_NODE_ARGS: extra node options for the server (e.g. --cpu-prof --cpu-prof-dir=DIR).
  const nodeArgs = process.env.QUIVER_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin', 'quiver.js'), 'serve', '--store', join(dir, 'store'), '--wal', join(dir, 'wal'), '--listen', `127.0.0.1:${port}`, '--quiet', ...(parseThreads === 'default' ? [] : ['--parse-threads', parseThreads])], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`${url}/health`, 'quiver serve');
    const cpu0 = cpuSeconds(child.pid!);
    const { seconds, latenciesMs } = await drive(`${url}/write?db=bench&precision=ns`, batches);
    const cpu = cpuSeconds(child.pid!) - cpu0;
    const rssMb = peakRssMb(child.pid!);
    const { fsyncs, flushes } = await writeMetrics(url);
    const res = await fetch(`${url}/api/v1/query?table=cpu&agg=count:usage_user&format=json`);
    const rows = await res.json() as Record<string, unknown>[];
    const count = Number(Object.values(rows[0] ?? {}).find((v) => typeof v === 'number'));
    if (count !== lines) throw new Error(`quiver counts ${count} points, ${lines} were written: ${JSON.stringify(rows)}`);
    return { seconds, latenciesMs, rssMb, cpuSeconds: cpu, fsyncs, flushes };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runInflux(batches: Buffer[], lines: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-influxdb-'));
  const influx = await startInfluxd(dir, await freePort(), await freePort());
  try {
    const cpu0 = cpuSeconds(influx.pid);
    const { seconds, latenciesMs } = await drive(`${influx.url}/write?db=bench&precision=ns`, batches);
    const cpu = cpuSeconds(influx.pid) - cpu0;
    const rssMb = peakRssMb(influx.pid);
    const res = await fetch(`${influx.url}/query?db=bench&q=${encodeURIComponent('SELECT count(usage_user) FROM cpu')}`);
    const body = await res.json() as { results: { series?: { values: [string, number][] }[] }[] };
    const count = body.results[0]?.series?.[0]?.values[0]?.[1];
    if (count !== lines) throw new Error(`influxdb counts ${count} points, ${lines} were written: ${JSON.stringify(body)}`);
    return { seconds, latenciesMs, rssMb, cpuSeconds: cpu };
  } finally {
    await influx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const { batches, lines } = lineBatches();
  const bytes = batches.reduce((n, b) => n + b.length, 0);
  console.log(`# server ingestion: cpu, ${hosts} hosts × ${hours} h @10 s = ${lines.toLocaleString('en-US')} points × ${CPU_FIELDS.length} fields `
    + `(${fmt(bytes / 2 ** 20, 1)} MiB of line protocol), ${batches.length} batches of ${batchLines.toLocaleString('en-US')} lines, ${writers} concurrent writers, `
    + `median of ${runs} runs (servers alternating)\n`);
  const results = new Map<string, Result[]>([...parseThreadsList.map((t) => [quiverName(t), []] as [string, Result[]]), ['InfluxDB 1.6', []]]);
  for (let r = 0; r < runs; r++) {
    for (const t of parseThreadsList) results.get(quiverName(t))!.push(await runQuiver(batches, lines, t));
    results.get('InfluxDB 1.6')!.push(await runInflux(batches, lines));
  }
  const summary = [...results].map(([name, list]) => {
    const seconds = median(list.map((x) => x.seconds));
    const latencies = list.flatMap((x) => x.latenciesMs).sort((a, b) => a - b);
    return { name, pps: lines / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), rss: Math.max(...list.map((x) => x.rssMb)),
      cpu: median(list.map((x) => x.cpuSeconds)) / (lines / 1e6) };
  });
  const i = summary.at(-1)!;
  console.log('| server | points/s | field values/s | p50 ack ms | p99 ack ms | peak RSS MB | CPU s / M points |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const s of summary) console.log(`| ${s.name} | ${fmt(s.pps, 0)} | ${fmt(s.pps * CPU_FIELDS.length, 0)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${fmt(s.rss, 0)} | ${fmt(s.cpu, 2)} |`);
  for (const q of summary.slice(0, -1)) {
    console.log(`| ${q.name} / InfluxDB | ${fmt(q.pps / i.pps)}x | | ${fmt(q.p50 / i.p50)}x | ${fmt(q.p99 / i.p99)}x | ${fmt(q.rss / i.rss)}x | ${fmt(q.cpu / i.cpu)}x |`);
  }
  for (const t of parseThreadsList) {
    const quiver = results.get(quiverName(t))!;
    console.log(`\n${quiverName(t)} per run: WAL fdatasyncs ${quiver.map((x) => x.fsyncs).join(', ')} for ${batches.length} write requests each (group commit); `
      + `flushes to chunks while the writes ran ${quiver.map((x) => x.flushes).join(', ')}`);
  }
}

await main();
