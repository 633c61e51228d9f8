import { assert, UsageError } from '../../errors.js';
import { fieldTypeInfo } from '../../format/field-types.js';
import type { FieldType } from '../../format/types.js';
import type { AggregateState, FieldAccumulator, Needs } from '../aggregate.js';

/**
 * Aggregate functions as descriptors: one object per function says what it takes, what it
 * accumulates, how its output column is typed and computed, and whether page statistics can
 * answer it. The query planner (validation, accumulator needs, scan columns, the statistics
 * shortcut), the output builder, the CLI's help text and the error messages all read the
 * registry below; adding an aggregate is one descriptor (a file) and one registerAggregate line
 * (src/scan/aggregates/index.ts, or a test's own file). See docs/extending.md.
 */

/** A built-in statistic a field accumulates (see FieldAccumulator); count is always kept. */
export type Statistic = keyof Needs;

/** Statistics a page footer holds (count, sum, min/max with NaN count): pages can be answered without decoding. */
export const PAGE_STATISTICS: ReadonlySet<Statistic> = new Set<Statistic>(['count', 'sum', 'minMax']);

/**
 * Which fields an aggregate takes:
 * - `any`: every field type (count, first, last);
 * - `ordered`: numbers and the ordered integer-backed types (dates, times, durations, timestamps, decimals);
 * - `summable`: numbers, durations and decimals;
 * - `numbers`: float64, int64 and uint64 only.
 * bool, utf8 and binary fields only take `any` aggregates.
 */
export type Takes = 'any' | 'ordered' | 'summable' | 'numbers';
const TAKES_ORDER: readonly Takes[] = ['any', 'ordered', 'summable', 'numbers'];

/**
 * How a field is accumulated: numbers as themselves; integer-backed types through their stored
 * integer ('i64', or 'big' for decimals wider than int64); binary as bytes; '*' counts rows.
 */
export type FieldKind = 'f64' | 'i64' | 'u64' | 'big' | 'bool' | 'utf8' | 'bytes' | '*';

/** A value of an output cell. */
export type Value = number | bigint | boolean | string | Uint8Array | null;
/** An output column's type: the numbers, bool, utf8, or a field type (dates, decimals, binary…: its Arrow type). */
export type OutKind = 'f64' | 'i64' | 'u64' | 'bool' | 'utf8' | { type: FieldType };

/** One aggregation of one field, as planned (what a descriptor's functions receive). */
export interface AggPlan {
  field: string;
  /** The descriptor's id. */
  fn: string;
  descriptor: AggregateDescriptor;
  /** The spelling's parameter (the quantile in [0, 1] of `p90` or `percentile:0.9`); 0 when none. */
  param: number;
  /** Output column name: `<label>_<field>` ('count' for count of '*'). */
  name: string;
  kind: FieldKind;
  /** The field's type (null for count of '*'). */
  type: FieldType | null;
}

/** What finish() reads for one output cell. */
export interface SlotInput<S> {
  agg: AggPlan;
  /** The field's accumulator; null for count of '*'. */
  acc: FieldAccumulator | null;
  slot: number;
  /** Rows of the slot (every row, nulls included). */
  rows: number;
  /** The aggregate's own state (descriptors with `state`), else undefined. */
  state: S;
}

export interface AggregateDescriptor<S = unknown> {
  /** The name in agg specs (`max`) and the output column's prefix (`max_usage`). */
  id: string;
  /**
   * For parameterised spellings (`p90`, `percentile:0.9`): the parameter and the column label,
   * or null when `spec` is not one of them. A descriptor with `parse` is not matched by its id.
   */
  parse?(spec: string): { param: number; label: string } | null;
  /** How the function is spelled in help texts and errors (default: its id). */
  help?: string;
  takes: Takes;
  /** Takes `'*'` (rows) as its field. */
  rows?: boolean;
  /** Built-in statistics it reads (accumulated once per field, shared by the aggregates that need them). */
  needs: readonly Statistic[];
  /**
   * Its own statistic: a fresh state per aggregation of a field, fed every batch (see
   * AggregateState). Pages are then always decoded (`fromStats` must be false).
   */
  state?(agg: AggPlan): AggregateState & S;
  /** The state reads row times (`time` of AggregateState.accumulate), or series ids (every tag is read). */
  time?: boolean;
  series?: boolean;
  /**
   * Whether a page lying inside one bucket and group can be answered from its footer
   * statistics: only when `needs` are all PAGE_STATISTICS and the value is the same either way.
   */
  fromStats: boolean;
  /** The output column's type. */
  outputType(agg: AggPlan): OutKind;
  /** The value of one (group, bucket) slot. */
  finish(input: SlotInput<S>): Value;
  /** The value of an empty bucket made by `fill: 'null'` (default null; count says 0). */
  empty?: Value;
}

// Keyed by user-supplied spellings: a Map, so `constructor` or `__proto__` is just an unknown name.
const registry = new Map<string, AggregateDescriptor<any>>();

/** Adds an aggregate function to every query (library and CLI). */
export function registerAggregate<S>(descriptor: AggregateDescriptor<S>): void {
  const d = descriptor;
  if (!/^[a-z][a-z0-9_]*$/.test(d.id)) throw new UsageError(`aggregate id ${JSON.stringify(d.id)}: expected lower-case letters, digits and _`);
  if (registry.has(d.id)) throw new UsageError(`aggregate ${d.id} is already registered`);
  if (!TAKES_ORDER.includes(d.takes)) throw new UsageError(`aggregate ${d.id}: takes must be one of ${TAKES_ORDER.join(', ')}`);
  if (d.fromStats && (d.state !== undefined || d.needs.some((n) => !PAGE_STATISTICS.has(n)))) {
    throw new UsageError(`aggregate ${d.id}: fromStats needs only page statistics (${[...PAGE_STATISTICS].join(', ')}) and no state of its own`);
  }
  if (d.rows && d.state !== undefined) throw new UsageError(`aggregate ${d.id}: an aggregate of rows ('*') keeps no state`);
  registry.set(d.id, d);
}

/** Removes a registered aggregate (tests that register their own). */
export function unregisterAggregate(id: string): boolean {
  return registry.delete(id);
}

/** Every registered aggregate, in registration order. */
export function aggregates(): AggregateDescriptor[] {
  return [...registry.values()];
}

/** The descriptor a spelling names (`max`, `p90`, `percentile:0.25`), or null. */
export function resolveAggSpec(spec: string): { descriptor: AggregateDescriptor; param: number; label: string } | null {
  const byId = registry.get(spec);
  if (byId !== undefined && byId.parse === undefined) return { descriptor: byId, param: 0, label: spec };
  for (const d of registry.values()) {
    const parsed = d.parse?.(spec);
    if (parsed) return { descriptor: d, param: parsed.param, label: parsed.label };
  }
  return null;
}

/** The functions as help texts list them: `count sum min … spread`. */
export function aggregateHelp(): string {
  return aggregates().map((d) => d.help ?? d.id).join(' ');
}

/** Whether a field of `type` takes the aggregate (bool/utf8 only take `any`; see Takes). */
export function takesType(d: AggregateDescriptor, type: FieldType): boolean {
  if (d.takes === 'any') return true;
  if (type === 'bool' || type === 'utf8') return false;
  const info = fieldTypeInfo(type);
  if (!info.int && !info.bytes) return true; // float64, int64, uint64
  return (d.takes === 'ordered' && info.ordered) || (d.takes === 'summable' && info.summable);
}

/** The aggregates a field of `type` takes, those taking any field first (as errors list them). */
export function aggregatesTaking(type: FieldType): AggregateDescriptor[] {
  const rank = (d: AggregateDescriptor) => TAKES_ORDER.indexOf(d.takes);
  return aggregates().filter((d) => takesType(d, type)).sort((a, b) => rank(a) - rank(b));
}

/** The field's accumulator, which every aggregate but count of '*' has. */
export function fieldAccumulator(input: SlotInput<unknown>): FieldAccumulator {
  assert(input.acc !== null, `aggregate ${input.agg.name} has an accumulator`);
  return input.acc;
}

/** A fresh state for an aggregation whose descriptor keeps one. */
export function newState(agg: AggPlan): AggregateState {
  const make = agg.descriptor.state;
  assert(make !== undefined, `aggregate ${agg.fn} keeps a state`);
  return make(agg);
}
