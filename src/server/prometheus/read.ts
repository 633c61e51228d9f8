/**
 * Remote read: the series of the metric tables matching a query's label matchers, with their
 * samples in the query's time range (both ends inclusive), in the order Prometheus merges
 * them (series by label set, samples by time). Matchers follow Prometheus: an absent label
 * is the empty string (`job=""` selects series without `job`), regular expressions are fully
 * anchored. Equality on a tag is pushed into the scan (chunks and pages pruned by their tag
 * statistics); the rest is checked once per series. Rows appended but not yet flushed are
 * read too (acknowledged writes are visible at once). Samples of one series at the same
 * millisecond (a retried write stored twice) are returned once: the last written.
 */
import type { RecordBatch } from 'apache-arrow';
import { InputError, LimitExceededError } from '../../errors.js';
import type { Table } from '../../table/table.js';
import type { TagPredicate } from '../../core/types.js';
import type { LabelMatcher, ReadQuery, ResultSeries } from './read-request.js';
import { metricOfTable, NAME_LABEL, shapeError, tableOfMetric, TIME_COLUMN, VALUE_COLUMN } from './tables.js';
import type { MetricTables } from './ingest.js';

/** Samples one read request may return (its response is built whole, as SAMPLES requires). */
export const READ_SAMPLES_MAX = 5_000_000;

type Test = (value: string) => boolean;

/** A matcher as a test on a label's value ('' when absent). */
export function matcherTest(m: LabelMatcher): Test {
  if (m.type === 'EQ') return (v) => v === m.value;
  if (m.type === 'NEQ') return (v) => v !== m.value;
  let re: RegExp;
  try {
    // RE2 (Prometheus) and JavaScript agree on the common syntax; 'u' reads by code point, as RE2 does.
    re = new RegExp(`^(?:${m.value})$`, 'u');
  } catch {
    try { re = new RegExp(`^(?:${m.value})$`); } catch (error) {
      throw new InputError(`matcher ${m.name}${m.type === 'RE' ? '=~' : '!~'}${JSON.stringify(m.value)}: not a regular expression (${(error as Error).message})`);
    }
  }
  return m.type === 'RE' ? (v) => re.test(v) : (v) => !re.test(v);
}

/** Growing per-series sample arrays (value bits kept as uint64: a NaN payload survives any copy). */
class SeriesSamples {
  times = new BigInt64Array(16);
  bits = new BigUint64Array(16);
  n = 0;
  constructor(readonly labels: [string, string][]) {}

  push(times: BigInt64Array, bits: BigUint64Array, from: number, to: number): void {
    const need = this.n + (to - from);
    if (need > this.times.length) {
      let size = this.times.length * 2;
      while (size < need) size *= 2;
      const t = new BigInt64Array(size); t.set(this.times.subarray(0, this.n)); this.times = t;
      const b = new BigUint64Array(size); b.set(this.bits.subarray(0, this.n)); this.bits = b;
    }
    this.times.set(times.subarray(from, to), this.n);
    this.bits.set(bits.subarray(from, to), this.n);
    this.n = need;
  }

  /** Sorted by time, one sample per millisecond (the last pushed wins). */
  finish(): ResultSeries {
    const { n } = this;
    let ordered = true;
    for (let i = 1; i < n; i++) if (this.times[i]! <= this.times[i - 1]!) { ordered = false; break; }
    let times = this.times.subarray(0, n), bits = this.bits.subarray(0, n);
    if (!ordered) {
      const order = Array.from({ length: n }, (_, i) => i);
      // Stable: equal times keep their write order, the last one is kept below.
      order.sort((a, b) => (times[a]! < times[b]! ? -1 : times[a]! > times[b]! ? 1 : a - b));
      const t = new BigInt64Array(n), b = new BigUint64Array(n);
      let m = 0;
      for (let k = 0; k < n; k++) {
        const i = order[k]!;
        if (m > 0 && t[m - 1] === times[i]) m--;
        t[m] = times[i]!; b[m] = bits[i]!; m++;
      }
      times = t.subarray(0, m); bits = b.subarray(0, m);
    }
    return { labels: this.labels, times, values: new Float64Array(bits.buffer, bits.byteOffset, bits.length) };
  }
}

/** Prometheus' order of label sets (labels.Compare). */
function compareLabels(a: readonly [string, string][], b: readonly [string, string][]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [an, av] = a[i]!, [bn, bv] = b[i]!;
    if (an !== bn) return an < bn ? -1 : 1;
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return a.length - b.length;
}

/** The time range of a query as scan bounds in epoch ns (clamped to what int64 ns holds). */
function scanRange(q: ReadQuery): { from: bigint; to: bigint } {
  const lo = -(2n ** 63n) + 1_000_000n, hi = 2n ** 63n - 1_000_000n;
  const clamp = (v: bigint) => (v < lo ? lo : v > hi ? hi : v);
  return { from: clamp(q.start * 1_000_000n), to: clamp((q.end + 1n) * 1_000_000n) };
}

export class RemoteReader {
  private samples = 0;

  constructor(private readonly tables: MetricTables, private readonly samplesMax = READ_SAMPLES_MAX) {}

  /** The series of one query, sorted. */
  async query(q: ReadQuery): Promise<ResultSeries[]> {
    const nameTests = q.matchers.filter((m) => m.name === NAME_LABEL).map(matcherTest);
    const labelMatchers = q.matchers.filter((m) => m.name !== NAME_LABEL).map((m) => ({ m, test: matcherTest(m) }));
    const out: ResultSeries[] = [];
    for (const [metric, table] of await this.candidates(q.matchers, nameTests)) {
      await this.readTable(metric, table, q, labelMatchers, out);
    }
    return out.sort((a, b) => compareLabels(a.labels, b.labels));
  }

  /** Tables whose metric name passes the `__name__` matchers. */
  private async candidates(matchers: readonly LabelMatcher[], nameTests: Test[]): Promise<[string, Table][]> {
    const exact = matchers.find((m) => m.name === NAME_LABEL && m.type === 'EQ');
    let names: string[];
    if (exact) {
      const mapped = tableOfMetric(exact.value);
      names = 'table' in mapped ? [mapped.table] : [];
    } else names = await this.tables.db.tables();
    const out: [string, Table][] = [];
    for (const name of names) {
      const metric = metricOfTable(name);
      if (metric === undefined || !nameTests.every((t) => t(metric))) continue;
      const table = await this.tables.existing(name);
      if (table && shapeError(table.schema) === undefined) out.push([metric, table]);
    }
    return out;
  }

  private async readTable(metric: string, table: Table, q: ReadQuery, matchers: { m: LabelMatcher; test: Test }[], out: ResultSeries[]): Promise<void> {
    const tags = table.schema.tags;
    const where: Record<string, TagPredicate> = Object.create(null);
    for (const { m, test } of matchers) {
      if (!tags.includes(m.name)) {
        // A label no series of the table has: every series has it empty.
        if (!test('')) return;
      } else if (m.type === 'EQ' && m.value !== '') where[m.name] = m.value;
    }
    const series = new Map<string, SeriesSamples | null>();
    const { from, to } = scanRange(q);
    const take = (batch: RecordBatch, filter: boolean) => this.collect(metric, tags, batch, matchers, series, filter ? q : undefined);
    // The scan includes this process's unflushed rows (read-your-writes), newest last.
    for await (const batch of table.scan({ from, to, where, columns: [...tags, VALUE_COLUMN] })) take(batch, false);
    for (const s of series.values()) if (s) out.push(s.finish());
  }

  private collect(metric: string, tags: readonly string[], batch: RecordBatch, matchers: { m: LabelMatcher; test: Test }[],
    series: Map<string, SeriesSamples | null>, range: ReadQuery | undefined): void {
    const n = batch.numRows;
    if (n === 0) return;
    const time = batch.getChild(TIME_COLUMN)!, value = batch.getChild(VALUE_COLUMN)!;
    const tagCols = tags.map((t) => batch.getChild(t));
    // Row-aligned copies: time as ms, value bits (batches may be made of several Data parts).
    const times = new BigInt64Array(n), bits = new BigUint64Array(n), valid = new Uint8Array(n);
    let row = 0;
    for (const d of time.data) { times.set((d.values as BigInt64Array).subarray(0, d.length), row); row += d.length; }
    row = 0;
    for (const d of value.data) {
      const v = d.values as Float64Array;
      new Uint8Array(bits.buffer).set(new Uint8Array(v.buffer, v.byteOffset, d.length * 8), row * 8);
      for (let i = 0; i < d.length; i++) valid[row + i] = d.getValid(i) ? 1 : 0;
      row += d.length;
    }
    let current: SeriesSamples | null | undefined;
    let key = '';
    let runStart = -1;
    // Rows of one series that are kept come in runs, copied at once.
    const endRun = (end: number) => {
      if (current && runStart >= 0 && end > runStart) {
        if (this.samples + (end - runStart) > this.samplesMax) throw new LimitExceededError('remote read samples', this.samples + (end - runStart), this.samplesMax, 'one remote read request: narrow its time range or matchers');
        this.samples += end - runStart;
        current.push(times, bits, runStart, end);
      }
      runStart = -1;
    };
    for (let i = 0; i < n; i++) {
      const values = tagCols.map((c) => (c && c.isValid(i) ? String(c.get(i)) : ''));
      const k = values.join('\u0000');
      if (i === 0 || k !== key) {
        endRun(i);
        key = k;
        current = series.get(k);
        if (current === undefined) {
          const labels: [string, string][] = [[NAME_LABEL, metric]];
          tags.forEach((t, j) => { if (values[j] !== '') labels.push([t, values[j]!]); });
          const ok = matchers.every(({ m, test }) => test(labels.find(([name]) => name === m.name)?.[1] ?? ''));
          current = ok ? new SeriesSamples(labels.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) : null;
          series.set(k, current);
        }
      }
      // A null value has no Prometheus sample; unflushed rows are filtered to the range here.
      const keep = valid[i] === 1 && (!range || (times[i]! >= range.start && times[i]! <= range.end));
      if (!keep) endRun(i);
      else if (runStart < 0) runStart = i;
    }
    endRun(n);
  }
}
