/**
 * An in-memory QueryableTable over decoded Arrow batches (one host per batch, sorted by
 * time): pruning by time range and hostname, row slicing by binary search, projection.
 * It isolates the aggregation engine from storage and decoding: the benchmark reports it
 * as "engine" beside the end-to-end Quiver figures when a real table is available.
 */
import { RecordBatch, Schema, makeData, Struct, type Field } from 'apache-arrow';
import type { ScanOptions, TableSchema } from '../../src/core/types.js';
import type { QueryableTable } from '../../src/scan/query-types.js';
import { toTableTime } from '../../src/scan/query-plan.js';

interface Entry { batch: RecordBatch; host: string; times: BigInt64Array; min: bigint; max: bigint }

export class MemoryTable implements QueryableTable {
  private readonly entries: Entry[] = [];
  constructor(readonly schema: TableSchema) {}

  add(batch: RecordBatch, host: string): void {
    const data = batch.getChild(this.schema.time)!.data[0]!;
    const times = (data.values as BigInt64Array).subarray(0, data.length);
    this.entries.push({ batch, host, times, min: times[0]!, max: times[times.length - 1]! });
  }

  async *scan(options: ScanOptions): AsyncIterable<RecordBatch> {
    const from = options.from === undefined ? null : toTableTime(options.from, this.schema.timeUnit, 'from');
    const to = options.to === undefined ? null : toTableTime(options.to, this.schema.timeUnit, 'to');
    const where = options.where?.hostname;
    const hosts = where === undefined ? null : new Set(typeof where === 'string' ? [where] : Array.isArray(where) ? where : []);
    for (const e of this.entries) {
      if (hosts && !hosts.has(e.host)) continue;
      if (from !== null && e.max < from) continue;
      if (to !== null && e.min >= to) continue;
      const a = from === null ? 0 : lowerBound(e.times, from);
      const b = to === null ? e.times.length : lowerBound(e.times, to);
      let batch = a === 0 && b === e.times.length ? e.batch : e.batch.slice(a, b);
      if (options.columns) batch = project(batch, [this.schema.time, ...options.columns]);
      yield batch;
    }
  }
}

function lowerBound(times: BigInt64Array, t: bigint): number {
  let lo = 0, hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < t) lo = mid + 1; else hi = mid;
  }
  return lo;
}

function project(batch: RecordBatch, names: string[]): RecordBatch {
  const fields: Field[] = [];
  const children = [];
  for (const name of new Set(names)) {
    const i = batch.schema.fields.findIndex((f) => f.name === name);
    if (i < 0) continue;
    fields.push(batch.schema.fields[i]!);
    children.push(batch.data.children[i]!);
  }
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
}
