import { writeChunk } from '../format/index.js';
import type { ChunkFooter } from '../format/types.js';
import type { ChunkEntry, TableOptions, TableSchema } from '../core/types.js';
import { deduplicateSorted } from '../scan/dedup.js';
import { keyRangeOf } from '../scan/key-range.js';
import type { DuplicateCount } from './import-duplicates.js';
import type { BufferedChunk } from './write-buffer.js';

/**
 * A buffered chunk (sorted by series then time) as the bytes of a chunk file of table `name`.
 * Under a folding duplicate policy its rows of one (series, time) are folded first
 * (scan/dedup.ts), so a chunk of such a table holds one row per point (scans rely on it);
 * `duplicates` counts the rows and values that met an earlier one of their point, `keys` is
 * its first and last point (ChunkEntry.keys). The footer records the schema revision the rows
 * were buffered in (alter.ts), when the table was ever altered.
 */
export function encodeChunk(name: string, schema: TableSchema, options: TableOptions, chunk: BufferedChunk): { bytes: Uint8Array; footer: ChunkFooter; duplicates: DuplicateCount; keys: ChunkEntry['keys'] } {
  const dedup = deduplicateSorted(chunk.batch, schema.tags, schema.time, options.duplicates);
  const { bytes, footer } = writeChunk(dedup.batch, {
    timeColumn: schema.time,
    tags: schema.tags,
    pageRows: options.pageRows,
    codec: options.codec,
    ...(options.codecLevel !== undefined ? { codecLevel: options.codecLevel } : {}),
    ...(options.columns ? { columns: options.columns } : {}),
    sortedBySeries: true,
    preferSize: options.compression === 'small',
    lineage: chunk.lineage,
    metadata: { table: name, ...(chunk.revision ? { schemaRevision: String(chunk.revision) } : {}) },
  });
  return { bytes, footer, duplicates: { rows: dedup.duplicates, values: dedup.values }, keys: keyRangeOf(dedup.batch, schema.tags, schema.time) };
}
