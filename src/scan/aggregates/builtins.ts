import { assert, LimitExceededError } from '../../errors.js';
import { fieldTypeInfo, formatDecimal, INT64_MAX, INT64_MIN } from '../../format/field-types.js';
import type { FieldType } from '../../format/types.js';
import type { FieldAccumulator } from '../aggregate.js';
import { fieldAccumulator, type AggPlan, type AggregateDescriptor, type OutKind, type SlotInput, type Value } from './descriptor.js';

/**
 * The built-in aggregates (registered in index.ts, in the order help texts list them). Every
 * aggregate ignores null values; semantics and output types as in query-types.ts (AggSpec).
 * The NaN policy is DuckDB's (NaN is the largest value) on the decoded and statistics paths
 * alike: FieldAccumulator.minValue/maxValue hold it for min, max and spread.
 */

const PLAIN_TYPES: ReadonlySet<string> = new Set(['float64', 'int64', 'uint64', 'bool', 'utf8']);

/** The field type of an aggregation over a field of a type other than the numbers, bool and utf8; null otherwise. */
export function typedField(agg: AggPlan): FieldType | null {
  return agg.type !== null && !PLAIN_TYPES.has(agg.type) ? agg.type : null;
}

/** The type of a sum: decimal(p,s) sums in decimal(38,s) (decimal(76,s) above 38 digits), durations in their unit. */
export function sumTypeOf(type: FieldType): FieldType {
  const info = fieldTypeInfo(type);
  if (info.family !== 'decimal') return type;
  assert(info.precision !== undefined && info.scale !== undefined, `${type} has a precision and scale`);
  return `decimal(${info.precision <= 38 ? 38 : 76},${info.scale})`;
}

/** The field's own type: min, max, first, last. */
export function fieldOutput(agg: AggPlan): OutKind {
  const typed = typedField(agg);
  if (typed !== null) return { type: typed };
  return agg.kind === '*' ? 'i64' : agg.kind as OutKind;
}

const isExact = (agg: AggPlan) => agg.kind === 'i64' || agg.kind === 'u64' || agg.kind === 'big';
const UINT64_MAX = (1n << 64n) - 1n;

/** An exact integer sum; one that leaves the column's 64-bit range (or a sum type's) is an error, not a wrap. */
function exactSum(agg: AggPlan, a: FieldAccumulator, slot: number): bigint {
  const sum = a.sumExact[slot] ?? 0n;
  const typed = typedField(agg);
  if (typed !== null) {
    const out = sumTypeOf(typed);
    const range = fieldTypeInfo(out).int;
    assert(range !== null, `${out} is integer-backed`);
    if (sum < range.min || sum > range.max) throw new LimitExceededError(`query sum of ${typed} field ${agg.field}`, Number(sum), Number(range.max), `the sum leaves ${out}`);
    return sum;
  }
  const [lo, hi] = agg.kind === 'u64' ? [0n, UINT64_MAX] : [INT64_MIN, INT64_MAX];
  if (sum < lo || sum > hi) {
    throw new LimitExceededError(`query sum of ${agg.kind === 'u64' ? 'uint64' : 'int64'} field ${agg.field}`, Number(sum), Number(hi), 'a 64-bit integer sum overflowed (aggregate a float64 field instead)');
  }
  return sum;
}

/** The mean of an exact sum: a float64 (a decimal's sum taken at its scale). */
function exactMean(agg: AggPlan, sum: bigint, count: number): number {
  const typed = typedField(agg);
  const scale = typed !== null ? fieldTypeInfo(typed).scale : undefined;
  return (scale !== undefined ? Number(formatDecimal(sum, scale)) : Number(sum)) / count;
}

const float64 = (): OutKind => 'f64';

export const count: AggregateDescriptor = {
  id: 'count', takes: 'any', rows: true, needs: ['count'], fromStats: true, empty: 0n,
  outputType: () => 'i64',
  finish: ({ acc, slot, rows }) => BigInt(acc === null ? rows : acc.count[slot]!),
};

export const sum: AggregateDescriptor = {
  id: 'sum', takes: 'summable', needs: ['sum'], fromStats: true,
  outputType: (agg) => {
    const typed = typedField(agg);
    return typed !== null ? { type: sumTypeOf(typed) } : agg.kind === 'i64' || agg.kind === 'u64' ? agg.kind : 'f64';
  },
  finish: (input) => {
    const a = fieldAccumulator(input), { slot, agg } = input;
    return a.count[slot]! > 0 ? (isExact(agg) ? exactSum(agg, a, slot) : a.sum[slot]!) : null;
  },
};

export const min: AggregateDescriptor = {
  id: 'min', takes: 'ordered', needs: ['minMax'], fromStats: true, outputType: fieldOutput,
  finish: (input) => { const a = fieldAccumulator(input); return a.count[input.slot]! > 0 ? a.minValue(input.slot) : null; },
};

export const max: AggregateDescriptor = {
  id: 'max', takes: 'ordered', needs: ['minMax'], fromStats: true, outputType: fieldOutput,
  finish: (input) => { const a = fieldAccumulator(input); return a.count[input.slot]! > 0 ? a.maxValue(input.slot) : null; },
};

export const mean: AggregateDescriptor = {
  id: 'mean', takes: 'summable', needs: ['sum'], fromStats: true, outputType: float64,
  finish: (input) => {
    const a = fieldAccumulator(input), { slot, agg } = input;
    const n = a.count[slot]!;
    if (n === 0) return null;
    return isExact(agg) ? exactMean(agg, a.sumExact[slot] ?? 0n, n) : a.sum[slot]! / n;
  },
};

/** The value at the earliest (first) or latest (last) time of a slot. */
function firstOrLast(first: boolean) {
  return (input: SlotInput<unknown>): Value => {
    const a = fieldAccumulator(input), { slot, agg } = input;
    if (!(first ? a.firstSet : a.lastSet)[slot]) return null;
    return agg.kind === 'f64' ? (first ? a.firstF : a.lastF)[slot]! : ((first ? a.firstX : a.lastX)[slot] as Value);
  };
}

export const first: AggregateDescriptor = { id: 'first', takes: 'any', needs: ['first'], fromStats: false, outputType: fieldOutput, finish: firstOrLast(true) };
export const last: AggregateDescriptor = { id: 'last', takes: 'any', needs: ['last'], fromStats: false, outputType: fieldOutput, finish: firstOrLast(false) };

/** Sample standard deviation (n − 1), like DuckDB stddev_samp; null under 2 values. */
export const stddev: AggregateDescriptor = {
  id: 'stddev', takes: 'numbers', needs: ['stddev'], fromStats: false, outputType: float64,
  finish: (input) => { const a = fieldAccumulator(input), s = input.slot; return a.wN[s]! >= 2 ? Math.sqrt(a.wM2[s]! / (a.wN[s]! - 1)) : null; },
};

// Keyed by user-supplied spellings: a Map (a plain object would answer `constructor`).
const NAMED_QUANTILES: ReadonlyMap<string, number> = new Map([['p50', 0.5], ['p90', 0.9], ['p95', 0.95], ['p99', 0.99]]);

/** Exact quantiles (`p50` … `p99`, `percentile:Q`), interpolated like DuckDB quantile_cont. */
export const quantile: AggregateDescriptor = {
  id: 'quantile', help: 'p50 p90 p95 p99 percentile:Q', takes: 'numbers', needs: ['quantile'], fromStats: false, outputType: float64,
  parse(spec) {
    const named = NAMED_QUANTILES.get(spec);
    if (named !== undefined) return { param: named, label: spec };
    const match = /^percentile:(0(?:\.\d+)?|1(?:\.0+)?)$/.exec(spec);
    if (!match) return null;
    const q = Number(match[1]);
    return { param: q, label: `p${String(Number((q * 100).toFixed(7)))}` };
  },
  finish: (input) => {
    const held = fieldAccumulator(input).quantiles;
    assert(held !== null, `quantile values of ${input.agg.field} are held`);
    return held.quantile(input.slot, input.agg.param);
  },
};

function heldRates(input: SlotInput<unknown>) {
  const held = fieldAccumulator(input).rates;
  assert(held !== null, `rate points of ${input.agg.field} are held`);
  return held;
}

/** Per-second change of a counter (a decrease is a reset), summed over a group's series. */
export const rate: AggregateDescriptor = {
  id: 'rate', takes: 'numbers', needs: ['rate'], fromStats: false, outputType: float64,
  finish: (input) => heldRates(input).value(input.slot, true),
};

/** Per-second change between consecutive points, summed over a group's series. */
export const derivative: AggregateDescriptor = {
  id: 'derivative', takes: 'numbers', needs: ['derivative'], fromStats: false, outputType: float64,
  finish: (input) => heldRates(input).value(input.slot, false),
};

/** max − min (NaN when a value is NaN, as max is). */
export const spread: AggregateDescriptor = {
  id: 'spread', takes: 'numbers', needs: ['minMax'], fromStats: false, outputType: float64,
  finish: (input) => {
    const a = fieldAccumulator(input), s = input.slot;
    return a.count[s]! > 0 ? Number(a.maxValue(s)) - Number(a.minValue(s)) : null;
  },
};
