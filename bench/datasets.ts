/**
 * Deterministic benchmark datasets (issue #3's definitions), shared by the benches.
 *
 * cpu:   `hosts` hosts × 24 h at 10 s; tags hostname, region, datacenter, rack, os, arch,
 *        team, service, service_version, service_environment; ten float fields
 *        usage_user … usage_guest_nice, each a random walk with N(0,1) steps clamped to
 *        [0, 100] and rounded to 2 decimals. 100 hosts = 864,000 rows.
 * ticks: `symbols` symbols with Zipf-skewed activity, irregular millisecond timestamps,
 *        cent-quantised prices (random walk in cents), integer volumes.
 */
import { createWriteStream } from 'node:fs';
import {
  Dictionary, Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct, TimestampMillisecond, TimestampNanosecond, Utf8,
  vectorFromArray, type Data, type DataType,
} from 'apache-arrow';
import { CPU_FIELDS, CPU_TAGS, hostTags } from './queries/cpu-data.js';
import { rng } from './rng.js';

export { CPU_FIELDS, CPU_TAGS };

export { rng } from './rng.js';

export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export interface CpuSpec { hosts: number; hours: number; intervalS: number; seed: number; start: number }
export const CPU: CpuSpec = { hosts: 100, hours: 24, intervalS: 10, seed: 42, start: Date.UTC(2026, 0, 1) };

export interface HostRows { tags: string[]; times: BigInt64Array; fields: Float64Array[] }

/** One host's rows, deterministic per (seed, host). */
export function cpuHost(spec: CpuSpec, h: number): HostRows {
  const n = Math.floor((spec.hours * 3600) / spec.intervalS);
  const random = rng(spec.seed * 1_000_003 + h);
  const normal = gaussian(random);
  const times = new BigInt64Array(n);
  for (let i = 0; i < n; i++) times[i] = BigInt(spec.start + i * spec.intervalS * 1000) * 1_000_000n;
  const fields = CPU_FIELDS.map(() => {
    const out = new Float64Array(n);
    let v = Math.round(random() * 10000) / 100;
    for (let i = 0; i < n; i++) {
      v = Math.round(Math.min(100, Math.max(0, v + normal())) * 100) / 100;
      out[i] = v;
    }
    return out;
  });
  return { tags: hostTags(h), times, fields };
}

function batch(columns: [string, DataType, Data][]): RecordBatch {
  const fields = columns.map(([name, type]) => new Field(name, type, name !== 'time'));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: columns[0]![2].length, nullCount: 0, children: columns.map((c) => c[2]) }));
}

function tagData(value: string, n: number): [DataType, Data] {
  const type = new Dictionary(new Utf8(), new Int32());
  return [type, makeData({ type, length: n, nullCount: 0, data: new Int32Array(n), dictionary: vectorFromArray([value], new Utf8()) } as never)];
}

/** cpu as Arrow batches, one host at a time (bounded memory). */
export function* cpuBatches(spec: CpuSpec = CPU): Generator<RecordBatch> {
  for (let h = 0; h < spec.hosts; h++) {
    const host = cpuHost(spec, h);
    const n = host.times.length;
    const tt = new TimestampNanosecond();
    yield batch([
      ['time', tt, makeData({ type: tt, length: n, nullCount: 0, data: host.times } as never)],
      ...CPU_TAGS.map((t, k) => [t, ...tagData(host.tags[k]!, n)] as [string, DataType, Data]),
      ...CPU_FIELDS.map((f, k) => [f, new Float64(), makeData({ type: new Float64(), length: n, nullCount: 0, data: host.fields[k]! })] as [string, DataType, Data]),
    ]);
  }
}

/** cpu as a CSV with a header row and ISO-8601 times, rows in time order (as a collector writes them). */
export async function writeCpuCsv(path: string, spec: CpuSpec = CPU): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string) => new Promise<void>((resolve) => (out.write(s) ? resolve() : out.once('drain', resolve)));
  await write(['time', ...CPU_TAGS, ...CPU_FIELDS].join(',') + '\n');
  const hosts = Array.from({ length: spec.hosts }, (_, h) => cpuHost(spec, h));
  const tagText = hosts.map((h) => h.tags.join(','));
  const n = hosts[0]!.times.length;
  for (let i = 0; i < n; i++) {
    const time = new Date(Number(hosts[0]!.times[i]! / 1_000_000n)).toISOString().replace('.000Z', 'Z');
    const lines: string[] = [];
    for (let h = 0; h < hosts.length; h++) {
      let line = `${time},${tagText[h]}`;
      for (let f = 0; f < CPU_FIELDS.length; f++) line += `,${hosts[h]!.fields[f]![i]}`;
      lines.push(line);
    }
    await write(lines.join('\n') + '\n');
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

export interface TicksSpec { symbols: number; rows: number; seed: number; start: number }
export const TICKS: TicksSpec = { symbols: 500, rows: 5_000_000, seed: 7, start: Date.UTC(2026, 0, 5, 14, 30) };

/**
 * ticks as Arrow batches, one symbol at a time: symbol k gets a Zipf(1) share of the rows,
 * timestamps advance by exponential gaps (irregular ms), prices are a random walk in cents
 * from a per-symbol base, volumes are integers (lots of 100 mostly, odd lots sometimes).
 */
export function* ticksBatches(spec: TicksSpec = TICKS): Generator<RecordBatch> {
  const random = rng(spec.seed);
  const normal = gaussian(random);
  let harmonic = 0;
  for (let k = 1; k <= spec.symbols; k++) harmonic += 1 / k;
  const symbols = Array.from({ length: spec.symbols }, (_, k) => `S${String(k).padStart(4, '0')}`).sort();
  for (let k = 0; k < spec.symbols; k++) {
    const n = Math.max(1, Math.round(spec.rows / ((k + 1) * harmonic)));
    const meanGapMs = (6.5 * 3600 * 1000) / n;
    const times = new BigInt64Array(n);
    const price = new Float64Array(n);
    const volume = new BigInt64Array(n);
    let t = spec.start;
    let cents = Math.round(1000 + random() * 50000);
    for (let i = 0; i < n; i++) {
      t += Math.max(1, Math.round(-Math.log(1 - random()) * meanGapMs));
      times[i] = BigInt(t);
      cents = Math.max(1, cents + Math.round(normal() * 2));
      price[i] = cents / 100;
      volume[i] = BigInt(random() < 0.8 ? 100 * (1 + Math.floor(-Math.log(1 - random()) * 3)) : 1 + Math.floor(random() * 99));
    }
    const tt = new TimestampMillisecond();
    yield batch([
      ['time', tt, makeData({ type: tt, length: n, nullCount: 0, data: times } as never)],
      ['symbol', ...tagData(symbols[k]!, n)] as [string, DataType, Data],
      ['price', new Float64(), makeData({ type: new Float64(), length: n, nullCount: 0, data: price })],
      ['volume', new Int64(), makeData({ type: new Int64(), length: n, nullCount: 0, data: volume } as never)],
    ]);
  }
}
