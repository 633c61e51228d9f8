/**
 * A deterministic TSBS-like `cpu` dataset for the query benchmark: `hosts` hosts with ten
 * tags each, ten float64 fields (random walks in [0, 100] with two decimals, like TSBS),
 * one row per host every 10 s. 100 hosts over 24 h = 864,000 rows.
 *
 * Emitted as Arrow batches sorted by (hostname, time) — the order a scan returns — and as
 * CSV for DuckDB. Two-decimal values print and parse back to the same float64 on both sides.
 */
import { createWriteStream } from 'node:fs';
import {
  Dictionary, Field, Float64, Int32, makeData, RecordBatch, Schema, Struct, TimestampNanosecond, Utf8,
  vectorFromArray, type Data,
} from 'apache-arrow';
import type { TableSchema } from '../../src/core/types.js';
import type { Quiver } from '../../src/quiver.js';
import { rng } from '../rng.js';

export const CPU_FIELDS = [
  'usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait',
  'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice',
] as const;
export const CPU_TAGS = [
  'hostname', 'region', 'datacenter', 'rack', 'os', 'arch', 'team', 'service', 'service_version', 'service_environment',
] as const;

export const CPU_SCHEMA: TableSchema = {
  time: 'time', timeUnit: 'ns', tags: [...CPU_TAGS],
  fields: CPU_FIELDS.map((name) => ({ name, type: 'float64' as const })),
};

export interface CpuOptions {
  hosts: number;
  start_ms: number;
  duration_ms: number;
  interval_ms: number;
  seed: number;
}

export const CPU_DEFAULTS: CpuOptions = { hosts: 100, start_ms: Date.UTC(2026, 0, 1), duration_ms: 24 * 3_600_000, interval_ms: 10_000, seed: 42 };


const REGIONS = ['us-east-1', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'sa-east-1'];

export function hostTags(h: number): string[] {
  const region = REGIONS[h % REGIONS.length]!;
  return [
    `host_${h}`, region, `${region}${'abc'[h % 3]}`, String(h % 100), ['Ubuntu16.10', 'Ubuntu16.04LTS', 'Ubuntu15.10'][h % 3]!,
    ['x64', 'x86'][h % 2]!, ['SF', 'NYC', 'LON', 'CHI'][h % 4]!, String(h % 20), String(h % 2), ['production', 'staging', 'test'][h % 3]!,
  ];
}

export interface CpuHostBlock {
  host: number;
  times: BigInt64Array;
  fields: Float64Array[];
}

/** One host's rows (all fields), deterministic per (seed, host). */
export function hostBlock(options: CpuOptions, host: number): CpuHostBlock {
  const n = Math.floor(options.duration_ms / options.interval_ms);
  const random = rng(options.seed * 100_003 + host);
  const times = new BigInt64Array(n);
  for (let i = 0; i < n; i++) times[i] = BigInt(options.start_ms + i * options.interval_ms) * 1_000_000n;
  const fields = CPU_FIELDS.map(() => {
    const values = new Float64Array(n);
    let v = random() * 100;
    for (let i = 0; i < n; i++) {
      v = Math.min(100, Math.max(0, v + (random() - 0.5) * 2));
      values[i] = Math.round(v * 100) / 100;
    }
    return values;
  });
  return { host, times, fields };
}

/** Arrow batches of `batchRows` rows, host by host (sorted by hostname then time). */
export function* cpuBatches(options: CpuOptions, batchRows = 65_536): Generator<RecordBatch> {
  const hosts = Array.from({ length: options.hosts }, (_, h) => h).sort((a, b) => (`host_${a}` < `host_${b}` ? -1 : 1));
  for (const h of hosts) {
    const block = hostBlock(options, h);
    const tags = hostTags(h);
    for (let a = 0; a < block.times.length; a += batchRows) {
      const b = Math.min(block.times.length, a + batchRows);
      yield blockBatch(block, tags, a, b);
    }
  }
}

function blockBatch(block: CpuHostBlock, tags: string[], a: number, b: number): RecordBatch {
  const n = b - a;
  const fields: Field[] = [];
  const data: Data[] = [];
  const tt = new TimestampNanosecond();
  fields.push(new Field('time', tt, false));
  data.push(makeData({ type: tt, length: n, nullCount: 0, data: block.times.slice(a, b) } as never));
  CPU_TAGS.forEach((tag, t) => {
    const type = new Dictionary(new Utf8(), new Int32());
    fields.push(new Field(tag, type, true));
    data.push(makeData({ type, length: n, nullCount: 0, data: new Int32Array(n), dictionary: vectorFromArray([tags[t]!], new Utf8()) } as never));
  });
  CPU_FIELDS.forEach((name, f) => {
    const type = new Float64();
    fields.push(new Field(name, type, true));
    data.push(makeData({ type, length: n, nullCount: 0, data: block.fields[f]!.slice(a, b) }));
  });
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children: data }));
}

/** The same rows as CSV (time as epoch microseconds) for DuckDB's read_csv. */
export async function writeCpuCsv(options: CpuOptions, path: string): Promise<void> {
  const out = createWriteStream(path);
  let failed: Error | null = null;
  out.on('error', (error) => { failed = error; });
  const write = (s: string) => new Promise<void>((resolve, reject) => {
    if (failed) reject(failed);
    else if (out.write(s)) resolve();
    else out.once('drain', resolve);
  });
  await write(['time_us', ...CPU_TAGS, ...CPU_FIELDS].join(',') + '\n');
  for (let h = 0; h < options.hosts; h++) {
    const block = hostBlock(options, h);
    const tags = hostTags(h).join(',');
    const lines: string[] = [];
    for (let i = 0; i < block.times.length; i++) {
      let line = `${block.times[i]! / 1000n},${tags}`;
      for (let f = 0; f < CPU_FIELDS.length; f++) line += ',' + block.fields[f]![i]!;
      lines.push(line);
    }
    await write(lines.join('\n') + '\n');
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Creates table `cpu` (ns time, the dataset's tags and fields) in `db` and writes the dataset into it, flushed. */
export async function writeCpuTable(db: Quiver, options: CpuOptions): Promise<void> {
  const created = await db.createTable('cpu', { time: 'time', timeUnit: 'ns', tags: [...CPU_SCHEMA.tags], fields: CPU_SCHEMA.fields });
  for (const batch of cpuBatches(options)) await created.append(batch);
  await created.flush();
}
