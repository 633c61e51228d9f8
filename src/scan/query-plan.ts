import type { FieldType, TimeUnit } from '../format/types.js';
import { fieldTypeInfo } from '../format/field-types.js';
import type { ScanOptions, TableSchema } from '../core/types.js';
import { SchemaError, UsageError } from '../errors.js';
import type { AggSpec, FillMode, QueryOptions } from './query-types.js';
import type { Needs } from './aggregate.js';
import { aggregates, aggregatesTaking, resolveAggSpec, aggregateHelp, PAGE_STATISTICS, takesType, type AggPlan, type FieldKind } from './aggregates/index.js';
import { makeBucketer, type Bucketer } from './bucket.js';
import { toTableTime } from '../core/time.js';
import { predicateColumns } from './predicate.js';
import { checkOptionKeys, SCAN_OPTION_KEYS } from './plan.js';

/**
 * Validation and planning of a query: which aggregations of which fields, what each output
 * column is called and typed, and the columns the scan must project.
 */

export type { AggPlan };

export interface FieldPlan {
  field: string;
  kind: FieldKind;
  type: FieldType | null;
  needs: Needs;
  /** Aggregations of the field that keep a state of their own (AggregateDescriptor.state). */
  stateful: AggPlan[];
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
  /** Every aggregation can be answered from page statistics (AggregateDescriptor.fromStats). */
  fromStats: boolean;
  needTime: boolean;
  fill: FillMode;
  from: bigint | null;
  to: bigint | null;
  scanColumns: string[];
  limit: number | null;
}

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

/** The aggregate a spelling names, its parameter and its column label; a UsageError naming the known ones otherwise. */
export function parseAggSpec(spec: string, field: string): ReturnType<typeof resolveAggSpec> & object {
  const resolved = typeof spec === 'string' ? resolveAggSpec(spec) : null;
  if (resolved === null) throw new UsageError(`query agg of ${JSON.stringify(field)}: unknown aggregation ${JSON.stringify(spec)}; expected ${aggregateHelp()}`);
  return resolved;
}

/** "a, b and c". */
const andList = (items: string[]) => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`);

/** Options only queries take (beside the scan's). */
const QUERY_ONLY_OPTIONS: Record<Exclude<keyof QueryOptions, keyof ScanOptions>, true> = { every: true, timeZone: true, by: true, agg: true, fill: true, latest: true, filter: true, rollups: true };
export const QUERY_OPTION_KEYS: readonly string[] = [...SCAN_OPTION_KEYS, ...Object.keys(QUERY_ONLY_OPTIONS)];

/**
 * Checks a query's option keys (an unknown one, such as `evry`, is a UsageError naming the valid
 * ones) and splits it: whether it aggregates (every, agg, by, latest or filter), and its scan
 * options, for a query that is a plain scan.
 */
export function splitQueryOptions(options: QueryOptions): { aggregate: boolean; scan: ScanOptions } {
  checkOptionKeys(options, QUERY_OPTION_KEYS, 'query');
  const aggregate = options.every !== undefined || options.agg !== undefined || options.by !== undefined || Boolean(options.latest) || options.filter !== undefined;
  const scan: Record<string, unknown> = {};
  for (const key of SCAN_OPTION_KEYS) if (Object.hasOwn(options, key)) scan[key] = options[key as keyof ScanOptions];
  return { aggregate, scan: scan as ScanOptions };
}

export function planQuery(schema: TableSchema, options: QueryOptions): QueryPlan {
  checkOptionKeys(options, QUERY_OPTION_KEYS, 'query');
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
    for (const spec of specs) {
      const { descriptor, param, label } = parseAggSpec(spec, field);
      if (kind === '*' && !descriptor.rows) throw new UsageError(`query agg: '*' only takes ${aggregates().filter((d) => d.rows).map((d) => d.id).join(', ')}, got ${JSON.stringify(spec)}`);
      if (type !== null && !takesType(descriptor, type)) {
        const apply = aggregatesTaking(type).map((d) => d.id);
        if (kind === 'bool' || kind === 'utf8') throw new SchemaError(`query agg: ${spec} of ${JSON.stringify(field)} needs a numeric field, it is ${kind} (${andList(apply)} apply)`);
        throw new SchemaError(`query agg: ${spec} of ${JSON.stringify(field)} does not apply to a ${type} field (${apply.join(', ')} apply)`);
      }
      const name = kind === '*' ? descriptor.id : `${label}_${field}`;
      if (names.has(name)) throw new UsageError(`query agg: ${name} asked twice`);
      names.add(name);
      const agg: AggPlan = { field, fn: descriptor.id, descriptor, param, name, kind, type };
      aggs.push(agg);
      if (kind === '*') continue;
      let fp = fieldPlans.get(field);
      if (!fp) {
        fp = { field, kind, type, stateful: [], needs: { count: true, sum: false, minMax: false, stddev: false, first: false, last: false, quantile: false, rate: false, derivative: false } };
        fieldPlans.set(field, fp);
      }
      for (const statistic of descriptor.needs) fp.needs[statistic] = true;
      if (descriptor.state) fp.stateful.push(agg);
    }
  }
  if (!options.latest && aggs.length === 0) throw new UsageError('query needs agg (e.g. { usage_user: "max" }) or latest');

  const fields = [...fieldPlans.values()];
  const needSeries = fields.some((f) => f.needs.rate || f.needs.derivative) || aggs.some((a) => a.descriptor.series === true);
  const needTime = bucketer !== null || needSeries || fields.some((f) => f.needs.first || f.needs.last) || aggs.some((a) => a.descriptor.time === true);
  const fromStats = !needSeries && aggs.every((a) => a.descriptor.fromStats)
    && fields.every((f) => f.stateful.length === 0 && (Object.keys(f.needs) as (keyof Needs)[]).every((k) => !f.needs[k] || PAGE_STATISTICS.has(k)));
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
    schema, bucketer, every: options.every ?? null, by, aggs, fields, needSeries, needTime, fromStats, fill,
    from: options.from === undefined ? null : toTableTime(options.from, schema.timeUnit, 'from'),
    to: options.to === undefined ? null : toTableTime(options.to, schema.timeUnit, 'to'),
    scanColumns: [...columns],
    limit,
  };
}

/** A TimeInput in the table's unit (one parser and range check for scans and queries: see core/time.ts). */
export { toTableTime };

export const UNITS_PER_SECOND: Record<TimeUnit, number> = { s: 1, ms: 1e3, us: 1e6, ns: 1e9 };
