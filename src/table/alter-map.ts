import type { ChunkFooter } from '../format/types.js';
import type { ColumnFooter, PageFooter, StatValue } from '../format/types.js';
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
 * columns are never altered; a tag added since (op 'addTag') is appended to the chunk's tags
 * as a column holding the null tag in every row (a footer column without bytes: no page of it
 * is ever fetched, alter-read.ts makes its data), so every reader of footers and entries
 * (pruning by tag values and page statistics, series keys, merges) sees one tag list.
 *
 * The manifest entries' column statistics are rewritten by the alter commit itself (they are
 * in the manifest, not in the chunk); `ChunkEntry.schemaRevision` says which revision they
 * are in, and a commit brings entries of an older revision (a writer that started before the
 * alter) to its own.
 *
 * This module maps names, footers and manifest entries and loads no Arrow (the manifest code
 * and the light CLI commands import it); alter-read.ts converts the data.
 */

/** An alter in words (`quiver alter` leaves out the word "field", inspect --versions says it). */
export function describeAlter(a: SchemaAlter, field = 'field '): string {
  switch (a.op) {
    case 'drop': return `dropped ${field}${a.field}`;
    case 'rename': return `renamed ${field}${a.from} to ${a.to}`;
    case 'widen': return `widened ${field}${a.field} from ${a.from} to ${a.to}`;
    case 'addTag': return `added tag ${a.tag}`;
  }
}

/** Tags added by the alters after revision `from` up to `to`, in order. */
export function tagsAdded(alters: readonly SchemaAlter[], from: number, to: number): string[] {
  return alters.slice(from, to).flatMap((a) => (a.op === 'addTag' ? [a.tag] : []));
}

/** A footer column of `rows` rows in pages `pageRowStarts`, every one the null tag; it has no bytes. */
function nullTagColumn(name: string, rows: number, pageRowStarts: readonly number[]): ColumnFooter {
  const pages: PageFooter[] = [];
  for (let p = 0; p + 1 < pageRowStarts.length; p++) {
    const n = pageRowStarts[p + 1]! - pageRowStarts[p]!;
    pages.push({ offset: 0, length: 0, encodedBytes: 0, rawBytes: 0, rows: n, nullCount: n, min: null, max: null, encoding: 'plain', crc32: 0 });
  }
  return { name, role: 'tag', type: 'string', nullable: true, codec: 'none', offset: 0, length: 0, rawBytes: 0, storedBytes: 0, nullCount: rows, min: null, max: null, crc32: 0, dictionary: [], pages };
}

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
export interface Mapped { name: string; physical: string; widen?: FieldType }

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
    } else if (a.op === 'widen') for (const c of cols) if (c.name === a.field) c.widen = a.to;
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
  const added = tagsAdded(alters, from, to);
  if (added.length === 0) return { ...footer, columns, metadata: { ...footer.metadata, schemaRevision: String(to) } };
  // Added tags follow the chunk's own tags (the column order of a written chunk: time, tags, fields).
  const at = columns.reduce((last, c, i) => (c.role === 'tag' || c.role === 'time' ? i + 1 : last), 0);
  columns.splice(at, 0, ...added.map((t) => nullTagColumn(t, footer.rowCount, footer.pageRowStarts)));
  return { ...footer, tags: [...footer.tags, ...added], columns, metadata: { ...footer.metadata, schemaRevision: String(to) } };
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
  const added = tagsAdded(schema.alters ?? [], from, to);
  // The chunk's own tags: a dropped field may have had the name of a tag added since.
  const tagged = new Set([schema.time, ...schema.tags.filter((t) => !added.includes(t))]);
  const names = Object.keys(entry.columns).filter((n) => !tagged.has(n));
  const columns = Object.create(null) as ChunkEntry['columns'];
  for (const n of Object.keys(entry.columns)) if (tagged.has(n)) columns[n] = entry.columns[n]!;
  for (const m of mapFieldNames(names, schema.alters ?? [], from, to, entry.key)) {
    const c = entry.columns[m.physical]!;
    if (!fieldNames.has(m.name)) continue;
    const where = `chunk ${entry.key} column ${m.physical}`;
    columns[m.name] = m.widen ? { ...c, min: widenStat(c.min, where), max: widenStat(c.max, where) } : c;
  }
  if (added.length === 0) return { ...entry, columns, schemaRevision: to };
  // Every row of the chunk holds the null tag in each added tag (entryOf's shape for such a column).
  const tagValues = Object.assign(Object.create(null) as ChunkEntry['tagValues'], entry.tagValues);
  for (const t of added) {
    columns[t] = { min: null, max: null, nullCount: entry.rows, bytes: 0, rawBytes: 0 };
    tagValues[t] = entry.rows > 0 ? [null] : [];
  }
  // Its first and last (series, time) hold the null tag there too (null sorts first: the order stands).
  const pad = (k: NonNullable<ChunkEntry['keys']>['first']) => ({ ...k, tags: [...k.tags, ...added.map(() => null)] });
  const keys = entry.keys ? { keys: { first: pad(entry.keys.first), last: pad(entry.keys.last) } } : {};
  return { ...entry, tagValues, columns, ...keys, schemaRevision: to };
}

