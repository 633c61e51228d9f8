import { makeData, RecordBatch, Schema, Struct, Field, Float64, type Data } from 'apache-arrow';
import { ChunkReader, type ChunkFooter } from '../format/index.js';
import type { ColumnFooter, PageFooter, ReadChunkOptions, StatValue } from '../format/types.js';
import { QuiverError, SchemaError } from '../errors.js';
import type { ChunkEntry, SchemaAlter, TableSchema } from '../core/types.js';
import type { FieldType } from '../format/types.js';

/**
 * Schema evolution on read: a chunk is never rewritten by `alter`; its footer records the
 * schema revision it was written in (metadata `schemaRevision`: how many alters the table had
 * then; absent: 0), and it is read through the alters made since, in order: a dropped field's
 * column disappears (so a field of the same name added later starts empty in old chunks), a
 * renamed one takes its new name, a widened one is converted on read (int64/uint64 → float64,
 * refused for any value beyond ±2^53, which float64 cannot hold exactly). Time and tag
 * columns are never altered.
 *
 * The manifest entries' column statistics are rewritten by the alter commit itself (they are
 * in the manifest, not in the chunk); `ChunkEntry.schemaRevision` says which revision they
 * are in, and a commit brings entries of an older revision (a writer that started before the
 * alter) to its own.
 */

/** Integers of this magnitude or less are exact in float64. */
export const FLOAT64_EXACT_MAX = 2n ** 53n;

/** How many alters a schema has had: its revision. */
export function revisionOf(schema: TableSchema): number {
  return schema.alters?.length ?? 0;
}

/** The revision a chunk's footer says it was written in. */
export function footerRevision(footer: ChunkFooter, name: string): number {
  const raw = footer.metadata?.['schemaRevision'];
  if (raw === undefined) return 0;
  if (!/^\d{1,9}$/.test(raw)) throw new QuiverError(`chunk ${name}: footer metadata schemaRevision ${JSON.stringify(raw)} is not a revision number`);
  return Number(raw);
}

/** A column of a chunk as a later revision sees it: its name then, and the type it is widened to. */
interface Mapped { name: string; physical: string; widen?: FieldType }

/**
 * Field columns of a chunk (by their names at revision `from`) as revision `to` names them.
 * Two columns meeting under one name (a writer added a field while an alter renamed another
 * to that name) is a SchemaError, not a silent pick.
 */
export function mapFieldNames(names: readonly string[], alters: readonly SchemaAlter[], from: number, to: number, chunk: string): Mapped[] {
  let cols: Mapped[] = names.map((n) => ({ name: n, physical: n }));
  for (const a of alters.slice(from, to)) {
    if (a.op === 'drop') cols = cols.filter((c) => c.name !== a.field);
    else if (a.op === 'rename') {
      if (cols.some((c) => c.name === a.to) && cols.some((c) => c.name === a.from)) {
        throw new SchemaError(`chunk ${chunk}: alter at version ${a.version} renamed field ${a.from} to ${a.to}, but the chunk also has a column ${a.to} (written by a writer that added that field meanwhile)`);
      }
      for (const c of cols) if (c.name === a.from) c.name = a.to;
    } else for (const c of cols) if (c.name === a.field) c.widen = a.to;
  }
  return cols;
}

function widenStat(v: StatValue, where: string): StatValue {
  if (v === null || typeof v === 'number') return v;
  const n = BigInt(v as string);
  if (n > FLOAT64_EXACT_MAX || n < -FLOAT64_EXACT_MAX) throw new SchemaError(`${where}: value ${v} is beyond ±2^53, which float64 cannot hold exactly; the widened field cannot be read exactly`);
  return Number(n);
}

function widenPage(p: PageFooter, where: string): PageFooter {
  const { sum, ...rest } = p;
  const out: PageFooter = { ...rest, min: widenStat(p.min, where), max: widenStat(p.max, where), nanCount: 0 };
  // An integer sum beyond 2^53 has no exact float64: the page is then decoded, not summed from its statistics.
  if (sum !== undefined) { const s = BigInt(sum); if (s <= FLOAT64_EXACT_MAX && s >= -FLOAT64_EXACT_MAX) out.sum = Number(s); }
  return out;
}

/** The footer as revision `to` of `alters` sees a chunk written in its footer's revision (the same object when nothing changed). */
export function mapFooter(footer: ChunkFooter, alters: readonly SchemaAlter[], to: number, chunk: string): ChunkFooter {
  const from = footerRevision(footer, chunk);
  if (from === to) return footer;
  if (from > to) throw new QuiverError(`chunk ${chunk} was written in schema revision ${from}, newer than the ${to} of the version read`);
  const fields = footer.columns.filter((c) => c.role === 'field');
  const mapped = new Map(mapFieldNames(fields.map((c) => c.name), alters, from, to, chunk).map((m) => [m.physical, m]));
  const columns: ColumnFooter[] = [];
  for (const c of footer.columns) {
    if (c.role !== 'field') { columns.push(c); continue; }
    const m = mapped.get(c.name);
    if (!m) continue;
    if (!m.widen) { columns.push(m.name === c.name ? c : { ...c, name: m.name }); continue; }
    const where = `chunk ${chunk} column ${c.name}`;
    columns.push({ ...c, name: m.name, type: m.widen, min: widenStat(c.min, where), max: widenStat(c.max, where), pages: c.pages.map((p) => widenPage(p, where)) });
  }
  return { ...footer, columns, metadata: { ...footer.metadata, schemaRevision: String(to) } };
}

/**
 * A manifest entry's column statistics brought from its revision to `schema`'s (an alter
 * commit, or a commit of chunks written before an alter that landed meanwhile).
 */
export function mapEntry(entry: ChunkEntry, schema: TableSchema): ChunkEntry {
  const from = entry.schemaRevision ?? 0;
  const to = revisionOf(schema);
  if (from >= to) return entry;
  const fieldNames = new Set(schema.fields.map((f) => f.name));
  const tagged = new Set([schema.time, ...schema.tags]);
  const names = Object.keys(entry.columns).filter((n) => !tagged.has(n));
  const columns = Object.create(null) as ChunkEntry['columns'];
  for (const n of Object.keys(entry.columns)) if (tagged.has(n)) columns[n] = entry.columns[n]!;
  for (const m of mapFieldNames(names, schema.alters ?? [], from, to, entry.key)) {
    const c = entry.columns[m.physical]!;
    if (!fieldNames.has(m.name)) continue;
    const where = `chunk ${entry.key} column ${m.physical}`;
    columns[m.name] = m.widen ? { ...c, min: widenStat(c.min, where), max: widenStat(c.max, where) } : c;
  }
  return { ...entry, columns, schemaRevision: to };
}

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

/** A reader that presents a chunk as a later schema revision sees it (footer and batches). */
class AlteredReader extends ChunkReader {
  constructor(private readonly inner: ChunkReader, footer: ChunkFooter, private readonly physical: Map<string, Mapped>) {
    super(inner.source, footer, inner.size, inner.limits, inner.footerRegion);
  }

  override async read(options: ReadChunkOptions = {}): Promise<RecordBatch> {
    const names = options.columns ?? this.footer.columns.map((c) => c.name);
    const batch = await this.inner.read({ ...options, columns: names.map((n) => this.physical.get(n)?.physical ?? n) });
    const fields: Field[] = [];
    const children: Data[] = [];
    names.forEach((name, i) => {
      const m = this.physical.get(name);
      const field = batch.schema.fields[i]!;
      const data = batch.getChildAt(i)!.data[0]!;
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
    views.set(to, (view = new AlteredReader(reader, footer, physical)));
  }
  return view;
}
