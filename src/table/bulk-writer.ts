import type { RecordBatch } from 'apache-arrow';
import { QuiverError } from '../errors.js';
import { CommitOutcomeUnknownError } from './manifest.js';
import type { LeaseHold } from './lease.js';
import type { Table } from './table.js';
import type { WriteBuffer } from './write-buffer.js';
import type { ChunkEntry, DuplicatePolicy, Row, TableSchema, TableWriter, WriterCommit } from '../core/types.js';
import { countImportDuplicates, type DuplicateCount } from './import-duplicates.js';
import { mapEntry } from './alter-read.js';
import type { StagedTags } from './alter.js';

/**
 * Bulk import: rows stream into a buffer that is cut into chunks whenever it reaches
 * rowsPerChunkMax (so memory stays bounded whatever the input size); chunk files are
 * written at once but referenced by no manifest until commit(), which makes all of them
 * visible in one version. abort() deletes them; a crash leaves them for gcOrphans().
 * Tags the writer adds (`staged`: an import naming tags the table lacks) land in that same
 * commit (alter.ts stageTags): its chunks are written in the schema they make.
 */
export class BulkWriter implements TableWriter {
  private buffer: WriteBuffer;
  private readonly entries: ChunkEntry[] = [];
  /** Per entry: rows and values of the chunk that met an earlier one of their (series, time) (writeChunks). */
  private readonly inside: DuplicateCount[] = [];
  private readonly fields = new Map<string, TableSchema['fields'][number]>();
  private readonly series = new Set<string>();
  private rows = 0;
  private done = false;
  private spilling: Promise<void> = Promise.resolve();
  private spills = 0;
  /** The lease operation covering this writer's chunks until its commit or abort (lease.ts). */
  private readonly hold: LeaseHold;

  constructor(private readonly table: Table, private readonly bufferBytesMax: number, private readonly staged?: StagedTags) {
    this.buffer = table.newBuffer(table.options.rowsPerChunkMax, staged?.schema);
    this.hold = table.leases.begin();
  }

  get schema(): TableSchema {
    return this.staged?.schema ?? this.table.schema;
  }

  get policy(): DuplicatePolicy {
    return this.table.options.duplicates ?? 'keep';
  }

  async append(batch: RecordBatch | Row[], lineage?: { source: string; rowStart: number }): Promise<void> {
    if (this.done) throw new QuiverError('this table writer was already committed or aborted');
    // Batches are cut at the chunk size, so the buffer (allocated at that size) never grows.
    const max = this.table.options.rowsPerChunkMax;
    const n = Array.isArray(batch) ? batch.length : batch.numRows;
    let at = 0;
    do {
      while (this.spills > 0) await this.spilling;
      const take = Math.min(n - at, Math.max(1, max - this.buffer.rows));
      const part = take === n ? batch : batch.slice(at, at + take);
      const partLineage = lineage ? { source: lineage.source, rowStart: lineage.rowStart + at } : undefined;
      if (Array.isArray(part)) this.buffer.appendRows(part, partLineage);
      else this.buffer.appendBatch(part, partLineage);
      at += take;
      if (this.buffer.rows >= max || this.buffer.bytes >= this.bufferBytesMax) await this.spill();
    } while (at < n);
  }

  /**
   * Drains the buffer into chunk files. The drain reorders rows in the buffer's own arrays
   * and the chunks are encoded from them, so spills run one at a time and appends (which
   * may overlap when their caller does not await each) wait until no spill is pending.
   */
  private spill(): Promise<void> {
    this.spills++;
    const run = this.spilling.then(async () => {
      if (this.buffer.rows === 0) return;
      this.rows += this.buffer.rows;
      for (const f of this.buffer.fieldSpecs) this.fields.set(f.name, f);
      const chunks = this.buffer.drain(this.table.options.partition, this.table.options.rowsPerChunkMax, this.series, true);
      await this.table.writeChunks(chunks, this.entries, this.inside, this.staged?.schema);
    });
    this.spilling = run.then(() => { this.spills--; }, () => { this.spills--; });
    return run;
  }

  async commit(): Promise<WriterCommit> {
    if (this.done) throw new QuiverError('this table writer was already committed or aborted');
    try {
      await this.spill();
      // Against the latest version (a commit landing between this count and ours is not in it).
      if (!this.table.uncreated) await this.table.refresh();
      const { options } = this.table;
      const schema = this.schema;
      const existing = this.table.uncreated ? [] : this.table.currentManifest.chunks;
      const duplicates = await countImportDuplicates({
        store: this.table.store, tags: schema.tags, time: schema.time, policy: options.duplicates,
        existing: this.staged ? existing.map((c) => mapEntry(c, schema)) : existing, added: this.entries, inside: this.inside,
      });
      const manifest = await this.table.commitChunks(this.entries, [...this.fields.values()], 'import', undefined, this.staged?.rewrite);
      this.done = true;
      await this.hold.end({ release: true });
      return {
        version: manifest.version, rows: this.rows, chunks: this.entries.length, bytes: this.entries.reduce((s, e) => s + e.bytes, 0), series: this.series.size,
        duplicateRows: duplicates.rows, duplicateValues: duplicates.values,
      };
    } catch (error) {
      if (error instanceof CommitOutcomeUnknownError) {
        // The manifest may have landed: its chunks must stay (orphans, if it did not, for vacuum).
        this.done = true;
        await this.hold.end({ release: true }).catch(() => {});
      } else await this.abort().catch(() => {});
      throw error;
    }
  }

  async abort(): Promise<void> {
    this.done = true;
    try {
      await this.spilling.catch(() => {});
      const keys = this.entries.map((e) => e.key);
      this.entries.length = 0;
      if (keys.length) await this.table.store.delete(keys);
    } finally {
      await this.hold.end({ release: true });
    }
  }
}
