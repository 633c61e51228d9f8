import { ConflictError, SchemaError, UsageError } from '../errors.js';
import type { FieldType } from '../format/types.js';
import type { ChunkEntry, SchemaAlter, TableSchema } from '../core/types.js';
import { FLOAT64_EXACT_MAX, mapEntry, revisionOf } from './alter-read.js';
import { checkTableSpec, type Manifest } from './manifest.js';

/**
 * Schema evolution (`table.alter`, `quiver alter`): drop, rename and widen fields and add
 * tags as one commit (operation 'alter'), without rewriting a chunk. The schema records each change
 * (TableSchema.alters) and chunks are read through the changes made after they were written
 * (alter-read.ts). Within one alter, drops apply first, then renames, then widenings, then
 * added tags.
 *
 * An added tag is appended to the tag list; every row written before it holds the null tag
 * there. The null tag sorts first, so old chunks stay sorted by (tags…, time) with it
 * appended: they read as if they had an all-null column of it (footer, manifest entry and
 * data alike, alter-map.ts), and series written before the tag keep their identity (the null
 * tag). Refused: a name that is a column (the time column, a tag, a field).
 *
 * Refused, with the reason: the time column and tags (they are the series identity and the
 * sort key of every chunk; their names are in every chunk's manifest entry and footer), a
 * rename onto an existing column, widening a type to anything but float64 from int64 or
 * uint64, and widening a field whose values (by the chunks' statistics) reach beyond ±2^53,
 * which float64 cannot hold exactly.
 */
export interface AlterSpec {
  /** Fields to drop. A field of the same name added later starts empty: old rows never return. */
  dropField?: string | string[];
  /** Fields to rename. */
  renameField?: { from: string; to: string } | { from: string; to: string }[];
  /** Fields to widen: int64 or uint64 to float64. */
  widen?: { field: string; to: FieldType } | { field: string; to: FieldType }[];
  /** Tags to append to the tag list: rows written before hold the null tag there. */
  addTag?: string | string[];
}

/** One change an alter asks for (the commit adds its version, and a widening's old type). */
export type AlterStep = { op: 'drop'; field: string } | { op: 'rename'; from: string; to: string } | { op: 'widen'; field: string; to: FieldType } | { op: 'addTag'; tag: string };

const OPTIONS = ['dropField', 'renameField', 'widen', 'addTag'];

/** Widenings the type system has, each exact within the checked range: from → to. */
const WIDENINGS: ReadonlyMap<string, readonly FieldType[]> = new Map([['int64', ['float64']], ['uint64', ['float64']]]);

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The alter's steps (without their version), checked against the spec's shape. */
export function alterSteps(spec: AlterSpec): AlterStep[] {
  if (typeof spec !== 'object' || spec === null) throw new UsageError(`alter: expected an object { ${OPTIONS.join(', ')} }`);
  for (const key of Object.keys(spec)) if (!OPTIONS.includes(key)) throw new UsageError(`alter: unknown option ${JSON.stringify(key)} (options: ${OPTIONS.join(', ')})`);
  const steps: AlterStep[] = [
    ...list(spec.dropField).map((field) => ({ op: 'drop' as const, field })),
    ...list(spec.renameField).map((r) => ({ op: 'rename' as const, from: r?.from, to: r?.to })),
    ...list(spec.widen).map((w) => ({ op: 'widen' as const, field: w?.field, to: w?.to })),
    ...list(spec.addTag).map((tag) => ({ op: 'addTag' as const, tag })),
  ];
  for (const s of steps) {
    const names = s.op === 'rename' ? [s.from, s.to] : s.op === 'addTag' ? [s.tag] : [s.field];
    if (names.some((n) => typeof n !== 'string' || n === '')) throw new UsageError(`alter: ${s.op} needs ${s.op === 'addTag' ? 'tag' : 'field'} names (strings), got ${JSON.stringify(s)}`);
  }
  if (steps.length === 0) throw new UsageError(`alter: nothing to change (${OPTIONS.join(', ')})`);
  return steps;
}

/** A chunk whose statistics show a value of the field beyond ±2^53 (entries in the manifest's revision). */
function beyondExact(chunks: readonly ChunkEntry[], field: string): ChunkEntry | undefined {
  return chunks.find((c) => {
    const stats = Object.hasOwn(c.columns, field) ? c.columns[field] : undefined;
    return [stats?.min, stats?.max].some((v) => typeof v === 'string' && (BigInt(v) > FLOAT64_EXACT_MAX || BigInt(v) < -FLOAT64_EXACT_MAX));
  });
}

/**
 * The manifest after the alter, on top of `base` (run by the commit on whatever version is
 * latest when it lands, so its checks see every chunk committed before it).
 */
export function applyAlter(base: Manifest, steps: readonly AlterStep[], version: number): { schema: TableSchema; chunks: ChunkEntry[] } {
  const schema = base.schema;
  let fields = [...schema.fields];
  const tags = [...schema.tags];
  const alters: SchemaAlter[] = [...(schema.alters ?? [])];
  const table = base.table;
  const keyColumn = (name: string) => {
    if (name === schema.time) throw new SchemaError(`alter ${table}: ${name} is the time column; it cannot be dropped, renamed or widened`);
    if (tags.includes(name)) throw new SchemaError(`alter ${table}: ${name} is a tag; tags are the series identity and every chunk's sort key, so they cannot be dropped, renamed or widened (only fields can)`);
  };
  const find = (name: string, op: string) => {
    keyColumn(name);
    const f = fields.find((x) => x.name === name);
    if (!f) throw new SchemaError(`alter ${table}: cannot ${op} ${JSON.stringify(name)}: no such field (fields: ${fields.map((x) => x.name).join(', ') || 'none'})`);
    return f;
  };
  const order = { drop: 0, rename: 1, widen: 2, addTag: 3 } as const;
  for (const s of [...steps].sort((a, b) => order[a.op] - order[b.op])) {
    if (s.op === 'drop') {
      find(s.field, 'drop');
      fields = fields.filter((f) => f.name !== s.field);
      alters.push({ op: 'drop', field: s.field, version });
    } else if (s.op === 'rename') {
      const f = find(s.from, 'rename');
      keyColumn(s.to);
      if (fields.some((x) => x.name === s.to)) throw new SchemaError(`alter ${table}: cannot rename ${s.from} to ${s.to}: a field ${s.to} exists (drop it first, in the same alter or before)`);
      fields = fields.map((x) => (x === f ? { ...f, name: s.to } : x));
      alters.push({ op: 'rename', from: s.from, to: s.to, version });
    } else if (s.op === 'addTag') {
      if (s.tag === schema.time) throw new SchemaError(`alter ${table}: cannot add tag ${s.tag}: it is the time column`);
      if (tags.includes(s.tag)) throw new SchemaError(`alter ${table}: cannot add tag ${s.tag}: the table has that tag (tags: ${tags.join(', ')})`);
      if (fields.some((f) => f.name === s.tag)) throw new SchemaError(`alter ${table}: cannot add tag ${s.tag}: a field ${s.tag} exists (a column is a tag or a field, not both; drop or rename the field first)`);
      tags.push(s.tag);
      alters.push({ op: 'addTag', tag: s.tag, version });
    } else {
      const f = find(s.field, 'widen');
      if (f.type === s.to) throw new SchemaError(`alter ${table}: field ${s.field} is already ${s.to}`);
      if (!(WIDENINGS.get(f.type) ?? []).includes(s.to)) {
        throw new SchemaError(`alter ${table}: cannot widen ${s.field} from ${f.type} to ${s.to}: the widenings that keep every value exact are int64 → float64 and uint64 → float64 (within ±2^53)`);
      }
      const chunks = base.chunks.map((c) => mapEntry(c, { ...schema, tags, fields, alters }));
      const over = beyondExact(chunks, f.name);
      if (over) {
        throw new SchemaError(`alter ${table}: cannot widen ${s.field} to float64: chunk ${over.key} holds values up to ${over.columns[f.name]!.min} .. ${over.columns[f.name]!.max}, beyond ±2^53 (9007199254740992), which float64 cannot hold exactly`);
      }
      fields = fields.map((x) => (x === f ? { ...f, type: s.to } : x));
      alters.push({ op: 'widen', field: s.field, from: f.type, to: s.to, version });
    }
  }
  const next: TableSchema = { ...schema, tags, fields, alters };
  checkTableSpec(next, base.options);
  return { schema: next, chunks: base.chunks.map((c) => mapEntry(c, next)) };
}

/** An addTags commit found every tag there already (another writer added them first): nothing to commit. */
class TagsPresent extends Error {}

/**
 * The rewrite of a commit adding the tags of `tags` that the latest version lacks (ingest: a
 * point carrying a new tag). Run on whatever version is latest when the commit lands, so two
 * writers adding one tag at once make one alter: the second finds it there (isTagsPresent).
 */
export function addTagsRewrite(tags: readonly string[]): (next: Manifest) => Manifest {
  return (next) => {
    const todo = [...new Set(tags)].filter((t) => !next.schema.tags.includes(t));
    if (todo.length === 0) throw new TagsPresent();
    return { ...next, ...applyAlter(next, todo.map((tag) => ({ op: 'addTag' as const, tag })), next.version) };
  };
}

export const isTagsPresent = (error: unknown): boolean => error instanceof TagsPresent;

/**
 * Tags a bulk writer adds in its own commit (an import naming tags the table lacks): its
 * chunks are written in the schema the alter makes (`schema`, one revision on), and `rewrite`
 * adds the tags in the commit that adds the chunks, so a failed import leaves the table as it
 * was. An alter landing in between (another writer's) fails the commit: the chunks' revision
 * would no longer be the one the tags make.
 */
export interface StagedTags {
  tags: string[];
  schema: TableSchema;
  rewrite: (next: Manifest) => Manifest;
}

/** The staging of the tags of `tags` that `base` lacks; undefined when it has them all. SchemaError for a tag that is a field or the time. */
export function stageTags(base: Manifest, tags: readonly string[]): StagedTags | undefined {
  const todo = [...new Set(tags)].filter((t) => !base.schema.tags.includes(t));
  if (todo.length === 0) return undefined;
  const steps = todo.map((tag) => ({ op: 'addTag' as const, tag }));
  const { schema } = applyAlter(base, steps, base.version + 1);
  const revision = revisionOf(base.schema);
  return {
    tags: todo, schema,
    rewrite: (next) => {
      if (revisionOf(next.schema) !== revision) {
        throw new ConflictError(`adding tag(s) ${todo.join(', ')} to ${base.table}: another alter of the table landed during this write (schema revision ${revisionOf(next.schema)}, expected ${revision}); nothing was committed, run it again`);
      }
      return { ...next, ...applyAlter(next, steps, next.version) };
    },
  };
}
