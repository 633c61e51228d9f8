import { mapLimit } from '../chunk-manager/semaphore.js';
import type { Quiver } from '../quiver.js';
import type { ChunkEntry, TableDescription } from '../core/types.js';
import { storeSource } from '../table/store-source.js';
import { openChunk } from '../format/index.js';

/**
 * What `quiver report` draws, gathered through the table and manifest APIs and the chunk
 * footers (never a page of data), so it works on every store. Memory is bounded by the
 * number of chunks, partitions, columns and versions, and per tag by DISTINCT_TAG_VALUES_MAX.
 */
export interface ReportData {
  table: string;
  generatedAt: string;
  summary: {
    rows: number; chunks: number; bytes: number; rawBytes: number; version: number;
    timeMin: string | null; timeMax: string | null; timeUnit: string; partition: string;
    tags: string[]; fields: { name: string; type: string }[];
  };
  /** Oldest first (by the earliest time in the partition). */
  partitions: { key: string; timeMinMs: number; rows: number; chunks: number; bytes: number }[];
  /** Every column of the latest schema that a chunk holds, time first, then tags, then fields. */
  columns: { name: string; role: string; rawBytes: number; bytes: number; byEncoding: Record<string, number> }[];
  /** Distinct non-null values per tag; `capped` when there were more than the limit (DISTINCT_TAG_VALUES_MAX). */
  tags: { tag: string; distinct: number; capped: boolean; hasNull: boolean }[];
  /** Chunk files by stored size in power-of-two bins [lo, 2·lo). */
  chunkSizes: { lo: number; hi: number; count: number }[];
  versions: { version: number; committedAtMs: number; operation: string; rows: number; bytes: number; chunks: number }[];
}

/** Distinct values counted per tag before the count is reported as "at least". */
export const DISTINCT_TAG_VALUES_MAX = 100_000;
/** Chunk footers read at once (object stores: a few requests in flight). */
const FOOTERS_IN_FLIGHT = 4;

const PER_MS: Record<string, [bigint, bigint]> = { s: [1000n, 1n], ms: [1n, 1n], us: [1n, 1000n], ns: [1n, 1_000_000n] };

/** A stored time (decimal string in `unit`) as epoch milliseconds (rounded down). */
export function timeToMs(value: string, unit: string): number {
  const [mul, div] = PER_MS[unit] ?? [1n, 1_000_000n];
  const v = BigInt(value) * mul;
  const q = v / div;
  return Number(v < 0n && q * div !== v ? q - 1n : q);
}

export function isoOf(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${ms} ms since the epoch` : d.toISOString();
}

export interface CollectOptions {
  /** The report's time stamp (default now). */
  now?: Date;
  /** Distinct values counted per tag (default DISTINCT_TAG_VALUES_MAX). */
  distinctTagValuesMax?: number;
}

export async function collectReport(db: Quiver, name: string, options: CollectOptions = {}): Promise<ReportData> {
  const now = options.now ?? new Date();
  const table = await db.table(name);
  const d: TableDescription = await table.describe();
  const entries = await table.chunks();
  const unit = d.schema.timeUnit;
  const iso = (v: string | null) => (v === null ? null : isoOf(timeToMs(v, unit)));
  return {
    table: name,
    generatedAt: now.toISOString(),
    summary: {
      rows: d.rows, chunks: d.chunks, bytes: d.bytes, rawBytes: d.rawBytes, version: d.version,
      timeMin: iso(d.timeMin), timeMax: iso(d.timeMax), timeUnit: unit, partition: String(d.options.partition ?? ''),
      tags: [...d.schema.tags], fields: d.schema.fields.map((f) => ({ name: f.name, type: String(f.type) })),
    },
    partitions: partitionsOf(entries, unit),
    ...(await fromFooters(db, entries, d, options.distinctTagValuesMax ?? DISTINCT_TAG_VALUES_MAX)),
    chunkSizes: sizeHistogram(entries.map((e) => e.bytes)),
    versions: (await table.versions()).map((v) => ({
      version: v.version, committedAtMs: Date.parse(v.committedAt), operation: v.operation, rows: v.rows, bytes: v.bytes, chunks: v.chunks,
    })),
  };
}

function partitionsOf(entries: readonly ChunkEntry[], unit: string): ReportData['partitions'] {
  const byKey = new Map<string, ReportData['partitions'][number]>();
  for (const e of entries) {
    const timeMinMs = timeToMs(e.timeMin, unit);
    const p = byKey.get(e.partition);
    if (!p) byKey.set(e.partition, { key: e.partition, timeMinMs, rows: e.rows, chunks: 1, bytes: e.bytes });
    else { p.rows += e.rows; p.chunks++; p.bytes += e.bytes; p.timeMinMs = Math.min(p.timeMinMs, timeMinMs); }
  }
  return [...byKey.values()].sort((a, b) => a.timeMinMs - b.timeMinMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Power-of-two bins from the smallest size to the largest; empty bins in between are kept. */
export function sizeHistogram(sizes: readonly number[]): ReportData['chunkSizes'] {
  if (sizes.length === 0) return [];
  const bin = (n: number) => (n < 1 ? 0 : Math.floor(Math.log2(n)));
  const lo = Math.min(...sizes.map(bin)), hi = Math.max(...sizes.map(bin));
  const out = Array.from({ length: hi - lo + 1 }, (_, i) => ({ lo: i + lo === 0 ? 0 : 2 ** (i + lo), hi: 2 ** (i + lo + 1), count: 0 }));
  for (const s of sizes) out[bin(s) - lo]!.count++;
  return out;
}

/** Bytes per column and encoding, ratios and tag cardinalities, from each chunk's footer. */
async function fromFooters(db: Quiver, entries: readonly ChunkEntry[], d: TableDescription, distinctMax: number): Promise<Pick<ReportData, 'columns' | 'tags'>> {
  const columns = new Map<string, ReportData['columns'][number]>();
  const order = [d.schema.time, ...d.schema.tags, ...d.schema.fields.map((f) => f.name)];
  for (const name of order) columns.set(name, { name, role: '', rawBytes: 0, bytes: 0, byEncoding: Object.create(null) as Record<string, number> });
  const distinct = new Map<string, { values: Set<string>; capped: boolean; hasNull: boolean }>();
  for (const tag of d.schema.tags) distinct.set(tag, { values: new Set(), capped: false, hasNull: false });
  await mapLimit(entries, FOOTERS_IN_FLIGHT, async (e) => {
    const { footer } = await openChunk(storeSource(db.store, e.key, e.bytes));
    for (const c of footer.columns) {
      let col = columns.get(c.name);
      if (!col) columns.set(c.name, (col = { name: c.name, role: c.role, rawBytes: 0, bytes: 0, byEncoding: Object.create(null) as Record<string, number> }));
      col.role = c.role;
      col.rawBytes += c.rawBytes;
      col.bytes += c.storedBytes;
      for (const p of c.pages) col.byEncoding[p.encoding] = (col.byEncoding[p.encoding] ?? 0) + p.length;
      const tag = c.role === 'tag' ? distinct.get(c.name) : undefined;
      if (!tag) continue;
      if (c.nullCount > 0) tag.hasNull = true;
      for (const v of c.dictionary ?? []) {
        if (tag.values.size >= distinctMax && !tag.values.has(v)) { tag.capped = true; break; }
        tag.values.add(v);
      }
    }
  });
  return {
    columns: [...columns.values()].filter((c) => c.role !== ''),
    tags: [...distinct].map(([tag, t]) => ({ tag, distinct: t.values.size, capped: t.capped, hasNull: t.hasNull })),
  };
}
