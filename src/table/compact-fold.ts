/**
 * Compaction under a folding duplicate policy ('last', 'first'): which chunks may be compacted
 * together, and the merge that folds their duplicates for good in bounded memory.
 *
 * Planning. A compaction output keeps the newest input's seq (it sorts after everything its
 * inputs were older than). That is only right when no chunk left out that may share a (series,
 * time) with an input (scan/key-range.ts) has a seq within the inputs' [lowest, highest]
 * (equal included: chunks of one commit order by their place in the manifest, and the output
 * goes last): else the output's rows would wrongly win over (or lose to) that chunk's. So every
 * group is closed: such chunks join it, whatever their size. Groups come from
 * - clusters of chunks that are not small and share keys with each other (the same data
 *   imported again): compacted whole, so repeated imports converge to one row per point;
 * - small chunks packed in write order (seq, then manifest place) up to rowsPerChunkMax rows
 *   (streaming appends and small imports), then closed as above.
 *
 * Merging. The inputs, in write order, are merged k ways by (series, time), page by page
 * (key-merge.ts). Every rowsPerChunkMax distinct points (or 4 × rowsPerChunkMax rows read),
 * at a point boundary, the rows consumed so far go through a write buffer (its stable sort
 * keeps the write order of ties) into one chunk, whose duplicates writeChunks folds. Outputs
 * hold disjoint ranges of points, so they never share a key with each other again, and memory
 * holds a page per input plus one output's rows.
 */
import type { ChunkReader } from '../format/index.js';
import type { LineageEntry } from '../format/types.js';
import { ConflictError } from '../errors.js';
import type { ChunkEntry } from '../core/types.js';
import { mayShareKeys, sharingClusters } from '../scan/key-range.js';
import { mergeByKey, type KeyCursor } from './key-merge.js';
import type { Table } from './table.js';

/** Rows read (beyond distinct points) before a merge cuts an output anyway, in rowsPerChunkMax. */
export const FOLD_READ_ROWS_FACTOR = 4;

/** Inputs of a group in write order (seq, then place in `all`). */
export function writeOrder(all: readonly ChunkEntry[]): (a: ChunkEntry, b: ChunkEntry) => number {
  const place = new Map(all.map((c, i) => [c, i]));
  return (a, b) => (a.seq ?? 0) - (b.seq ?? 0) || (place.get(a) ?? 0) - (place.get(b) ?? 0);
}

/** `group` plus every chunk of `list` it must take in (see the module comment). */
function closed(group: Set<ChunkEntry>, list: readonly ChunkEntry[], tags: readonly string[]): Set<ChunkEntry> {
  for (let grown = true; grown;) {
    grown = false;
    const seqs = [...group].map((c) => c.seq ?? 0);
    const lo = Math.min(...seqs), hi = Math.max(...seqs);
    for (const c of list) {
      if (group.has(c) || (c.seq ?? 0) < lo || (c.seq ?? 0) > hi) continue;
      for (const m of group) if (mayShareKeys(m, c, tags)) { group.add(c); grown = true; break; }
    }
  }
  return group;
}

/** The groups of one partition's chunks `list` (see the module comment), each in write order. */
export function planFolding(list: readonly ChunkEntry[], rowsMax: number, smallRows: number, tags: readonly string[]): ChunkEntry[][] {
  const order = writeOrder(list);
  const used = new Set<ChunkEntry>();
  const groups: ChunkEntry[][] = [];
  const take = (seed: Iterable<ChunkEntry>) => {
    const group = closed(new Set(seed), list, tags);
    if ([...group].some((c) => used.has(c)) || group.size < 2) return;
    for (const c of group) used.add(c);
    groups.push([...group].sort(order));
  };
  for (const cluster of sharingClusters(list.filter((c) => c.rows >= smallRows), tags)) take(cluster);
  let current: ChunkEntry[] = [];
  let rows = 0;
  for (const c of list.filter((x) => x.rows < smallRows && !used.has(x)).sort(order)) {
    if (rows + c.rows > rowsMax && current.length) { take(current); current = []; rows = 0; }
    if (used.has(c)) continue;
    current.push(c);
    rows += c.rows;
  }
  take(current);
  return groups;
}

/** Merges `inputs` (in write order) into chunks holding one row per point (see the module comment). */
export async function foldChunks(table: Table, partition: string, inputs: readonly ChunkEntry[], lineage: LineageEntry[], open: (entry: ChunkEntry) => Promise<ChunkReader | null>): Promise<ChunkEntry[]> {
  const { tags, time } = table.schema;
  const rowsMax = table.options.rowsPerChunkMax;
  // Inputs through `open` (compact.ts: later alters applied, deleted rows gone; null: none left).
  const readers = (await Promise.all(inputs.map(open))).filter((r): r is ChunkReader => r !== null);
  const added: ChunkEntry[] = [];
  let points = 0, read = 0;
  const cut = async () => {
    const buffer = table.newBuffer();
    for (const cursor of cursors) for (const part of cursor.takeConsumed()) buffer.appendBatch(part);
    const drained = buffer.drain(table.options.partition, Number.MAX_SAFE_INTEGER);
    if (drained.length !== 1 || drained[0]!.partition !== partition) {
      throw new ConflictError(`compact ${table.name}: chunks of partition ${partition} re-partitioned into ${drained.map((d) => d.partition).join(', ')}; the table's partitioning changed under them`);
    }
    await table.writeChunks([{ ...drained[0]!, lineage }], added);
    points = read = 0;
  };
  const columns = [...new Set(readers.flatMap((r) => r.footer.columns.map((c) => c.name)))];
  let cursors: KeyCursor<null>[] = [];
  await mergeByKey(readers.map((reader) => ({ reader, columns, meta: null })), tags, time, [], {
    row() { read++; },
    async keyEnd() {
      points++;
      if (points >= rowsMax || read >= FOLD_READ_ROWS_FACTOR * rowsMax) await cut();
    },
  }, true, (made) => { cursors = made; });
  if (read > 0) await cut();
  return added;
}
