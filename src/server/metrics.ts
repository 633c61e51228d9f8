/**
 * A small metrics registry rendered in the Prometheus text exposition format (0.0.4):
 * counters and histograms updated by the server, gauges read when scraped.
 */

type Labels = Readonly<Record<string, string>>;

/** Default latency buckets (seconds). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  const escape = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
  return `{${pairs.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
}

function numberText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function keyOf(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  render(): string[] | Promise<string[]>;
}

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = keyOf(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels))?.value ?? 0;
  }
  lines(): string[] {
    return [...this.values.values()].map((e) => `${this.name}${labelText(e.labels)} ${numberText(e.value)}`);
  }
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly buckets: readonly number[]) {}
  observe(value: number, labels: Labels = {}): void {
    const key = keyOf(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => out.push(`${this.name}_bucket${labelText(s.labels, ['le', numberText(le)])} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${numberText(s.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

/** A gauge read at scrape time: one value, or values per label set. */
export type GaugeRead = () => number | [Labels, number][] | Promise<number | [Labels, number][]>;

export class Metrics {
  private readonly families = new Map<string, Family>();
  private readonly made = new Map<string, Counter | Histogram>();

  private add(family: Family): void {
    if (this.families.has(family.name)) throw new Error(`metric ${family.name} registered twice`);
    this.families.set(family.name, family);
  }

  /** The counter `name` (made on first use: routes ask for theirs per request). */
  counter(name: string, help: string): Counter {
    const known = this.made.get(name);
    if (known instanceof Counter) return known;
    const c = new Counter(name);
    this.made.set(name, c);
    this.add({ name, help, type: 'counter', render: () => c.lines() });
    return c;
  }

  /** The histogram `name` (made on first use). */
  histogram(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS): Histogram {
    const known = this.made.get(name);
    if (known instanceof Histogram) return known;
    const h = new Histogram(name, buckets);
    this.made.set(name, h);
    this.add({ name, help, type: 'histogram', render: () => h.lines() });
    return h;
  }

  /** A value read when scraped; `type` counter for monotonic totals kept elsewhere. */
  gauge(name: string, help: string, read: GaugeRead, type: 'gauge' | 'counter' = 'gauge'): void {
    this.add({
      name, help, type,
      render: async () => {
        const v = await read();
        return typeof v === 'number' ? [`${name} ${numberText(v)}`] : v.map(([labels, x]) => `${name}${labelText(labels)} ${numberText(x)}`);
      },
    });
  }

  async render(): Promise<string> {
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${f.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}`, `# TYPE ${f.name} ${f.type}`, ...(await f.render()));
    }
    return `${out.join('\n')}\n`;
  }
}
