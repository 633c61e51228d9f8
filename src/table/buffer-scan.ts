import { bufferSource, openChunk, writeChunk, type ChunkReader } from '../format/index.js';
import type { ChunkEntry, FieldSpec, TableSchema } from '../core/types.js';
import { entryOf, type Manifest } from './manifest.js';
import type { BufferedChunk, WriteBuffer } from './write-buffer.js';
import { deduplicateSorted } from '../scan/dedup.js';

/**
 * Read-your-writes: the rows this process appended but did not flush yet, read by scans and
 * queries as one more unit, newer than every chunk (its seq is above the manifest's version).
 *
 * The buffer is copied at the start of a scan (synchronously, so appends that arrive while
 * the scan runs neither block nor disturb it: they are in the next scan), cut like a flush
 * cuts it (partition-pure, sorted by series then time) and encoded as in-memory chunks, which
 * then go through everything a stored chunk goes through: pruning by time and tags, page
 * selection, projection, merge with overlapping chunks, statistics for aggregates (the
 * chunks' statistics are computed from exactly these rows). Rows a flush in progress took
 * out of the buffer stay in the view until its commit is in the manifest the scan reads.
 * The encoded view is kept until the buffer, the flush or the manifest changes, so repeated
 * scans of an unchanged buffer encode it once.
 */

/** Rows a flush drained from the buffer and is writing: visible until its commit is. */
export interface InFlight {
  chunks: BufferedChunk[];
  /** Keys of its chunks once written: a manifest holding any of them holds the rows. */
  keys?: Set<string>;
}

/** What a scan reads besides the manifest's chunks. */
export interface UnflushedUnits {
  /** The manifest's schema plus fields only buffered rows have so far. */
  schema: TableSchema;
  chunks: ChunkEntry[];
  readers: Map<string, Promise<ChunkReader>>;
}

/** Distinguishes the in-memory chunks of successive views (decoded-page caches key by name). */
let viewSerial = 0;

export class UnflushedView {
  private cached?: { buffer: WriteBuffer; edits: number; inFlight: InFlight | undefined; version: number; units: UnflushedUnits };

  constructor(private readonly table: string) {}

  /** The unflushed rows as in-memory chunks over `manifest` (none: the manifest's own schema, no chunks). */
  units(manifest: Manifest, buffer: WriteBuffer, inFlight: InFlight | undefined): UnflushedUnits {
    const landed = inFlight?.keys !== undefined && manifest.chunks.some((c) => inFlight.keys!.has(c.key));
    const flying = landed ? undefined : inFlight;
    const c = this.cached;
    if (c && c.buffer === buffer && c.edits === buffer.edits && c.inFlight === flying && c.version === manifest.version) return c.units;
    const options = manifest.options;
    const parts = [...(flying?.chunks ?? []), ...buffer.peek(options.partition, options.rowsPerChunkMax)];
    // Rows buffered before an alter that landed since are read through it (alter-read.ts); only
    // fields the buffer's own revision names join the schema.
    const schema = (buffer.schema.alters?.length ?? 0) === (manifest.schema.alters?.length ?? 0) ? withFields(manifest.schema, buffer.fieldSpecs) : manifest.schema;
    const units: UnflushedUnits = { schema, chunks: [], readers: new Map() };
    const serial = ++viewSerial;
    parts.forEach((part, i) => {
      // Folded like a stored chunk (readers.ts): a unit of a folding table holds one row per (series, time).
      const { bytes, footer } = writeChunk(deduplicateSorted(part.batch, schema.tags, schema.time, options.duplicates).batch, {
        timeColumn: schema.time, tags: schema.tags, pageRows: options.pageRows, codec: 'none', sortedBySeries: true, lineage: part.lineage,
        metadata: { table: this.table, ...(part.revision ? { schemaRevision: String(part.revision) } : {}) },
      });
      const key = `${this.table}/(unflushed)/${part.partition}/${serial}-${i}`;
      units.chunks.push({ ...entryOf(key, part.partition, footer, bytes.length), seq: manifest.version + 1 });
      const reader = openChunk(bufferSource(bytes, key));
      reader.catch(() => {});
      units.readers.set(key, reader);
    });
    this.cached = { buffer, edits: buffer.edits, inFlight: flying, version: manifest.version, units };
    return units;
  }

  /** Forgets the encoded view (its memory), e.g. after a flush. */
  clear(): void {
    this.cached = undefined;
  }
}

/** A schema with the fields of `specs` it lacks added (buffered rows may add fields until their flush). */
function withFields(schema: TableSchema, specs: readonly FieldSpec[]): TableSchema {
  const known = new Set([schema.time, ...schema.tags, ...schema.fields.map((f) => f.name)]);
  const extra = specs.filter((f) => !known.has(f.name));
  return extra.length ? { ...schema, fields: [...schema.fields, ...extra] } : schema;
}
