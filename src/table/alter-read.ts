import { makeData, RecordBatch, Schema, Struct, Field, Float64, type Data } from 'apache-arrow';
import { arrowColumnOf, ChunkReader, pagesToData } from '../format/index.js';
import type { ReadChunkOptions } from '../format/types.js';
import { SchemaError } from '../errors.js';
import type { TableSchema } from '../core/types.js';
import { FLOAT64_EXACT_MAX, footerRevision, mapFieldNames, mapFooter, revisionOf, tagsAdded, type Mapped } from './alter-map.js';
import type { ChunkFooter } from '../format/types.js';

/** Reading chunks through the alters made since they were written (see alter-map.ts). */
export { describeAlter, FLOAT64_EXACT_MAX, footerRevision, mapEntry, mapFieldNames, mapFooter, revisionOf, tagsAdded } from './alter-map.js';

/** Converts an int64/uint64 column to float64, refusing (never rounding) a value beyond ±2^53. */
function widenData(data: Data, where: string): Data {
  const src = data.values as BigInt64Array | BigUint64Array;
  const out = new Float64Array(data.offset + data.length);
  for (let i = 0; i < data.length; i++) {
    const v = src[data.offset + i]!;
    if ((v > FLOAT64_EXACT_MAX || v < -FLOAT64_EXACT_MAX) && data.getValid(i)) {
      throw new SchemaError(`${where}: row ${i} holds ${v}, beyond ±2^53: float64 cannot hold it exactly, so the widened field cannot be read`);
    }
    out[data.offset + i] = Number(v);
  }
  return makeData({ type: new Float64(), offset: data.offset, length: data.length, nullCount: data.nullCount, nullBitmap: data.nullBitmap, data: out });
}

/**
 * A reader that presents a chunk as a later schema revision sees it (footer and batches):
 * fields renamed, dropped, widened; tags added since read as the null tag in every row.
 */
class AlteredReader extends ChunkReader {
  constructor(private readonly inner: ChunkReader, footer: ChunkFooter, private readonly physical: Map<string, Mapped>, private readonly added: ReadonlySet<string>) {
    super(inner.source, footer, inner.size, inner.limits, inner.footerRegion);
  }

  /** An added tag's column over the selected pages: every row the null tag (no bytes read). */
  private nullTag(name: string, pages: readonly number[] | undefined): { field: Field; data: Data } {
    const column = arrowColumnOf(this.footer.columns[this.columnIndex(name)]!, this.footer.timeUnit, this.footer.timeZone);
    const starts = this.footer.pageRowStarts;
    let rows = 0;
    for (const p of pages ?? starts.slice(1).map((_, i) => i)) rows += starts[p + 1]! - starts[p]!;
    const page = { page: 0, rows, nullCount: rows, values: { kind: 'i32' as const, values: new Int32Array(rows) }, validity: new Uint8Array(Math.ceil(rows / 8)) };
    return { field: column.field, data: pagesToData(column, [page]) };
  }

  override async read(options: ReadChunkOptions = {}): Promise<RecordBatch> {
    const names = options.columns ?? this.footer.columns.map((c) => c.name);
    const stored = names.filter((n) => !this.added.has(n));
    for (const n of names) this.columnIndex(n); // unknown names: the reader's SchemaError
    const batch = await this.inner.read({ ...options, columns: stored.map((n) => this.physical.get(n)?.physical ?? n) });
    const fields: Field[] = [];
    const children: Data[] = [];
    let i = 0;
    names.forEach((name) => {
      if (this.added.has(name)) {
        const { field, data } = this.nullTag(name, options.pages);
        fields.push(field);
        children.push(data);
        return;
      }
      const m = this.physical.get(name);
      const field = batch.schema.fields[i]!;
      const data = batch.getChildAt(i++)!.data[0]!;
      if (m?.widen) {
        fields.push(new Field(name, new Float64(), field.nullable, field.metadata));
        children.push(widenData(data, `chunk ${this.name} column ${m.physical}`));
      } else {
        fields.push(name === field.name ? field : new Field(name, field.type, field.nullable, field.metadata));
        children.push(data);
      }
    });
    const schema = new Schema(fields, batch.schema.metadata);
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
  }
}

const altered = new WeakMap<ChunkReader, Map<number, ChunkReader>>();

/** `reader` as `schema` sees it (itself when the chunk is in the schema's revision). */
export function alteredReader(reader: ChunkReader, schema: TableSchema): ChunkReader {
  const to = revisionOf(schema);
  if (footerRevision(reader.footer, reader.name) === to) return reader;
  let views = altered.get(reader);
  if (!views) altered.set(reader, (views = new Map()));
  let view = views.get(to);
  if (!view) {
    const footer = mapFooter(reader.footer, schema.alters ?? [], to, reader.name);
    const from = footerRevision(reader.footer, reader.name);
    const fields = reader.footer.columns.filter((c) => c.role === 'field').map((c) => c.name);
    const physical = new Map(mapFieldNames(fields, schema.alters ?? [], from, to, reader.name).map((m) => [m.name, m]));
    views.set(to, (view = new AlteredReader(reader, footer, physical, new Set(tagsAdded(schema.alters ?? [], from, to)))));
  }
  return view;
}
