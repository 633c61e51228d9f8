import { assert } from '../errors.js';
import { bytesAt, fieldTypeInfo } from '../format/field-types.js';
import { float64Sum } from '../format/stats.js';
import type { FieldType } from '../format/types.js';
import { boolAt, utf8At, type ColumnView } from './aggregate-column.js';
import { QuantileValues, RatePoints } from './aggregate-held.js';
import type { FieldKind } from './aggregates/descriptor.js';

/**
 * Accumulators of one field over aggregation slots (a slot is one (group, bucket) pair).
 * State lives in typed arrays indexed by slot; a batch arrives as segments (runs of rows
 * that share a slot), and each statistic is one tight loop per segment with its running
 * value in a local — no per-row object, Map or BigInt.
 *
 * - count, sum, mean: Float64 sums in four lanes (mean = sum / count); int64/uint64 fields
 *   are summed exactly (32-bit halves apart, then BigInt once per segment).
 * - min, max, spread: Float64 compare; for int64/uint64 fields the exact value is kept
 *   beside it and float64 ties (equal values, or neighbours beyond 2^53) compare as BigInt.
 *   NaN (DuckDB's order: NaN is the largest value) is counted apart: max is NaN when a value
 *   is NaN, min ignores NaN unless every value is, spread is max − min.
 * - stddev: per segment a two-pass mean and M2, merged into the slot with Chan's parallel
 *   formula (numerically stable like Welford, without a division per row).
 * - first / last: per segment the earliest / latest non-null row by time (float compare
 *   inside the batch), then an exact BigInt time compare against the slot, once per segment.
 * - quantiles, rate / derivative: values held until the end of the query (aggregate-held.ts).
 * - statistics of aggregates registered with their own state (AggregateDescriptor.state): the
 *   state's accumulate() gets each batch's segments like the loops here.
 */

/** Field kinds an accumulator handles: see aggregates/descriptor.ts. */
export type { FieldKind } from './aggregates/descriptor.js';

export { QUANTILE_VALUES_MAX, RATE_POINTS_MAX } from './aggregate-held.js';

/** Rows summed per piece by accSumExact: 2^21 × 2^32 stays within float64's 2^53. */
const EXACT_SUM_ROWS_MAX = 1 << 21;

export interface Segments {
  start: Int32Array;
  end: Int32Array;
  slot: Int32Array;
  count: number;
}

/** One batch's values of a field. */
export interface BatchField {
  /** Numeric values as float64 (float64 columns as is, integers converted, possibly rounded); null for bool/utf8/bytes. */
  vals: Float64Array | null;
  /** Exact integers of integer kinds (i64, u64, big), row 0 first; null otherwise. */
  exact: BigInt64Array | BigUint64Array | bigint[] | null;
  /** One byte per row, 1 = valid; null when the column has no null. */
  valid: Uint8Array | null;
  view: ColumnView | null;
}

/** One batch's times. */
export interface BatchTime {
  /** Time relative to the batch's base, table units as float64 (exact within a batch). */
  rel: Float64Array;
  /** Exact times (BigInt64Array from row 0 of the batch). */
  times: BigInt64Array;
  /** rel + offsetToGlobal = time relative to the query's global base. */
  offsetToGlobal: number;
}

/**
 * The statistics a field accumulates, derived from the aggregates asked of it (each
 * AggregateDescriptor names its `needs`). count is always kept.
 */
export interface Needs {
  count: boolean; sum: boolean; minMax: boolean; stddev: boolean;
  first: boolean; last: boolean; quantile: boolean; rate: boolean; derivative: boolean;
}

/** The state of an aggregate registered with its own statistic (see AggregateDescriptor.state). */
export interface AggregateState {
  /** Slots are numbered from 0; called before a batch or summary may use slots below `capacity`. */
  ensure(capacity: number): void;
  /**
   * Folds one batch: its segments (runs of rows sharing a slot), the field's values, times and
   * series ids when the plan reads them. The arrays are views of the batch, valid during the
   * call only (its decode buffers are reused once the query is done with it): copy what you keep.
   */
  accumulate(segs: Segments, field: BatchField, time: BatchTime | null, seriesIds: Int32Array | null): void;
  /** Called once after the last batch. */
  finish?(slots: number, unitsPerSecond: number): void;
}

function grow<T extends Float64Array | Uint8Array | BigInt64Array>(a: T, capacity: number): T {
  if (a.length >= capacity) return a;
  const out = new (a.constructor as { new(n: number): T })(capacity);
  out.set(a as never);
  return out;
}

export class FieldAccumulator {
  capacity = 0;
  count = new Float64Array(0);
  sum = new Float64Array(0);
  min = new Float64Array(0);
  max = new Float64Array(0);
  /** NaN values per slot (float64 fields with min/max/spread): min and max skip them (see minValue). */
  nan = new Float64Array(0);
  /** Exact sums of int64/uint64 fields (BigInt per slot, updated once per segment). */
  sumExact: bigint[] = [];
  minExact: unknown[] = [];
  maxExact: unknown[] = [];
  wN = new Float64Array(0);
  wMean = new Float64Array(0);
  wM2 = new Float64Array(0);
  firstSet = new Uint8Array(0);
  firstTime = new BigInt64Array(0);
  firstF = new Float64Array(0);
  firstX: unknown[] = [];
  lastSet = new Uint8Array(0);
  lastTime = new BigInt64Array(0);
  lastF = new Float64Array(0);
  lastX: unknown[] = [];
  /** Exact quantiles (null unless needed). */
  readonly quantiles: QuantileValues | null;
  /** Points for rate/derivative (null unless needed). */
  readonly rates: RatePoints | null;

  /**
   * @param states States of aggregates with their own statistic, by output column name.
   */
  constructor(readonly field: string, readonly kind: FieldKind, readonly needs: Needs, readonly type: FieldType | null = null,
              readonly states: ReadonlyMap<string, AggregateState> = new Map()) {
    this.quantiles = needs.quantile ? new QuantileValues(field) : null;
    this.rates = needs.rate || needs.derivative ? new RatePoints(field) : null;
  }

  get exactInts(): boolean { return this.kind === 'i64' || this.kind === 'u64' || this.kind === 'big'; }

  ensure(capacity: number): void {
    if (capacity <= this.capacity) return;
    const cap = Math.max(capacity, this.capacity * 2, 64);
    const n = this.needs;
    this.count = grow(this.count, cap);
    if (n.sum) this.sum = grow(this.sum, cap);
    if (n.minMax) {
      const oldCap = this.capacity;
      this.min = grow(this.min, cap); this.min.fill(Infinity, oldCap);
      this.max = grow(this.max, cap); this.max.fill(-Infinity, oldCap);
      this.nan = grow(this.nan, cap);
    }
    if (n.stddev) { this.wN = grow(this.wN, cap); this.wMean = grow(this.wMean, cap); this.wM2 = grow(this.wM2, cap); }
    if (n.first) { this.firstSet = grow(this.firstSet, cap); this.firstTime = grow(this.firstTime, cap); this.firstF = grow(this.firstF, cap); }
    if (n.last) { this.lastSet = grow(this.lastSet, cap); this.lastTime = grow(this.lastTime, cap); this.lastF = grow(this.lastF, cap); }
    for (const state of this.states.values()) state.ensure(cap);
    this.capacity = cap;
  }

  /** Folds one batch (its segments) into the slots. */
  accumulate(segs: Segments, f: BatchField, time: BatchTime | null, seriesIds: Int32Array | null): void {
    const n = this.needs;
    this.accCount(segs, f);
    if (f.vals !== null) {
      if (n.sum) {
        if (this.exactInts) this.accSumExact(segs, f);
        else this.accSum(segs, f.vals, f.valid);
      }
      if (n.minMax) this.accMinMax(segs, f);
      if (n.stddev) this.accStddev(segs, f.vals, f.valid);
      if (this.quantiles !== null) this.quantiles.accumulate(segs, f.vals, f.valid);
      if (this.rates !== null && time && seriesIds) this.rates.accumulate(segs, f.vals, f.valid, time, seriesIds);
    }
    if ((n.first || n.last) && time) this.accFirstLast(segs, f, time);
    for (const state of this.states.values()) state.accumulate(segs, f, time, seriesIds);
  }

  /**
   * Folds a page answered from its statistics: its non-null count, min and max (NaN skipped,
   * as in accMinMax; exact decimal strings for 64-bit integers), NaN count and sum.
   */
  addSummary(slot: number, f: { valid: number; min: number | string | null; max: number | string | null; nan: number; sum: number | string | undefined }): void {
    this.count[slot]! += f.valid;
    if (f.valid === 0) return;
    if (this.needs.minMax && f.nan > 0) this.nan[slot]! += f.nan;
    if (this.needs.sum && f.sum !== undefined) {
      if (this.exactInts) {
        const sum = BigInt(f.sum);
        if (sum !== 0n) this.sumExact[slot] = (this.sumExact[slot] ?? 0n) + sum;
      } else {
        this.sum[slot]! += f.sum as number;
      }
    }
    if (!this.needs.minMax || f.min === null || f.max === null) return;
    if (this.exactInts) {
      const lo = BigInt(f.min), hi = BigInt(f.max);
      this.foldExact(slot, Number(lo), lo, Number(hi), hi);
      return;
    }
    if ((f.min as number) < this.min[slot]!) this.min[slot] = f.min as number;
    if ((f.max as number) > this.max[slot]!) this.max[slot] = f.max as number;
  }

  private accCount(segs: Segments, f: BatchField): void {
    const { start, end, slot } = segs;
    const count = this.count;
    const valid = f.valid;
    for (let s = 0; s < segs.count; s++) {
      const a = start[s]!, b = end[s]!;
      if (valid === null) { count[slot[s]!]! += b - a; continue; }
      let c = 0;
      for (let i = a; i < b; i++) c += valid[i]!;
      count[slot[s]!]! += c;
    }
  }

  private accSum(segs: Segments, vals: Float64Array, valid: Uint8Array | null): void {
    const { start, end, slot } = segs;
    const sum = this.sum;
    for (let s = 0; s < segs.count; s++) {
      const a = start[s]!, b = end[s]!;
      let acc = 0;
      // Without nulls: the page sum statistic's four-lane loop (the adds no longer wait on each
      // other, 4× on one core), so a page summed here and one read from its footer agree.
      if (valid === null) acc = float64Sum(vals, a, b, null);
      else for (let i = a; i < b; i++) if (valid[i] === 1) acc += vals[i]!;
      sum[slot[s]!]! += acc;
    }
  }

  /**
   * Exact sums of 64-bit integers without a BigInt per row: the high (signed or unsigned)
   * and low 32-bit halves are summed apart in float64, exact for up to 2^21 rows at a time,
   * and combined as BigInt once per piece.
   */
  private accSumExact(segs: Segments, f: BatchField): void {
    const values = f.exact;
    assert(values !== null, `exact values of integer field ${this.field}`);
    if (Array.isArray(values)) {
      // Wide decimals: one BigInt addition per value.
      for (let s = 0; s < segs.count; s++) {
        let sum = 0n;
        for (let i = segs.start[s]!; i < segs.end[s]!; i++) if (f.valid === null || f.valid[i] === 1) sum += values[i]!;
        if (sum !== 0n) this.sumExact[segs.slot[s]!] = (this.sumExact[segs.slot[s]!] ?? 0n) + sum;
      }
      return;
    }
    const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    const unsigned = this.kind === 'u64';
    const valid = f.valid;
    const { start, end, slot } = segs;
    for (let s = 0; s < segs.count; s++) {
      const k = slot[s]!;
      for (let a = start[s]!; a < end[s]!; a += EXACT_SUM_ROWS_MAX) {
        const b = Math.min(end[s]!, a + EXACT_SUM_ROWS_MAX);
        let hi = 0, lo = 0;
        if (unsigned) {
          for (let i = a; i < b; i++) if (valid === null || valid[i] === 1) { hi += words[2 * i + 1]! >>> 0; lo += words[2 * i]! >>> 0; }
        } else {
          for (let i = a; i < b; i++) if (valid === null || valid[i] === 1) { hi += words[2 * i + 1]!; lo += words[2 * i]! >>> 0; }
        }
        if (hi !== 0 || lo !== 0) this.sumExact[k] = (this.sumExact[k] ?? 0n) + BigInt(hi) * 4294967296n + BigInt(lo);
      }
    }
  }

  /**
   * Min/max of int64/uint64: compared as float64 (fast), and exactly as BigInt only where
   * two values round to the same float64 (equal values, or beyond 2^53).
   */
  private accMinMaxInts(segs: Segments, f: BatchField): void {
    const { start, end, slot } = segs;
    const vals = f.vals, valid = f.valid;
    const exact = f.exact;
    assert(vals !== null && exact !== null, `values of integer field ${this.field}`);
    for (let s = 0; s < segs.count; s++) {
      const a = start[s]!, b = end[s]!, k = slot[s]!;
      let lo = Infinity, hi = -Infinity, loAt = -1, hiAt = -1;
      for (let i = a; i < b; i++) {
        if (valid !== null && valid[i] !== 1) continue;
        const v = vals[i]!;
        if (v < lo || (v === lo && exact[i]! < exact[loAt]!)) { lo = v; loAt = i; }
        if (v > hi || (v === hi && exact[i]! > exact[hiAt]!)) { hi = v; hiAt = i; }
      }
      if (loAt < 0) continue;
      this.foldExact(k, lo, exact[loAt]!, hi, exact[hiAt]!);
    }
  }

  /**
   * Folds a 64-bit integer min and max (float64 approximation and exact value) into slot k:
   * the floats order the slots, ties (and values beyond 2^53) compare exactly.
   */
  private foldExact(k: number, lo: number, loExact: bigint, hi: number, hiExact: bigint): void {
    const min = this.min, max = this.max;
    if (lo < min[k]! || (lo === min[k]! && loExact < (this.minExact[k] as bigint))) { min[k] = lo; this.minExact[k] = loExact; }
    if (hi > max[k]! || (hi === max[k]! && hiExact > (this.maxExact[k] as bigint))) { max[k] = hi; this.maxExact[k] = hiExact; }
  }

  private accMinMax(segs: Segments, f: BatchField): void {
    if (this.exactInts) { this.accMinMaxInts(segs, f); return; }
    const { start, end, slot } = segs;
    const vals = f.vals, valid = f.valid;
    assert(vals !== null, `values of numeric field ${this.field}`);
    const min = this.min, max = this.max, nans = this.nan;
    for (let s = 0; s < segs.count; s++) {
      const a = start[s]!, b = end[s]!, k = slot[s]!;
      // NaN fails both compares, so it is skipped there and counted apart.
      let lo = Infinity, hi = -Infinity, nan = 0;
      if (valid === null) {
        for (let i = a; i < b; i++) {
          const v = vals[i]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
          if (v !== v) nan++;
        }
      } else {
        for (let i = a; i < b; i++) {
          if (valid[i] !== 1) continue;
          const v = vals[i]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
          if (v !== v) nan++;
        }
      }
      if (lo < min[k]!) min[k] = lo;
      if (hi > max[k]!) max[k] = hi;
      if (nan > 0) nans[k]! += nan;
    }
  }

  /**
   * The min of a slot holding values (count > 0): NaN only when every value is NaN (DuckDB:
   * NaN is the largest value); for int64/uint64 fields the exact bigint.
   */
  minValue(slot: number): number | bigint {
    if (this.exactInts) return this.minExact[slot] as bigint;
    return this.nan[slot]! === this.count[slot]! ? NaN : this.min[slot]!;
  }

  /** The max of a slot holding values: NaN when any value is NaN. */
  maxValue(slot: number): number | bigint {
    if (this.exactInts) return this.maxExact[slot] as bigint;
    return this.nan[slot]! > 0 ? NaN : this.max[slot]!;
  }

  private accStddev(segs: Segments, vals: Float64Array, valid: Uint8Array | null): void {
    const { start, end, slot } = segs;
    const wN = this.wN, wMean = this.wMean, wM2 = this.wM2;
    for (let s = 0; s < segs.count; s++) {
      const a = start[s]!, b = end[s]!, k = slot[s]!;
      let n = 0, sum = 0;
      if (valid === null) { for (let i = a; i < b; i++) sum += vals[i]!; n = b - a; }
      else for (let i = a; i < b; i++) if (valid[i] === 1) { sum += vals[i]!; n++; }
      if (n === 0) continue;
      const mean = sum / n;
      let m2 = 0;
      if (valid === null) for (let i = a; i < b; i++) { const d = vals[i]! - mean; m2 += d * d; }
      else for (let i = a; i < b; i++) if (valid[i] === 1) { const d = vals[i]! - mean; m2 += d * d; }
      const na = wN[k]!;
      if (na === 0) { wN[k] = n; wMean[k] = mean; wM2[k] = m2; continue; }
      const total = na + n;
      const delta = mean - wMean[k]!;
      wMean[k] = wMean[k]! + delta * n / total;
      wM2[k] = wM2[k]! + m2 + delta * delta * na * n / total;
      wN[k] = total;
    }
  }

  private accFirstLast(segs: Segments, f: BatchField, time: BatchTime): void {
    const { start, end, slot } = segs;
    const rel = time.rel, times = time.times, valid = f.valid;
    const wantFirst = this.needs.first, wantLast = this.needs.last;
    for (let s = 0; s < segs.count; s++) {
      const a = start[s]!, b = end[s]!, k = slot[s]!;
      let lo = Infinity, hi = -Infinity, loAt = -1, hiAt = -1;
      for (let i = a; i < b; i++) {
        if (valid !== null && valid[i] !== 1) continue;
        const t = rel[i]!;
        if (t < lo) { lo = t; loAt = i; }
        if (t >= hi) { hi = t; hiAt = i; }
      }
      if (loAt < 0) continue;
      if (wantFirst) {
        const t = times[loAt]!;
        if (this.firstSet[k] === 0 || t < this.firstTime[k]!) {
          this.firstSet[k] = 1; this.firstTime[k] = t; this.setValue(true, k, f, loAt);
        }
      }
      if (wantLast) {
        const t = times[hiAt]!;
        if (this.lastSet[k] === 0 || t >= this.lastTime[k]!) {
          this.lastSet[k] = 1; this.lastTime[k] = t; this.setValue(false, k, f, hiAt);
        }
      }
    }
  }

  private setValue(first: boolean, k: number, f: BatchField, row: number): void {
    const floats = first ? this.firstF : this.lastF;
    const exact = first ? this.firstX : this.lastX;
    switch (this.kind) {
      case 'f64': assert(f.vals !== null, 'float64 values'); floats[k] = f.vals[row]!; break;
      case 'i64': case 'u64': case 'big': assert(f.exact !== null, 'exact integers'); exact[k] = f.exact[row]; break;
      case 'bool': assert(f.view !== null, 'bool column'); exact[k] = boolAt(f.view, row); break;
      case 'utf8': assert(f.view !== null, 'utf8 column'); exact[k] = utf8At(f.view, row); break;
      case 'bytes': assert(f.view !== null && this.type !== null, 'binary column'); exact[k] = bytesAt(fieldTypeInfo(this.type), f.view.data, row).slice(); break;
      case '*': break;
    }
  }

  /** Sorts quantile values per slot, computes rates and finishes registered states; call once after the last batch. */
  finish(slots: number, unitsPerSecond: number): void {
    this.quantiles?.finish(slots);
    this.rates?.finish(slots, unitsPerSecond);
    for (const state of this.states.values()) state.finish?.(slots, unitsPerSecond);
  }
}
