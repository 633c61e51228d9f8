import type { ChunkEntry, Tombstone } from '../core/types.js';
import { chunkMayMatch, compileTagFilter, ownEntry, type ScanPlanInput } from './plan.js';

/**
 * The read side of deletes (issue 15; the write side is src/table/delete.ts). A tombstone
 * `{ version, from?, to?, where? }` of the manifest hides the rows it matches in every chunk
 * whose seq is below its version and to which it was not applied physically (a compaction's
 * output records `deletesApplied`). It applies per chunk, before any duplicate resolution:
 * rows written after the delete (a higher seq) are never hidden by it.
 *
 * A compiled tombstone is a ScanPlanInput selecting the rows it deletes, so the scan's own
 * pruning (chunkMayMatch) and row selection decide which chunks it may touch and which rows
 * it hides. A chunk it may touch is decoded, never answered from page statistics.
 */
export interface CompiledTombstone extends ScanPlanInput {
  version: number;
}

const compiled = new WeakMap<Tombstone, CompiledTombstone>();

/** The tombstone as a plan input selecting the rows it deletes (cached per tombstone object). */
export function compileTombstone(t: Tombstone): CompiledTombstone {
  let c = compiled.get(t);
  if (!c) {
    c = {
      version: t.version,
      from: t.from === undefined ? undefined : BigInt(t.from),
      to: t.to === undefined ? undefined : BigInt(t.to),
      filters: Object.entries(t.where ?? {}).map(([tag, p]) => compileTagFilter(tag, p)),
      columns: [], tags: [], order: 'any',
    };
    compiled.set(t, c);
  }
  return c;
}

/** Whether `t` may hide rows of `entry`: written after the chunk's rows, not applied to it, and its statistics do not rule it out. */
export function tombstoneMayHide(entry: ChunkEntry, t: Tombstone): boolean {
  return t.version > (entry.seq ?? 0) && t.version > (entry.deletesApplied ?? 0) && chunkMayMatch(entry, compileTombstone(t));
}

/** The tombstones that may hide rows of a chunk (empty: it reads as stored, statistics included). */
export function tombstonesOf(entry: ChunkEntry, deletes: readonly Tombstone[] | undefined): CompiledTombstone[] {
  if (!deletes?.length) return [];
  return deletes.filter((t) => tombstoneMayHide(entry, t)).map(compileTombstone);
}

/** Whether a tombstone matches every row of a chunk, from its manifest entry alone (time span inside the range, every listed tag value matching). */
export function chunkCovered(entry: ChunkEntry, t: Tombstone): boolean {
  const c = compileTombstone(t);
  if (c.from !== undefined && BigInt(entry.timeMin) < c.from) return false;
  if (c.to !== undefined && BigInt(entry.timeMax) >= c.to) return false;
  return c.filters.every((f) => {
    const values = ownEntry(entry.tagValues, f.tag);
    return values !== undefined && values.every((v) => f.matches(v));
  });
}

/** `names` (columns a read decodes) plus the tag columns the tombstones test, among those the chunk has. */
export function withTombstoneColumns(names: string[], tombstones: readonly CompiledTombstone[], present: ReadonlySet<string>): string[] {
  if (tombstones.length === 0) return names;
  const out = new Set(names);
  for (const t of tombstones) for (const f of t.filters) if (present.has(f.tag)) out.add(f.tag);
  return [...out];
}

/**
 * `rows` (a read's selection, ascending; null: all `n` rows) without the rows some tombstone
 * selects (`hidden`: per tombstone its selection, null when it selects every row). Null when
 * every row remains.
 */
export function withoutDeleted(rows: Int32Array | null, n: number, hidden: readonly (Int32Array | null)[]): Int32Array | null {
  if (hidden.length === 0) return rows;
  if (hidden.some((h) => h === null)) return new Int32Array(0);
  const gone = new Uint8Array(n);
  let any = false;
  for (const h of hidden as Int32Array[]) {
    for (let i = 0; i < h.length; i++) gone[h[i]!] = 1;
    if (h.length) any = true;
  }
  if (!any) return rows;
  const from = rows ?? null;
  const count = from ? from.length : n;
  const out = new Int32Array(count);
  let k = 0;
  for (let j = 0; j < count; j++) {
    const i = from ? from[j]! : j;
    if (!gone[i]) out[k++] = i;
  }
  return out.subarray(0, k);
}
