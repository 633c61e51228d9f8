import type { DataType, RecordBatch, Table } from 'apache-arrow';
import { AbortError, assert, LimitExceededError } from '../errors.js';
import type { PageSummarizer, QueryableTable, QueryOptions } from './query-types.js';
import { planInput, type TagFilter } from './plan.js';
import { FieldAccumulator, type BatchField, type BatchTime, type Segments } from './aggregate.js';
import { newState } from './aggregates/index.js';
import { bigint64Values, columnData, columnView, float64Values, int64MinMax, int64ToFloat64, storedIntegers } from './aggregate-column.js';
import { fieldTypeInfo } from '../format/field-types.js';
import { statKindOf } from '../format/stats.js';
import { GroupRegistry, newGroupRuns, type GroupRuns } from './query-groups.js';
import { planQuery, splitQueryOptions, UNITS_PER_SECOND, type QueryPlan } from './query-plan.js';
import { applyFilter } from './predicate.js';
import { buildAggregateTable, type SlotTable } from './query-output.js';
import { runLatest } from './query-latest.js';
import { batchTimeRanges, explainScan, type ScanExplain, type ScanSource } from './scan.js';
import type { PageFooter } from '../format/types.js';
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
  const scanOptions = {
    from: options.from, to: options.to, where: options.where, signal: options.signal, version: options.version,
    columns: plan.scanColumns, order: 'any' as const, // the aggregation needs no row order
  };
  const scan = table.scanWithSummaries && !options.filter && plan.fromStats
    ? table.scanWithSummaries(scanOptions, pageSummarizer(plan, engine, planInput(plan.schema, { where: options.where }).filters))
    : table.scan(scanOptions);
  for await (const scanned of scan) {
    if (options.signal?.aborted) throw new AbortError('query aborted');
    const batch = options.filter ? applyFilter(scanned, options.filter) : scanned;
    if (batch.numRows > 0) engine.consume(batch);
    // The engine keeps no view of a batch (slot state holds numbers, bigints, strings and
    // copied bytes; AggregateState's contract says the same): the decode buffers go back to
    // the pool for the next read (a filtered batch is a copy; the scan's is released).
    releaseBatch(scanned);
  }
  return engine.finish();
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

/** What one page's statistics say about one field (see FieldAccumulator.addSummary). */
export interface FieldSummary {
  field: string;
  /** Non-null values. */
  valid: number;
  /** Float min/max (NaN skipped), or the exact decimal strings of 64-bit integer fields; null when no value. */
  min: number | string | null;
  max: number | string | null;
  /** NaN among the values (float64 fields whose min/max is asked; 0 otherwise). */
  nan: number;
  /** The page's sum statistic (when the query needs it). */
  sum: number | string | undefined;
}

/**
 * Answers a page from the footer when it lies wholly inside [from, to) and inside one time
 * bucket, and every grouping and filtered tag holds one value on it (sorted by series, most
 * pages do): its rows, non-null counts, min/max and sums fold straight into the slot.
 */
function pageSummarizer(plan: QueryPlan, engine: AggregationEngine, filters: TagFilter[]): PageSummarizer {
  return (footer, pages) => {
    const column = (name: string) => footer.columns.find((c) => c.name === name);
    const time = column(footer.timeColumn);
    const by = plan.by.map(column);
    const filtered = filters.map((f) => ({ f, c: column(f.tag) }));
    const fields = plan.fields.filter((f) => f.kind !== '*').map((f) => ({ name: f.field, c: column(f.field), needs: f.needs }));
    // A chunk without a grouping or filtered tag column (written before the tag existed) decodes.
    if (!time || !allPresent(by) || !allPresent(filtered.map(({ c }) => c))) return pages;
    const rest: number[] = [];
    const values: (string | null)[] = new Array(by.length);
    for (const p of pages) {
      const tp = time.pages[p]!;
      if (tp.min === null || tp.max === null) { rest.push(p); continue; }
      const tMin = BigInt(tp.min as string), tMax = BigInt(tp.max as string);
      let ok = (plan.from === null || tMin >= plan.from) && (plan.to === null || tMax < plan.to);
      let bucket: { key: number; start: bigint } | null = null;
      if (ok && plan.bucketer) {
        const range = plan.bucketer.locate(tMin);
        ok = tMax < range.end;
        bucket = range;
      }
      const rows = footer.pageRowStarts[p + 1]! - footer.pageRowStarts[p]!;
      // A tag holds one value on the page: one string, or the null tag on every row.
      const single = (pg: { nullCount: number; min: unknown; max: unknown }): { one: boolean; value: string | null } =>
        pg.nullCount === rows ? { one: true, value: null } : { one: pg.nullCount === 0 && typeof pg.min === 'string' && pg.min === pg.max, value: pg.min as string };
      for (let t = 0; ok && t < by.length; t++) {
        const { one, value } = single(by[t]!.pages[p]!);
        ok = one;
        values[t] = value;
      }
      for (let k = 0; ok && k < filtered.length; k++) {
        const { f, c } = filtered[k]!;
        assert(c !== undefined, 'filtered tag column present');
        const { one, value } = single(c.pages[p]!);
        ok = one && f.matches(value);
      }
      // A zero float min or max may stand for -0 and +0 mixed on the page: which one a
      // row-by-row min/max keeps depends on their order, which the statistics do not record.
      // NaN is not in min/max: the page must say how many it holds (nanCount, or a sum that
      // is not NaN: then none), else it is decoded.
      for (let k = 0; ok && k < fields.length; k++) {
        const { c, needs } = fields[k]!;
        const pg = c?.pages[p];
        if (c === undefined || pg === undefined) continue;
        if (needs.minMax) ok = c.type === 'float64' ? pg.min !== 0 && pg.max !== 0 && pageNanCount(pg) !== undefined : statKindOf(c.type) === 'int';
        if (ok && needs.sum) ok = pg.sum !== undefined;
      }
      if (!ok) { rest.push(p); continue; }
      engine.consumeSummary(values, bucket, tMin, tMax, rows, fields.map(({ name, c, needs }): FieldSummary => {
        const pg = c?.pages[p];
        if (c === undefined || pg === undefined) return { field: name, valid: 0, min: null, max: null, nan: 0, sum: undefined };
        let nan = 0;
        if (needs.minMax && c.type === 'float64') {
          const count = pageNanCount(pg);
          assert(count !== undefined, 'pages with an unknown NaN count are decoded');
          nan = count;
        }
        return {
          field: name, valid: rows - pg.nullCount,
          min: needs.minMax ? pg.min as number | string | null : null,
          max: needs.minMax ? pg.max as number | string | null : null,
          nan,
          sum: needs.sum ? pg.sum : undefined,
        };
      }));
    }
    return rest;
  };
}

function allPresent<T>(items: (T | undefined)[]): items is T[] {
  return items.every((x) => x !== undefined);
}

/**
 * NaN on a float64 page, from its statistics: `nanCount` (written when there is any), else
 * none when the page sum is a number (NaN would make it NaN); undefined when unknown (chunks
 * written before nanCount whose sum is NaN or absent).
 */
function pageNanCount(pg: PageFooter): number | undefined {
  if (pg.nanCount !== undefined) return pg.nanCount;
  return typeof pg.sum === 'number' && pg.sum === pg.sum ? 0 : undefined;
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
