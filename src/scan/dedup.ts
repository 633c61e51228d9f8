import { makeData, RecordBatch, Struct, type Data } from 'apache-arrow';
import type { DuplicatePolicy } from '../core/types.js';
import { columnData } from './aggregate-column.js';
import { takeData } from './predicate-take.js';

/**
 * The duplicate policy of a table (TableOptions.duplicates) applied to rows sorted by series
 * then time whose ties (rows of one series at one time) are in write order: earlier writes
 * first. `last` and `first` fold each run of ties into one row, **field by field**: each field
 * takes the last (`last`) or first (`first`) non-null value the run holds, null when it holds
 * none; tags and time are the run's. `keep` folds nothing. The written chunks, the scan's merge
 * of overlapping chunks and compaction all resolve duplicates here.
 *
 * Arrow JS conventions as in predicate-take.ts: value buffers are pre-sliced, validity bitmaps
 * are read at `offset + row`.
 */
export interface Deduplicated {
  batch: RecordBatch;
  /** Rows that met an earlier row of their (series, time): folded away (last/first) or kept (keep). */
  duplicates: number;
  /** Non-null field values that met an earlier non-null value of their field at their (series, time). */
  values: number;
}

/** Whether a policy folds duplicates (tables without a policy keep them: created before policies). */
export function folds(policy: DuplicatePolicy | undefined): policy is 'last' | 'first' {
  return policy === 'last' || policy === 'first';
}

/** Row i's validity in `data` (true when the column has no null). Also the key merge's (table/key-merge.ts). */
export function validAt(data: Data, i: number): boolean {
  if (!(data.nullCount > 0) || !data.nullBitmap || data.nullBitmap.length === 0) return true;
  const bit = data.offset + i;
  return ((data.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

/**
 * Run starts of equal (series, time) in a batch sorted by series then time: `starts[k]` is the
 * first row of run k, `starts[runs]` = n. Null when every row is its own run.
 */
export function tieRuns(batch: RecordBatch, tags: readonly string[], time: string): Int32Array | null {
  const n = batch.numRows;
  if (n < 2) return null;
  const t = columnData(batch, time, 'deduplicate').values as BigInt64Array;
  const t32 = new Int32Array(t.buffer, t.byteOffset, n * 2);
  const tagData = tags.filter((tag) => batch.schema.fields.some((f) => f.name === tag)).map((tag) => columnData(batch, tag, 'deduplicate'));
  const codes = tagData.map((d) => d.values as Int32Array);
  let starts: Int32Array | null = null;
  let runs = 0;
  for (let i = 1; i < n; i++) {
    let same = t32[2 * i] === t32[2 * i - 2] && t32[2 * i + 1] === t32[2 * i - 1];
    for (let k = 0; same && k < tagData.length; k++) {
      const d = tagData[k]!;
      const a = validAt(d, i - 1), b = validAt(d, i);
      same = a === b && (!a || codes[k]![i] === codes[k]![i - 1]);
    }
    if (same) {
      if (starts === null) {
        starts = new Int32Array(n + 1);
        for (let j = 0; j < i; j++) starts[j] = j;
        runs = i;
      }
    } else if (starts !== null) starts[runs++] = i;
  }
  if (starts === null) return null;
  starts[runs] = n;
  return starts.subarray(0, runs + 1);
}

/** Applies `policy` to a batch sorted by series then time, ties in write order (see the module comment). */
export function deduplicateSorted(batch: RecordBatch, tags: readonly string[], time: string, policy: DuplicatePolicy | undefined): Deduplicated {
  const starts = tieRuns(batch, tags, time);
  if (starts === null) return { batch, duplicates: 0, values: 0 };
  const runs = starts.length - 1;
  const duplicates = batch.numRows - runs;
  const keyColumns = new Set([time, ...tags]);
  let values = 0;
  batch.schema.fields.forEach((field, c) => {
    if (keyColumns.has(field.name)) return;
    const data = batch.data.children[c]! as Data;
    for (let k = 0; k < runs; k++) {
      let valid = 0;
      for (let r = starts[k]!; r < starts[k + 1]!; r++) if (validAt(data, r)) valid++;
      if (valid > 1) values += valid - 1;
    }
  });
  if (!folds(policy)) return { batch, duplicates, values };
  const last = policy === 'last';
  const keys = new Int32Array(runs);
  for (let k = 0; k < runs; k++) keys[k] = last ? starts[k + 1]! - 1 : starts[k]!;
  const children = batch.schema.fields.map((field, c) => {
    const data = batch.data.children[c]! as Data;
    if (keyColumns.has(field.name) || !(data.nullCount > 0)) return takeData(data, keys, field.name);
    // Field by field: the last (first) non-null value of the run, the run's last (first) row when none.
    const picks = new Int32Array(runs);
    for (let k = 0; k < runs; k++) {
      const s = starts[k]!, e = starts[k + 1]!;
      let pick = keys[k]!;
      if (last) { for (let r = e - 1; r >= s; r--) if (validAt(data, r)) { pick = r; break; } }
      else for (let r = s; r < e; r++) if (validAt(data, r)) { pick = r; break; }
      picks[k] = pick;
    }
    return takeData(data, picks, field.name);
  });
  const out = new RecordBatch(batch.schema, makeData({ type: new Struct(batch.schema.fields), length: runs, nullCount: 0, children }));
  return { batch: out, duplicates, values };
}
