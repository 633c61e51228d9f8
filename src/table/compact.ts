/**
 * Compaction: merges a partition's small chunks into full ones.
 *
 * Small chunks come from streaming writers (`append()` + `flush()`, `writePoint`, a flush per
 * `readPoints`) and from many small imports. Each costs a footer read, a manifest entry and a
 * request per projected column on every scan, and compresses worse (dictionaries, encoders
 * and zstd all restart per chunk). Compaction reads the small chunks of one partition, merges
 * them through a write buffer (so the result is sorted by series then time like any chunk),
 * writes one chunk per group and commits "add the new, remove the old" as one manifest
 * version.
 *
 * Safety:
 * - Readers of older versions keep working: the replaced chunk files are not deleted here
 *   (they stay referenced by the versions that list them; `gcOrphans` never touches a chunk
 *   some retained version references).
 * - Concurrent appends commute with a compaction (the commit re-applies on top of them).
 * - Two compactions of the same chunks cannot both land: a commit that removes chunks the
 *   latest version no longer holds fails with ConflictError instead of duplicating rows;
 *   its freshly written chunk is then an orphan for `gcOrphans`.
 * - A group never exceeds `rowsPerChunkMax` rows, so it becomes exactly one chunk, whose
 *   lineage is the union of its inputs' lineage (rows of a chunk are re-sorted, so lineage is
 *   per chunk, not per row).
 *
 * Under a duplicate policy that folds ('last', 'first') the groups and the merge are those of
 * compact-fold.ts: groups closed under possible shared points within their seq range (so the
 * output's seq is right), overlapping big chunks compacted too (repeated imports converge),
 * a k-way merge in bounded memory that folds duplicates for good; a group may then become
 * several chunks.
 */
import { openChunk } from '../format/index.js';
import { alteredReader } from './alter-read.js';
import type { LineageEntry } from '../format/types.js';
import { assert, ConflictError, UsageError } from '../errors.js';
import { storeSource } from './store-source.js';
import type { Table } from './table.js';
import type { ChunkEntry } from '../core/types.js';
import { folds } from '../scan/dedup.js';
import { tombstonesOf } from '../scan/tombstones.js';
import { applyTombstones, pruneDeletes, withDeletes } from './delete.js';
import { foldChunks, planFolding } from './compact-fold.js';
import { bufferSource, writeChunk, type ChunkReader } from '../format/index.js';
import type { Tombstone } from '../core/types.js';

export interface CompactOptions {
  /**
   * A chunk with fewer rows than this is "small" and may be merged. Default half the table's
   * `rowsPerChunkMax`.
   */
  smallRows?: number;
  /** Only these partitions (default: every partition). */
  partitions?: readonly string[];
  /** Plan only: report what would be merged, write and commit nothing. */
  dryRun?: boolean;
}

export interface CompactGroup {
  partition: string;
  /** Keys of the chunks merged (oldest first). */
  inputs: string[];
  rows: number;
  bytesBefore: number;
  /** Key and size of the merged chunk (absent on a dry run); keys joined by ',' when an overlap cluster became several. */
  output?: string;
  /** Keys of the merged chunks (absent on a dry run). */
  outputs?: string[];
  /** Rows after (fewer than `rows` when duplicates were folded; absent on a dry run). */
  rowsAfter?: number;
  bytesAfter?: number;
}

export interface CompactResult {
  /** The committed version, or the version planned against on a dry run / when nothing to do. */
  version: number;
  groups: CompactGroup[];
  chunksBefore: number;
  chunksAfter: number;
}

/**
 * Groups of ≥2 small chunks per partition, each at most `rowsMax` rows, oldest data first.
 * With `fold` (a folding duplicate policy: the table's tags), the groups of planFolding
 * (compact-fold.ts) instead, inputs in write order. A chunk `rewrite` names (a delete may hide
 * rows of it) is a candidate whatever its size, and its group is rewritten even alone.
 */
export function planCompaction(chunks: readonly ChunkEntry[], rowsMax: number, smallRows: number, partitions?: readonly string[], fold?: { tags: readonly string[] }, rewrite: (c: ChunkEntry) => boolean = () => false): CompactGroup[] {
  const only = partitions ? new Set(partitions) : undefined;
  const byPartition = new Map<string, ChunkEntry[]>();
  const groups: CompactGroup[] = [];
  const candidates = fold ? [] : chunks;
  if (fold) {
    const partitionsOf = new Map<string, ChunkEntry[]>();
    for (const c of chunks) {
      let list = partitionsOf.get(c.partition);
      if (!list) partitionsOf.set(c.partition, (list = []));
      list.push(c);
    }
    for (const [partition, list] of [...partitionsOf].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      if (only && !only.has(partition)) continue;
      const folding = planFolding(list, rowsMax, smallRows, fold.tags);
      // A chunk a delete may hide rows of, in no group, is rewritten alone (it holds one row per point already).
      const grouped = new Set(folding.flat());
      for (const c of list) if (!grouped.has(c) && rewrite(c)) folding.push([c]);
      for (const inputs of folding) {
        groups.push({ partition, inputs: inputs.map((c) => c.key), rows: inputs.reduce((n, c) => n + c.rows, 0), bytesBefore: inputs.reduce((n, c) => n + c.bytes, 0) });
      }
    }
  }
  for (const c of candidates) {
    if ((c.rows >= smallRows && !rewrite(c)) || (only && !only.has(c.partition))) continue;
    let list = byPartition.get(c.partition);
    if (!list) byPartition.set(c.partition, (list = []));
    list.push(c);
  }
  for (const [partition, list] of [...byPartition].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    list.sort((a, b) => (BigInt(a.timeMin) < BigInt(b.timeMin) ? -1 : BigInt(a.timeMin) > BigInt(b.timeMin) ? 1 : a.key < b.key ? -1 : 1));
    let current: ChunkEntry[] = [];
    let rows = 0;
    const close = () => {
      if (current.length >= 2 || current.some(rewrite)) {
        groups.push({ partition, inputs: current.map((c) => c.key), rows, bytesBefore: current.reduce((s, c) => s + c.bytes, 0) });
      }
      current = [];
      rows = 0;
    };
    for (const c of list) {
      if (rows + c.rows > rowsMax) close();
      current.push(c);
      rows += c.rows;
    }
    close();
  }
  return groups;
}

/**
 * A compaction input as the table's schema sees it (read through later alters), without the
 * rows its deletes hide: then an in-memory chunk of its remaining rows (null: none remain), so
 * the merges read every input alike.
 */
async function inputReader(table: Table, entry: ChunkEntry, deletes: readonly Tombstone[]): Promise<ChunkReader | null> {
  const reader = alteredReader(await openChunk(storeSource(table.store, entry.key, entry.bytes)), table.schema);
  const hiding = tombstonesOf(entry, deletes);
  if (hiding.length === 0) return reader;
  // Through the alters first: a tombstone may name a tag added since the chunk was written.
  const kept = applyTombstones(await reader.read(), reader, hiding);
  if (kept.numRows === 0) return null;
  const { footer } = reader;
  const { bytes } = writeChunk(kept, {
    timeColumn: table.schema.time, tags: table.schema.tags, pageRows: table.options.pageRows, codec: 'none', sortedBySeries: true,
    lineage: footer.lineage, metadata: footer.metadata,
  });
  return alteredReader(await openChunk(bufferSource(bytes, entry.key)), table.schema);
}

/** Small chunks merged through a write buffer into one chunk (at most rowsMax rows). */
async function mergeSmall(table: Table, partition: string, inputs: readonly ChunkEntry[], lineage: LineageEntry[], open: (entry: ChunkEntry) => Promise<ChunkReader | null>): Promise<ChunkEntry[]> {
  const buffer = table.newBuffer();
  for (const entry of inputs) {
    const reader = await open(entry);
    if (reader) buffer.appendBatch(await reader.read());
  }
  const drained = buffer.drain(table.options.partition, table.options.rowsPerChunkMax);
  if (drained.length === 0) return [];
  const merged = drained[0];
  if (drained.length !== 1 || merged === undefined || merged.partition !== partition) {
    throw new ConflictError(`compact ${table.name}: chunks of partition ${partition} re-partitioned into ${drained.map((d) => d.partition).join(', ')}; the table's partitioning changed under them`);
  }
  return table.writeChunks([{ ...merged, lineage }]);
}

/** Merges small chunks of `table` (see the module comment). */
export async function compactTable(table: Table, options: CompactOptions = {}): Promise<CompactResult> {
  await table.refresh();
  const rowsMax = table.options.rowsPerChunkMax;
  const smallRows = options.smallRows ?? Math.max(1, Math.floor(rowsMax / 2));
  if (!Number.isInteger(smallRows) || smallRows < 1) throw new UsageError(`compact: smallRows must be a positive integer, got ${smallRows}`);
  const base = table.currentManifest;
  const fold = folds(table.options.duplicates) ? { tags: table.schema.tags } : undefined;
  const deletes = base.deletes ?? [];
  const groups = planCompaction(base.chunks, rowsMax, smallRows, options.partitions, fold, (c) => tombstonesOf(c, deletes).length > 0);
  const result: CompactResult = { version: base.version, groups, chunksBefore: base.chunks.length, chunksAfter: base.chunks.length };
  if (options.dryRun || groups.length === 0) return result;

  const entries = new Map(base.chunks.map((c) => [c.key, c]));
  const added: ChunkEntry[] = [];
  // The merged chunks are orphans until the commit: the lease keeps vacuum off them.
  const hold = table.leases.begin();
  try {
    for (const group of groups) {
      const inputs = group.inputs.map((key) => {
        const entry = entries.get(key);
        assert(entry, `compaction input ${key} is a chunk of the planned version`);
        return entry;
      });
      // Every output gets the inputs' lineage (outputs of a fold may be several).
      const lineage = inputs.flatMap((e) => e.lineage);
      const open = (entry: ChunkEntry) => inputReader(table, entry, deletes);
      const written = fold && inputs.length > 1 ? await foldChunks(table, group.partition, inputs, lineage, open) : await mergeSmall(table, group.partition, inputs, lineage, open);
      if (written.length === 0) { group.rowsAfter = 0; group.bytesAfter = 0; group.outputs = []; continue; } // every row was deleted
      // The merged rows are as old as the newest of them: a chunk committed between the
      // inputs' commits must still order after the inputs' older rows (duplicates, deletes).
      const seq = Math.max(...group.inputs.map((k) => entries.get(k)?.seq ?? 0));
      const outputs = written.map((w): ChunkEntry => ({ ...w, seq, ...(deletes.length ? { deletesApplied: base.version } : {}) }));
      group.output = outputs.map((o) => o.key).join(',');
      group.outputs = outputs.map((o) => o.key);
      group.rowsAfter = outputs.reduce((n, o) => n + o.rows, 0);
      group.bytesAfter = outputs.reduce((n, o) => n + o.bytes, 0);
      added.push(...outputs);
    }
    // Deletes that can no longer hide a row of a live chunk leave the manifest with this commit.
    const manifest = await table.commitChunks(added, [], 'compact', groups.flatMap((g) => g.inputs), (next) => withDeletes(next, pruneDeletes(next.deletes, next.chunks)));
    return { version: manifest.version, groups, chunksBefore: base.chunks.length, chunksAfter: manifest.chunks.length };
  } finally {
    await hold.end();
  }
}
