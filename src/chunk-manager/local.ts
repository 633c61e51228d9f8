import type { FileHandle } from 'node:fs/promises';
import { promises as fsp, readdir as readdirCallback, stat as statCallback, statSync, type Dirent, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { existsBySize, type ByteRange, type ChunkManager, type ListOptions, type PutOptions } from './chunk-manager.js';
import { AlreadyExistsError, assert, NotFoundError, StoreError, UsageError } from '../errors.js';
import { validateKey } from './keys.js';
import { nativeAddon, type MappedFile, type NativeAddon } from '../native/addon.js';
import { compareKeys } from './memory.js';

/**
 * node:crypto on first put only: loading it costs a few ms of every CLI start, and reading
 * commands (`quiver tables`, `inspect`) never put (README, "CLI start-up").
 */
let crypto: typeof import('node:crypto') | undefined;
/** node:crypto, loaded on first use (also disk-cache.ts's cache keys). */
export const lazyCrypto = (): typeof import('node:crypto') => (crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto'));
const randomHex = (bytes: number) => lazyCrypto().randomBytes(bytes).toString('hex');

/**
 * node:fs/promises (and the ~10 built-in modules it loads: readline, watchers, dir) only when a
 * command opens, writes or deletes a file: `fsp.x` reads node:fs's lazy getter at the call.
 * Listing and size() use the callback readdir and stat, so `quiver tables` and `inspect`
 * (reads through mmap) never load it (README, "CLI start-up").
 */
function readdirEntries(path: string): Promise<Dirent[]> {
  return new Promise((resolve, reject) => readdirCallback(path, { withFileTypes: true }, (error, entries) => (error ? reject(error) : resolve(entries))));
}

function statPath(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => statCallback(path, (error, stats) => (error ? reject(error) : resolve(stats))));
}

/** Temp files of in-flight puts start with this; list() never shows them. */
const TEMP_PREFIX = '.tmp-';
/**
 * Open maps kept for reuse (chunk files are immutable once written). A file mapped again costs
 * the mmap and, under MADV_RANDOM, one page fault per 4 KiB read: with 64 maps a 150-chunk
 * table was mapped anew on every query (~100 ms of Q4 at scale 10, issue 18). 1,024 maps stay
 * far below vm.max_map_count (65,530 by default); the address space they hold is bounded apart.
 */
export const MAPS_OPEN_MAX = 1024;
/** Bytes of address space the kept maps may span (virtual memory, not resident: pages the kernel may drop). */
export const MAPPED_BYTES_MAX = 64 * 1024 ** 3;

/**
 * A directory as a ChunkManager.
 *
 * Writes are atomic: bytes go to a temp file in the target directory, are fsynced, then
 * renamed over the key (or, for put-if-absent, hard-linked to it: link() fails with EEXIST
 * atomically, which is our conditional create), and the directory is fsynced so the new
 * name survives a crash. A reader sees either no object or all of it.
 *
 * Reads go through mmap (the native addon) when it is available: a file is mapped once
 * and kept in a small LRU, and ranges are copied out of the map by the addon. JavaScript
 * never holds a view of mapped bytes: a write through one would be SIGSEGV, and a read of
 * a page past the end of a file truncated after it was mapped would be SIGBUS, both fatal.
 * The addon's copy catches that SIGBUS, and the read fails with a StoreError (ETRUNC)
 * instead. Without the addon, positional reads. (Measured against positional reads with
 * cached descriptors, bench/object-store/local-reads.ts: mmap reads raw ranges 1.1–3.7×
 * faster; scans are within the noise.)
 */
export class LocalChunkManager implements ChunkManager {
  readonly url: string;
  readonly root: string;
  private readonly native: NativeAddon | null;
  private readonly maps = new Map<string, KeptMap>();
  private mappedBytes = 0;

  constructor(root: string, options: { native?: boolean } = {}) {
    this.root = resolve(root);
    this.url = `file://${this.root}`;
    // A missing directory is created by the first write; anything else in its place is a mistake.
    let kind: 'directory' | 'missing' | 'other' = 'missing';
    try { kind = statSync(this.root).isDirectory() ? 'directory' : 'other'; } catch { /* missing, or unreadable: reads will say */ }
    if (kind === 'other') throw new UsageError(`store ${this.root} is not a directory (a local store is a directory of tables)`);
    this.native = options.native === false ? null : nativeAddon();
  }

  /** True when reads go through mmap. */
  get usesMmap(): boolean {
    return this.native !== null;
  }

  /** Absolute path of a key, never outside the root. */
  path(key: string): string {
    validateKey(key);
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new UsageError(`store key ${JSON.stringify(key)} leaves the store root`);
    if (key.split('/').some((segment) => segment.startsWith(TEMP_PREFIX))) {
      throw new UsageError(`store key ${JSON.stringify(key)} uses the reserved prefix ${TEMP_PREFIX} of in-flight writes`);
    }
    return path;
  }

  private fail(error: unknown, key: string, op: string): never {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw new NotFoundError(this.url, key);
    const retryable = code === 'EMFILE' || code === 'ENFILE' || code === 'EAGAIN' || code === 'EBUSY';
    throw new StoreError(this.url, key, op, (error as Error).message, undefined, retryable, { cause: error });
  }

  private mapped(key: string): KeptMap {
    const path = this.path(key);
    // The file as it is now: another process may have renamed a new file over the key (a
    // lease refreshed, a table dropped and created again) or deleted it since it was mapped;
    // a kept map would go on answering the old bytes. One stat a read (~2 µs).
    let now: Stats | undefined;
    try {
      now = statSync(path);
    } catch (error) {
      this.unmap(key);
      this.fail(error, key, 'stat');
    }
    let map = this.maps.get(key);
    if (map && sameFile(map.stats, now)) {
      this.maps.delete(key);
      this.maps.set(key, map);
      return map;
    }
    this.unmap(key);
    assert(this.native, 'mapped() is reached only with the addon loaded');
    try {
      // Stat before map: a file replaced in between is mapped new and seen as changed next time.
      map = { ...this.native.mapFile(path, 'random'), stats: now };
    } catch (error) {
      this.fail(error, key, 'mmap');
    }
    this.maps.set(key, map);
    this.mappedBytes += map.size;
    // Least recently used out (never the map just made); its munmap comes with its garbage collection.
    for (const [oldKey, old] of this.maps) {
      if (this.maps.size <= MAPS_OPEN_MAX && this.mappedBytes <= MAPPED_BYTES_MAX) break;
      if (old === map) break;
      this.unmap(oldKey);
    }
    return map;
  }

  /** Forgets the kept map of a key, if any. */
  private unmap(key: string): void {
    const map = this.maps.get(key);
    if (map === undefined) return;
    this.maps.delete(key);
    this.mappedBytes -= map.size;
  }

  /** Maps kept open and the bytes they span (tests). */
  get mapsOpen(): { count: number; bytes: number } {
    return { count: this.maps.size, bytes: this.mappedBytes };
  }

  /**
   * A copy of part of a mapping (the addon copies under a SIGBUS guard: a file that shrank
   * after it was mapped is a StoreError, and its mapping is dropped so the next read maps
   * it again at its new size).
   */
  private copyOut(key: string, map: { map: MappedFile; size: number }, offset: number, length: number, into?: Uint8Array): Uint8Array {
    assert(this.native, 'copyOut() is reached only with the addon loaded');
    try {
      if (into === undefined) return this.native.copyRange(map.map, offset, length);
      // Straight into the caller's memory when the addon can (a build without copyRangeInto: a copy of the copy).
      if (this.native.copyRangeInto) this.native.copyRangeInto(map.map, offset, length, into);
      else into.set(this.native.copyRange(map.map, offset, length));
      return into;
    } catch (error) {
      if (this.maps.get(key) === map) this.unmap(key);
      this.fail(error, key, 'read');
    }
  }

  private async withFile<T>(key: string, op: string, fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    let handle: FileHandle;
    try {
      handle = await fsp.open(this.path(key), 'r');
    } catch (error) {
      if (error instanceof UsageError) throw error;
      this.fail(error, key, op);
    }
    try {
      return await fn(handle);
    } catch (error) {
      if (error instanceof StoreError) throw error;
      this.fail(error, key, op);
    } finally {
      await handle.close();
    }
  }

  async get(key: string): Promise<Uint8Array> {
    if (this.native) { const map = this.mapped(key); return this.copyOut(key, map, 0, map.size); }
    return this.withFile(key, 'get', async (handle) => {
      const size = (await handle.stat()).size;
      return this.readFully(handle, key, 0, size, size);
    });
  }

  private async readFully(handle: FileHandle, key: string, offset: number, length: number, size: number, into?: Uint8Array): Promise<Uint8Array> {
    this.checkRange(key, offset, length, size);
    const out = into ?? new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) throw new StoreError(this.url, key, 'read', `file ended at ${offset + done}, expected ${offset + length} bytes`);
      done += bytesRead;
    }
    return out;
  }

  private checkRange(key: string, offset: number, length: number, size: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
      throw new StoreError(this.url, key, 'getRange', `range ${offset}+${length} outside object of ${size} bytes`);
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return (await this.getRanges(key, [{ offset, length }]))[0]!;
  }

  async getRanges(key: string, ranges: readonly ByteRange[]): Promise<Uint8Array[]> {
    if (this.native) {
      const map = this.mapped(key);
      return ranges.map((r) => {
        this.checkRange(key, r.offset, r.length, map.size);
        return this.copyOut(key, map, r.offset, r.length);
      });
    }
    return this.withFile(key, 'getRange', async (handle) => {
      const size = (await handle.stat()).size;
      const out: Uint8Array[] = [];
      for (const r of ranges) out.push(await this.readFully(handle, key, r.offset, r.length, size));
      return out;
    });
  }

  async getRangesInto(key: string, ranges: readonly ByteRange[], into: Uint8Array): Promise<void> {
    let total = 0;
    for (const r of ranges) total += r.length;
    if (total !== into.length) throw new UsageError(`getRangesInto: ranges of ${total} bytes into ${into.length}`);
    const native = this.native;
    if (native) {
      const map = this.mapped(key);
      let at = 0;
      for (const r of ranges) {
        this.checkRange(key, r.offset, r.length, map.size);
        this.copyOut(key, map, r.offset, r.length, into.subarray(at, at + r.length));
        at += r.length;
      }
      return;
    }
    return this.withFile(key, 'getRange', async (handle) => {
      const size = (await handle.stat()).size;
      let at = 0;
      for (const r of ranges) {
        await this.readFully(handle, key, r.offset, r.length, size, into.subarray(at, at + r.length));
        at += r.length;
      }
    });
  }

  async size(key: string): Promise<number> {
    try {
      const s = await statPath(this.path(key));
      if (!s.isFile()) throw new NotFoundError(this.url, key);
      return s.size;
    } catch (error) {
      if (error instanceof UsageError || error instanceof NotFoundError) throw error;
      this.fail(error, key, 'size');
    }
  }

  exists(key: string): Promise<boolean> {
    return existsBySize(this, key);
  }

  async put(key: string, bytes: Uint8Array, options: PutOptions = {}): Promise<void> {
    const path = this.path(key);
    const dir = dirname(path);
    const temp = join(dir, `${TEMP_PREFIX}${randomHex(8)}`);
    try {
      const handle = await openTemp(dir, temp);
      try {
        let done = 0;
        while (done < bytes.length) done += (await handle.write(bytes, done, bytes.length - done)).bytesWritten;
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (options.ifAbsent) {
        try {
          await fsp.link(temp, path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new AlreadyExistsError(this.url, key);
          throw error;
        }
        await fsp.unlink(temp);
      } else {
        await fsp.rename(temp, path);
      }
      this.unmap(key);
      await syncDirectory(dir);
    } catch (error) {
      await fsp.unlink(temp).catch(() => {});
      if (error instanceof AlreadyExistsError || error instanceof UsageError) throw error;
      this.fail(error, key, 'put');
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    const recursive = options.recursive ?? true;
    // Start at the deepest directory the prefix names, then filter by the full prefix.
    const slash = prefix.lastIndexOf('/');
    const baseKey = slash < 0 ? '' : prefix.slice(0, slash);
    if (baseKey) validateKey(baseKey);
    const out: string[] = [];
    const walk = async (dirKey: string): Promise<void> => {
      let entries;
      try {
        entries = await readdirEntries(dirKey ? join(this.root, dirKey) : this.root);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw new StoreError(this.url, dirKey || '/', 'list', (error as Error).message);
      }
      for (const entry of entries) {
        if (entry.name.startsWith(TEMP_PREFIX)) continue;
        const key = dirKey ? `${dirKey}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          const dirPrefix = `${key}/`;
          if (!dirPrefix.startsWith(prefix) && !prefix.startsWith(dirPrefix)) continue;
          if (!recursive && dirPrefix.startsWith(prefix) && dirPrefix.length > prefix.length) out.push(dirPrefix);
          else await walk(key);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          out.push(key);
        }
      }
    };
    await walk(baseKey);
    return out.sort(compareKeys);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const path = this.path(key);
      this.unmap(key);
      try {
        await fsp.unlink(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.fail(error, key, 'delete');
        continue;
      }
      // Remove emptied parent directories up to (not including) the root.
      for (let dir = dirname(path); dir.startsWith(this.root + sep); dir = dirname(dir)) {
        try { await fsp.rmdir(dir); } catch { break; }
      }
    }
  }

  /** Removes temp files left by writers that crashed mid-put, older than `olderThanMs`. */
  async gcTemp(olderThanMs: number): Promise<number> {
    let removed = 0;
    const cutoff = Date.now() - olderThanMs;
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try { entries = await readdirEntries(dir); } catch { return; }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) { await walk(path); continue; }
        if (!entry.name.startsWith(TEMP_PREFIX)) continue;
        // A put in flight renames its temp file away at any moment: gone is not an error, and
        // only a file this call unlinked is counted.
        const stats = await fsp.lstat(path).catch(ignoreMissing);
        if (stats === undefined || stats.mtimeMs >= cutoff) continue;
        if (await fsp.unlink(path).then(() => true, (error: unknown) => ignoreMissing(error) ?? false)) removed++;
      }
    };
    await walk(this.root);
    return removed;
  }

  async close(): Promise<void> {
    this.maps.clear();
    this.mappedBytes = 0;
  }
}

/** A kept map and the file it maps (by stat when mapped). */
interface KeptMap { map: MappedFile; size: number; stats: Stats }

/** Whether two stats are of one unchanged file (same inode, size, modification and change times). */
function sameFile(a: Stats, b: Stats): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/** undefined for a file that is gone (ENOENT); any other error is thrown. */
function ignoreMissing(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw error;
}

/** Creates the temp file, re-creating its directory if a concurrent delete removed it. */
async function openTemp(dir: string, temp: string): Promise<FileHandle> {
  for (let attempt = 0; ; attempt++) {
    await fsp.mkdir(dir, { recursive: true });
    try {
      return await fsp.open(temp, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw error;
    }
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try { await handle.sync(); } finally { await handle.close(); }
}
