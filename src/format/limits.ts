import { LimitExceededError, UsageError } from '../errors.js';
import type { ChunkLimits } from './types.js';

const MiB = 1024 * 1024;

/**
 * Limits a reader enforces on untrusted bytes and a writer on its input. Why these values:
 * a footer of 16 MiB holds ~50k pages of stats, far beyond any sane chunk; 16 Mi rows at
 * 8 Ki rows per page is 2048 pages per column; 64 MiB per decoded page bounds a
 * decompression bomb to a size any host can allocate; 1 GiB per read() keeps one call from
 * exhausting the heap.
 */
export const DEFAULT_LIMITS: Readonly<ChunkLimits> = Object.freeze({
  footerBytesMax: 16 * MiB,
  rowsMax: 16 * MiB,
  columnsMax: 1024,
  pagesMax: 65536,
  pageDecodedBytesMax: 64 * MiB,
  readDecodedBytesMax: 1024 * MiB,
});

const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as (keyof ChunkLimits)[];

/** Merges overrides into the defaults; a non-positive or non-integer limit is a UsageError. */
export function resolveLimits(overrides?: Partial<ChunkLimits>): ChunkLimits {
  const limits: ChunkLimits = { ...DEFAULT_LIMITS };
  if (overrides === undefined) return limits;
  for (const name of LIMIT_NAMES) {
    const value = overrides[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new UsageError(`chunk limit ${name} must be a positive integer, got ${value}`);
    }
    limits[name] = value;
  }
  return limits;
}

/** Throws LimitExceededError when `actual > max`. */
export function checkLimit(limits: ChunkLimits, name: keyof ChunkLimits, actual: number, where: string): void {
  if (actual > limits[name]) throw new LimitExceededError(name, actual, limits[name], where);
}
