/**
 * verify: everything a table's readers trust, checked against what it was derived from.
 *
 * - Every retained manifest version is read: its checksum (format 2; format 1 manifests,
 *   written before checksums, are reported as unchecked) and every field (manifest-validate.ts).
 * - Every chunk file any readable version names is read whole: trailer, footer, every page
 *   and region CRC-32, a decode of every page against its statistics (ChunkReader.verify).
 * - Every manifest entry is compared with the footer of its chunk: file size, rows, time
 *   range and its partition, schema (time column, unit, tags, each column's role and type),
 *   tag values and bloom filters, column statistics and sizes, lineage. Every mismatch is
 *   reported, not only the first: scans trust these entries to prune, so a wrong one loses
 *   or doubles rows without any checksum failing.
 *
 * checkChunkBytes runs the chunk checks on a chunk's bytes before a writer puts them.
 */
import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import { bufferSource, openChunk, type ChunkFooter } from '../format/index.js';
import { mapFooter, revisionOf } from './alter-read.js';
import { CorruptChunkError } from '../errors.js';
import { entryOf, latestVersion, manifestKey, MANIFEST_DIR, readManifest, type Manifest } from './manifest.js';
import { partitionOf } from '../core/time.js';
import { storeSource } from './store-source.js';
import type { ChunkEntry, TableSchema } from '../core/types.js';

export interface ChunkCheck {
  key: string;
  ok: boolean;
  /** Every problem, joined with '; ' (absent when ok). */
  error?: string;
  errors?: string[];
}

export interface ManifestCheck {
  version: number;
  key: string;
  ok: boolean;
  /** 'ok': the checksum matched; 'absent': a format 1 manifest (no checksum, fields still validated). */
  checksum?: 'ok' | 'absent';
  error?: string;
}

export interface TableCheck {
  table: string;
  /** The latest version (0 when the table has none). */
  version: number;
  ok: boolean;
  manifests: ManifestCheck[];
  chunks: ChunkCheck[];
}

const VERSION_OF_KEY = /\/(\d{20})\.json$/;

/** A value as a manifest stores it: through JSON (±Infinity become null, -0 becomes 0). */
function asStored(value: unknown): string {
  return JSON.stringify(value ?? null) ?? 'null';
}

function sameSet(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((v) => set.has(v));
}

/** How a manifest entry differs from its chunk's footer (and file size). */
export function entryMismatches(entry: ChunkEntry, footer: ChunkFooter, size: number, schema: TableSchema, manifest: Manifest, stored: ChunkFooter = footer): string[] {
  const out: string[] = [];
  const expected = entryOf(entry.key, entry.partition, footer, size);
  const field = (name: string, stored: unknown, actual: unknown) => {
    if (asStored(stored) !== asStored(actual)) out.push(`${name} is ${asStored(stored)} in the manifest, ${asStored(actual)} in the chunk`);
  };
  field('bytes', entry.bytes, size);
  field('rows', entry.rows, expected.rows);
  // Raw bytes of every stored column (a field dropped since still has its bytes in the file).
  field('rawBytes', entry.rawBytes, stored === footer ? expected.rawBytes : entryOf(entry.key, entry.partition, stored, size).rawBytes);
  field('timeMin', entry.timeMin, expected.timeMin);
  field('timeMax', entry.timeMax, expected.timeMax);
  if (footer.rowCount > 0 && footer.timeMin !== null && footer.timeMax !== null) {
    for (const t of [footer.timeMin, footer.timeMax]) {
      let partition: string;
      try { partition = partitionOf(BigInt(t), footer.timeUnit, manifest.options.partition); } catch { partition = '(none)'; }
      if (partition !== entry.partition) { out.push(`the chunk holds time ${t}, outside its partition ${entry.partition}`); break; }
    }
  }
  // Schema: the chunk's columns must be the table's, with the table's types.
  if (footer.timeColumn !== schema.time) out.push(`the chunk's time column is ${JSON.stringify(footer.timeColumn)}, the table's ${JSON.stringify(schema.time)}`);
  if (footer.timeUnit !== schema.timeUnit) out.push(`the chunk's time unit is ${footer.timeUnit}, the table's ${schema.timeUnit}`);
  if (asStored(footer.tags) !== asStored(schema.tags)) out.push(`the chunk's tags are ${asStored(footer.tags)}, the table's ${asStored(schema.tags)}`);
  const fieldTypes = new Map(schema.fields.map((f) => [f.name, f.type] as const));
  const tags = new Set(schema.tags);
  for (const c of footer.columns) {
    const role = c.name === schema.time ? 'time' : tags.has(c.name) ? 'tag' : fieldTypes.has(c.name) ? 'field' : undefined;
    if (role === undefined) { out.push(`the chunk's column ${JSON.stringify(c.name)} (${c.type}) is not in the table's schema`); continue; }
    const type = role === 'time' ? 'timestamp' : role === 'tag' ? 'string' : fieldTypes.get(c.name);
    if (c.role !== role || c.type !== type) out.push(`the chunk's column ${JSON.stringify(c.name)} is a ${c.type} ${c.role}, the table's a ${type} ${role}`);
  }
  // Tag values and blooms: what pruning trusts.
  for (const tag of new Set([...Object.keys(entry.tagValues), ...Object.keys(expected.tagValues)])) {
    const stored = entry.tagValues[tag];
    const actual = expected.tagValues[tag];
    if (!stored || !actual || !sameSet(stored, actual)) out.push(`tagValues[${JSON.stringify(tag)}] is ${stored ? asStored(stored) : 'absent'} in the manifest, the chunk holds ${actual ? asStored(actual) : 'no such list'}`);
  }
  for (const tag of Object.keys(entry.tagBlooms ?? {})) {
    // A missing bloom prunes nothing (older writers did not write them); a wrong one loses rows.
    const actual = expected.tagBlooms?.[tag];
    if (entry.tagBlooms![tag] !== actual) out.push(`tagBlooms[${JSON.stringify(tag)}] does not match the chunk's ${actual ? 'values' : 'tag (it lists them in tagValues)'}`);
  }
  for (const name of new Set([...Object.keys(entry.columns), ...Object.keys(expected.columns)])) {
    const stored = entry.columns[name];
    const actual = expected.columns[name];
    if (!stored || !actual) { out.push(`columns[${JSON.stringify(name)}] is ${stored ? 'in the manifest only' : 'missing from the manifest'}`); continue; }
    for (const k of ['min', 'max', 'nullCount', 'bytes', 'rawBytes'] as const) field(`columns[${JSON.stringify(name)}].${k}`, stored[k], actual[k]);
  }
  field('lineage', entry.lineage, expected.lineage);
  const owner = footer.metadata?.['table'];
  if (owner !== undefined && owner !== manifest.table) out.push(`the chunk was written for table ${JSON.stringify(owner)}`);
  return out;
}

/** Verifies table `name` of `store` (see the module comment). */
export async function verifyTable(store: ChunkManager, name: string): Promise<TableCheck> {
  const latest = await latestVersion(store, name);
  const versions = (await store.list(`${name}/${MANIFEST_DIR}/`))
    .map((k) => Number(VERSION_OF_KEY.exec(k)?.[1]))
    .filter((v) => v > 0 && v <= latest);
  if (latest > 0 && !versions.includes(latest)) versions.push(latest);
  versions.sort((a, b) => b - a);
  const manifests: ManifestCheck[] = [];
  // Chunk key → the versions naming it, with their entry; newest version first.
  const uses = new Map<string, { manifest: Manifest; entry: ChunkEntry }[]>();
  for (const version of versions) {
    const key = manifestKey(name, version);
    try {
      const { manifest, checksum } = await readManifest(store, name, version);
      manifests.push({ version, key, ok: true, checksum });
      for (const entry of manifest.chunks) {
        let list = uses.get(entry.key);
        if (!list) uses.set(entry.key, (list = []));
        list.push({ manifest, entry });
      }
    } catch (error) {
      manifests.push({ version, key, ok: false, error: (error as Error).message });
    }
  }
  const chunks: ChunkCheck[] = [];
  for (const [key, list] of uses) {
    const errors: string[] = [];
    try {
      const source = storeSource(store, key);
      const reader = await openChunk(source);
      const size = await source.size();
      const result = await reader.verify({ decode: true });
      for (const e of result.errors) errors.push(e.message);
      // Each distinct entry once (versions copy entries unchanged), naming the versions that hold it.
      const distinct = new Map<string, { versions: number[]; manifest: Manifest; entry: ChunkEntry }>();
      for (const { manifest, entry } of list) {
        const id = `${JSON.stringify(entry, (k, v) => (k === 'createdAt' ? undefined : v))}\u0000${JSON.stringify(manifest.schema)}`;
        const known = distinct.get(id);
        if (known) known.versions.push(manifest.version);
        else distinct.set(id, { versions: [manifest.version], manifest, entry });
      }
      for (const { versions: vs, manifest, entry } of distinct.values()) {
        const where = `manifest version${vs.length > 1 ? 's' : ''} ${vs.join(', ')}`;
        // The chunk as the version's schema sees it (renamed, dropped, widened since it was written).
        const footer = mapFooter(reader.footer, manifest.schema.alters ?? [], revisionOf(manifest.schema), key);
        for (const m of entryMismatches(entry, footer, size, manifest.schema, manifest, reader.footer)) errors.push(`${where}: ${m}`);
      }
    } catch (error) {
      errors.push((error as Error).message);
    }
    chunks.push(errors.length ? { key, ok: false, error: errors.join('; '), errors } : { key, ok: true });
  }
  return { table: name, version: latest, ok: manifests.every((m) => m.ok) && chunks.every((c) => c.ok), manifests, chunks };
}

/**
 * Checks a chunk from the bytes about to be put, as verify does (footer, trailer, every page
 * and region checksum, a decode of every page against its statistics): a writer bug or a bit
 * flipped in memory is caught here, before any manifest can name the file.
 */
export async function checkChunkBytes(key: string, bytes: Uint8Array, written: ChunkFooter): Promise<void> {
  const reader = await openChunk(bufferSource(bytes, key));
  const result = await reader.verify({ decode: true });
  if (!result.ok) {
    throw new CorruptChunkError(key, result.errors[0]!.offset, `the chunk just encoded fails verification, so it was not stored: ${result.errors.map((e) => e.message).join('; ')}`);
  }
  if (reader.footer.rowCount !== written.rowCount || reader.footer.timeMin !== written.timeMin || reader.footer.timeMax !== written.timeMax) {
    throw new CorruptChunkError(key, 0, `the chunk just encoded reads back ${reader.footer.rowCount} rows ${reader.footer.timeMin}..${reader.footer.timeMax}, the writer made ${written.rowCount} rows ${written.timeMin}..${written.timeMax}; it was not stored`);
  }
}
