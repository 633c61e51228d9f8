/**
 * CPU time of warm full-table decodes of the query bench's cpu data, batches held vs each
 * batch released to the decode buffer pool (src/format/buffer-pool.ts). CPU time (user +
 * system of the process, garbage collection threads included) rather than wall time: on a
 * shared machine it is what the load distorts least.
 * Usage: `npm run bench:decode -- [--hosts N] [--scans N] [--rounds N]` (after `npm run build:ts`).
 * Prints, per mode, the median CPU ms per scan over `rounds` alternating rounds of `scans` scans.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Quiver } from '../../src/quiver.js';
import { decodeBuffers, releaseBatch } from '../../src/format/buffer-pool.js';
import { CPU_DEFAULTS, writeCpuTable } from './cpu-data.js';

const { values: args } = parseArgs({ options: { hosts: { type: 'string' }, scans: { type: 'string' }, rounds: { type: 'string' } } });
const opts = { ...CPU_DEFAULTS, hosts: Number(args.hosts ?? CPU_DEFAULTS.hosts) };
const scans = Number(args.scans ?? 10);
const rounds = Number(args.rounds ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-decode-'));
try {
  const writer = await Quiver.open(dir);
  await writeCpuTable(writer, opts);
  await writer.close();
  const db = await Quiver.open(dir, { decodedCacheBytes: 0, decodeThreads: 0 });
  const table = await db.table('cpu');
  let values = 0;
  const scanCpu = async (release: boolean): Promise<number> => {
    const start = process.cpuUsage();
    values = 0;
    for await (const batch of table.scan({})) {
      for (const child of batch.data.children) values += child.length;
      if (release) releaseBatch(batch);
    }
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  };
  const ms: Record<'held' | 'released', number[]> = { held: [], released: [] };
  await scanCpu(false); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const mode of ['held', 'released'] as const) for (let s = 0; s < scans; s++) ms[mode].push(await scanCpu(mode === 'released'));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(`cpu: ${values.toLocaleString('en-US')} values a scan; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const mode of ['held', 'released'] as const) {
    const m = median(ms[mode]);
    console.log(`full-table decode, batches ${mode}: ${m.toFixed(1)} ms CPU a scan (median of ${ms[mode].length}), ${(values / m / 1e3).toFixed(0)} M values per CPU-second`);
  }
  console.log(`decode buffer pool: ${decodeBuffers.reused} buffers reused, ${decodeBuffers.allocated} allocated`);
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
