import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import { AlreadyExistsError, ConflictError, NotFoundError, QuiverError, SchemaError } from '../errors.js';
import type { ChunkEntry, FieldSpec, TableOptions, TableSchema } from './types.js';

/**
 * Versioned manifests. Each table has `<table>/_manifest/<20-digit version>.json`; a
 * version is the whole table state (schema, options, live chunks with their stats), so a
 * reader plans a scan from one small object and never opens a chunk to learn what is in
 * it. A commit writes version N+1 with a conditional create (put-if-absent: If-None-Match
 * on S3, ifNoneMatch on Azure, link() locally): of racing writers exactly one wins each
 * version; the others reload and re-apply their change. Old versions stay readable (time
 * travel) until collected.
 */
export const MANIFEST_FORMAT = 1;
export const MANIFEST_DIR = '_manifest';
/** Attempts of one commit against concurrent writers before giving up. */
export const COMMIT_ATTEMPTS_MAX = 64;
/** Largest manifest accepted (a hostile or broken store must not exhaust memory). */
export const MANIFEST_BYTES_MAX = 256 * 1024 * 1024;

export interface Manifest {
  format: number;
  table: string;
  version: number;
  parent: number | null;
  committedAt: string;
  operation: string;
  schema: TableSchema;
  options: TableOptions;
  chunks: ChunkEntry[];
  /** Per write-ahead log id, the last seq whose rows this version (or an earlier one) holds (wal.ts). */
  walMarks?: Record<string, number>;
}

export function manifestKey(table: string, version: number): string {
  return `${table}/${MANIFEST_DIR}/${String(version).padStart(20, '0')}.json`;
}

/** The latest committed version of a table, or 0 when it has none. */
export async function latestVersion(store: ChunkManager, table: string): Promise<number> {
  const keys = await store.list(`${table}/${MANIFEST_DIR}/`);
  let latest = 0;
  for (const key of keys) {
    const m = /\/(\d{20})\.json$/.exec(key);
    if (m) latest = Math.max(latest, Number(m[1]));
  }
  // Listings may lag a just-committed version on some stores: probe forward.
  while (latest > 0 && (await store.exists(manifestKey(table, latest + 1)))) latest++;
  return latest;
}

export async function loadManifest(store: ChunkManager, table: string, version: number): Promise<Manifest> {
  const key = manifestKey(table, version);
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (error) {
    if (error instanceof NotFoundError) throw new QuiverError(`table ${table} has no version ${version} in ${store.url}`);
    throw error;
  }
  if (bytes.length > MANIFEST_BYTES_MAX) throw new QuiverError(`manifest ${key} of ${bytes.length} bytes exceeds ${MANIFEST_BYTES_MAX}`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
  } catch (error) {
    throw new QuiverError(`manifest ${key} in ${store.url} is not valid JSON: ${(error as Error).message}`);
  }
  if (manifest?.format !== MANIFEST_FORMAT || manifest.version !== version || manifest.table !== table || !Array.isArray(manifest.chunks) || !manifest.schema) {
    throw new QuiverError(`manifest ${key} in ${store.url} is malformed (format ${manifest?.format}, version ${manifest?.version}, table ${manifest?.table})`);
  }
  return manifest;
}

function encode(manifest: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(manifest));
}

/** Creates version 1; AlreadyExistsError when the table exists. */
export async function createManifest(store: ChunkManager, table: string, schema: TableSchema, options: TableOptions): Promise<Manifest> {
  const manifest: Manifest = {
    format: MANIFEST_FORMAT, table, version: 1, parent: null, committedAt: new Date().toISOString(), operation: 'create', schema, options, chunks: [],
  };
  await store.put(manifestKey(table, 1), encode(manifest), { ifAbsent: true });
  return manifest;
}

/** A change to apply on top of whatever version is latest when the commit lands. */
export interface ManifestChange {
  operation: string;
  addChunks?: ChunkEntry[];
  removeChunks?: string[];
  addFields?: FieldSpec[];
  /** The rows of WAL `id` up to `seq` are in this commit. */
  walMark?: { id: string; seq: number };
}

/** Merges new fields into a schema: known fields must keep their type. */
export function mergeFields(schema: TableSchema, fields: readonly FieldSpec[]): TableSchema {
  const out = [...schema.fields];
  for (const f of fields) {
    if (f.name === schema.time || schema.tags.includes(f.name)) throw new SchemaError(`field ${f.name} collides with the ${f.name === schema.time ? 'time' : 'tag'} column`);
    const known = out.find((k) => k.name === f.name);
    if (!known) out.push({ name: f.name, type: f.type, nullable: f.nullable ?? true });
    else if (known.type !== f.type) throw new SchemaError(`column ${f.name} is ${known.type} in the table, got ${f.type}`);
  }
  return { ...schema, fields: out };
}

/**
 * Commits `change` as the next version. Loses a race → reloads the winner's version and
 * re-applies (appends commute; schema additions merge; a type conflict is an error).
 */
export async function commit(store: ChunkManager, table: string, change: ManifestChange, random = Math.random): Promise<Manifest> {
  for (let attempt = 0; attempt < COMMIT_ATTEMPTS_MAX; attempt++) {
    const latest = await latestVersion(store, table);
    if (latest === 0) throw new QuiverError(`no table named ${table} in ${store.url}`);
    const base = await loadManifest(store, table, latest);
    const removed = new Set(change.removeChunks ?? []);
    if (removed.size) {
      const present = new Set(base.chunks.map((c) => c.key));
      const gone = [...removed].filter((k) => !present.has(k));
      if (gone.length) {
        throw new ConflictError(`${change.operation} on ${table} in ${store.url}: version ${latest} no longer holds ${gone.length} of the ${removed.size} chunk(s) it replaces (first: ${gone[0]}); a concurrent commit removed them`);
      }
    }
    const next: Manifest = {
      ...base,
      version: latest + 1,
      parent: latest,
      committedAt: new Date().toISOString(),
      operation: change.operation,
      schema: change.addFields?.length ? mergeFields(base.schema, change.addFields) : base.schema,
      chunks: [...base.chunks.filter((c) => !removed.has(c.key)), ...(change.addChunks ?? [])],
    };
    if (change.walMark) next.walMarks = { ...base.walMarks, [change.walMark.id]: Math.max(base.walMarks?.[change.walMark.id] ?? 0, change.walMark.seq) };
    try {
      await store.put(manifestKey(table, next.version), encode(next), { ifAbsent: true });
      return next;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      // Lost the race: back off a little (jittered, growing) and try on the new latest.
      await new Promise((r) => setTimeout(r, random() * Math.min(200, 2 ** attempt)));
    }
  }
  throw new QuiverError(`commit to ${table} in ${store.url} lost ${COMMIT_ATTEMPTS_MAX} races in a row; too many concurrent writers`);
}
