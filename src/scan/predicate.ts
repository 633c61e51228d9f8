import type { RecordBatch } from 'apache-arrow';
import { SchemaError, UsageError } from '../errors.js';
import type { ComparisonOp, FieldPredicate, PredicateValue } from './query-types.js';
import {
  bigint64Values, columnView, dictionaryStrings, float64Values, int32Values, utf8At, type ColumnView,
} from './aggregate-column.js';
import { takeRows } from './predicate-take.js';

/**
 * Field predicates: vectorized evaluation over a RecordBatch into a truth array, and row
 * selection. SQL three-valued logic, encoded so that AND is min, OR is max and NOT is
 * 2 − x: FALSE = 0, UNKNOWN (a null compared) = 1, TRUE = 2. A row is kept when TRUE.
 *
 * Comparisons run one typed-array loop per leaf: float64 against numbers, int64/uint64
 * exactly as BigInt (or as float when the constant is fractional), booleans and strings by
 * value; a tag (dictionary) column is compared once per dictionary entry, then mapped.
 */

export const FALSE = 0;
export const UNKNOWN = 1;
export const TRUE = 2;

/** Nesting deeper than this is a generated predicate gone wrong. */
export const PREDICATE_DEPTH_MAX = 64;

const OPS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=', '=', '!=', 'between', 'isNull', 'isNotNull']);

/** Names of the columns a predicate reads (validating its shape). */
export function predicateColumns(predicate: FieldPredicate, out: Set<string> = new Set(), depth = 0): Set<string> {
  if (depth > PREDICATE_DEPTH_MAX) throw new UsageError(`filter: nesting deeper than ${PREDICATE_DEPTH_MAX}`);
  if (predicate === null || typeof predicate !== 'object') throw new UsageError(`filter: expected a predicate object, got ${JSON.stringify(predicate)}`);
  if ('and' in predicate || 'or' in predicate) {
    const list = 'and' in predicate ? predicate.and : predicate.or;
    if (!Array.isArray(list)) throw new UsageError(`filter: 'and'/'or' expects an array of predicates`);
    for (const p of list) predicateColumns(p, out, depth + 1);
    return out;
  }
  if ('not' in predicate) return predicateColumns(predicate.not, out, depth + 1);
  if (typeof predicate.field !== 'string' || !OPS.has(predicate.op)) {
    throw new UsageError(`filter: expected {field, op} with op among ${[...OPS].join(' ')}, got ${JSON.stringify(predicate)}`);
  }
  out.add(predicate.field);
  return out;
}

/** Truth value per row (FALSE / UNKNOWN / TRUE). */
export function evaluatePredicate(batch: RecordBatch, predicate: FieldPredicate): Uint8Array {
  const n = batch.numRows;
  if ('and' in predicate || 'or' in predicate) {
    const isAnd = 'and' in predicate;
    const list = isAnd ? (predicate as { and: FieldPredicate[] }).and : (predicate as { or: FieldPredicate[] }).or;
    const out = new Uint8Array(n).fill(isAnd ? TRUE : FALSE);
    for (const p of list) {
      const t = evaluatePredicate(batch, p);
      if (isAnd) { for (let i = 0; i < n; i++) if (t[i]! < out[i]!) out[i] = t[i]!; }
      else { for (let i = 0; i < n; i++) if (t[i]! > out[i]!) out[i] = t[i]!; }
    }
    return out;
  }
  if ('not' in predicate) {
    const t = evaluatePredicate(batch, predicate.not);
    for (let i = 0; i < n; i++) t[i] = TRUE - t[i]!;
    return t;
  }
  const view = columnView(batch, predicate.field, 'filter');
  const out = new Uint8Array(n);
  if (predicate.op === 'isNull' || predicate.op === 'isNotNull') {
    const want = predicate.op === 'isNull' ? 0 : 1;
    for (let i = 0; i < n; i++) out[i] = validBit(view, i) === want ? TRUE : FALSE;
    return out;
  }
  if (predicate.op === 'between') {
    const low = compareLeaf(view, '>=', predicate.low, predicate.field);
    const high = compareLeaf(view, '<=', predicate.high, predicate.field);
    for (let i = 0; i < n; i++) out[i] = low[i]! < high[i]! ? low[i]! : high[i]!;
    return out;
  }
  const leaf = predicate as { field: string; op: ComparisonOp; value: PredicateValue };
  return compareLeaf(view, leaf.op, leaf.value, leaf.field);
}

/** The rows of `batch` where `predicate` is TRUE (the batch itself when all are). */
export function applyFilter(batch: RecordBatch, predicate: FieldPredicate): RecordBatch {
  predicateColumns(predicate);
  const truth = evaluatePredicate(batch, predicate);
  let kept = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === TRUE) kept++;
  if (kept === truth.length) return batch;
  const rows = new Int32Array(kept);
  for (let i = 0, j = 0; i < truth.length; i++) if (truth[i] === TRUE) rows[j++] = i;
  return takeRows(batch, rows);
}

function validBit(view: ColumnView, row: number): number {
  const v = view.validity;
  if (v === null) return 1;
  const bit = view.validityOffset + row;
  return (v[bit >> 3]! >> (bit & 7)) & 1;
}

/** Sets UNKNOWN where the column is null (after a loop that ignored validity). */
function maskNulls(view: ColumnView, out: Uint8Array): Uint8Array {
  if (view.validity === null) return out;
  for (let i = 0; i < out.length; i++) if (validBit(view, i) === 0) out[i] = UNKNOWN;
  return out;
}

type Cmp<T> = (a: T, b: T) => boolean;
function comparator<T>(op: ComparisonOp): Cmp<T> {
  switch (op) {
    case '<': return (a, b) => a < b;
    case '<=': return (a, b) => a <= b;
    case '>': return (a, b) => a > b;
    case '>=': return (a, b) => a >= b;
    case '=': return (a, b) => a === b;
    case '!=': return (a, b) => a !== b;
  }
}

function typeError(field: string, kind: string, value: PredicateValue): SchemaError {
  return new SchemaError(`filter on ${JSON.stringify(field)}: cannot compare a ${kind} column with ${typeof value} ${String(value)}`);
}

function compareLeaf(view: ColumnView, op: ComparisonOp | '>=' | '<=', value: PredicateValue, field: string): Uint8Array {
  const n = view.length;
  const out = new Uint8Array(n);
  switch (view.kind) {
    case 'f64': {
      if (typeof value !== 'number' && typeof value !== 'bigint') throw typeError(field, 'float64', value);
      const c = Number(value);
      const v = float64Values(view.data);
      // One loop per operator: the comparison is inlined, no call per row.
      switch (op) {
        case '<': for (let i = 0; i < n; i++) out[i] = v[i]! < c ? TRUE : FALSE; break;
        case '<=': for (let i = 0; i < n; i++) out[i] = v[i]! <= c ? TRUE : FALSE; break;
        case '>': for (let i = 0; i < n; i++) out[i] = v[i]! > c ? TRUE : FALSE; break;
        case '>=': for (let i = 0; i < n; i++) out[i] = v[i]! >= c ? TRUE : FALSE; break;
        case '=': for (let i = 0; i < n; i++) out[i] = v[i]! === c ? TRUE : FALSE; break;
        case '!=': for (let i = 0; i < n; i++) out[i] = v[i]! !== c ? TRUE : FALSE; break;
      }
      return maskNulls(view, out);
    }
    case 'i64': case 'u64': case 'time': {
      if (typeof value !== 'number' && typeof value !== 'bigint') throw typeError(field, view.kind, value);
      const v = bigint64Values(view.data);
      if (typeof value === 'number' && !Number.isInteger(value)) {
        const cmp = comparator<number>(op);
        for (let i = 0; i < n; i++) out[i] = cmp(Number(v[i]!), value) ? TRUE : FALSE;
      } else {
        const c = BigInt(value);
        const cmp = comparator<bigint>(op);
        for (let i = 0; i < n; i++) out[i] = cmp(v[i]!, c) ? TRUE : FALSE;
      }
      return maskNulls(view, out);
    }
    case 'i32': {
      if (typeof value !== 'number') throw typeError(field, 'int32', value);
      const v = int32Values(view.data);
      const cmp = comparator<number>(op);
      for (let i = 0; i < n; i++) out[i] = cmp(v[i]!, value) ? TRUE : FALSE;
      return maskNulls(view, out);
    }
    case 'bool': {
      if (typeof value !== 'boolean') throw typeError(field, 'bool', value);
      const bits = view.data.values as Uint8Array;
      const off = view.data.offset;
      const c = value ? 1 : 0;
      const cmp = comparator<number>(op);
      for (let i = 0; i < n; i++) out[i] = cmp((bits[(off + i) >> 3]! >> ((off + i) & 7)) & 1, c) ? TRUE : FALSE;
      return maskNulls(view, out);
    }
    case 'utf8': {
      if (typeof value !== 'string') throw typeError(field, 'utf8', value);
      const cmp = comparator<string>(op);
      for (let i = 0; i < n; i++) {
        const s = utf8At(view, i);
        out[i] = s === null ? UNKNOWN : cmp(s, value) ? TRUE : FALSE;
      }
      return out;
    }
    case 'w32': case 'w64': case 'fixed': case 'bytes':
      throw new SchemaError(`filter on ${JSON.stringify(field)}: comparisons of ${String(view.data.type)} columns are not supported (isNull and isNotNull are)`);
    case 'dict': {
      if (typeof value !== 'string') throw typeError(field, 'tag', value);
      const cmp = comparator<string>(op);
      const entries = dictionaryStrings(view.data, `filter on ${field}`);
      const truth = new Uint8Array(entries.length);
      for (let k = 0; k < entries.length; k++) truth[k] = entries[k] === null ? UNKNOWN : cmp(entries[k]!, value) ? TRUE : FALSE;
      const codes = int32Values(view.data);
      for (let i = 0; i < n; i++) out[i] = truth[codes[i]!]!;
      return maskNulls(view, out);
    }
  }
}
