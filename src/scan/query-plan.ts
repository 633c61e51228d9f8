import type { FieldType, TimeUnit } from '../format/types.js';
import { fieldTypeInfo } from '../format/field-types.js';
import type { TableSchema } from '../core/types.js';
import { SchemaError, UsageError } from '../errors.js';
import type { AggSpec, FillMode, QueryOptions } from './query-types.js';
import type { AggFn, FieldKind, Needs } from './aggregate.js';
import { makeBucketer, type Bucketer } from './bucket.js';
import { toTableTime } from '../core/time.js';
import { predicateColumns } from './predicate.js';

/**
 * Validation and planning of a query: which aggregations of which fields, what each output
 * column is called and typed, and the columns the scan must project.
 */

export interface AggPlan {
  field: string;
  fn: AggFn;
  /** Quantile in [0, 1] for fn 'quantile'. */
  quantile: number;
  /** Output column name: `<fn>_<field>` ('count' for count of '*'). */
  name: string;
  kind: FieldKind;
  /** The field's type (null for count of '*'): types other than the numbers type min/max/first/last/sum outputs. */
  type: FieldType | null;
}

export interface FieldPlan {
  field: string;
  kind: FieldKind;
  type: FieldType | null;
  needs: Needs;
}

export interface QueryPlan {
  schema: TableSchema;
  bucketer: Bucketer | null;
  every: string | null;
  by: string[];
  aggs: AggPlan[];
  fields: FieldPlan[];
  /** rate/derivative need series identity: every tag. */
  needSeries: boolean;
  needTime: boolean;
  fill: FillMode;
  from: bigint | null;
  to: bigint | null;
  scanColumns: string[];
  limit: number | null;
}

const NAMED_QUANTILES: Record<string, number> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };
const SIMPLE_FNS = new Set<string>(['count', 'sum', 'min', 'max', 'mean', 'first', 'last', 'stddev', 'rate', 'derivative', 'spread']);
const NUMERIC_ONLY = new Set<AggFn>(['sum', 'min', 'max', 'mean', 'stddev', 'quantile', 'rate', 'derivative', 'spread']);

/**
 * How a field accumulates: numbers as themselves; integer-backed types (dates, times,
 * durations, timestamps, decimals) through their stored integer ('i64', or 'big' for decimals
 * wider than int64); binary as bytes.
 */
export function fieldKind(type: FieldType): FieldKind {
  switch (type) {
    case 'float64': return 'f64';
    case 'int64': return 'i64';
    case 'uint64': return 'u64';
    case 'bool': return 'bool';
    case 'utf8': return 'utf8';
    default: {
      const info = fieldTypeInfo(type);
      return info.bytes ? 'bytes' : info.kind === 'fixed' ? 'big' : 'i64';
    }
  }
}

/** The aggregations a field of an integer-backed or binary type takes (the numbers take all). */
function aggregationsOf(type: FieldType): AggFn[] | null {
  const info = fieldTypeInfo(type);
  if (!info.int && !info.bytes) return null;
  const fns: AggFn[] = ['count', 'first', 'last'];
  if (info.ordered) fns.push('min', 'max');
  if (info.summable) fns.push('sum', 'mean');
  return fns;
}

export function parseAggSpec(spec: string, field: string): { fn: AggFn; quantile: number; label: string } {
  if (SIMPLE_FNS.has(spec)) return { fn: spec as AggFn, quantile: 0, label: spec };
  const named = NAMED_QUANTILES[spec];
  if (named !== undefined) return { fn: 'quantile', quantile: named, label: spec };
  const match = /^percentile:(0(?:\.\d+)?|1(?:\.0+)?)$/.exec(spec);
  if (match) {
    const q = Number(match[1]);
    const digits = String(Number((q * 100).toFixed(7)));
    return { fn: 'quantile', quantile: q, label: `p${digits}` };
  }
  throw new UsageError(`query agg of ${JSON.stringify(field)}: unknown aggregation ${JSON.stringify(spec)}; expected count sum min max mean first last stddev p50 p90 p95 p99 percentile:0.xx rate derivative spread`);
}

export function planQuery(schema: TableSchema, options: QueryOptions): QueryPlan {
  const fieldTypes = new Map(schema.fields.map((f) => [f.name, f.type] as const));
  const by = options.by ?? [];
  for (const tag of by) {
    if (!schema.tags.includes(tag)) throw new SchemaError(`query by: ${JSON.stringify(tag)} is not a tag of the table (tags: ${schema.tags.join(', ') || 'none'})`);
  }
  if (new Set(by).size !== by.length) throw new UsageError(`query by: duplicate tag in ${JSON.stringify(by)}`);
  const fill = options.fill ?? 'none';
  if (!['none', 'null', 'previous', 'linear'].includes(fill)) throw new UsageError(`query fill: expected none, null, previous or linear, got ${JSON.stringify(fill)}`);
  if (fill !== 'none' && !options.every) throw new UsageError(`query fill '${fill}' needs every (gaps are empty time buckets)`);
  if (options.latest && (options.agg || options.every)) throw new UsageError('query latest returns the last row of each series: it takes no agg and no every');
  const bucketer = options.every ? makeBucketer(options.every, schema.timeUnit, options.timeZone ?? 'UTC') : null;
  if (options.timeZone && !options.every) makeBucketer('1d', schema.timeUnit, options.timeZone);

  const aggs: AggPlan[] = [];
  const fieldPlans = new Map<string, FieldPlan>();
  const names = new Set<string>();
  for (const [field, raw] of Object.entries(options.agg ?? {})) {
    const specs = (Array.isArray(raw) ? raw : [raw]) as AggSpec[];
    let kind: FieldKind;
    let type: FieldType | null = null;
    if (field === '*') kind = '*';
    else {
      type = fieldTypes.get(field) ?? null;
      if (!type) {
        const hint = schema.tags.includes(field) ? ' (it is a tag: group by it instead)' : field === schema.time ? ' (it is the time column)' : '';
        throw new SchemaError(`query agg: ${JSON.stringify(field)} is not a field of the table${hint} (fields: ${schema.fields.map((f) => f.name).join(', ')})`);
      }
      kind = fieldKind(type);
    }
    const allowed = type === null ? null : aggregationsOf(type);
    for (const spec of specs) {
      const { fn, quantile, label } = parseAggSpec(spec, field);
      if (kind === '*' && fn !== 'count') throw new UsageError(`query agg: '*' only takes count, got ${JSON.stringify(spec)}`);
      if ((kind === 'bool' || kind === 'utf8') && NUMERIC_ONLY.has(fn)) {
        throw new SchemaError(`query agg: ${spec} of ${JSON.stringify(field)} needs a numeric field, it is ${kind === 'bool' ? 'bool' : 'utf8'} (count, first and last apply)`);
      }
      if (allowed !== null && !allowed.includes(fn)) {
        throw new SchemaError(`query agg: ${spec} of ${JSON.stringify(field)} does not apply to a ${type} field (${allowed.join(', ')} apply)`);
      }
      const name = kind === '*' ? 'count' : `${label}_${field}`;
      if (names.has(name)) throw new UsageError(`query agg: ${name} asked twice`);
      names.add(name);
      aggs.push({ field, fn, quantile, name, kind, type });
      if (kind === '*') continue;
      let fp = fieldPlans.get(field);
      if (!fp) {
        fp = { field, kind, type, needs: { count: true, sum: false, minMax: false, stddev: false, first: false, last: false, quantile: false, rate: false, derivative: false } };
        fieldPlans.set(field, fp);
      }
      const n = fp.needs;
      if (fn === 'sum' || fn === 'mean') n.sum = true;
      if (fn === 'min' || fn === 'max' || fn === 'spread') n.minMax = true;
      if (fn === 'stddev') n.stddev = true;
      if (fn === 'first') n.first = true;
      if (fn === 'last') n.last = true;
      if (fn === 'quantile') n.quantile = true;
      if (fn === 'rate') n.rate = true;
      if (fn === 'derivative') n.derivative = true;
    }
  }
  if (!options.latest && aggs.length === 0) throw new UsageError('query needs agg (e.g. { usage_user: "max" }) or latest');

  const fields = [...fieldPlans.values()];
  const needSeries = fields.some((f) => f.needs.rate || f.needs.derivative);
  const needTime = bucketer !== null || needSeries || fields.some((f) => f.needs.first || f.needs.last);
  const columns = new Set<string>(by);
  if (needSeries) for (const tag of schema.tags) columns.add(tag);
  for (const f of fields) columns.add(f.field);
  if (options.filter) for (const c of predicateColumns(options.filter)) {
    if (c === schema.time) throw new UsageError(`query filter on the time column ${JSON.stringify(c)}: use from/to`);
    if (!fieldTypes.has(c) && !schema.tags.includes(c)) throw new SchemaError(`query filter: ${JSON.stringify(c)} is not a column of the table`);
    columns.add(c);
  }
  const limit = options.limit ?? null;
  if (limit !== null && (!Number.isSafeInteger(limit) || limit < 0)) throw new UsageError(`query limit: expected a non-negative integer, got ${limit}`);
  return {
    schema, bucketer, every: options.every ?? null, by, aggs, fields, needSeries, needTime, fill,
    from: options.from === undefined ? null : toTableTime(options.from, schema.timeUnit, 'from'),
    to: options.to === undefined ? null : toTableTime(options.to, schema.timeUnit, 'to'),
    scanColumns: [...columns],
    limit,
  };
}

/** A TimeInput in the table's unit (one parser and range check for scans and queries: see core/time.ts). */
export { toTableTime };

export const UNITS_PER_SECOND: Record<TimeUnit, number> = { s: 1, ms: 1e3, us: 1e6, ns: 1e9 };
