import { assert, LimitExceededError } from '../errors.js';
import type { BatchTime, Segments } from './aggregate.js';

/**
 * The statistics that hold values until the end of a query (split out of aggregate.ts, whose
 * statistics keep one running value per slot): exact quantiles and rate/derivative points.
 * Both are bounded per query (QUANTILE_VALUES_MAX, RATE_POINTS_MAX) and finished once, after
 * the last batch.
 *
 * - quantiles: EXACT. Values are appended with their slot (12 bytes per value), bucketed by
 *   slot with a counting sort and each slot sorted at the end (NaN last: the largest value);
 *   linear interpolation between closest ranks like DuckDB quantile_cont (x·(1 − d) + y·d, so
 *   a NaN or infinite neighbour gives what DuckDB gives).
 * - rate / derivative: points are appended (series, slot, time, value), ordered by (series,
 *   time) at the end (a sort only when the scan did not deliver them so), and each pair of
 *   consecutive non-null points of a series counts in the bucket of its later point:
 *   per (series, bucket) Σ change / Σ elapsed seconds; a group's value is the sum over its
 *   series (the total rate, like Prometheus sum(rate())). `rate` treats a decrease as a
 *   counter reset (the change is the new value).
 */

/** Values held for exact quantiles and for rate/derivative, per query (memory bound). */
export const QUANTILE_VALUES_MAX = 32 * 1024 * 1024;
export const RATE_POINTS_MAX = 32 * 1024 * 1024;

class GrowableF64 {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) { const d = new Float64Array(this.data.length * 2); d.set(this.data); this.data = d; }
    this.data[this.length++] = v;
  }
}
class GrowableI32 {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) { const d = new Int32Array(this.data.length * 2); d.set(this.data); this.data = d; }
    this.data[this.length++] = v;
  }
}

/** Every non-null value of a field with its slot, sorted per slot by finish(). */
export class QuantileValues {
  private readonly vals = new GrowableF64();
  private readonly slots = new GrowableI32();
  /** After finish(): the values of slot s, sorted, are sorted[start[s], start[s+1]). */
  private sorted: Float64Array | null = null;
  private start: Int32Array | null = null;

  constructor(private readonly field: string) {}

  accumulate(segs: Segments, vals: Float64Array, valid: Uint8Array | null): void {
    const { start, end, slot } = segs;
    for (let s = 0; s < segs.count; s++) {
      const a = start[s]!, b = end[s]!, k = slot[s]!;
      if (this.vals.length + (b - a) > QUANTILE_VALUES_MAX) {
        throw new LimitExceededError('quantile values held', this.vals.length + (b - a), QUANTILE_VALUES_MAX, `exact percentiles of ${this.field}`);
      }
      for (let i = a; i < b; i++) {
        if (valid !== null && valid[i] !== 1) continue;
        this.vals.push(vals[i]!); // NaN too: it sorts last
        this.slots.push(k);
      }
    }
  }

  finish(slots: number): void {
    const n = this.vals.length;
    const vals = this.vals.data, sl = this.slots.data;
    const startAt = new Int32Array(slots + 1);
    for (let i = 0; i < n; i++) startAt[sl[i]! + 1]!++;
    for (let s = 0; s < slots; s++) startAt[s + 1]! += startAt[s]!;
    const fill = startAt.slice(0, slots);
    const sorted = new Float64Array(n);
    for (let i = 0; i < n; i++) sorted[fill[sl[i]!]!++] = vals[i]!;
    for (let s = 0; s < slots; s++) sorted.subarray(startAt[s]!, startAt[s + 1]!).sort();
    this.sorted = sorted;
    this.start = startAt;
  }

  quantile(slot: number, q: number): number | null {
    const sorted = this.sorted, starts = this.start;
    assert(sorted !== null && starts !== null, 'quantile read before finish()');
    const a = starts[slot]!, b = starts[slot + 1]!;
    const n = b - a;
    if (n === 0) return null;
    const pos = q * (n - 1);
    const lo = Math.floor(pos), hi = Math.ceil(pos);
    const x = sorted[a + lo]!, y = sorted[a + hi]!;
    if (lo === hi) return x;
    // DuckDB's interpolation: with infinite neighbours it gives ±Infinity (or NaN for -∞ and +∞), not the NaN of x + (y − x)·d.
    const d = pos - lo;
    return x * (1 - d) + y * d;
  }
}

/** Points of a field by series, for rate and derivative; per-slot results after finish(). */
export class RatePoints {
  private readonly series = new GrowableI32();
  private readonly slot = new GrowableI32();
  private readonly time = new GrowableF64();
  private readonly val = new GrowableF64();
  private ordered = true;
  private results: { rate: Float64Array; rateHas: Uint8Array; deriv: Float64Array; derivHas: Uint8Array } | null = null;

  constructor(private readonly field: string) {}

  accumulate(segs: Segments, vals: Float64Array, valid: Uint8Array | null, time: BatchTime, seriesIds: Int32Array): void {
    const { start, end, slot } = segs;
    const rel = time.rel, off = time.offsetToGlobal;
    let lastSeries = this.series.length ? this.series.data[this.series.length - 1]! : -1;
    let lastTime = this.time.length ? this.time.data[this.time.length - 1]! : -Infinity;
    for (let s = 0; s < segs.count; s++) {
      const a = start[s]!, b = end[s]!, k = slot[s]!;
      if (this.val.length + (b - a) > RATE_POINTS_MAX) {
        throw new LimitExceededError('rate points held', this.val.length + (b - a), RATE_POINTS_MAX, `rate/derivative of ${this.field}`);
      }
      for (let i = a; i < b; i++) {
        if (valid !== null && valid[i] !== 1) continue;
        const series = seriesIds[i]!, t = rel[i]! + off;
        if (series < lastSeries || (series === lastSeries && t < lastTime)) this.ordered = false;
        lastSeries = series; lastTime = t;
        this.series.push(series);
        this.slot.push(k);
        this.time.push(t);
        this.val.push(vals[i]!);
      }
    }
  }

  /** The rate (counter semantics) or derivative of a slot; null when no pair of points fell in it. */
  value(slot: number, counter: boolean): number | null {
    const r = this.results;
    assert(r !== null, 'rate read before finish()');
    if (counter) return r.rateHas[slot] ? r.rate[slot]! : null;
    return r.derivHas[slot] ? r.deriv[slot]! : null;
  }

  finish(slots: number, unitsPerSecond: number): void {
    const n = this.val.length;
    const series = this.series.data, slot = this.slot.data, time = this.time.data, val = this.val.data;
    let order: Int32Array | null = null;
    if (!this.ordered) {
      const idx = Array.from({ length: n }, (_, i) => i);
      idx.sort((a, b) => (series[a]! - series[b]!) || (time[a]! - time[b]!) || (a - b));
      order = Int32Array.from(idx);
    }
    const rateOut = new Float64Array(slots), rateHas = new Uint8Array(slots);
    const derivOut = new Float64Array(slots), derivHas = new Uint8Array(slots);
    let prevSeries = -1, prevT = 0, prevV = 0;
    let curSeries = -1, curSlot = -1, dRate = 0, dDeriv = 0, dt = 0, pairs = 0;
    const flush = () => {
      if (pairs > 0 && dt > 0) {
        const seconds = dt / unitsPerSecond;
        rateOut[curSlot] = rateOut[curSlot]! + dRate / seconds; rateHas[curSlot] = 1;
        derivOut[curSlot] = derivOut[curSlot]! + dDeriv / seconds; derivHas[curSlot] = 1;
      }
      dRate = 0; dDeriv = 0; dt = 0; pairs = 0;
    };
    for (let j = 0; j < n; j++) {
      const i = order ? order[j]! : j;
      const s = series[i]!, k = slot[i]!, t = time[i]!, v = val[i]!;
      if (s !== curSeries || k !== curSlot) { flush(); curSeries = s; curSlot = k; }
      if (s === prevSeries) {
        const change = v - prevV;
        dDeriv += change;
        dRate += change < 0 ? v : change;
        dt += t - prevT;
        pairs++;
      }
      prevSeries = s; prevT = t; prevV = v;
    }
    flush();
    this.results = { rate: rateOut, rateHas, deriv: derivOut, derivHas };
  }
}
