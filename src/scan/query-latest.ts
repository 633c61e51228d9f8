import { Field, makeData, type Data, type DataType, type RecordBatch, type Table } from 'apache-arrow';
import { AbortError, SchemaError } from '../errors.js';
import type { QueryableTable, QueryOptions } from './query-types.js';
import type { FieldSpec, TableSchema } from '../core/types.js';
import { bigint64Values, boolAt, columnData, columnView, float64Values, int64ToFloat64, isValidAt, utf8At, type ColumnView } from './aggregate-column.js';
import { GroupRegistry, newGroupRuns, sortedGroups, type GroupRuns } from './query-groups.js';
import { fieldKind, type QueryPlan } from './query-plan.js';
import { applyFilter, predicateColumns } from './predicate.js';
import { column, tableOf, tagColumn, timestampType, type Value } from './query-output.js';
import { consumeWindows, latestWindows } from './query-latest-windows.js';
import { NS_PER_UNIT } from '../core/time.js';
import { fieldTypeInfo, importFieldTypeOf, valueAt } from '../format/field-types.js';
import { releaseBatch } from '../format/buffer-pool.js';

/**
 * `latest`: the last row (greatest time; on a tie the row scanned last) of every series —
 * or of every `by` group — with its field values as they are in that row (nulls included).
 * Columns: time, the series tags, then the fields asked for in `columns` (default all).
 *
 * Per batch a float compare per row finds each series' latest row in the batch; one exact
 * BigInt compare per series and batch merges it with the best so far, copying only then.
 */
export async function runLatest(table: QueryableTable, options: QueryOptions, plan: QueryPlan): Promise<Table> {
  const schema = table.schema;
  const tags = options.by ?? schema.tags;
  const fieldSpecs = options.columns
    ? options.columns.filter((c) => !schema.tags.includes(c) && c !== schema.time).map((c) => {
      const spec = schema.fields.find((f) => f.name === c);
      if (!spec) throw new SchemaError(`query latest columns: ${JSON.stringify(c)} is not a column of the table`);
      return spec;
    })
    : schema.fields;
  const scanColumns = new Set<string>([...tags, ...fieldSpecs.map((f) => f.name)]);
  if (options.filter) for (const c of predicateColumns(options.filter)) scanColumns.add(c);

  const apply = (batch: RecordBatch) => (options.filter ? applyFilter(batch, options.filter) : batch);
  const filterColumns = options.filter ? [...predicateColumns(options.filter)] : [];
  if (table.scanWithSummaries) {
    // Newest time window first, skipping pages of groups found in newer windows (query-latest-windows.ts).
    const withSummaries = table as QueryableTable & Required<Pick<QueryableTable, 'scanWithSummaries'>>;
    const windows = await latestWindows(withSummaries, options, plan);
    if (windows !== null) {
      const state = new LatestState(schema.time, tags, fieldSpecs.map((f) => f.name));
      const probe = { columns: [...new Set([...tags, ...filterColumns])], make: () => new LatestState(schema.time, tags, []) };
      await consumeWindows(withSummaries, options, windows, tags, [...scanColumns], state, apply, probe);
      return latestTable(schema, tags, fieldSpecs, plan, state);
    }
  }
  const consumeAll = async (state: LatestState, from: QueryOptions['from'], columns: string[]) => {
    const scan = table.scan({ from, to: options.to, where: options.where, signal: options.signal, version: options.version, columns, order: 'any' });
    for await (const batch of scan) {
      if (options.signal?.aborted) throw new AbortError('query aborted');
      const rows = apply(batch);
      if (rows.numRows > 0) state.consume(rows);
      releaseBatch(batch); // the state copies the values it keeps
    }
  };
  // Without page summaries: phase 1 reads only time, tags (and filter columns) to find each
  // series' latest time; phase 2 reads the fields from the earliest of those times on, so a
  // table's history is decoded once for time and tags but its fields only near the end.
  let from = options.from;
  if (fieldSpecs.length > 0) {
    const probe = new LatestState(schema.time, tags, []);
    await consumeAll(probe, options.from, [...new Set([...tags, ...filterColumns])]);
    let earliest: bigint | null = null;
    for (const t of probe.bestTime) if (t !== undefined && (earliest === null || t < earliest)) earliest = t;
    // No row at all: the empty result, with every column typed.
    if (earliest === null) return latestTable(schema, tags, fieldSpecs, plan, probe);
    from = earliest * NS_PER_UNIT[schema.timeUnit];
  }
  const state = new LatestState(schema.time, tags, fieldSpecs.map((f) => f.name));
  await consumeAll(state, from, [...scanColumns]);
  return latestTable(schema, tags, fieldSpecs, plan, state);
}

function latestTable(schema: TableSchema, tags: string[], fieldSpecs: FieldSpec[], plan: QueryPlan, state: LatestState): Table {
  const { registry, bestTime, bestValues, timeType } = state;

  const order = sortedGroups(registry).filter((s) => bestTime[s] !== undefined);
  const rows = plan.limit !== null ? Math.min(plan.limit, order.length) : order.length;
  const fields: Field[] = [];
  const columns: Data[] = [];
  const type = timeType ?? timestampType(schema.timeUnit);
  const times = new BigInt64Array(rows);
  for (let r = 0; r < rows; r++) times[r] = bestTime[order[r]!]!;
  fields.push(new Field(schema.time, type, false));
  columns.push(makeData({ type, length: rows, nullCount: 0, data: times } as never));
  tags.forEach((tag, t) => {
    const c = tagColumn(tag, Array.from({ length: rows }, (_, r) => registry.groupValues[order[r]!]![t]!));
    fields.push(c.field); columns.push(c.data);
  });
  fieldSpecs.forEach((spec, f) => {
    const kind = fieldKind(spec.type);
    const values = Array.from({ length: rows }, (_, r) => bestValues[f]?.[order[r]!] ?? null);
    if (spec.type === 'float64') {
      const c = float64Column(spec.name, values as (F64Bits | null)[]);
      fields.push(c.field); columns.push(c.data);
      return;
    }
    const plain = kind === 'i64' || kind === 'u64' || kind === 'bool' || kind === 'utf8';
    const c = column(spec.name, plain && (spec.type === 'int64' || spec.type === 'uint64' || spec.type === 'bool' || spec.type === 'utf8') ? kind : { type: spec.type }, values as Value[]);
    fields.push(c.field); columns.push(c.data);
  });
  return tableOf(fields, columns, rows);
}

/**
 * Per-batch work of `latest`, kept out of the async loop so that V8 optimizes it. It keeps no
 * view of a batch (values are copied: float bits, bigints, strings, bytes), so its callers give
 * each batch's decode buffers back once consumed.
 */
class LatestState {
  readonly registry: GroupRegistry;
  readonly bestTime: bigint[] = [];
  /** Per field, per group: the value (float64 values as their bits: a JS array may canonicalize NaN). */
  readonly bestValues: (Value | F64Bits)[][];
  timeType: DataType | null = null;
  private readonly runs: GroupRuns = newGroupRuns();
  private batchRow = new Int32Array(0);
  private batchRel = new Float64Array(0);
  private rel = new Float64Array(0);

  constructor(private readonly time: string, private readonly tags: string[], private readonly fields: string[]) {
    this.registry = new GroupRegistry(tags);
    this.bestValues = fields.map(() => []);
  }

  /** Tag values of the groups that have a row. */
  *foundGroups(): Iterable<readonly (string | null)[]> {
    for (const { values } of this.latestTimes()) yield values;
  }

  /** The groups that have a row, with their latest time. */
  *latestTimes(): Iterable<{ values: readonly (string | null)[]; time: bigint }> {
    for (let g = 0; g < this.registry.size; g++) {
      const time = this.bestTime[g];
      if (time !== undefined) yield { values: this.registry.groupValues[g]!, time };
    }
  }

  consume(batch: RecordBatch): void {
    const n = batch.numRows;
    const timeData = columnData(batch, this.time, 'query latest');
    this.timeType ??= timeData.type;
    const times = bigint64Values(timeData) as BigInt64Array;
    if (this.rel.length < n) this.rel = new Float64Array(n);
    const rel = this.rel;
    int64ToFloat64(timeData, times[0]!, false, rel.subarray(0, n));
    const runs = this.runs;
    if (this.tags.length > 0) this.registry.resolveRuns(batch, runs);
    else {
      if (this.registry.size === 0) this.registry.groupValues.push([]);
      runs.start[0] = 0; runs.end[0] = n; runs.group[0] = 0; runs.count = 1;
    }
    if (this.batchRow.length < this.registry.size) {
      this.batchRow = new Int32Array(Math.max(this.registry.size, this.batchRow.length * 2)).fill(-1);
      this.batchRel = new Float64Array(this.batchRow.length);
    }
    const batchRow = this.batchRow, batchRel = this.batchRel;
    const touched: number[] = [];
    for (let r = 0; r < runs.count; r++) {
      const a = runs.start[r]!, b = runs.end[r]!, g = runs.group[r]!;
      // Latest row of the run; on equal times the later row wins.
      let at = a, t = rel[a]!;
      for (let i = a + 1; i < b; i++) { const x = rel[i]!; if (x >= t) { t = x; at = i; } }
      const best = batchRow[g]!;
      if (best < 0) { batchRow[g] = at; batchRel[g] = t; touched.push(g); }
      else if (t >= batchRel[g]!) { batchRow[g] = at; batchRel[g] = t; }
    }
    // A batch without a field (written before it was added) holds only nulls of it.
    const views = this.fields.map((f) => (batch.schema.fields.some((g) => g.name === f) ? columnView(batch, f, 'query latest') : null));
    for (const g of touched) {
      const row = batchRow[g]!;
      batchRow[g] = -1;
      const t = times[row]!;
      if (this.bestTime[g] !== undefined && t < this.bestTime[g]!) continue;
      this.bestTime[g] = t;
      views.forEach((view, f) => { this.bestValues[f]![g] = view ? fieldValueAt(view, row) : null; });
    }
  }
}

/**
 * A float64 value as its 64 bits. Held as a number, a NaN's payload and sign may be lost
 * (V8 canonicalizes NaN stored into arrays of doubles): latest returns the stored bits.
 */
class F64Bits {
  constructor(readonly bits: bigint) {}
}

/** A float64 result column from stored bits (query-output's column() over their Float64Array view). */
function float64Column(name: string, values: readonly (F64Bits | null)[]): { field: Field; data: Data } {
  const bits = new BigInt64Array(values.length);
  values.forEach((v, r) => { if (v !== null) bits[r] = v.bits; });
  return column(name, 'f64', values.map((v) => (v === null ? null : 0)), new Float64Array(bits.buffer));
}

function fieldValueAt(view: ColumnView, row: number): Value | F64Bits {
  if (!isValidAt(view, row)) return null;
  switch (view.kind) {
    case 'f64': {
      const values = float64Values(view.data);
      return new F64Bits(new BigInt64Array(values.buffer, values.byteOffset, values.length)[row]!);
    }
    case 'i64': case 'u64': return bigint64Values(view.data)[row]!;
    case 'bool': return boolAt(view, row);
    case 'utf8': return utf8At(view, row);
    case 'time': case 'w32': case 'w64': case 'fixed': case 'bytes': {
      // Types other than the numbers: the stored integer or the bytes (query-output types the column).
      const type = importFieldTypeOf(view.data.type);
      if (type === null || typeof type === 'string') throw new SchemaError(`query latest: unexpected ${String(view.data.type)} field column`);
      const info = fieldTypeInfo(type.type);
      const v = valueAt(info, view.data, row);
      return v instanceof Uint8Array ? v.slice() : v;
    }
    default: throw new SchemaError(`query latest: unexpected ${view.kind} field column`);
  }
}
