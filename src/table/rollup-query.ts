/**
 * Queries answered from a rollup (rollup.ts) instead of the raw chunks, when one covers the
 * query exactly:
 *
 * - an aggregation with `every` (no `latest`, field `filter`, `fill`, `version`), in UTC;
 * - of count, sum, mean, min and max of fields the rollup keeps those of (count of '*' too);
 * - grouped by, and filtered (`where`) on, tags the rollup groups by;
 * - buckets made of whole rollup buckets (the same width or a multiple; days, weeks and months
 *   when the rollup's width divides a day), and `from`/`to` on rollup bucket bounds;
 * - the rollup caught up with every source partition the range touches (rollup-maintain.ts),
 *   and no unflushed rows in the source's buffer.
 *
 * The rollup's buckets are merged: counts and sums add up, min of mins, max of maxes, mean =
 * total sum / total count (never a mean of means). The answer has the raw query's columns and
 * types. Counts, min, max and integer sums equal the raw answer exactly; float sums and means
 * are the same values added in another order (the raw answer's own last bits depend on how its
 * rows fall into pages). `rollups: false` reads the raw chunks; `explain` names the rollup used
 * (`answeredFrom`) or why none was (`rollupSkipped`).
 */
import { Field, Float64, makeData, RecordBatch, Schema, Struct, Table as ArrowTable, type Data } from 'apache-arrow';
import type { QueryOptions } from '../scan/query-types.js';
import { planQuery, splitQueryOptions } from '../scan/query-plan.js';
import { BUCKET_ORIGIN_MS, msToUnit, parseEvery } from '../scan/bucket.js';
import { runQuery } from '../scan/query.js';
import { explainQuery } from '../scan/query.js';
import type { ScanExplain } from '../scan/scan.js';
import { bigint64Values, float64Values } from '../scan/aggregate-column.js';
import { openTable, rollupEveryMs, storedAggs, storedColumn } from './rollup.js';
import { stalePartitions } from './rollup-maintain.js';
import type { Table } from './table.js';

const DAY_MS = 86_400_000;
const FIXED_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A rollup that answers a query: the rollup table, the query to run on it, and how to shape its answer. */
interface Route {
  rollup: Table;
  options: QueryOptions;
  shape: (result: ArrowTable) => ArrowTable;
}

/** The query answered from a rollup when one covers it, else from the raw chunks. */
export async function queryTable(table: Table, options: QueryOptions): Promise<ArrowTable> {
  const route = await routeQuery(table, options);
  if (typeof route === 'string') return runQuery(table, options);
  return route.shape(await runQuery(route.rollup, route.options));
}

/** The plan of a query: the rollup's (with `answeredFrom`) when one answers it. */
export async function explainTableQuery(table: Table, options: QueryOptions, explainRaw: () => Promise<ScanExplain>): Promise<ScanExplain> {
  const route = await routeQuery(table, options);
  if (typeof route === 'string') {
    const plan = await explainRaw();
    return route ? { ...plan, rollupSkipped: route } : plan;
  }
  const rollup = route.rollup;
  const manifest = rollup.currentManifest;
  const plan = await explainQuery(rollup.scanSource(manifest), manifest.schema, route.options);
  return { ...plan, answeredFrom: rollup.name };
}

/**
 * The rollup that answers `options` exactly, or why none does ('' when the table has no
 * rollups or the query is no aggregation: nothing to say).
 */
async function routeQuery(table: Table, options: QueryOptions): Promise<Route | string> {
  const names = table.currentManifest.rollups ?? [];
  if (names.length === 0 || options.rollups === false) return '';
  const { aggregate } = splitQueryOptions(options);
  if (!aggregate || options.latest) return '';
  if (options.filter) return 'a field filter needs the raw rows';
  if (options.fill !== undefined && options.fill !== 'none') return 'fill needs the raw buckets';
  if (options.version !== undefined) return 'time travel reads the raw chunks';
  if (options.every === undefined) return 'a query without every reads the raw rows (its time column is the earliest point)';
  if (options.timeZone !== undefined && options.timeZone !== 'UTC' && options.timeZone !== 'Etc/UTC') return 'buckets in a time zone other than UTC';
  if (table.pendingRows > 0) return 'the table has unflushed rows';
  const plan = planQuery(table.schema, options);
  const reasons: string[] = [];
  for (const name of names) {
    let rollup: Table;
    try { rollup = await openTable(table.context, name); } catch (error) { reasons.push(`${name}: ${(error as Error).message}`); continue; }
    const why = covers(table, rollup, options, plan);
    if (why) { reasons.push(`${name}: ${why}`); continue; }
    await table.refreshIfStale();
    const stale = stalePartitions(table, rollup).filter((p) => overlaps(table, p, plan));
    if (stale.length) { reasons.push(`${name}: behind the source in partition(s) ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}`); continue; }
    const expired = expiredInRollup(table, rollup, plan);
    if (expired) { reasons.push(`${name}: ${expired}`); continue; }
    return buildRoute(rollup, options, plan.aggs);
  }
  return reasons.join('; ');
}

type Plan = ReturnType<typeof planQuery>;
type Aggs = Plan['aggs'];

/** Why `rollup` cannot answer `options` exactly (undefined when it can). `plan` holds its aggregations and from/to in the table's unit. */
function covers(table: Table, rollup: Table, options: QueryOptions, { aggs, from, to }: Plan): string | undefined {
  const spec = rollup.options.rollupOf;
  if (!spec || spec.source !== table.name) return 'not a rollup of this table';
  const by = new Set(spec.by);
  const missing = [...(options.by ?? []), ...Object.keys(options.where ?? {})].filter((t) => !by.has(t));
  if (missing.length) return `does not keep tag ${missing[0]}`;
  const stored = storedAggs(spec);
  for (const a of aggs) {
    const fn = a.descriptor.id;
    if (!['count', 'sum', 'mean', 'min', 'max'].includes(fn)) return `${fn} cannot be derived from rollup buckets`;
    if (a.field === '*') continue;
    const kept = stored.get(a.field);
    if (!kept || !kept.includes(fn === 'mean' ? 'sum' : fn)) return `does not keep ${fn} of ${a.field}`;
  }
  const width = rollupEveryMs(spec.every);
  const every = parseEvery(options.every!);
  const fixed = FIXED_MS[every.unit];
  const ok = fixed !== undefined ? (every.count * fixed) % width === 0 : DAY_MS % width === 0;
  if (!ok) return `every ${options.every} is not made of whole ${spec.every} buckets`;
  const unit = table.schema.timeUnit;
  const origin = msToUnit(BigInt(BUCKET_ORIGIN_MS), unit);
  const w = msToUnit(BigInt(width), unit);
  for (const [key, t] of [['from', from], ['to', to]] as const) {
    if (t !== null && (t - origin) % w !== 0n) return `${key} is not on a ${spec.every} bucket bound`;
  }
  return undefined;
}

/**
 * Why the rollup's own retention keeps it from answering: it dropped buckets before its
 * cutoff where the source (by its retention) still shows rows in the query's range; the raw
 * rows answer then. Undefined when it does not.
 */
function expiredInRollup(table: Table, rollup: Table, plan: Plan): string | undefined {
  const cutoff = rollup.retentionCutoff();
  if (cutoff === undefined) return undefined;
  // The source's rows the query sees below the rollup's cutoff: [from, to), its own retention's floor on.
  const floor = table.retentionCutoff();
  const asked = plan.from ?? undefined;
  const from = asked === undefined ? floor : floor === undefined ? asked : asked > floor ? asked : floor;
  const to = plan.to === null ? cutoff : minBig(plan.to, cutoff);
  if (from !== undefined && from >= to) return undefined;
  const shown = table.currentManifest.chunks.some((c) => BigInt(c.timeMin) < to && (from === undefined || BigInt(c.timeMax) >= from));
  return shown ? 'its retention dropped buckets the source still holds rows of in the queried range' : undefined;
}

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);

/** Whether partition `p` of `table` overlaps the query's [from, to) (the plan's, in the table's unit). */
function overlaps(table: Table, p: string, { from, to }: Plan): boolean {
  const chunks = table.currentManifest.chunks.filter((c) => c.partition === p);
  if (chunks.length === 0) return true;
  return chunks.some((c) => (from === null || BigInt(c.timeMax) >= from) && (to === null || BigInt(c.timeMin) < to));
}

/** The rollup query (each stored column merged by its merge aggregate) and the shaping of its answer. */
function buildRoute(rollup: Table, options: QueryOptions, aggs: Aggs): Route {
  const agg = Object.create(null) as Record<string, string[]>;
  const merged = (column: string, fn: string) => {
    const list = (agg[column] ??= []);
    if (!list.includes(fn)) list.push(fn);
    return `${fn}_${column}`;
  };
  // Per output column: how it is made of the rollup answer's columns.
  const outputs = aggs.map((a) => {
    const fn = a.descriptor.id;
    if (a.field === '*') return { name: a.name, column: merged('count', 'sum') };
    if (fn === 'count') return { name: a.name, column: merged(storedColumn('count', a.field), 'sum') };
    if (fn === 'min' || fn === 'max') return { name: a.name, column: merged(storedColumn(fn, a.field), fn) };
    const sum = merged(storedColumn('sum', a.field), 'sum');
    if (fn === 'sum') return { name: a.name, column: sum };
    return { name: a.name, mean: { sum, count: merged(storedColumn('count', a.field), 'sum') } };
  });
  const query: QueryOptions = { agg, every: options.every!, rollups: false };
  for (const key of ['from', 'to', 'where', 'by', 'timeZone', 'limit', 'signal'] as const) {
    if (options[key] !== undefined) (query as Record<string, unknown>)[key] = options[key];
  }
  const keep = 1 + (options.by?.length ?? 0);
  const shape = (result: ArrowTable): ArrowTable => {
    const head = result.schema.fields.slice(0, keep);
    const fields = [...head, ...outputs.map((o) => {
      if (o.mean) return new Field(o.name, new Float64(), true);
      const f = result.schema.fields.find((x) => x.name === o.column)!;
      return new Field(o.name, f.type, f.nullable, f.metadata);
    })];
    const schema = new Schema(fields, result.schema.metadata);
    const batches = result.batches.map((batch) => {
      const children: Data[] = [...head.map((f) => batch.getChild(f.name)!.data[0]!), ...outputs.map((o) => {
        if (!o.mean) return batch.getChild(o.column)!.data[0]!;
        return meanData(batch.getChild(o.mean.sum)!.data[0]!, batch.getChild(o.mean.count)!.data[0]!);
      })];
      return new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, children, nullCount: 0 }));
    });
    return batches.length ? new ArrowTable(batches) : new ArrowTable(schema);
  };
  return { rollup, options: query, shape };
}

/** sum / count per row: null where the count is 0 (no value); a float sum, or an exact integer sum taken as a double, as the raw mean does. */
function meanData(sum: Data, count: Data): Data {
  const n = sum.length;
  const counts = bigint64Values(count);
  const isFloat = sum.type instanceof Float64;
  const floats = isFloat ? float64Values(sum) : undefined;
  const ints = isFloat ? undefined : bigint64Values(sum);
  const values = new Float64Array(n);
  const validity = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const c = Number(counts[i] ?? 0n);
    if (c === 0 || !count.getValid(i)) { nulls++; continue; }
    values[i] = (floats ? floats[i]! : Number(ints![i]!)) / c;
    validity[i >> 3]! |= 1 << (i & 7);
  }
  return makeData({ type: new Float64(), length: n, nullCount: nulls, data: values, nullBitmap: nulls ? validity : undefined });
}
