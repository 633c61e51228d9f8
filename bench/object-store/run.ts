/**
 * First the raw store figures (raw.ts: put/get/getRanges MB/s and requests, conditional
 * creates; skip with --no-raw), then the cpu dataset on a local directory, S3 (Ceph RGW) and Azure (Azurite): import and scan,
 * with requests, bytes transferred and time per operation, and the scan's bytes read as a
 * fraction of the table's bytes. DuckDB reads the same data from a local Parquet file as the
 * peer for the one-host-one-day scan.
 * Usage: scripts/object-stores.sh start, export its variables, then
 *        npm run bench:object-store [-- --hosts 100] [--no-raw] [--objects 16 --object-mib 4]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Quiver } from '../../src/quiver.js';
import { openStore } from '../../src/chunk-manager/url.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import { CPU, CPU_TAGS, cpuBatches, writeCpuCsv } from '../datasets.js';
import { duckdb, fmt, median } from '../duckdb.js';
import { rawBench, rawBenchOptionsFromArgs } from './raw.js';

const args = process.argv.slice(2);
const hosts = (() => { const i = args.indexOf('--hosts'); return i >= 0 ? Number(args[i + 1]) : CPU.hosts; })();
const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-os-'));
const run = randomBytes(3).toString('hex');

const stores: [string, string][] = [['local', join(dir, 'local')]];
if (process.env.S3_ENDPOINT) stores.push(['s3 (Ceph RGW)', `s3://bench-${run}/cpu?endpoint=${encodeURIComponent(process.env.S3_ENDPOINT)}`]);
if (process.env.AZURE_STORAGE_CONNECTION_STRING) stores.push(['azure (Azurite)', `az://bench-${run}/cpu`]);
if (stores.length === 1) console.log('(S3_ENDPOINT / AZURE_STORAGE_CONNECTION_STRING not set: local only; start scripts/object-stores.sh for the rest)');

const scan = { from: '2026-01-01T06:00:00Z', to: '2026-01-01T07:00:00Z', where: { hostname: 'host_7' }, columns: ['usage_user'] };

async function main() {
  console.log(`# object stores: cpu ${hosts} hosts × 24 h (${(hosts * 8640).toLocaleString('en-US')} rows)\n`);
  console.log('| store | operation | ms | requests | MB moved | scan bytes / table bytes |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const [label, url] of stores) {
    // Counting sits under the retry and cache wrappers: it sees the requests that reach the store.
    let counting!: CountingChunkManager;
    const store = await openStore(url, { instrument: (cm) => (counting = new CountingChunkManager(cm)) });
    const db = await Quiver.open(store);
    let t0 = performance.now();
    const table = await db.createTable('cpu', { tags: [...CPU_TAGS] });
    const writer = table.writer();
    for (const batch of cpuBatches({ ...CPU, hosts })) await writer.append(batch);
    await writer.commit();
    const row = (op: string, ms: number, extra = '') => {
      const s = counting.stats();
      const requests = Object.values(s.requests).reduce((a, b) => a + b, 0);
      console.log(`| ${label} | ${op} | ${fmt(ms, 0)} | ${requests} | ${fmt((s.bytesRead + s.bytesWritten) / 1e6, 2)} | ${extra} |`);
      counting.reset();
    };
    row('import', performance.now() - t0);
    const tableBytes = (await table.describe()).bytes;
    // Cold: a fresh Quiver over the same store (no cached footers).
    const cold = await Quiver.open(await openStore(url, { instrument: (cm) => (counting = new CountingChunkManager(cm)) }));
    counting.reset();
    t0 = performance.now();
    const r1 = await (await cold.table('cpu')).query(scan);
    const coldMs = performance.now() - t0;
    const coldBytes = counting.stats().bytesRead;
    row(`scan 1 host × 1 h × 1 column, cold (${r1.numRows} rows)`, coldMs, fmt(coldBytes / tableBytes, 4));
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) { t0 = performance.now(); await (await cold.table('cpu')).query(scan); warm.push(performance.now() - t0); }
    row('same scan, warm (median of 5; requests of all 5)', median(warm));
    t0 = performance.now();
    const all = await (await cold.table('cpu')).query({ columns: ['usage_user'] });
    const fullBytes = counting.stats().bytesRead;
    row(`scan 1 column of the whole table (${all.numRows} rows)`, performance.now() - t0, fmt(fullBytes / tableBytes, 3));
  }
  const csv = join(dir, 'cpu.csv');
  await writeCpuCsv(csv, { ...CPU, hosts });
  const d = await duckdb();
  await d.conn.run(`COPY (SELECT * FROM read_csv('${csv}') ORDER BY hostname, time) TO '${join(dir, 'cpu.parquet')}' (FORMAT parquet, COMPRESSION zstd)`);
  const sql = `SELECT time, usage_user FROM read_parquet('${join(dir, 'cpu.parquet')}') WHERE hostname = 'host_7' AND time >= TIMESTAMP '2026-01-01 06:00:00' AND time < TIMESTAMP '2026-01-01 07:00:00'`;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) { const t0 = performance.now(); await d.rows(sql); times.push(performance.now() - t0); }
  console.log(`| DuckDB, local Parquet | same scan, warm (median of 5) | ${fmt(median(times), 0)} | - | - | - |`);
  d.close();
  rmSync(dir, { recursive: true, force: true });
}

if (!args.includes('--no-raw')) await rawBench(rawBenchOptionsFromArgs());
console.log('');
await main();
