import { Timestamp, type DataType, type RecordBatch, type Table } from 'apache-arrow';
import { AbortError, assert, LimitExceededError } from '../errors.js';
import type { EngineState, PageSummarizer, QueryableTable, QueryOptions } from './query-types.js';
import { planInput, type TagFilter } from './plan.js';
import { FieldAccumulator, type BatchField, type BatchTime, type Segments } from './aggregate.js';
import { newState } from './aggregates/index.js';
import { bigint64Values, columnData, columnView, float64Values, int64MinMax, int64ToFloat64, storedIntegers } from './aggregate-column.js';
import { fieldTypeInfo } from '../format/field-types.js';
import { GroupRegistry, newGroupRuns, type GroupRuns } from './query-groups.js';
import { planQuery, splitQueryOptions, UNITS_PER_SECOND, type QueryPlan } from './query-plan.js';
import { applyFilter } from './predicate.js';
import { buildAggregateTable, type SlotTable } from './query-output.js';
import { runLatest } from './query-latest.js';
import { pageSummarizer, type FieldSummary } from './query-summary.js';
import { mergeablePlan, runPieces, splitThreads } from './query-pieces.js';
import { batchTimeRanges, explainScan, type ScanExplain, type ScanSource } from './scan.js';
import { releaseBatch } from '../format/buffer-pool.js';

/**
 * Time-series queries: a table scan streamed into a hash aggregation.
 *
 * ```
 * table.scan(from, to, where, columns = by tags + agg fields [+ all tags for rate])
 *   └─ per batch: filter ─► group id per row (one lookup per run of equal tag codes)
 *                        ─► segments: runs of rows with the same (group, bucket) slot
 *                        ─► per field, per statistic: one typed-array loop per segment
 *   └─ end: quantile sorts, rates ─► rows ordered by group tags then bucket time ─► fill
 * ```
 *
 * Slots are (group, bucket) pairs found with one Map lookup per segment; bucket bounds are
 * located with BigInt once per segment and compared as plain numbers per row (times are
 * converted to float64 relative to the batch's first time, exact within 2^53 units).
 *
 * Output (an Arrow Table): the bucket start (Timestamp in the table's unit; without `every`,
 * `from` or else the earliest time scanned), the `by` tags (Dictionary<Utf8, Int32>), then
 * one column per aggregation named `<fn>_<field>` (`p90_usage`, `count` for count of '*'),
 * rows sorted by the tags (nulls last) then time. See aggregate.ts for each statistic.
 *
 * Fill (with `every`, within [from, to) or else the data's first to last bucket, per group
 * present in the data): 'none' leaves gaps out; 'null' adds rows with null aggregates (counts
 * 0); 'previous' repeats the previous bucket's values (null before the first); 'linear'
 * interpolates numeric columns in time between the neighbouring buckets (null at the ends;
 * bool/utf8 null).
 */

/** (group, bucket) slots a query may hold: a runaway `every` × `by` stops here, not in OOM. */
export const QUERY_SLOTS_MAX = 20_000_000;

export async function runQuery(table: QueryableTable, options: QueryOptions): Promise<Table> {
  const plan = planQuery(table.schema, options);
  if (options.latest) return runLatest(table, options, plan);
  const engine = new AggregationEngine(plan);
  // Sized on the version the table last saw (no store request); split on a fresh one.
  const seen = table.pieces && mergeablePlan(plan, options) ? await table.pieces(false) : null;
  const sized = seen ? splitThreads(seen, plan) : null;
  if (sized && sized.threads > 0 && table.pieces) {
    // The fresh version's pieces, with the threads already found usable (no second look at the load).
    const fresh = await table.pieces(true);
    const split = fresh ? splitThreads(fresh, plan, () => sized.threads) : null;
    if (fresh && split && split.threads > 0) {
      await runPieces(fresh, split.pieces, options, plan.schema.timeUnit, split.threads, (o) => consumeQuery(table, o, plan, engine), (s) => engine.mergeState(s));
      return engine.finish();
    }
  }
  await consumeQuery(table, options, plan, engine);
  return engine.finish();
}

/** Streams the query's scan into `engine` (the pages their statistics answer, then the batches). */
export async function consumeQuery(table: QueryableTable, options: QueryOptions, plan: QueryPlan, engine: AggregationEngine): Promise<void> {
  const scanOptions = {
    from: options.from, to: options.to, where: options.where, signal: options.signal, version: options.version,
    columns: plan.scanColumns, order: 'any' as const, // the aggregation needs no row order
  };
  let scan: AsyncIterable<RecordBatch>;
  if (table.scanWithSummaries && !options.filter) {
    // Aggregates without a statistics shortcut offer every page back (decoded as by a plain scan).
    const summarize: PageSummarizer = plan.fromStats ? pageSummarizer(plan, engine, planInput(plan.schema, { where: options.where }).filters) : (_footer, pages) => pages;
    // `plan` is the whole query's (runQuery's pieces share it): its range decides cache admission.
    summarize.whole = { from: plan.from ?? undefined, to: plan.to ?? undefined };
    scan = table.scanWithSummaries(scanOptions, summarize);
  } else {
    scan = table.scan(scanOptions);
  }
  for await (const scanned of scan) {
    if (options.signal?.aborted) throw new AbortError('query aborted');
    const batch = options.filter ? applyFilter(scanned, options.filter) : scanned;
    if (batch.numRows > 0) engine.consume(batch);
    // The engine keeps no view of a batch (slot state holds numbers, bigints, strings and
    // copied bytes; AggregateState's contract says the same): the decode buffers go back to
    // the pool for the next read (a filtered batch is a copy; the scan's is released).
    releaseBatch(scanned);
  }
}

/**
 * The page summarizer runQuery would use (pages whose statistics answer the query), for
 * explaining a query: it accumulates into an engine of its own, which is dropped. Undefined
 * when the query decodes every page (latest, a field filter, aggregates without a statistics
 * shortcut).
 */
function explainSummarizer(plan: QueryPlan, options: QueryOptions): PageSummarizer | undefined {
  if (options.latest || options.filter || !plan.fromStats) return undefined;
  return pageSummarizer(plan, new AggregationEngine(plan), planInput(plan.schema, { where: options.where }).filters);
}

/**
 * The plan of a query without reading data pages: its scan's (over the columns the query
 * reads), plus the selected pages answered from their statistics (`pagesFromStatistics`).
 */
export async function explainQuery(source: ScanSource, schema: QueryableTable['schema'], options: QueryOptions): Promise<ScanExplain> {
  const { aggregate, scan } = splitQueryOptions(options);
  if (!aggregate) return explainScan(source, planInput(schema, scan));
  const plan = planQuery(schema, options);
  // An aggregation reads the columns its plan names (fields aggregated or filtered, grouping tags); latest, the asked ones.
  const columns = options.latest ? scan.columns : plan.scanColumns;
  return explainScan(source, planInput(schema, { ...scan, columns }), explainSummarizer(plan, options));
}

export class AggregationEngine {
  private readonly groups: GroupRegistry;
  private readonly series: GroupRegistry | null;
  private readonly accs: FieldAccumulator[];
  private slotCount = 0;
  private slotGroup = new Int32Array(256);
  private slotKey = new Float64Array(256);
  private slotRows = new Float64Array(256);
  private readonly slotStart: bigint[] = [];
  private readonly bucketSlots: Map<number, number>[] = [];
  private globalBase: bigint | null = null;
  private timeMin: bigint | null = null;
  private timeMax: bigint | null = null;
  private timeType: DataType | null = null;
  private relBuf = new Float64Array(0);
  private readonly runs: GroupRuns = newGroupRuns();
  private seriesBuf = new Int32Array(0);
  private segs: Segments = { start: new Int32Array(256), end: new Int32Array(256), slot: new Int32Array(256), count: 0 };
  private readonly needMinMaxTime: boolean;
  /** The last located bucket, relative to the current batch's base. */
  private lo = Infinity;
  private hi = -Infinity;
  private key = 0;
  private start = 0n;

  constructor(private readonly plan: QueryPlan) {
    this.groups = new GroupRegistry(plan.by);
    this.series = plan.needSeries ? new GroupRegistry(plan.schema.tags) : null;
    this.accs = plan.fields.map((f) => new FieldAccumulator(f.field, f.kind, f.needs, f.type,
      new Map(f.stateful.map((agg) => [agg.name, newState(agg)] as const))));
    this.needMinMaxTime = (plan.bucketer === null && plan.from === null) ||
      (plan.fill !== 'none' && (plan.from === null || plan.to === null));
  }

  consume(batch: RecordBatch): void {
    const n = batch.numRows;
    const timeData = columnData(batch, this.plan.schema.time, 'query time');
    this.timeType ??= timeData.type;
    const times = bigint64Values(timeData) as BigInt64Array;
    const base = times[0]!;
    this.globalBase ??= base;
    let time: BatchTime | null = null;
    let exact = true;
    if (this.plan.needTime) {
      if (this.relBuf.length < n) this.relBuf = new Float64Array(Math.max(n, this.relBuf.length * 2));
      const rel = this.relBuf.subarray(0, n);
      exact = int64ToFloat64(timeData, base, false, rel);
      time = { rel, times, offsetToGlobal: Number(base - this.globalBase) };
    }
    if (this.needMinMaxTime) {
      const { min, max } = batchTimeRanges.get(batch) ?? int64MinMax(timeData);
      if (this.timeMin === null || min < this.timeMin) this.timeMin = min;
      if (this.timeMax === null || max > this.timeMax) this.timeMax = max;
    }
    let runs: GroupRuns | null = null;
    if (this.plan.by.length > 0) runs = this.groups.resolveRuns(batch, this.runs);
    else if (this.groups.size === 0) this.groups.groupValues.push([]);
    let seriesIds: Int32Array | null = null;
    if (this.series) {
      if (this.seriesBuf.length < n) this.seriesBuf = new Int32Array(Math.max(n, this.seriesBuf.length * 2));
      seriesIds = this.series.resolve(batch, this.seriesBuf.subarray(0, n));
    }
    this.buildSegments(n, time, times, base, exact, runs);
    for (const acc of this.accs) {
      acc.ensure(this.slotCount);
      // A batch without the field (written before it was added) holds only nulls of it.
      if (!batch.schema.fields.some((f) => f.name === acc.field)) continue;
      acc.accumulate(this.segs, this.batchField(batch, acc), time, seriesIds);
    }
  }

  /** A page answered from its statistics (see pageSummarizer). */
  consumeSummary(groupValues: readonly (string | null)[], bucket: { key: number; start: bigint } | null, timeMin: bigint, timeMax: bigint, rows: number,
                 fields: FieldSummary[]): void {
    this.globalBase ??= timeMin;
    if (this.needMinMaxTime) {
      if (this.timeMin === null || timeMin < this.timeMin) this.timeMin = timeMin;
      if (this.timeMax === null || timeMax > this.timeMax) this.timeMax = timeMax;
    }
    let g = 0;
    if (this.plan.by.length > 0) g = this.groups.groupOfValues(groupValues);
    else if (this.groups.size === 0) this.groups.groupValues.push([]);
    const slot = bucket ? this.slotFor(g, bucket.key, bucket.start) : this.slotFor(g, 0, 0n);
    this.slotRows[slot]! += rows;
    for (const acc of this.accs) {
      acc.ensure(this.slotCount);
      const f = fields.find((x) => x.field === acc.field);
      if (f) acc.addSummary(slot, f);
    }
  }

  private batchField(batch: RecordBatch, acc: FieldAccumulator): BatchField {
    const view = columnView(batch, acc.field, 'query agg');
    const n = view.length;
    let valid: Uint8Array | null = null;
    if (view.validity !== null) {
      valid = new Uint8Array(n);
      const bits = view.validity, off = view.validityOffset;
      for (let i = 0; i < n; i++) valid[i] = (bits[(off + i) >> 3]! >> ((off + i) & 7)) & 1;
    }
    let vals: Float64Array | null = null;
    let exact: BatchField['exact'] = null;
    if (acc.kind === 'big' || (acc.kind === 'i64' && view.kind !== 'i64')) {
      // Integer-backed types (dates, times, durations, timestamps, decimals): their stored integers.
      assert(acc.type !== null, `field ${acc.field} has a type`);
      ({ exact, approx: vals } = storedIntegers(fieldTypeInfo(acc.type), view.data));
    } else if (view.kind === 'f64') vals = float64Values(view.data);
    else if (view.kind === 'i64' || view.kind === 'u64') {
      vals = new Float64Array(n);
      int64ToFloat64(view.data, 0n, view.kind === 'u64', vals);
      exact = bigint64Values(view.data);
    }
    return { vals, exact, valid, view };
  }

  private slotFor(group: number, key: number, start: bigint): number {
    let map = this.bucketSlots[group];
    if (!map) this.bucketSlots[group] = map = new Map();
    let slot = map.get(key);
    if (slot !== undefined) return slot;
    slot = this.slotCount++;
    if (slot >= QUERY_SLOTS_MAX) {
      throw new LimitExceededError('query groups × buckets', slot + 1, QUERY_SLOTS_MAX, `every ${this.plan.every ?? '(none)'} by ${this.plan.by.join(',') || '(none)'}`);
    }
    if (slot >= this.slotGroup.length) {
      const cap = this.slotGroup.length * 2;
      const g = new Int32Array(cap); g.set(this.slotGroup); this.slotGroup = g;
      const k = new Float64Array(cap); k.set(this.slotKey); this.slotKey = k;
      const r = new Float64Array(cap); r.set(this.slotRows); this.slotRows = r;
    }
    this.slotGroup[slot] = group;
    this.slotKey[slot] = key;
    this.slotStart[slot] = start;
    map.set(key, slot);
    return slot;
  }

  private pushSegment(a: number, b: number, slot: number): void {
    const s = this.segs;
    if (s.count === s.start.length) {
      const cap = s.count * 2;
      const st = new Int32Array(cap); st.set(s.start); s.start = st;
      const en = new Int32Array(cap); en.set(s.end); s.end = en;
      const sl = new Int32Array(cap); sl.set(s.slot); s.slot = sl;
    }
    s.start[s.count] = a; s.end[s.count] = b; s.slot[s.count] = slot;
    s.count++;
    this.slotRows[slot]! += b - a;
  }

  /** Splits the batch into runs of rows sharing a (group, bucket) slot. */
  private buildSegments(n: number, time: BatchTime | null, times: BigInt64Array, base: bigint,
                        exact: boolean, runs: GroupRuns | null): void {
    this.segs.count = 0;
    const bucketer = this.plan.bucketer;
    const runCount = runs ? runs.count : 1;
    for (let r = 0; r < runCount; r++) {
      const a = runs ? runs.start[r]! : 0, b = runs ? runs.end[r]! : n, g = runs ? runs.group[r]! : 0;
      if (bucketer === null) { this.pushSegment(a, b, this.slotFor(g, 0, 0n)); continue; }
      if (!exact) {
        // A batch spanning more than 2^53 units: exact BigInt compares per row (rare, slow).
        let i = a;
        while (i < b) {
          const range = bucketer.locate(times[i]!);
          let j = i + 1;
          while (j < b && times[j]! >= range.start && times[j]! < range.end) j++;
          this.pushSegment(i, j, this.slotFor(g, range.key, range.start));
          i = j;
        }
        continue;
      }
      assert(time !== null, 'bucketed queries read times');
      const rel = time.rel;
      let i = a;
      while (i < b) {
        const t0 = rel[i]!;
        if (!(t0 >= this.lo && t0 < this.hi)) {
          const range = bucketer.locate(base + BigInt(t0));
          this.lo = Number(range.start - base); this.hi = Number(range.end - base);
          this.key = range.key; this.start = range.start;
        }
        const lo = this.lo, hi = this.hi;
        let j = i + 1;
        while (j < b) { const t = rel[j]!; if (t < lo || t >= hi) break; j++; }
        this.pushSegment(i, j, this.slotFor(g, this.key, this.start));
        i = j;
      }
    }
    // Bucket bounds are relative to this batch's base: forget them.
    this.lo = Infinity; this.hi = -Infinity;
  }

  /**
   * The engine's state for a merge into another engine of the same plan (query-pieces.ts):
   * plain typed arrays and strings (structured-cloneable). Only plans `mergeablePlan` accepts.
   */
  exportState(): EngineState {
    const n = this.slotCount;
    const t = this.timeType as { unit?: number; timezone?: string | null } | null;
    return {
      groups: this.groups.groupValues, slotGroup: this.slotGroup.slice(0, n), slotKey: this.slotKey.slice(0, n),
      slotStart: this.slotStart.slice(0, n), slotRows: this.slotRows.slice(0, n),
      fields: this.accs.map((a) => ({ count: a.count.slice(0, n), sum: a.sum.slice(0, n), min: a.min.slice(0, n), max: a.max.slice(0, n), nan: a.nan.slice(0, n) })),
      timeMin: this.timeMin, timeMax: this.timeMax, globalBase: this.globalBase,
      timeType: t === null ? null : { unit: t.unit ?? 0, timezone: t.timezone ?? null },
    };
  }

  /**
   * Folds the state of an engine that read other time buckets (no slot in common: an assert).
   * Every slot is new here, so each value lands on a zero (count, sum) or an empty min/max:
   * the results are those of one engine reading both.
   */
  mergeState(s: EngineState): void {
    const groupOf = s.groups.map((values) => {
      if (this.plan.by.length > 0) return this.groups.groupOfValues(values);
      if (this.groups.size === 0) this.groups.groupValues.push([]);
      return 0;
    });
    for (let j = 0; j < s.slotKey.length; j++) {
      const before = this.slotCount;
      const k = this.slotFor(groupOf[s.slotGroup[j]!]!, s.slotKey[j]!, s.slotStart[j]!);
      assert(k === before, 'merged query pieces share no (group, bucket) slot');
      this.slotRows[k] = s.slotRows[j]!;
      this.accs.forEach((acc, i) => {
        const f = s.fields[i]!;
        acc.ensure(this.slotCount);
        acc.count[k] = f.count[j]!;
        if (acc.needs.sum) acc.sum[k] = f.sum[j]!;
        if (acc.needs.minMax) { acc.min[k] = f.min[j]!; acc.max[k] = f.max[j]!; acc.nan[k] = f.nan[j]!; }
      });
    }
    const lo = (a: bigint | null, b: bigint | null) => (a === null ? b : b === null || a <= b ? a : b);
    const hi = (a: bigint | null, b: bigint | null) => (a === null ? b : b === null || a >= b ? a : b);
    this.timeMin = lo(this.timeMin, s.timeMin);
    this.timeMax = hi(this.timeMax, s.timeMax);
    this.globalBase = lo(this.globalBase, s.globalBase);
    if (this.timeType === null && s.timeType !== null) this.timeType = new Timestamp(s.timeType.unit, s.timeType.timezone);
  }

  finish(): Table {
    const unitsPerSecond = UNITS_PER_SECOND[this.plan.schema.timeUnit];
    for (const acc of this.accs) {
      acc.ensure(this.slotCount);
      acc.finish(this.slotCount, unitsPerSecond);
    }
    const slots: SlotTable = {
      count: this.slotCount,
      group: this.slotGroup,
      key: this.slotKey,
      start: this.slotStart,
      rows: this.slotRows,
    };
    return buildAggregateTable(this.plan, this.groups, slots, this.accs, {
      timeType: this.timeType, timeMin: this.timeMin, timeMax: this.timeMax, globalBase: this.globalBase,
    });
  }
}
