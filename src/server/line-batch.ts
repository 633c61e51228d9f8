/**
 * A measurement's line columns checked against its table and cut into one Arrow batch: a
 * point with a tag the table lacks (and could not add: new-tags.ts), a field of another type than the table's (or than the
 * first point of the request that names a new field), a field named as the time column or a
 * tag, or a time finer than the table's unit is refused with its line's error; the others
 * become the batch (times at the table's unit, tags as dictionaries, fields null where a
 * point lacks them). Checks run per series and per column, not per value.
 */
import { type Data, Dictionary, Bool, Float64, Int32, Int64, makeData, makeVector, RecordBatch, Timestamp, Uint64, Utf8 } from 'apache-arrow';
import { ARROW_TIME_UNIT } from '../core/arrow-schema.js';
import { NS_PER_UNIT } from '../core/time.js';
import type { TableSchema } from '../core/types.js';
import { validateColumnName } from '../table/names.js';
import type { FieldBuilder, MeasurementData } from './line-columns.js';
import { utf8Data, type PointError } from './points.js';

/** What a table accepts: its schema, and field types by name (claims of earlier writes included). */
export interface LineTarget {
  name: string;
  schema: TableSchema;
  fields: Map<string, string>;
}

/** Why a point naming `series`'s tags cannot go into the table (undefined: it can). */
function seriesReason(target: LineTarget, tags: readonly (readonly [string, string])[]): string | undefined {
  const { schema } = target;
  for (const [k] of tags) {
    if (k === schema.time) return `tag key ${JSON.stringify(k)} is the time column's name`;
    if (!schema.tags.includes(k)) {
      const field = target.fields.has(k) ? `; ${k} is a field of it` : '';
      return `tag ${JSON.stringify(k)} is not a tag of table ${target.name} and could not be added (its tags: ${schema.tags.join(', ') || 'none'}${field})`;
    }
  }
  return undefined;
}

/** Why a field name cannot be a field of the table at all (undefined: it can). */
function nameReason(target: LineTarget, name: string): string | undefined {
  if (name === target.schema.time) return `field key ${JSON.stringify(name)} is the time column's name`;
  if (target.schema.tags.includes(name)) return `field ${JSON.stringify(name)} is a tag of table ${target.name}`;
  if (target.fields.has(name)) return undefined;
  try { validateColumnName(name); return undefined; } catch (error) { return (error as Error).message; }
}

/** Validity bitmap of `valid` bytes at `rows` (null when all are set), and the null count. */
function bitmap(valid: Uint8Array, rows: Int32Array | null, n: number): { nullBitmap?: Uint8Array; nullCount: number } {
  // Every row set (the usual column): found natively, no bitmap.
  if (!rows && valid.subarray(0, n).indexOf(0) < 0) return { nullCount: 0 };
  const bits = new Uint8Array((n + 7) >> 3);
  let set = 0;
  for (let i = 0; i < n; i++) {
    if (valid[rows ? rows[i]! : i]) { bits[i >> 3]! |= 1 << (i & 7); set++; }
  }
  return set === n ? { nullCount: 0 } : { nullBitmap: bits, nullCount: n - set };
}

function take<T extends BigInt64Array | BigUint64Array | Float64Array | Int32Array>(values: T, rows: Int32Array | null, n: number): T {
  if (!rows) return values.subarray(0, n) as T;
  const out = new (values.constructor as new (n: number) => T)(n);
  for (let i = 0; i < n; i++) out[i] = values[rows[i]!]!;
  return out;
}

function fieldData(f: FieldBuilder, rows: Int32Array | null, n: number): Data {
  const { nullBitmap, nullCount } = bitmap(f.valid, rows, n);
  switch (f.type) {
    case 'float64': return makeData({ type: new Float64(), length: n, nullCount, nullBitmap, data: take(f.values as Float64Array, rows, n) });
    case 'int64': return makeData({ type: new Int64(), length: n, nullCount, nullBitmap, data: take(f.values as BigInt64Array, rows, n) });
    case 'uint64': return makeData({ type: new Uint64(), length: n, nullCount, nullBitmap, data: take(f.values as BigUint64Array, rows, n) });
    case 'bool': {
      const bytes = f.values as Uint8Array;
      const bits = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (bytes[rows ? rows[i]! : i]) bits[i >> 3]! |= 1 << (i & 7);
      return makeData({ type: new Bool(), length: n, nullCount, nullBitmap, data: bits });
    }
    case 'utf8': {
      const strings = f.values as string[];
      const valid = f.valid;
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) { const r = rows ? rows[i]! : i; out[i] = valid[r] ? strings[r]! : ''; }
      return utf8Data(out, nullBitmap, nullCount);
    }
  }
}

/**
 * The batch of `m`'s acceptable points for `target` (undefined when none is), the errors of
 * the others, and the points written. New fields the batch brings are claimed in
 * target.fields (their type is the first point's that names them).
 */
export function lineBatch(target: LineTarget, m: MeasurementData): { batch?: RecordBatch; rows: number; errors: PointError[] } {
  const n = m.rows;
  const { schema } = target;
  const reasons: (string | undefined)[] = new Array(n);
  let refused = 0;
  const refuse = (r: number, why: string) => { if (reasons[r] === undefined) { reasons[r] = why; refused++; } };
  const bySeries = m.seriesList.map((s) => seriesReason(target, s.tags));
  if (bySeries.some((x) => x !== undefined)) for (let r = 0; r < n; r++) { const why = bySeries[m.seriesOf[r]!]; if (why) refuse(r, why); }
  // The type each field name takes: the table's, or the first acceptable point's for a new one.
  const accepted = new Map<string, FieldBuilder>();
  for (const [name, columns] of m.fields) {
    const whyName = nameReason(target, name);
    const known = target.fields.get(name);
    let first: FieldBuilder | undefined;
    if (whyName === undefined && known === undefined) {
      let at = n;
      for (const f of columns) {
        for (let r = f.firstRow; r >= 0 && r < at; r++) if (f.valid[r] && reasons[r] === undefined) { at = r; first = f; break; }
      }
    }
    for (const f of columns) {
      const why = whyName ?? (known !== undefined && known !== f.type ? `field ${JSON.stringify(name)} is ${known} in table ${target.name}, got ${f.type}`
        : first !== undefined && first.type !== f.type ? `field ${JSON.stringify(name)} is ${first.type} in table ${target.name}, got ${f.type}` : undefined);
      if (why === undefined) { accepted.set(name, f); continue; }
      if (f.firstRow < 0) continue;
      for (let r = f.firstRow; r < n; r++) if (f.valid[r]) refuse(r, why);
    }
  }
  const per = NS_PER_UNIT[schema.timeUnit];
  if (per !== 1n) {
    for (let r = 0; r < n; r++) if (m.time[r]! % per !== 0n) refuse(r, `time ${m.time[r]} ns is finer than table ${target.name}'s unit (${schema.timeUnit})`);
  }
  const errors: PointError[] = [];
  let rows: Int32Array | null = null;
  const kept = n - refused;
  if (refused > 0) {
    rows = new Int32Array(kept);
    for (let r = 0, k = 0; r < n; r++) {
      const why = reasons[r];
      if (why === undefined) rows[k++] = r;
      else errors.push({ line: m.lines[r]!, message: why });
    }
  }
  if (kept === 0) return { rows: 0, errors };
  let times = take(m.time, rows, kept);
  if (per !== 1n) { times = times.slice(); for (let i = 0; i < kept; i++) times[i] = times[i]! / per; }
  const columns: Record<string, Data> = { [schema.time]: makeData({ type: new Timestamp(ARROW_TIME_UNIT[schema.timeUnit]), length: kept, data: times }) };
  for (const name of schema.tags) {
    const t = m.tags.get(name);
    if (!t) continue;
    const { nullBitmap, nullCount } = bitmap(t.valid, rows, kept);
    if (nullCount === kept) continue;
    const type = new Dictionary<Utf8, Int32>(new Utf8(), new Int32());
    columns[name] = makeData<typeof type>({ type, length: kept, nullCount, nullBitmap, data: take(t.codes, rows, kept), dictionary: makeVector(utf8Data(t.values) as Data<Utf8>) });
  }
  for (const [name, f] of accepted) {
    if (f.firstRow < 0) continue;
    const data = fieldData(f, rows, kept);
    if (data.nullCount === kept) continue;
    columns[name] = data;
    if (!target.fields.has(name)) target.fields.set(name, f.type);
  }
  return { batch: new RecordBatch(columns), rows: kept, errors };
}
