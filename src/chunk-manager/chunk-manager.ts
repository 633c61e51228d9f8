/**
 * The byte-store seam. A ChunkManager holds immutable objects under string keys
 * (`cpu/_manifest/00000000000000000003.json`, `cpu/chunks/2026-01-01/<id>.qvr`) and knows
 * nothing of what the bytes mean. Backends: local directory (mmap reads), memory, S3
 * (MinIO, AWS, Ceph RGW, GCS), Azure Blob. Wrappers add retries, caching and I/O counters.
 *
 * Keys: relative, '/'-separated, no leading '/', no '.' or '..' segments, no control
 * characters (validated by `validateKey`). Objects are written whole and never modified;
 * a key is either absent or holds complete bytes (atomic put).
 */
import { NotFoundError } from '../errors.js';

export interface PutOptions {
  /** Conditional create: fail with AlreadyExistsError when the key exists (manifest commits). */
  ifAbsent?: boolean;
}

export interface ListOptions {
  /** When false, list only immediate children of `prefix` (sub-"directories" end with '/'). Default true. */
  recursive?: boolean;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface ChunkManager {
  /** A URL naming the store (`file:///data/q`, `s3://bucket/prefix`, `memory://x`), for messages. */
  readonly url: string;
  /** Whole object. Throws NotFoundError. */
  get(key: string): Promise<Uint8Array>;
  /** `length` bytes at `offset`. Throws NotFoundError, or StoreError when the range is past the end. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  /**
   * Several ranges of one object; backends coalesce neighbouring ranges into fewer requests.
   * Results are in the order of `ranges`.
   */
  getRanges(key: string, ranges: readonly ByteRange[]): Promise<Uint8Array[]>;
  /**
   * Optional: the same ranges copied into `into`, one after another in the order of `ranges`
   * (`into.length` is the sum of their lengths), so a reader can reuse its memory (a fresh
   * buffer per read is garbage the collector must find). Only backends that copy anyway
   * offer it (local files); wrappers offer it when what they wrap does and they need not
   * see the bytes (retries, counters; not the read cache, which keeps them).
   */
  getRangesInto?(key: string, ranges: readonly ByteRange[], into: Uint8Array): Promise<void>;
  /** Object size in bytes. Throws NotFoundError. */
  size(key: string): Promise<number>;
  /** True when the key exists. */
  exists(key: string): Promise<boolean>;
  /** Atomic whole-object write. With `ifAbsent`, throws AlreadyExistsError if the key exists. */
  put(key: string, bytes: Uint8Array, options?: PutOptions): Promise<void>;
  /** Keys under `prefix`, sorted ascending (byte order). */
  list(prefix: string, options?: ListOptions): Promise<string[]>;
  /** Delete keys; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Optional: removes the temp files of puts that never finished (a killed process) older
   * than `olderThanMs` (by their modification time), anywhere in the store; the count removed.
   * Only backends whose puts leave such files offer it (local files: `.tmp-*` beside the key;
   * an S3 put is one request or a multipart upload, an Azure put one request: no temp
   * objects); wrappers offer it when what they wrap does. `vacuum` calls it (vacuum.ts).
   */
  gcTemp?(olderThanMs: number): Promise<number>;
  /** Release resources (mmaps, sockets). */
  close(): Promise<void>;
}

/** `exists` for backends whose cheapest probe is a metadata read: `size` either answers or throws NotFoundError. */
export async function existsBySize(store: Pick<ChunkManager, 'size'>, key: string): Promise<boolean> {
  try {
    await store.size(key);
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}
