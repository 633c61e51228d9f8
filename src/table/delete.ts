/**
 * Deletes (issue 15): `table.delete({ from, to, where })` is one manifest commit (operation
 * 'delete'). What it does, decided on the version it commits on (re-decided if it loses a race
 * to another writer, so chunks committed meanwhile are covered too):
 *
 * - A chunk every row of which matches (its time span inside [from, to), every value its
 *   manifest entry lists for each `where` tag matching) is removed from the manifest whole: no
 *   rewrite, no tombstone. Deleting a partition's time range for all series drops all its chunks.
 * - If some other chunk may hold matching rows (by its statistics: time span, tag values or
 *   bloom filters), a tombstone `{ version, from?, to?, where? }` is added to `Manifest.deletes`.
 *   It hides matching rows of the chunks whose seq is below its version (src/scan/tombstones.ts):
 *   rows written later survive. Compaction rewrites the chunks it touches (compact.ts) and the
 *   tombstone leaves the manifest once no live chunk can hold rows it hides (pruneDeletes).
 *
 * The table's own unflushed rows are flushed first, so they are deleted too. Rows still in
 * other processes' buffers are written after the delete and survive it. The commit is the only
 * switch: a process killed before it leaves the table as it was, after it as deleted; a delete
 * writes no file but its manifest.
 */
import type { ChunkEntry, TagPredicate, TimeInput, Tombstone } from '../core/types.js';
import { toTableTime } from '../core/time.js';
import { assert, UsageError } from '../errors.js';
import { checkOptionKeys, compileTagFilter } from '../scan/plan.js';
import { selectRows } from '../scan/scan.js';
import { chunkCovered, tombstoneMayHide, withoutDeleted, type CompiledTombstone } from '../scan/tombstones.js';
import type { ChunkReader } from '../format/index.js';
import type { RecordBatch } from 'apache-arrow';
import { takeRows } from '../scan/predicate-take.js';
import { commit, type Manifest } from './manifest.js';
import { ManifestShapeError } from './manifest-validate.js';
import { validateDeletes } from './tombstone-validate.js';
import type { Table } from './table.js';
import { afterCommit } from './lifecycle.js';

export interface DeleteOptions {
  /** Inclusive lower bound. */
  from?: TimeInput;
  /** Exclusive upper bound. */
  to?: TimeInput;
  /** Tag predicates, ANDed, as scans take them (a RegExp without flags). */
  where?: Record<string, TagPredicate>;
  /** Must be true to delete every row (no from, to nor where): a forgotten bound is not a wipe. */
  all?: boolean;
}

export interface DeleteResult {
  /** The version that committed the delete. */
  version: number;
  /** Chunks removed whole (every row matched): no rewrite. */
  chunksDropped: number;
  /** Rows of those chunks. */
  rowsDropped: number;
  /** Partitions left without chunks by the drop. */
  partitionsDropped: string[];
  /** Chunks that may hold matching rows besides others: hidden by the tombstone, rewritten by the next compaction. */
  chunksAffected: number;
  /** Whether a tombstone was recorded (false when dropping whole chunks did it all, or nothing matched). */
  tombstone: boolean;
}

const DELETE_OPTIONS = ['from', 'to', 'where', 'all'];

/** The delete's bounds and predicates in the manifest's form (checked by the rules readers apply). */
export function tombstoneSpec(table: Table, options: DeleteOptions): Omit<Tombstone, 'version'> {
  checkOptionKeys(options, DELETE_OPTIONS, 'delete');
  const schema = table.schema;
  const spec: Omit<Tombstone, 'version'> = {};
  if (options.from !== undefined) spec.from = toTableTime(options.from, schema.timeUnit, 'from').toString();
  if (options.to !== undefined) spec.to = toTableTime(options.to, schema.timeUnit, 'to').toString();
  const where = Object.create(null) as Record<string, TagPredicate>;
  for (const [tag, p] of Object.entries(options.where ?? {})) {
    if (!schema.tags.includes(tag)) throw new UsageError(`delete where: ${JSON.stringify(tag)} is not a tag of the table (tags: ${schema.tags.join(', ') || 'none'})`);
    compileTagFilter(tag, p); // the scan's checks and messages
    where[tag] = p !== null && typeof p === 'object' && !Array.isArray(p) && p.regex instanceof RegExp ? { ...p, regex: regexSource(tag, p.regex) } : p;
  }
  if (Object.keys(where).length) spec.where = where;
  if (options.all !== undefined && typeof options.all !== 'boolean') throw new UsageError(`delete all: expected true or false, got ${typeof options.all}`);
  const bounded = spec.from !== undefined || spec.to !== undefined || spec.where !== undefined;
  if (!bounded && options.all !== true) throw new UsageError('delete without from, to or where would delete every row: pass all: true (--all) to mean it');
  if (bounded && options.all === true) throw new UsageError('delete all: true deletes every row; it takes no from, to or where');
  try {
    validateDeletes([{ version: 2, ...spec }], schema, 2);
  } catch (error) {
    if (error instanceof ManifestShapeError) throw new UsageError(`delete: ${error.detail}`);
    throw error;
  }
  return spec;
}

function regexSource(tag: string, re: RegExp): string {
  if (re.flags.replace(/[gy]/g, '') !== '') throw new UsageError(`delete where.${tag}.regex: a delete's regular expression is stored as its source and takes no flags (got /${re.source}/${re.flags})`);
  return re.source;
}

/** The deletes that may still hide rows of some of `chunks` (the others can leave the manifest). */
export function pruneDeletes(deletes: readonly Tombstone[] | undefined, chunks: readonly ChunkEntry[]): Tombstone[] {
  return (deletes ?? []).filter((t) => chunks.some((c) => tombstoneMayHide(c, t)));
}

/** `manifest` with `deletes` (the member left out when there are none). */
export function withDeletes(manifest: Manifest, deletes: Tombstone[]): Manifest {
  const { deletes: _, ...rest } = manifest;
  return deletes.length ? { ...rest, deletes } : rest;
}

/** The delete applied to the next version (see the module comment), and what it did. */
export function applyDelete(next: Manifest, spec: Omit<Tombstone, 'version'>): { manifest: Manifest; result: DeleteResult } {
  const tombstone: Tombstone = { version: next.version, ...spec };
  const kept: ChunkEntry[] = [];
  const dropped: ChunkEntry[] = [];
  let affected = 0;
  for (const c of next.chunks) {
    if (!tombstoneMayHide(c, tombstone)) kept.push(c);
    else if (chunkCovered(c, tombstone)) dropped.push(c);
    else { kept.push(c); affected++; }
  }
  const livePartitions = new Set(kept.map((c) => c.partition));
  const partitionsDropped = [...new Set(dropped.map((c) => c.partition))].filter((p) => !livePartitions.has(p)).sort();
  const deletes = pruneDeletes([...(next.deletes ?? []), ...(affected ? [tombstone] : [])], kept);
  return {
    manifest: withDeletes({ ...next, chunks: kept }, deletes),
    result: { version: next.version, chunksDropped: dropped.length, rowsDropped: dropped.reduce((s, c) => s + c.rows, 0), partitionsDropped, chunksAffected: affected, tombstone: affected > 0 },
  };
}

/** Deletes rows of `table` (see the module comment). */
export async function deleteRows(table: Table, options: DeleteOptions): Promise<DeleteResult> {
  const spec = tombstoneSpec(table, options);
  await table.flush();
  let result: DeleteResult | undefined;
  await commit(table.store, table.name, {
    operation: 'delete',
    rewrite: (next) => {
      const applied = applyDelete(next, spec);
      result = applied.result;
      return applied.manifest;
    },
  });
  const before = table.currentManifest;
  await table.refresh();
  assert(result !== undefined, 'a commit runs its rewrite before it lands');
  // Rollups of the partitions whose rows the delete may hide are recomputed (their chunks' seqs
  // did not change, so staleness alone would not see it; time range only: a superset).
  if (table.currentManifest.rollups?.length) {
    const lo = spec.from === undefined ? undefined : BigInt(spec.from), hi = spec.to === undefined ? undefined : BigInt(spec.to);
    const partitions = [...new Set(before.chunks.filter((c) => (lo === undefined || BigInt(c.timeMax) >= lo) && (hi === undefined || BigInt(c.timeMin) < hi)).map((c) => c.partition))];
    await afterCommit(table, 'delete', partitions);
  }
  return result;
}

/** A chunk's rows without those its deletes hide (a compaction applies tombstones physically). */
export function applyTombstones(batch: RecordBatch, reader: ChunkReader, deletes: readonly CompiledTombstone[]): RecordBatch {
  const rows = withoutDeleted(null, batch.numRows, deletes.map((t) => selectRows(batch, reader, t)));
  return rows === null ? batch : takeRows(batch, rows);
}
