import { createRequire } from 'node:module';
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/**
 * Loader of the N-API addon (native/), with a pure-JS twin for every function.
 *
 * The addon maps chunk files read-only and copies ranges out under a SIGBUS guard (a file
 * that shrinks after it was mapped is an error with code 'ETRUNC', not a dead process: see
 * native/src/quiver_native.cc). When it cannot be loaded (not built, another platform) or
 * QUIVER_NO_NATIVE=1, the twin reads the file with positional reads; both return the same
 * bytes and throw node:fs-style errors (`code` = 'ENOENT', …).
 */
export interface NativeAddon {
  /** Maps the whole file; `map` is opaque (its bytes are only reachable through copyRange). */
  mapFile(path: string, advice?: 'normal' | 'random' | 'sequential' | 'willneed'): { map: MappedFile; size: number };
  /** A copy of `length` bytes at `offset` of the mapping; code 'ETRUNC' when the file shrank under it. */
  copyRange(map: MappedFile, offset: number, length: number): Uint8Array;
  /** The same copy into `dest` (exactly `length` bytes): reads into reused memory allocate nothing. */
  copyRangeInto?(map: MappedFile, offset: number, length: number, dest: Uint8Array): void;
  pageSize: number;
  /** Decode kernels with the JS loops' exact arithmetic (src/format/encodings/bitsplit.ts, rans.ts). */
  deltaBitsplit?(low: Uint8Array | null, packed: Uint8Array, highBits: number, n: number, first: number, step: number, divisor: number, out: Float64Array): void;
  /** out[0] holds the start; fills out[1…] with runs of constant int64 deltas (wrapping). */
  deltaRunsInt64?(deltas: Float64Array, lengths: Float64Array, out: BigInt64Array): void;
  /** out[i] = base + rel[i] (rel: exact integers as doubles), wrapping like int64 math. */
  relativeToInt64?(base: bigint, rel: Float64Array, out: BigInt64Array): void;
  /** out[i] = (plane0 | plane1 << 8 | … | high << 8k)[i] + offset, for 8k + highBits ≤ 32. */
  bitsplitOffset?(planes: Uint8Array[], packed: Uint8Array, highBits: number, n: number, offset: number, out: Float64Array): void;
  deltaRans?(freq: Uint16Array, stream: Uint8Array, low: Uint8Array, s: number, n: number, lanes: number, first: number, step: number, divisor: number, out: Float64Array, zigzag?: boolean): number;
  /** rANS-codes z backwards into the end of out, low bits into low; returns the stream's start (-1 out too short, -2 a value outside the table). */
  ransEncode?(z: Float64Array, s: number, freq: Uint16Array, cum: Uint32Array, out: Uint8Array, low: Uint8Array, lanes?: number): number;
  ransDict?(freq: Uint16Array, stream: Uint8Array, low: Uint8Array, s: number, n: number, lanes: number, dictionary: Float64Array, out: Float64Array): number;
  /** Whether deltaRans runs its AVX2 loops for pages of 8+ lanes (false: the scalar loop; QUIVER_NO_SIMD=1 forces it). */
  ransSimd?: boolean;
  /** Whether deltaRans folds with AVX-512 and ALP's quotient by multiply-adds (needs AVX-512F and FMA; QUIVER_NO_AVX512=1 turns it off). */
  ransAvx512?: boolean;
  /** Compares that quotient with IEEE division by 10^e on integers (see native/src/rans.cc): [checked, mismatches], null without AVX-512. */
  alpQuotientCheck?(e: number, mode: 'exhaustive' | 'random' | 'adversarial', count: number, seed: number): [number, number] | null;
  /**
   * glibc only: raises malloc's mmap and trim thresholds so freed buffers are reused rather than
   * returned to the kernel (and faulted in again); false when not applied (see quiver_native.cc).
   */
  keepFreedMemory?(mmapThreshold: number, trimThreshold: number): boolean;
}

/** A mapping made by the addon (an N-API external; unmapped when collected). */
export type MappedFile = { readonly __mapped: unique symbol };

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ADDON_PATH = join(PACKAGE_ROOT, 'native', 'build', 'Release', 'quiver_native.node');

let loaded: NativeAddon | null | undefined;
let loadError: string | undefined;

/** The addon, or null when unavailable or disabled by QUIVER_NO_NATIVE=1. */
export function nativeAddon(): NativeAddon | null {
  if (loaded !== undefined) return loaded;
  if (process.env.QUIVER_NO_NATIVE === '1') {
    loadError = 'disabled by QUIVER_NO_NATIVE=1';
    return (loaded = null);
  }
  try {
    loaded = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (error) {
    loadError = (error as Error).message;
    loaded = null;
  }
  return loaded;
}

/** Why the addon is not in use (for `quiver --debug` and tests), or undefined when it is. */
export function nativeLoadError(): string | undefined {
  nativeAddon();
  return loadError;
}

/** The JS twin of mapFile + copyRange of the whole file: positional reads. */
export function readWholeFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const out = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, out, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === size ? out : out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
