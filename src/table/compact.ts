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
 * Under a duplicate policy that folds ('last', 'first'), compaction also resolves duplicates
 * for good: the inputs go into the buffer in write order (seq, then place in the manifest),
 * so its stable sort keeps ties in write order and writeChunks folds them. The output keeps
 * the newest input's seq, which is only right when no chunk left out may hold a row of the
 * same (series, time) with a seq between the inputs'. So a group is a whole overlap cluster:
 * chunks of a partition that overlap in time and may share a series (the scan's mergeGroups)
 * are compacted all together or not at all, whatever their size (so repeated imports of
 * the same data converge to one row per point), up to CLUSTER_ROWS_MAX_FACTOR ×
 * rowsPerChunkMax rows (memory holds the group, as a scan of it does); such a group may
 * become several chunks, cut from one sorted run. Small chunks that overlap nothing are
 * packed as before.
 */
import { openChunk } from '../format/index.js';
import { alteredReader } from './alter-read.js';
import type { LineageEntry } from '../format/types.js';
import { assert, ConflictError, UsageError } from '../errors.js';
import { storeSource } from './store-source.js';
import type { Table } from './table.js';
import type { ChunkEntry } from '../core/types.js';
import { mergeGroups, orderChunks } from '../scan/scan.js';
import { folds } from '../scan/dedup.js';

/** Largest overlap cluster compacted, in multiples of rowsPerChunkMax (a larger one is left to the scan's merge). */
export const CLUSTER_ROWS_MAX_FACTOR = 8;
import { tombstonesOf } from '../scan/tombstones.js';
import { applyTombstones, pruneDeletes, withDeletes } from './delete.js';

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
 * With `fold` (a folding duplicate policy: the table's tags), first every overlap cluster of
 * ≥ 2 chunks of any size (at most CLUSTER_ROWS_MAX_FACTOR × rowsMax rows), then the small
 * chunks of no cluster packed as without it (see the module comment). A chunk `rewrite` names
 * (a delete may hide rows of it) is a candidate whatever its size, and its group is rewritten
 * even alone.
 */
export function planCompaction(chunks: readonly ChunkEntry[], rowsMax: number, smallRows: number, partitions?: readonly string[], fold?: { tags: readonly string[] }, rewrite: (c: ChunkEntry) => boolean = () => false): CompactGroup[] {
  const only = partitions ? new Set(partitions) : undefined;
  const byPartition = new Map<string, ChunkEntry[]>();
  const groups: CompactGroup[] = [];
  let candidates = chunks;
  if (fold) {
    const clustered = new Set<ChunkEntry>();
    const place = new Map(chunks.map((c, i) => [c, i]));
    const writeOrder = (a: ChunkEntry, b: ChunkEntry) => (a.seq ?? 0) - (b.seq ?? 0) || place.get(a)! - place.get(b)!;
    const partitionsOf = new Map<string, ChunkEntry[]>();
    for (const c of chunks) {
      let list = partitionsOf.get(c.partition);
      if (!list) partitionsOf.set(c.partition, (list = []));
      list.push(c);
    }
    for (const [partition, list] of [...partitionsOf].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      for (const cluster of mergeGroups(orderChunks(list), fold.tags)) {
        if (cluster.length < 2) continue;
        // A cluster is left whole (never split): its chunks are never packed with others.
        for (const c of cluster) clustered.add(c);
        const rows = cluster.reduce((n, c) => n + c.rows, 0);
        if ((only && !only.has(partition)) || rows > CLUSTER_ROWS_MAX_FACTOR * rowsMax) continue;
        const inputs = [...cluster].sort(writeOrder);
        groups.push({ partition, inputs: inputs.map((c) => c.key), rows, bytesBefore: inputs.reduce((n, c) => n + c.bytes, 0) });
      }
    }
    candidates = chunks.filter((c) => !clustered.has(c));
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
      const buffer = table.newBuffer();
      const lineage: LineageEntry[] = [];
      for (const key of group.inputs) {
        const entry = entries.get(key);
        assert(entry, `compaction input ${key} is a chunk of the planned version`);
        const reader = alteredReader(await openChunk(storeSource(table.store, key, entry.bytes)), base.schema); // read through later alters
        buffer.appendBatch(applyTombstones(await reader.read(), reader, tombstonesOf(entry, deletes)));
        lineage.push(...reader.footer.lineage);
      }
      const drained = buffer.drain(table.options.partition, rowsMax);
      if (drained.length === 0) { group.rowsAfter = 0; group.bytesAfter = 0; group.outputs = []; continue; } // every row was deleted
      if (drained.some((d) => d.partition !== group.partition) || (drained.length > 1 && !fold)) {
        throw new ConflictError(`compact ${table.name}: chunks of partition ${group.partition} re-partitioned into ${drained.map((d) => d.partition).join(', ')}; the table's partitioning changed under them`);
      }
      // Several outputs (an overlap cluster beyond rowsMax): each gets the inputs' lineage.
      const written = await table.writeChunks(drained.map((d) => ({ ...d, lineage })));
      assert(written.length === drained.length, 'writeChunks returns an entry per chunk');
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
