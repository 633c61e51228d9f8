import { Field, makeData, type Data, type DataType, type Table } from 'apache-arrow';
import { AbortError, SchemaError } from '../errors.js';
import type { QueryableTable, QueryOptions } from './query-types.js';
import { bigint64Values, boolAt, columnData, columnView, float64Values, int64ToFloat64, isValidAt, utf8At, type ColumnView } from './aggregate-column.js';
import { GroupRegistry, sortedGroups } from './query-groups.js';
import { fieldKind, type QueryPlan } from './query-plan.js';
import { applyFilter, predicateColumns } from './predicate.js';
import { column, tableOf, tagColumn, timestampType, type Value } from './query-output.js';

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

  const registry = new GroupRegistry(tags);
  const bestTime: bigint[] = [];
  const bestValues: Value[][] = fieldSpecs.map(() => []);
  let batchRow = new Int32Array(0);
  let batchRel = new Float64Array(0);
  let rel = new Float64Array(0);
  let ids = new Int32Array(0);
  let timeType: DataType | null = null;
  const scan = table.scan({
    from: options.from, to: options.to, where: options.where, signal: options.signal, version: options.version,
    columns: [...scanColumns],
  });
  for await (let batch of scan) {
    if (options.signal?.aborted) throw new AbortError('query aborted');
    if (options.filter) batch = applyFilter(batch, options.filter);
    const n = batch.numRows;
    if (n === 0) continue;
    const timeData = columnData(batch, schema.time, 'query latest');
    timeType ??= timeData.type;
    const times = bigint64Values(timeData) as BigInt64Array;
    if (rel.length < n) { rel = new Float64Array(n); ids = new Int32Array(n); }
    int64ToFloat64(timeData, times[0]!, false, rel);
    registry.resolve(batch, ids.subarray(0, n));
    if (registry.size === 0) registry.groupValues.push([]);
    if (batchRow.length < registry.size) {
      const grown = new Int32Array(Math.max(registry.size, batchRow.length * 2)).fill(-1);
      batchRow = grown;
      batchRel = new Float64Array(grown.length);
    }
    const touched: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = tags.length ? ids[i]! : 0;
      const t = rel[i]!;
      const best = batchRow[s]!;
      if (best < 0) { batchRow[s] = i; batchRel[s] = t; touched.push(s); }
      else if (t >= batchRel[s]!) { batchRow[s] = i; batchRel[s] = t; }
    }
    // A batch without a field (written before it was added) holds only nulls of it.
    const views = fieldSpecs.map((f) => (batch.schema.fields.some((g) => g.name === f.name) ? columnView(batch, f.name, 'query latest') : null));
    for (const s of touched) {
      const row = batchRow[s]!;
      batchRow[s] = -1;
      const t = times[row]!;
      if (bestTime[s] !== undefined && t < bestTime[s]!) continue;
      bestTime[s] = t;
      views.forEach((view, f) => { bestValues[f]![s] = view ? valueAt(view, row) : null; });
    }
  }

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
    const values = Array.from({ length: rows }, (_, r) => bestValues[f]![order[r]!] ?? null);
    const c = column(spec.name, kind === '*' ? 'i64' : kind, values);
    fields.push(c.field); columns.push(c.data);
  });
  return tableOf(fields, columns, rows);
}

function valueAt(view: ColumnView, row: number): Value {
  if (!isValidAt(view, row)) return null;
  switch (view.kind) {
    case 'f64': return float64Values(view.data)[row]!;
    case 'i64': case 'u64': return bigint64Values(view.data)[row]!;
    case 'bool': return boolAt(view, row);
    case 'utf8': return utf8At(view, row);
    default: throw new SchemaError(`query latest: unexpected ${view.kind} field column`);
  }
}
