/**
 * A store's tables as their manifests tell them, read-only: names, descriptions, chunk
 * entries and retained versions. It loads manifests and nothing else (no Arrow, no codecs,
 * no decoding), so commands that only read manifests (`quiver tables`, `quiver inspect
 * TABLE`) start in a fraction of the time a full Quiver takes to load. Quiver.tables() and
 * Table.versions() are these same functions.
 */
import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import { QuiverError } from '../errors.js';
import type { ChunkEntry, TableDescription } from '../core/types.js';
import { describeManifest, latestVersion, loadManifest, MANIFEST_DIR, type Manifest } from './manifest.js';
import { validateTableName } from './names.js';

/** One retained version of a table: when, what operation, and its size. */
export interface TableVersion {
  version: number;
  committedAt: string;
  operation: string;
  chunks: number;
  rows: number;
  bytes: number;
}

/** Names of the tables in the store (directories holding a manifest), sorted. */
export async function listTables(store: ChunkManager): Promise<string[]> {
  const dirs = await store.list('', { recursive: false });
  const out: string[] = [];
  for (const dir of dirs) {
    if (!dir.endsWith('/')) continue;
    const name = dir.slice(0, -1);
    if ((await store.list(`${name}/${MANIFEST_DIR}/`, { recursive: false })).length > 0) out.push(name);
  }
  return out.sort();
}

/** A table's retained versions, oldest first. */
export async function tableVersions(store: ChunkManager, table: string): Promise<TableVersion[]> {
  const keys = await store.list(`${table}/${MANIFEST_DIR}/`);
  const numbers = keys.map((k) => Number(/(\d{20})\.json$/.exec(k)?.[1])).filter((v) => v > 0).sort((a, b) => a - b);
  const out: TableVersion[] = [];
  for (const v of numbers) {
    const m = await loadManifest(store, table, v);
    out.push({ version: v, committedAt: m.committedAt, operation: m.operation, chunks: m.chunks.length, rows: m.chunks.reduce((s, c) => s + c.rows, 0), bytes: m.chunks.reduce((s, c) => s + c.bytes, 0) });
  }
  return out;
}

/** The read-only view of one store (which it does not own: the caller closes the store). */
export class Catalog {
  constructor(readonly store: ChunkManager) {}

  tables(): Promise<string[]> {
    return listTables(this.store);
  }

  /** The latest committed manifest of a table (QuiverError when there is no such table). */
  async manifest(name: string): Promise<Manifest> {
    validateTableName(name);
    const version = await latestVersion(this.store, name);
    if (version === 0) throw new QuiverError(`no table named ${name} in ${this.store.url}`);
    return loadManifest(this.store, name, version);
  }

  async describe(name: string): Promise<TableDescription> {
    return describeManifest(await this.manifest(name));
  }

  async chunks(name: string): Promise<ChunkEntry[]> {
    return (await this.manifest(name)).chunks;
  }

  versions(name: string): Promise<TableVersion[]> {
    return tableVersions(this.store, name);
  }
}
