import { crc32 } from 'node:zlib';
import type { ChunkManager } from './chunk-manager.js';
import { AlreadyExistsError, StoreError, UsageError } from '../errors.js';
import { mapLimit } from './semaphore.js';
import { holdsExactly } from './conditional-create.js';

/** Objects copied at once by default (each is held in memory whole while it moves). */
export const COPY_CONCURRENCY_DEFAULT = 8;
/** Upper bound on `concurrency`: more only queues behind each store's own request semaphore. */
export const COPY_CONCURRENCY_MAX = 64;

export interface CopyObjectsOptions {
  /** Read every copied object back from `dst` and compare its CRC-32 and length with the source. */
  verify?: boolean;
  /** Objects in flight at once. Default COPY_CONCURRENCY_DEFAULT. */
  concurrency?: number;
  /**
   * Keys that make data visible (table manifests): copied after every other key, one at a
   * time in key order, as conditional creates. Default: a `_manifest` path segment.
   */
  isManifest?: (key: string) => boolean;
  /**
   * Resume a copy: leave a data key alone when `dst` holds it with the same size, and a
   * manifest when `dst` holds it byte for byte.
   */
  skipExisting?: boolean;
}

export interface CopyObjectsResult {
  /** Keys written to `dst` (manifests included). */
  copied: number;
  /** Keys left alone: skipExisting hits, and manifests `dst` already held byte for byte. */
  skipped: number;
  manifests: number;
  bytes: number;
}

const defaultIsManifest = (key: string) => key.split('/').includes('_manifest');

/**
 * Copies every key under `prefix` from `src` to `dst` (backup, restore, local ↔ cloud) with
 * bounded concurrency. Data objects go first; manifests last, as conditional creates, so a
 * reader of `dst` never sees a manifest naming a chunk that has not arrived. A manifest `dst`
 * already holds with the same bytes is skipped (a re-run after a failure resumes); one with
 * different bytes means another writer committed there, and the copy stops with
 * AlreadyExistsError rather than overwrite it.
 */
export async function copyObjects(src: ChunkManager, dst: ChunkManager, prefix: string, options: CopyObjectsOptions = {}): Promise<CopyObjectsResult> {
  const concurrency = options.concurrency ?? COPY_CONCURRENCY_DEFAULT;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > COPY_CONCURRENCY_MAX) {
    throw new UsageError(`copy concurrency must be an integer in 1..${COPY_CONCURRENCY_MAX}, got ${concurrency}`);
  }
  const isManifest = options.isManifest ?? defaultIsManifest;
  const keys = await src.list(prefix);
  const manifests = keys.filter(isManifest);
  const data = keys.filter((k) => !isManifest(k));
  const result: CopyObjectsResult = { copied: 0, skipped: 0, manifests: 0, bytes: 0 };

  const check = async (key: string, bytes: Uint8Array) => {
    if (!options.verify) return;
    const back = await dst.get(key);
    const expected = crc32(bytes), actual = crc32(back);
    if (back.length !== bytes.length || expected !== actual) {
      throw new StoreError(dst.url, key, 'copy', `read-back differs from ${src.url}: expected ${bytes.length} bytes crc32 ${hex(expected)}, got ${back.length} bytes crc32 ${hex(actual)}`);
    }
  };

  await mapLimit(data, concurrency, async (key) => {
    if (options.skipExisting && (await dst.exists(key)) && (await dst.size(key)) === (await src.size(key))) {
      result.skipped++;
      return;
    }
    const bytes = await src.get(key);
    await dst.put(key, bytes);
    await check(key, bytes);
    result.copied++;
    result.bytes += bytes.length;
  });

  for (const key of manifests) {
    const bytes = await src.get(key);
    if (options.skipExisting && (await holdsExactly(dst, key, bytes))) {
      result.skipped++;
      continue;
    }
    try {
      await dst.put(key, bytes, { ifAbsent: true });
    } catch (error) {
      if (!(error instanceof AlreadyExistsError) || !(await holdsExactly(dst, key, bytes))) throw error;
      result.skipped++;
      continue;
    }
    await check(key, bytes);
    result.copied++;
    result.manifests++;
    result.bytes += bytes.length;
  }
  return result;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
