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
import { tableVersions, type VersionInfo } from './versions.js';

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

  /** A table's retained versions, oldest first, and what each changed (versions.ts). */
  versions(name: string): Promise<VersionInfo[]> {
    return tableVersions(this.store, name);
  }
}
