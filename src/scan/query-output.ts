import {
  Bool, Dictionary, Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct, Table,
  TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, TimestampSecond, Uint64, Utf8,
  vectorFromArray, type Data, type DataType,
} from 'apache-arrow';
import type { TimeUnit } from '../format/types.js';
import { fieldData, fieldTypeInfo, type FieldValue } from '../format/field-types.js';
import { LimitExceededError } from '../errors.js';
import { floorDiv } from '../core/time.js';
import type { FieldAccumulator } from './aggregate.js';
import { sortedGroups, type GroupRegistry } from './query-groups.js';
import type { AggPlan, QueryPlan } from './query-plan.js';
import type { OutKind, Value } from './aggregates/index.js';

/**
 * Assembly of a query's Arrow result: rows ordered by group tags then bucket time, gap
 * filling, and typed columns (Float64/Int64 built straight from typed arrays).
 */

/** Output buckets a fill may create: a typo like every '1ms' over a year stops here. */
export const FILL_ROWS_MAX = 10_000_000;

export interface SlotTable {
  count: number;
  group: Int32Array;
  key: Float64Array;
  start: bigint[];
  rows: Float64Array;
}

export interface OutputMeta {
  timeType: DataType | null;
  timeMin: bigint | null;
  timeMax: bigint | null;
  globalBase: bigint | null;
}

export type { Value, OutKind };

export function timestampType(unit: TimeUnit): DataType {
  switch (unit) {
    case 's': return new TimestampSecond();
    case 'ms': return new TimestampMillisecond();
    case 'us': return new TimestampMicrosecond();
    case 'ns': return new TimestampNanosecond();
  }
}

/** One output cell: the aggregate's own finish() over the slot. */
function aggValue(agg: AggPlan, acc: FieldAccumulator | undefined, slots: SlotTable, slot: number, state: unknown): Value {
  return agg.descriptor.finish({ agg, acc: acc ?? null, slot, rows: slots.rows[slot]!, state });
}

export function buildAggregateTable(plan: QueryPlan, groups: GroupRegistry, slots: SlotTable,
                                    accs: FieldAccumulator[], meta: OutputMeta): Table {
  // Slots of each group, in time order.
  const perGroup: number[][] = Array.from({ length: groups.size }, () => []);
  for (let s = 0; s < slots.count; s++) perGroup[slots.group[s]!]!.push(s);
  for (const list of perGroup) list.sort((a, b) => slots.key[a]! - slots.key[b]!);

  const rowGroup: number[] = [];
  const rowSlot: number[] = [];
  const rowStart: bigint[] = [];
  const bucketer = plan.bucketer;
  const fillRange = bucketer && plan.fill !== 'none' ? fillBounds(plan, meta) : null;
  for (const g of sortedGroups(groups)) {
    const list = perGroup[g]!;
    if (list.length === 0) continue;
    if (!fillRange || !bucketer) {
      for (const s of list) { rowGroup.push(g); rowSlot.push(s); rowStart.push(slots.start[s]!); }
      continue;
    }
    const byKey = new Map(list.map((s) => [slots.key[s]!, s] as const));
    let b = bucketer.locate(fillRange.start);
    // Calendar buckets vary in width by under 2x: refuse a runaway fill before building it.
    const estimate = Number((fillRange.end - fillRange.start) / (b.end - b.start)) * (groups.size);
    if (estimate > 2 * FILL_ROWS_MAX) {
      throw new LimitExceededError('query fill rows', estimate, FILL_ROWS_MAX, `every ${plan.every} with fill ${plan.fill}`);
    }
    const groupRows: { slot: number; start: bigint }[] = [];
    while (b.start < fillRange.end) {
      const s = byKey.get(b.key);
      if (s !== undefined) byKey.delete(b.key);
      groupRows.push({ slot: s ?? -1, start: b.start });
      if (rowGroup.length + groupRows.length > FILL_ROWS_MAX) {
        throw new LimitExceededError('query fill rows', rowGroup.length + groupRows.length, FILL_ROWS_MAX, `every ${plan.every} with fill ${plan.fill}`);
      }
      b = bucketer.locate(b.end);
    }
    // Data outside the fill range (none when the scan honours from/to) keeps its rows.
    for (const s of byKey.values()) groupRows.push({ slot: s, start: slots.start[s]! });
    groupRows.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
    for (const r of groupRows) { rowGroup.push(g); rowSlot.push(r.slot); rowStart.push(r.start); }
  }
  let rows = rowGroup.length;
  if (plan.limit !== null && plan.limit < rows) rows = plan.limit;

  const fields: Field[] = [];
  const columns: Data[] = [];
  const timeType = meta.timeType ?? timestampType(plan.schema.timeUnit);
  const times = new BigInt64Array(rows);
  const fixedTime = plan.from ?? meta.timeMin ?? 0n;
  for (let r = 0; r < rows; r++) times[r] = bucketer ? rowStart[r]! : fixedTime;
  fields.push(new Field(plan.schema.time, timeType, false));
  columns.push(makeData({ type: timeType, length: rows, nullCount: 0, data: times } as never));

  plan.by.forEach((tag, t) => {
    const { field, data } = tagColumn(tag, Array.from({ length: rows }, (_, r) => groups.groupValues[rowGroup[r]!]![t]!));
    fields.push(field);
    columns.push(data);
  });

  const accByField = new Map(accs.map((a) => [a.field, a] as const));
  for (const agg of plan.aggs) {
    const acc = accByField.get(agg.field);
    const state = acc?.states.get(agg.name);
    const kind = agg.descriptor.outputType(agg);
    if (kind === 'f64' && !fillRange) {
      const { field, data } = floatColumn(agg.name, rows, (r) => aggValue(agg, acc, slots, rowSlot[r]!, state));
      fields.push(field);
      columns.push(data);
      continue;
    }
    const values: Value[] = new Array(rows);
    // Float results also go straight into a Float64Array: a NaN stored in a JavaScript array
    // loses its payload or signalling bit (V8 canonicalises or silences it), a typed array keeps it.
    const floats = kind === 'f64' ? new Float64Array(rows) : undefined;
    for (let r = 0; r < rows; r++) {
      const s = rowSlot[r]!;
      const v = s >= 0 ? aggValue(agg, acc, slots, s, state) : null;
      values[r] = v;
      if (floats !== undefined && typeof v === 'number') floats[r] = v;
    }
    if (fillRange) fillGaps(values, rowSlot, rowGroup, rowStart, rows, plan.fill, kind, agg.descriptor.empty ?? null, floats);
    const { field, data } = column(agg.name, kind, values, floats);
    fields.push(field);
    columns.push(data);
  }
  return tableOf(fields, columns, rows);
}

export function tableOf(fields: Field[], columns: Data[], rows: number): Table {
  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length: rows, nullCount: 0, children: columns });
  return new Table(new RecordBatch(schema, struct));
}

function fillBounds(plan: QueryPlan, meta: OutputMeta): { start: bigint; end: bigint } | null {
  const start = plan.from ?? meta.timeMin;
  const end = plan.to ?? (meta.timeMax === null ? null : meta.timeMax + 1n);
  if (start === null || end === null || end <= start) return null;
  return { start, end };
}

function fillGaps(values: Value[], rowSlot: number[], rowGroup: number[], rowStart: bigint[], rows: number,
                  mode: QueryPlan['fill'], kind: OutKind, empty: Value, floats: Float64Array | undefined): void {
  for (let r = 0; r < rows; r++) {
    if (rowSlot[r]! >= 0) continue;
    const g = rowGroup[r]!;
    const prev = r > 0 && rowGroup[r - 1] === g ? r - 1 : -1;
    if (mode === 'null' || prev < 0) { values[r] = empty; if (floats !== undefined && typeof empty === 'number') floats[r] = empty; continue; }
    if (mode === 'previous') { values[r] = values[prev]!; if (floats !== undefined) floats[r] = floats[prev]!; continue; }
    // linear: the previous row (already filled, so interpolated or real) and the next real one.
    let next = r + 1;
    while (next < rows && rowGroup[next] === g && rowSlot[next]! < 0) next++;
    const a = values[prev], b = next < rows && rowGroup[next] === g ? values[next] : undefined;
    const interpolates = typeof kind === 'object' ? typeof a === 'bigint' : kind !== 'bool' && kind !== 'utf8';
    if (a === null || b === undefined || b === null || !interpolates) { values[r] = empty; continue; }
    const t0 = rowStart[prev]!, t1 = rowStart[next]!;
    if (typeof a === 'bigint' && typeof b === 'bigint') {
      // Integers exactly: a + (b − a)·(t − t0)/(t1 − t0), rounded half up, in bigints. Through a
      // double, values beyond 2^53 rounded and ones near the type's top rounded past it and
      // wrapped (uint64 2^64 − 1 … 2^64 − 4 filled with 0).
      const span = t1 - t0;
      values[r] = a + floorDiv(2n * (b - a) * (rowStart[r]! - t0) + span, 2n * span);
      continue;
    }
    const w = Number(rowStart[r]! - t0) / Number(t1 - t0);
    const va = Number(a), vb = Number(b);
    const v = va + (vb - va) * w;
    // Integers and integer-backed types interpolate to the nearest value they can hold.
    values[r] = kind === 'f64' ? v : BigInt(Math.round(v));
    if (floats !== undefined) floats[r] = v;
  }
}

/** A tag column: Dictionary<Utf8, Int32> like the scan's. */
export function tagColumn(tag: string, values: (string | null)[]): { field: Field; data: Data } {
  const rows = values.length;
  const type = new Dictionary(new Utf8(), new Int32());
  const dictValues: string[] = [];
  const dictIndex = new Map<string, number>();
  const indices = new Int32Array(rows);
  const validity = new Uint8Array((rows + 7) >> 3);
  let nulls = 0;
  for (let r = 0; r < rows; r++) {
    const v = values[r]!;
    if (v === null) { nulls++; continue; }
    let k = dictIndex.get(v);
    if (k === undefined) { k = dictValues.length; dictValues.push(v); dictIndex.set(v, k); }
    indices[r] = k;
    validity[r >> 3]! |= 1 << (r & 7);
  }
  const dictionary = vectorFromArray(dictValues, new Utf8());
  return {
    field: new Field(tag, type, nulls > 0),
    data: makeData({ type, length: rows, nullCount: nulls, nullBitmap: nulls > 0 ? validity : undefined, data: indices, dictionary } as never),
  };
}

/**
 * A Float64 result column without gap filling, each value written straight into the typed
 * array: no array of boxed numbers beside it (24,000 rows × 10 columns of Q4 at scale 10 were
 * 240,000 heap numbers). The same column as `column()` builds: null (or undefined) is invalid
 * with 0 stored, a number is stored with its bits, any other value is valid with 0 stored.
 */
function floatColumn(name: string, rows: number, valueAt: (row: number) => Value): { field: Field; data: Data } {
  const out = new Float64Array(rows);
  const validity = new Uint8Array((rows + 7) >> 3);
  let nulls = 0;
  for (let r = 0; r < rows; r++) {
    const v = valueAt(r);
    if (v === null || v === undefined) { nulls++; continue; }
    validity[r >> 3]! |= 1 << (r & 7);
    if (typeof v === 'number') out[r] = v;
  }
  const type = new Float64();
  return { field: new Field(name, type, true), data: makeData({ type, length: rows, nullCount: nulls, nullBitmap: nulls > 0 ? validity : undefined, data: out }) };
}

/** A result column; `floats`, for kind f64, holds the values' exact bits (values then says only which are null). */
export function column(name: string, kind: OutKind, values: Value[], floats?: Float64Array): { field: Field; data: Data } {
  const n = values.length;
  let nulls = 0;
  const validity = new Uint8Array((n + 7) >> 3);
  for (let r = 0; r < n; r++) {
    if (values[r] === null || values[r] === undefined) nulls++;
    else validity[r >> 3]! |= 1 << (r & 7);
  }
  const nullBitmap = nulls > 0 ? validity : undefined;
  if (typeof kind === 'object') {
    const info = fieldTypeInfo(kind.type);
    return { field: new Field(name, info.arrow, true), data: fieldData(info, values.map((v) => (v === undefined ? null : v as FieldValue | null))) };
  }
  switch (kind) {
    case 'f64': {
      const out = floats ?? new Float64Array(n);
      if (floats === undefined) for (let r = 0; r < n; r++) out[r] = values[r] === null ? 0 : Number(values[r]);
      else for (let r = 0; r < n; r++) if (values[r] === null || values[r] === undefined) out[r] = 0;
      const type = new Float64();
      return { field: new Field(name, type, true), data: makeData({ type, length: n, nullCount: nulls, nullBitmap, data: out }) };
    }
    case 'i64': case 'u64': {
      const out = kind === 'i64' ? new BigInt64Array(n) : new BigUint64Array(n);
      for (let r = 0; r < n; r++) out[r] = values[r] === null ? 0n : BigInt(values[r] as bigint);
      const type = kind === 'i64' ? new Int64() : new Uint64();
      return { field: new Field(name, type, true), data: makeData({ type, length: n, nullCount: nulls, nullBitmap, data: out } as never) };
    }
    case 'bool': {
      const type = new Bool();
      return { field: new Field(name, type, true), data: vectorFromArray(values as (boolean | null)[], type).data[0]! };
    }
    case 'utf8': {
      const type = new Utf8();
      return { field: new Field(name, type, true), data: vectorFromArray(values as (string | null)[], type).data[0]! };
    }
  }
}
