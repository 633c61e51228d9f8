/**
 * How many rows (and field values) of an import meet a point already there: exact for the
 * whole import, in memory bounded by a page per chunk compared.
 *
 * A row of the import is a duplicate when its (series, time) is already in the table (as of
 * the version the import commits on top of) or earlier in the import; a field value is a
 * duplicate when a non-null value of its field is already there at that (series, time). Under
 * 'last' such rows replaced the earlier ones (field by field), under 'first' they were folded
 * into them, under 'keep' they are stored beside them.
 *
 * Counted in two parts:
 * - inside each written chunk, by writeChunks (scan/dedup.ts: the rows of one (series, time)
 *   sit next to each other in a chunk, sorted by series then time);
 * - across chunks: only chunks that may share a (series, time) (scan/key-range.ts) can. The
 *   import's chunks and the table's chunks that may share one with them are grouped
 *   (sharingClusters), and each group is merged k ways, page by page (key-merge.ts: every
 *   chunk is sorted by series then time), counting for each (series, time) the
 *   rows and non-null values the import adds beyond the first (or all of them, when the table
 *   held the point). Under 'keep' a chunk of such a group still holds its own duplicates, so
 *   its first part is not added again.
 */
import { openChunk } from '../format/index.js';
import type { ChunkEntry, DuplicatePolicy } from '../core/types.js';
import { folds } from '../scan/dedup.js';
import { mayShareKeys, sharingClusters } from '../scan/key-range.js';
import { storeSource } from './store-source.js';
import { mergeByKey } from './key-merge.js';
import type { ChunkManager } from '../chunk-manager/chunk-manager.js';

export interface DuplicateCount {
  /** Rows whose (series, time) was already in the table or earlier in the import. */
  rows: number;
  /** Non-null field values whose field already held a value at their (series, time). */
  values: number;
}

export interface CountInput {
  store: ChunkManager;
  tags: readonly string[];
  time: string;
  policy: DuplicatePolicy | undefined;
  /** The table's chunks before the import. */
  existing: readonly ChunkEntry[];
  /** The import's chunks, and what writeChunks counted inside each. */
  added: readonly ChunkEntry[];
  inside: readonly DuplicateCount[];
}

export async function countImportDuplicates(input: CountInput): Promise<DuplicateCount> {
  const { tags, added } = input;
  const isNew = new Set(added);
  // A point of the import can only be in a chunk that may share keys with the import's chunk of it.
  const touched = input.existing.filter((e) => added.some((a) => mayShareKeys(e, a, tags)));
  const groups = sharingClusters([...touched, ...added], tags).filter((g) => g.some((c) => isNew.has(c)));
  const merged = new Set(groups.flat());
  const total: DuplicateCount = { rows: 0, values: 0 };
  added.forEach((chunk, i) => {
    if (folds(input.policy) || !merged.has(chunk)) { total.rows += input.inside[i]?.rows ?? 0; total.values += input.inside[i]?.values ?? 0; }
  });
  for (const group of groups) {
    const part = await countGroup(input, group, isNew);
    total.rows += part.rows;
    total.values += part.values;
  }
  return total;
}

/** The k-way merge of one group (see the module comment). */
async function countGroup(input: CountInput, group: readonly ChunkEntry[], isNew: Set<ChunkEntry>): Promise<DuplicateCount> {
  const readers = await Promise.all(group.map((c) => openChunk(storeSource(input.store, c.key, c.bytes))));
  const keyColumns = new Set([input.time, ...input.tags]);
  const fieldNames = [...new Set(readers.flatMap((r) => r.footer.columns.map((c) => c.name).filter((n) => !keyColumns.has(n))))];
  const count: DuplicateCount = { rows: 0, values: 0 };
  const newValues = new Int32Array(fieldNames.length);
  const oldValue = new Uint8Array(fieldNames.length);
  let oldRows = 0, newRows = 0;
  await mergeByKey(readers.map((reader, i) => ({ reader, columns: fieldNames, meta: isNew.has(group[i]!) })), input.tags, input.time, fieldNames, {
    row(cursor) {
      if (cursor.meta) newRows++; else oldRows++;
      for (let f = 0; f < fieldNames.length; f++) {
        if (!cursor.has(f)) continue;
        if (cursor.meta) newValues[f]!++; else oldValue[f] = 1;
      }
    },
    keyEnd() {
      if (newRows > 0) count.rows += oldRows > 0 ? newRows : newRows - 1;
      for (let f = 0; f < fieldNames.length; f++) {
        const n = newValues[f]!;
        if (n > 0) count.values += oldValue[f] ? n : n - 1;
      }
      oldRows = newRows = 0;
      newValues.fill(0);
      oldValue.fill(0);
    },
  });
  return count;
}
