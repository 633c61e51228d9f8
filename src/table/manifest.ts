import { crc32 } from 'node:zlib';
import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import type { ChunkFooter } from '../format/index.js';
import { buildBloom } from '../core/bloom.js';
import { mapLimit } from '../chunk-manager/semaphore.js';
import { AlreadyExistsError, ConflictError, CorruptManifestError, NotFoundError, QuiverError, SchemaError } from '../errors.js';
import { mapEntry, revisionOf, tagsAdded } from './alter-map.js';
import { ManifestShapeError, validateManifest, validateOptions, validateSchema } from './manifest-validate.js';
import type { ChunkEntry, FieldSpec, TableDescription, TableOptions, TableSchema, Tombstone } from '../core/types.js';

/**
 * Versioned manifests. Each table has `<table>/_manifest/<20-digit version>.json`; a
 * version is the whole table state (schema, options, live chunks with their stats), so a
 * reader plans a scan from one small object and never opens a chunk to learn what is in
 * it. A commit writes version N+1 with a conditional create (put-if-absent: If-None-Match
 * on S3, ifNoneMatch on Azure, link() locally): of racing writers exactly one wins each
 * version; the others reload and re-apply their change. Old versions stay readable (time
 * travel) until collected.
 *
 * Integrity: a manifest (format 2) ends with its own checksum, `,"checksum":"crc32:<8 hex>"}`,
 * the CRC-32 of the manifest's JSON without that member (the bytes before it, then `}`); a
 * reader checks it, then validates every field (manifest-validate.ts). Manifests of format 1
 * (written before checksums) are read, validated, and reported by verify as unchecked; the
 * next commit to their table writes format 2.
 */
export const MANIFEST_FORMAT = 2;
export const MANIFEST_DIR = '_manifest';
/** Attempts of one commit against concurrent writers before giving up. */
export const COMMIT_ATTEMPTS_MAX = 64;
/** Largest manifest accepted (a hostile or broken store must not exhaust memory). */
export const MANIFEST_BYTES_MAX = 256 * 1024 * 1024;
/** Tags with at most this many distinct values in a chunk are listed in its manifest entry. */
export const TAG_VALUES_IN_MANIFEST_MAX = 256;
/** Longest back-off (ms) before a commit that lost a race retries (jittered, growing 2^attempt up to this). */
export const COMMIT_BACKOFF_MS_MAX = 200;
/** Chunk existence checks of one commit in flight at once. */
const CHUNK_CHECKS_IN_FLIGHT = 8;

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
  /** Deletes still hiding rows of some chunk, oldest first (src/table/delete.ts, docs/tables.md). */
  deletes?: Tombstone[];
  /** Names of the rollup tables of this (source) table (rollup.ts). */
  rollups?: string[];
  /** On a rollup table: per source partition, the source version its rows were computed from (rollup.ts). */
  rollupMarks?: Record<string, number>;
}

/** A manifest as read: `checksum` 'ok' when it carried one that matched, 'absent' for format 1. */
export interface LoadedManifest {
  manifest: Manifest;
  checksum: 'ok' | 'absent';
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

const CHECKSUM_HEAD = ',"checksum":"crc32:';
/** `,"checksum":"crc32:` + 8 hex digits + `"}`. */
const CHECKSUM_TAIL_BYTES = CHECKSUM_HEAD.length + 8 + 2;
const CLOSE_BRACE = new Uint8Array([0x7d]);

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** The stored bytes of a manifest: its JSON, ending with its checksum (see the module comment). */
export function encodeManifest(manifest: Manifest): Uint8Array {
  const { checksum: _, ...body } = manifest as Manifest & { checksum?: unknown };
  const json = new TextEncoder().encode(JSON.stringify({ ...body, format: MANIFEST_FORMAT }));
  const tail = new TextEncoder().encode(`${CHECKSUM_HEAD}${hex32(crc32(json))}"}`);
  const out = new Uint8Array(json.length - 1 + tail.length);
  out.set(json.subarray(0, json.length - 1));
  out.set(tail, json.length - 1);
  return out;
}

/**
 * Parses and checks the bytes of the manifest of `table` version `version` (key `key`):
 * checksum, JSON, every field. Throws CorruptManifestError naming the key and the field.
 */
export function decodeManifest(bytes: Uint8Array, key: string, table: string, version: number, store?: string): LoadedManifest {
  const corrupt = (field: string, detail: string) => new CorruptManifestError(key, field, detail, store);
  if (bytes.length > MANIFEST_BYTES_MAX) throw corrupt('', `${bytes.length} bytes exceed the manifest limit of ${MANIFEST_BYTES_MAX}`);
  let body = bytes;
  let checksum: LoadedManifest['checksum'] = 'absent';
  const n = bytes.length;
  if (n > CHECKSUM_TAIL_BYTES) {
    const tail = Buffer.from(bytes.buffer, bytes.byteOffset + n - CHECKSUM_TAIL_BYTES, CHECKSUM_TAIL_BYTES).toString('latin1');
    const m = /^,"checksum":"crc32:([0-9a-f]{8})"\}$/.exec(tail);
    if (m) {
      const prefix = bytes.subarray(0, n - CHECKSUM_TAIL_BYTES);
      const actual = hex32(crc32(CLOSE_BRACE, crc32(prefix)));
      if (actual !== m[1]) throw corrupt('checksum', `crc32 of the contents is ${actual}, the manifest records ${m[1]} (the manifest was changed or damaged)`);
      body = new Uint8Array(prefix.length + 1);
      body.set(prefix);
      body[prefix.length] = 0x7d;
      checksum = 'ok';
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    throw corrupt('', `not valid UTF-8 JSON (${(error as Error).message}); truncated or damaged?`);
  }
  if (checksum === 'absent') {
    const o = raw as Record<string, unknown> | null;
    if (typeof o === 'object' && o !== null && o['format'] !== 1) {
      throw corrupt('checksum', `missing: a format ${JSON.stringify(o['format'])} manifest must end with its checksum (only format 1 manifests, written before checksums, may lack one)`);
    }
  }
  try {
    return { manifest: validateManifest(raw, table, version), checksum };
  } catch (error) {
    if (error instanceof ManifestShapeError) throw corrupt(error.field, error.detail);
    throw error;
  }
}

/** Reads the manifest of a version, checking its size before downloading it, then its checksum and fields. */
export async function readManifest(store: ChunkManager, table: string, version: number): Promise<LoadedManifest> {
  const key = manifestKey(table, version);
  let bytes: Uint8Array;
  try {
    const size = await store.size(key);
    if (size > MANIFEST_BYTES_MAX) throw new CorruptManifestError(key, '', `${size} bytes exceed the manifest limit of ${MANIFEST_BYTES_MAX}`, store.url);
    bytes = await store.get(key);
  } catch (error) {
    if (error instanceof NotFoundError) throw new QuiverError(`table ${table} has no version ${version} in ${store.url}`);
    throw error;
  }
  return decodeManifest(bytes, key, table, version, store.url);
}

export async function loadManifest(store: ChunkManager, table: string, version: number): Promise<Manifest> {
  return (await readManifest(store, table, version)).manifest;
}

/**
 * Checks a new table's schema and options by the rules every reader applies to manifests
 * (so no table can be created that its readers would refuse): SchemaError naming the field.
 */
export function checkTableSpec(schema: TableSchema, options: TableOptions): void {
  try {
    // Through JSON, as a reader will see them (undefined members vanish, NaN becomes null).
    validateSchema(JSON.parse(JSON.stringify(schema)));
    validateOptions(JSON.parse(JSON.stringify(options)));
  } catch (error) {
    if (error instanceof ManifestShapeError) throw new SchemaError(`table spec: ${error.message}`);
    throw error;
  }
}

/**
 * Creates version 1; AlreadyExistsError when the table exists: it has a version (vacuum may
 * have expired version 1 of a live table) or another creator put version 1 first.
 */
export async function createManifest(store: ChunkManager, table: string, schema: TableSchema, options: TableOptions): Promise<Manifest> {
  if ((await latestVersion(store, table)) > 0) throw new AlreadyExistsError(store.url, manifestKey(table, 1));
  const manifest: Manifest = {
    format: MANIFEST_FORMAT, table, version: 1, parent: null, committedAt: new Date().toISOString(), operation: 'create', schema, options, chunks: [],
  };
  await store.put(manifestKey(table, 1), encodeManifest(manifest), { ifAbsent: true });
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
  /**
   * The table shape the added chunks were written for: a latest version whose time column,
   * time unit, tags or partitioning differ (the table was dropped and re-created meanwhile,
   * or another writer created it first) refuses them with a SchemaError.
   */
  expect?: { schema: TableSchema; options: TableOptions };
  /**
   * Create the table with this commit when it has no version yet: version 1 holds the change
   * itself, so a table never exists without the data of the write that created it. When
   * another writer creates it first: 'fail' throws ConflictError; 'append' commits on top of
   * that version (when `expect` allows).
   */
  create?: { schema: TableSchema; options: TableOptions; ifExists: 'fail' | 'append' };
  /** Awaited before each manifest put (the writer's lease check, lease.ts). */
  beforePut?: () => Promise<void>;
  /**
   * A last change of the next version as built on the latest one, before it is put, on every
   * attempt (the latest may differ): a delete's tombstone and the chunks it drops (delete.ts),
   * options, rollups and marks set by retention and rollup commits. It may throw to give the
   * commit up (e.g. a newer rollup computation landed first).
   */
  rewrite?: (next: Manifest) => Manifest;
}

/** A manifest put whose outcome is unknown (it failed, and reading the key back failed too). */
export class CommitOutcomeUnknownError extends QuiverError {
  override name = 'CommitOutcomeUnknownError';
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

/** Why chunks written for `expect` cannot join `base` (undefined when they can). */
function shapeMismatch(base: Manifest, expect: NonNullable<ManifestChange['expect']>): string | undefined {
  const a = base.schema, b = expect.schema;
  if (a.time !== b.time) return `its time column is ${JSON.stringify(a.time)}, the chunks' is ${JSON.stringify(b.time)}`;
  if (a.timeUnit !== b.timeUnit) return `its time unit is ${a.timeUnit}, the chunks' is ${b.timeUnit}`;
  // Tags added by alters since the chunks' revision: the chunks read them as the null tag (alter-map.ts).
  const tags = [...b.tags, ...tagsAdded(a.alters ?? [], revisionOf(b), revisionOf(a))];
  if (a.tags.length !== tags.length || a.tags.some((t, i) => t !== tags[i])) return `its tags are ${JSON.stringify(a.tags)}, the chunks' are ${JSON.stringify(b.tags)}`;
  if (base.options.partition !== expect.options.partition) return `it is partitioned by ${base.options.partition}, the chunks by ${expect.options.partition}`;
  // Chunks of a table that folds duplicates hold none (table.ts writeChunks): a writer of another policy's chunks may not join it.
  if ((base.options.duplicates ?? 'keep') !== (expect.options.duplicates ?? 'keep')) return `its duplicate policy is ${base.options.duplicates ?? 'keep'}, the chunks' is ${expect.options.duplicates ?? 'keep'}`;
  return undefined;
}

/**
 * Every chunk a commit adds must be in the store with its recorded size, or the commit would
 * name a missing file (a vacuum that took the writer for dead, a store that lost it). One
 * size() (a HEAD request on S3/Azure, a stat locally) per chunk, CHUNK_CHECKS_IN_FLIGHT at a
 * time: it also sees a truncated or replaced file, which a listing (keys only) would not,
 * and costs little beside the PUT of the chunk itself.
 */
export async function checkChunksPresent(store: ChunkManager, table: string, chunks: readonly ChunkEntry[]): Promise<void> {
  const problems = (await mapLimit(chunks, CHUNK_CHECKS_IN_FLIGHT, async (c) => {
    try {
      const size = await store.size(c.key);
      return size === c.bytes ? undefined : `${c.key} holds ${size} bytes, ${c.bytes} were written`;
    } catch (error) {
      if (error instanceof NotFoundError) return `${c.key} is missing`;
      throw error;
    }
  })).filter((p): p is string => p !== undefined);
  if (problems.length) {
    throw new QuiverError(`commit to ${table} in ${store.url} refused: ${problems.length} of its ${chunks.length} chunk file(s) are not as written (${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}); nothing was committed`);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * Puts a manifest version if absent. 'lost': another writer holds the version. A failed put
 * is resolved by reading the key back: our bytes there mean it landed; anything else
 * unreadable is a CommitOutcomeUnknownError (the caller must not delete the chunks).
 */
async function putVersion(store: ChunkManager, key: string, bytes: Uint8Array): Promise<'ok' | 'lost'> {
  try {
    await store.put(key, bytes, { ifAbsent: true });
    return 'ok';
  } catch (error) {
    if (error instanceof AlreadyExistsError) return 'lost';
    let there: Uint8Array;
    try {
      there = await store.get(key);
    } catch (readError) {
      if (readError instanceof NotFoundError) throw error;
      throw new CommitOutcomeUnknownError(`commit of ${key} in ${store.url}: the put failed (${(error as Error).message}) and reading it back failed too (${(readError as Error).message}); it may or may not have landed`, { cause: error });
    }
    return sameBytes(there, bytes) ? 'ok' : 'lost';
  }
}

/**
 * Commits `change` as the next version. Loses a race → reloads the winner's version and
 * re-applies (appends commute; schema additions merge; a type conflict is an error). Chunks
 * it adds are first checked to be in the store (checkChunksPresent).
 */
export async function commit(store: ChunkManager, table: string, change: ManifestChange, random = Math.random): Promise<Manifest> {
  const added = change.addChunks ?? [];
  if (added.length) {
    await change.beforePut?.();
    await checkChunksPresent(store, table, added);
  }
  const lostCreate = () => new ConflictError(`table ${table} was created in ${store.url} by another writer while this one was writing; nothing of this write was committed (to add to that table, write again with --append / ifExists: 'append')`);
  for (let attempt = 0; attempt < COMMIT_ATTEMPTS_MAX; attempt++) {
    const latest = await latestVersion(store, table);
    let next: Manifest;
    if (latest === 0) {
      if (!change.create) throw new QuiverError(`no table named ${table} in ${store.url}`);
      const { schema, options } = change.create;
      next = {
        format: MANIFEST_FORMAT, table, version: 1, parent: null, committedAt: new Date().toISOString(), operation: change.operation,
        schema: change.addFields?.length ? mergeFields(schema, change.addFields) : schema, options, chunks: withSeq(added, 1),
      };
      if (change.walMark) next.walMarks = Object.assign(Object.create(null) as Record<string, number>, { [change.walMark.id]: change.walMark.seq });
    } else {
      if (change.create?.ifExists === 'fail') throw lostCreate();
      const base = await loadManifest(store, table, latest);
      const mismatch = change.expect && added.length ? shapeMismatch(base, change.expect) : undefined;
      if (mismatch) throw new SchemaError(`${change.operation} on ${table} in ${store.url}: the table changed shape under this writer (${mismatch}); nothing was committed`);
      const removed = new Set(change.removeChunks ?? []);
      if (removed.size) {
        const present = new Set(base.chunks.map((c) => c.key));
        const gone = [...removed].filter((k) => !present.has(k));
        if (gone.length) {
          throw new ConflictError(`${change.operation} on ${table} in ${store.url}: version ${latest} no longer holds ${gone.length} of the ${removed.size} chunk(s) it replaces (first: ${gone[0]}); a concurrent commit removed them`);
        }
      }
      next = {
        ...base,
        format: MANIFEST_FORMAT,
        version: latest + 1,
        parent: latest,
        committedAt: new Date().toISOString(),
        operation: change.operation,
        schema: change.addFields?.length ? mergeFields(base.schema, change.addFields) : base.schema,
        // Chunks written before an alter that landed meanwhile: their statistics in its names (alter-read.ts).
        chunks: [...base.chunks.filter((c) => !removed.has(c.key)), ...withSeq(added.map((c) => mapEntry(c, base.schema)), latest + 1)],
      };
      if (change.walMark) {
        const marks = Object.assign(Object.create(null) as Record<string, number>, base.walMarks);
        marks[change.walMark.id] = Math.max(marks[change.walMark.id] ?? 0, change.walMark.seq);
        next.walMarks = marks;
      }
    }
    if (change.rewrite) next = change.rewrite(next);
    if (added.length && attempt > 0) await change.beforePut?.();
    if ((await putVersion(store, manifestKey(table, next.version), encodeManifest(next))) === 'ok') return next;
    // Lost the race: back off a little (jittered, growing) and try on the new latest.
    if (next.version === 1 && change.create?.ifExists !== 'append') throw lostCreate();
    if (next.version > 1) await new Promise((r) => setTimeout(r, random() * Math.min(COMMIT_BACKOFF_MS_MAX, 2 ** attempt)));
  }
  throw new QuiverError(`commit to ${table} in ${store.url} lost ${COMMIT_ATTEMPTS_MAX} races in a row; too many concurrent writers`);
}

/** Added chunks stamped with the version committing them, unless they carry a seq (a compaction's outputs). */
function withSeq(added: readonly ChunkEntry[], version: number): ChunkEntry[] {
  return added.map((c) => (c.seq === undefined ? { ...c, seq: version } : c));
}

/** The manifest entry of a chunk, from its footer (verify.ts compares stored entries with it). */
export function entryOf(key: string, partition: string, footer: ChunkFooter, bytes: number): ChunkEntry {
  // Keyed by column names (user data): null-prototype, so `__proto__` is a name like any other.
  const tagValues = Object.create(null) as ChunkEntry['tagValues'];
  const tagBlooms = Object.create(null) as Record<string, string>;
  const columns = Object.create(null) as ChunkEntry['columns'];
  let rawBytes = 0;
  for (const c of footer.columns) {
    if (c.role === 'tag' && c.dictionary) {
      // The null tag is listed as null, first (the series order); a bloom leaves it to nullCount.
      const values = c.nullCount > 0 ? [null, ...c.dictionary] : c.dictionary;
      if (values.length <= TAG_VALUES_IN_MANIFEST_MAX) tagValues[c.name] = values;
      else tagBlooms[c.name] = buildBloom(c.dictionary);
    }
    columns[c.name] = { min: c.min, max: c.max, nullCount: c.nullCount, bytes: c.storedBytes, rawBytes: c.rawBytes };
    rawBytes += c.rawBytes;
  }
  return {
    key, partition, rows: footer.rowCount, bytes, rawBytes, timeMin: footer.timeMin ?? '0', timeMax: footer.timeMax ?? '0',
    tagValues, ...(Object.keys(tagBlooms).length ? { tagBlooms } : {}), columns, lineage: footer.lineage, createdAt: new Date().toISOString(),
  };
}

export function describeManifest(m: Manifest): TableDescription {
  let rows = 0, bytes = 0, rawBytes = 0;
  let timeMin: bigint | null = null, timeMax: bigint | null = null;
  for (const c of m.chunks) {
    rows += c.rows; bytes += c.bytes; rawBytes += c.rawBytes;
    const lo = BigInt(c.timeMin), hi = BigInt(c.timeMax);
    if (timeMin === null || lo < timeMin) timeMin = lo;
    if (timeMax === null || hi > timeMax) timeMax = hi;
  }
  return {
    name: m.table, schema: m.schema, options: m.options, version: m.version, chunks: m.chunks.length, rows, bytes, rawBytes,
    timeMin: timeMin === null ? null : timeMin.toString(), timeMax: timeMax === null ? null : timeMax.toString(),
  };
}
