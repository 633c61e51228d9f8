/**
 * Output buffers of page decodes, reused when their consumer hands them back.
 *
 * Why: a decode into fresh memory pays a page fault and the kernel's zeroing per 4 KiB, and
 * V8 counts every new ArrayBuffer as external memory that brings garbage collections forward;
 * measured, that cost more than the decoding itself for an uncached full-table scan. A buffer
 * handed back (`releaseBatch`) is warm, mapped memory the next read of the same size decodes
 * into.
 *
 * The protocol is explicit, so a buffer is never reused while anyone can still see it:
 * - only readers without a decoded-page cache take buffers here (a cache keeps pages as views
 *   of their buffers: those are never lent);
 * - each buffer lent belongs to exactly one batch (one column of one read);
 * - `give` accepts only a buffer that is lent and not yet given back: a second release of the
 *   same batch, or a buffer the pool never lent, is ignored;
 * - a buffer never given back is garbage collected as usual (lent buffers are held weakly).
 * After `releaseBatch(batch)` the batch, and everything viewing its buffers (slices, vectors
 * of its columns), must not be used: their bytes will be overwritten by a later read.
 *
 * Idle buffers are kept by exact byte length (reads of one table repeat the same sizes: full
 * chunks' columns), at most `idleBytesMax` in all; beyond that a buffer given back is dropped.
 */
export const DECODE_BUFFERS_IDLE_MAX = 64 * 1024 * 1024;

export class DecodeBufferPool {
  private readonly idle = new Map<number, ArrayBuffer[]>();
  private readonly lent = new WeakSet<ArrayBuffer>();
  private idleTotal = 0;
  /** Buffers taken from the idle lists (reuses) and freshly allocated, for tests and benchmarks. */
  reused = 0;
  allocated = 0;

  constructor(readonly idleBytesMax = DECODE_BUFFERS_IDLE_MAX) {}

  /** Bytes held idle. */
  get idleBytes(): number {
    return this.idleTotal;
  }

  /**
   * A buffer of exactly `bytes` bytes (8-byte aligned), lent until given back. Its contents are
   * unspecified (a previous read's values, or uninitialised memory): the decoder overwrites
   * every byte or fails.
   */
  take(bytes: number): Uint8Array {
    const list = this.idle.get(bytes);
    let buffer = list?.pop();
    if (buffer !== undefined) {
      if (list!.length === 0) this.idle.delete(bytes);
      this.idleTotal -= bytes;
      this.reused++;
    } else {
      // Uninitialised memory: no memset of bytes every page decode overwrites.
      buffer = Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
      this.allocated++;
    }
    this.lent.add(buffer);
    return new Uint8Array(buffer, 0, bytes);
  }

  /** Hands a lent buffer back; false (and nothing happens) when it is not lent. */
  give(buffer: ArrayBufferLike): boolean {
    if (!(buffer instanceof ArrayBuffer) || !this.lent.has(buffer)) return false;
    this.lent.delete(buffer);
    const bytes = buffer.byteLength;
    if (bytes === 0 || this.idleTotal + bytes > this.idleBytesMax) return true;
    let list = this.idle.get(bytes);
    if (list === undefined) { list = []; this.idle.set(bytes, list); }
    list.push(buffer);
    this.idleTotal += bytes;
    return true;
  }

  /** Whether `buffer` is currently lent by this pool. */
  isLent(buffer: ArrayBufferLike): boolean {
    return buffer instanceof ArrayBuffer && this.lent.has(buffer);
  }

  /** Drops every idle buffer. */
  clear(): void {
    this.idle.clear();
    this.idleTotal = 0;
  }
}

/** The process's pool: chunk readers without a decoded-page cache decode into its buffers. */
export const decodeBuffers = new DecodeBufferPool();

/** Idle read buffers of stored page bytes kept at most (`storedBytes`). */
export const STORED_BYTES_IDLE_MAX = 16 * 1024 * 1024;
/** The smallest read buffer `storedBytes` lends (smaller reads share this size class). */
export const STORED_BYTES_CLASS_MIN = 64 * 1024;

/**
 * Read buffers of stored page bytes (ChunkReader.readPages, from sources with
 * `readRangesInto`): a buffer is lent for one read, its pages decoded, and given back once
 * no decoded page views it (a page kept as a view of its stored bytes keeps the whole buffer
 * out of the pool). Sizes are rounded up to a power of two (at least
 * STORED_BYTES_CLASS_MIN), since stored sizes vary read by read where decoded ones repeat.
 * Why: every read copied its bytes out of the mapped file into a new ArrayBuffer, counted by
 * V8 as external memory that brings collections forward.
 */
export const storedBytes = new DecodeBufferPool(STORED_BYTES_IDLE_MAX);

/** The size class of a read of `bytes` bytes in `storedBytes`. */
export function storedBytesClass(bytes: number): number {
  let size = STORED_BYTES_CLASS_MIN;
  while (size < bytes) size *= 2;
  return size;
}

/** What releaseBatch needs of an Arrow RecordBatch or Data (structural: the format layer stays free of Arrow here). */
interface DataLike {
  values?: unknown;
  children?: readonly DataLike[];
}

function valuesBuffer(data: DataLike): ArrayBufferLike | undefined {
  return ArrayBuffer.isView(data.values) ? data.values.buffer : undefined;
}

/**
 * Hands the decode buffers of a batch the caller is done with back to the pool (see the
 * protocol above); buffers not lent by the pool are left alone. Returns the buffers given back.
 * The batch, and anything viewing its buffers, must not be used afterwards.
 */
export function releaseBatch(batch: { data: DataLike }, pool: DecodeBufferPool = decodeBuffers): number {
  let given = 0;
  const visit = (data: DataLike) => {
    const buffer = valuesBuffer(data);
    if (buffer !== undefined && pool.give(buffer)) given++;
    for (const child of data.children ?? []) visit(child);
  };
  visit(batch.data);
  return given;
}

/**
 * Gives back the buffers of `input` (a batch a step consumed) that none of `outputs` views: a
 * scan that copied rows out of a decoded batch hands the decoded buffers back at once.
 */
export function releaseUnshared(input: { data: DataLike }, outputs: readonly { data: DataLike }[], pool: DecodeBufferPool = decodeBuffers): number {
  const kept = new Set<ArrayBufferLike>();
  const collect = (data: DataLike) => {
    const buffer = valuesBuffer(data);
    if (buffer !== undefined) kept.add(buffer);
    for (const child of data.children ?? []) collect(child);
  };
  for (const out of outputs) collect(out.data);
  let given = 0;
  const visit = (data: DataLike) => {
    const buffer = valuesBuffer(data);
    if (buffer !== undefined && !kept.has(buffer) && pool.give(buffer)) given++;
    for (const child of data.children ?? []) visit(child);
  };
  visit(input.data);
  return given;
}
