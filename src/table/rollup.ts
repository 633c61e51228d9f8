/**
 * Rollups (downsampling): a rollup table keeps aggregates of a source table per time bucket
 * (`every`) and group (`by` tags), kept up to date as the source changes (rollup-maintain.ts)
 * and used by the source's queries when it answers them exactly (rollup-query.ts).
 *
 * A rollup is an ordinary table: queryable, exportable, with its own retention (so a year of
 * hourly aggregates outlives thirty days of raw rows). Its `options.rollupOf` says what it
 * rolls up; the source's manifest lists it in `rollups`. What it stores is mergeable, so a
 * coarser query over it is exact: per bucket and group, `count` (rows) and per field
 * `count_<f>` (non-null values), `sum_<f>` (for sum and mean: a mean is sum / count, never a
 * mean of means), `min_<f>`, `max_<f>`; the field types are what the source's query gives.
 *
 * Bucket rule: `every` is a fixed duration (ms, s, m, h, or 1d) dividing the source's
 * partitions (an hour for hourly partitions, a day for daily and monthly ones), so each
 * bucket lies in one partition and each partition is recomputed on its own. The rollup is
 * partitioned one step coarser than its source (rollupPartition).
 */
import { QuiverError, SchemaError, UsageError } from '../errors.js';
import { parseEvery, makeBucketer } from '../scan/bucket.js';
import { resolveAggSpec } from '../scan/aggregates/index.js';
import type { FieldSpec, PartitionBy, RollupSpec, TableSchema } from '../core/types.js';
import type { AlterStep } from './alter.js';
import type { FieldType } from '../format/types.js';
import { latestVersion, loadManifest } from './manifest.js';
import { Table, type TableContext } from './table.js';

/** Aggregates a rollup keeps (mergeable ones: a coarser bucket is derived exactly from finer ones). */
export const ROLLUP_AGGREGATES: readonly string[] = ['count', 'sum', 'mean', 'min', 'max'];
/** Source field types a rollup aggregates. */
const ROLLUP_FIELD_TYPES: readonly FieldType[] = ['float64', 'int64'];
const PARTITION_MS: Record<string, number> = { hour: 3_600_000, day: 86_400_000, month: 86_400_000 };
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A rollup's partitioning: one step coarser than its source's (a day of hourly partitions, a
 * month of daily ones), so a year of hourly aggregates is a dozen chunks, not hundreds.
 */
export function rollupPartition(source: PartitionBy): PartitionBy {
  return source === 'hour' ? 'day' : 'month';
}

/** What a rollup is asked to keep (Quiver.createRollup). */
export interface RollupRequest {
  source: string;
  every: string;
  by?: string[];
  agg: Record<string, string | string[]>;
  /** The rollup's own retention (a duration or ms; default none). */
  retention?: number | string;
}

/** Width of a rollup's buckets in milliseconds. */
export function rollupEveryMs(every: string): number {
  const spec = parseEvery(every);
  const unit = UNIT_MS[spec.unit];
  if (unit === undefined || (spec.unit === 'd' && spec.count !== 1)) throw new UsageError(`rollup every: expected a fixed duration in ms, s, m or h (or 1d), got ${JSON.stringify(every)}`);
  return spec.count * unit;
}

/** The stored column of one source aggregate (`count` for rows). */
export function storedColumn(fn: string, field: string): string {
  return field === '*' ? 'count' : `${fn === 'mean' ? 'sum' : fn}_${field}`;
}

/** The columns a spec stores per field: count always, sum for sum and mean, min, max. */
export function storedAggs(spec: RollupSpec): Map<string, string[]> {
  const out = new Map<string, string[]>([['*', ['count']]]);
  for (const [field, fns] of Object.entries(spec.agg)) {
    const list = ['count'];
    if (fns.includes('sum') || fns.includes('mean')) list.push('sum');
    if (fns.includes('min')) list.push('min');
    if (fns.includes('max')) list.push('max');
    out.set(field, list);
  }
  return out;
}

/** Checks a rollup request against its source; returns the spec and the rollup table's schema. */
export function planRollup(name: string, request: RollupRequest, source: Table): { spec: RollupSpec; schema: TableSchema } {
  const schema = source.schema;
  const options = source.options;
  if (typeof request.every !== 'string') throw new UsageError('rollup every: required (e.g. \'1h\')');
  const everyMs = rollupEveryMs(request.every);
  makeBucketer(request.every, schema.timeUnit); // a whole number of the table's time unit
  const partitionMs = PARTITION_MS[options.partition];
  if (partitionMs === undefined) throw new UsageError(`rollup ${name}: source ${source.name} is not partitioned by time (partition 'none'); a rollup is maintained per partition`);
  if (partitionMs % everyMs !== 0) throw new UsageError(`rollup ${name}: every ${request.every} does not divide the source's ${options.partition} partitions (a bucket must lie in one partition)`);
  if (options.rollupOf) throw new UsageError(`rollup ${name}: ${source.name} is itself a rollup; roll up its source instead`);
  const by = request.by ?? [];
  for (const tag of by) if (!schema.tags.includes(tag)) throw new SchemaError(`rollup by: ${JSON.stringify(tag)} is not a tag of ${source.name} (tags: ${schema.tags.join(', ') || 'none'})`);
  if (new Set(by).size !== by.length) throw new UsageError(`rollup by: a tag is named twice in ${JSON.stringify(by)}`);
  const agg = Object.create(null) as Record<string, string[]>;
  const fields: FieldSpec[] = [{ name: 'count', type: 'int64' }];
  const entries = Object.entries(request.agg ?? {});
  if (entries.length === 0) throw new UsageError('rollup agg: name at least one field, e.g. { usage_user: [\'mean\', \'max\'] }');
  for (const [field, raw] of entries) {
    const type = schema.fields.find((f) => f.name === field)?.type;
    if (type === undefined) throw new SchemaError(`rollup agg: ${JSON.stringify(field)} is not a field of ${source.name} (fields: ${schema.fields.map((f) => f.name).join(', ')})`);
    if (!ROLLUP_FIELD_TYPES.includes(type)) throw new SchemaError(`rollup agg: ${field} is ${type}; rollups aggregate ${ROLLUP_FIELD_TYPES.join(' and ')} fields`);
    const fns = [...new Set(Array.isArray(raw) ? raw : [raw])];
    for (const fn of fns) {
      if (!ROLLUP_AGGREGATES.includes(fn)) {
        const known = resolveAggSpec(fn) ? ' (it cannot be merged from finer buckets exactly)' : '';
        throw new UsageError(`rollup agg of ${field}: ${JSON.stringify(fn)} is not one of ${ROLLUP_AGGREGATES.join(', ')}${known}`);
      }
    }
    agg[field] = fns;
  }
  const spec: RollupSpec = { source: source.name, every: request.every, by, agg };
  for (const [field, fns] of storedAggs(spec)) {
    if (field === '*') continue;
    const type = schema.fields.find((f) => f.name === field)!.type;
    for (const fn of fns) fields.push({ name: storedColumn(fn, field), type: fn === 'count' ? 'int64' : type });
  }
  return { spec, schema: { time: schema.time, timeUnit: schema.timeUnit, tags: by, fields } };
}

/** An existing table opened in a table context (a rollup, or a rollup's source). */
export async function openTable(ctx: TableContext, name: string): Promise<Table> {
  const version = await latestVersion(ctx.store, name);
  if (version === 0) throw new QuiverError(`no table named ${name} in ${ctx.store.url}`);
  return new Table(ctx, name, await loadManifest(ctx.store, name, version));
}

/** Adds (or removes) a rollup's name in its source's manifest, as one commit (operation 'rollup'). */
export async function listRollup(source: Table, name: string, add: boolean): Promise<void> {
  await source.commitEdit('rollup', (next) => {
    const names = (next.rollups ?? []).filter((n) => n !== name);
    if (add) names.push(name);
    if (names.length) next.rollups = names;
    else delete next.rollups;
  });
}

/** A rollup table's spec, or a UsageError when `table` is not a rollup. */
export function rollupSpecOf(table: Table): RollupSpec {
  const spec = table.options.rollupOf;
  if (!spec) throw new UsageError(`${table.name} is not a rollup table`);
  return spec;
}

/**
 * The rollups of `source` checked against an alter: a step that drops, renames or widens a
 * field a rollup keeps is refused (its maintenance queries the field by its name and type,
 * and its stored columns carry the name). Returns the rollup names checked, for the commit to
 * refuse a rollup created meanwhile; null when no step touches a field.
 */
export async function checkAlterRollups(source: Table, steps: readonly AlterStep[]): Promise<string[] | null> {
  const touched = steps.flatMap((s) => (s.op === 'drop' || s.op === 'widen' ? [s.field] : s.op === 'rename' ? [s.from] : []));
  if (touched.length === 0) return null;
  const names = source.currentManifest.rollups ?? [];
  for (const name of names) {
    const spec = rollupSpecOf(await openTable(source.context, name));
    const kept = touched.find((f) => Object.hasOwn(spec.agg, f));
    if (kept !== undefined) {
      throw new SchemaError(`alter ${source.name}: field ${kept} is kept by rollup ${name}, whose columns and upkeep name it; drop the rollup (\`quiver rollup drop ${name}\`), alter ${source.name}, then create the rollup again`);
    }
  }
  return [...names];
}

/** Refuses to resume `table` (an existing, unlisted table) as a rollup of `spec`, `schema` and `retention` unless it is one. */
export function checkOrphanRollup(table: Table, spec: RollupSpec, schema: TableSchema, retention: number | undefined): void {
  const kept = table.options.rollupOf;
  if (kept && sameRollupSpec(kept, spec) && table.options.retention === retention && sameColumns(table.schema, schema)) return;
  throw new QuiverError(`table ${table.name} already exists in ${table.store.url}${kept ? ' as a rollup of another spec or retention (drop it first)' : ''}`);
}

/** Whether two rollup specs ask for the same thing (agg keys in any order). */
function sameRollupSpec(a: RollupSpec, b: RollupSpec): boolean {
  const canon = (x: RollupSpec) => JSON.stringify([x.source, x.every, x.by, Object.keys(x.agg).sort().map((k) => [k, x.agg[k]])]);
  return canon(a) === canon(b);
}

/** Whether two schemas have the same time column and unit, tags, and field names and types. */
function sameColumns(a: TableSchema, b: TableSchema): boolean {
  const canon = (x: TableSchema) => JSON.stringify([x.time, x.timeUnit, x.tags, x.fields.map((f) => [f.name, f.type])]);
  return canon(a) === canon(b);
}
