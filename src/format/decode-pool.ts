import { availableParallelism, loadavg } from 'node:os';
import { assert, QuiverError, UsageError } from '../errors.js';
import { fromWireError, type WireError } from '../errors.js';
import type { PageValues } from './encodings/types.js';
import type { PageDecodeColumn } from './page-decode.js';
import type { DecodedPage, PageFooter } from './types.js';
import { awaitLoaded, countReady, endWorkers, failTasks, loadSignal, startWorker, takeTask, type WorkerSlot } from '../native/worker-pool.js';

/**
 * Worker threads that decode pages while the main thread does something else (aggregates the
 * previous chunk, decodes other columns). zstd-napi has no asynchronous API and decoding is
 * CPU work in JS and native kernels, so the libuv threadpool cannot help: threads can.
 *
 * ```
 * ChunkReader.readPages ─ run of stored pages (a copy, transferred) ─► worker k (least busy)
 *        ▲                                                              decodeStoredPage × pages
 *        └────────── decoded values (one joined buffer per run, transferred) ◄──┘
 * ```
 *
 * Workers start on first use and announce themselves ready; until one is, callers decode
 * inline (`readyCount` is 0), so a short-lived process never waits for a thread to boot.
 * A worker holds the process open only while it has work (ref/unref), so a forgotten pool
 * does not keep node alive. Errors come back as the same typed errors (CorruptChunkError
 * with chunk and offset, LimitExceededError).
 */

/** One run of consecutive pages of one column. */
export interface DecodeRequest {
  id: number;
  chunk: string;
  column: PageDecodeColumn;
  /** Pages with their byte range inside `bytes`. */
  pages: { p: number; page: PageFooter; start: number; end: number }[];
  bytes: Uint8Array;
  /**
   * Fixed-width columns: where the run's values go (rows × width bytes, transferred there and
   * back). Allocated by the caller's thread so freed buffers return to its allocator for
   * reuse; a buffer allocated by the worker would be fresh pages (page faults) every time.
   */
  into?: Uint8Array;
}

/** A decoded page as it crosses threads: fixed-width values are a range of the reply's joined buffer. */
export type DecodedPageWire = { page: number; rows: number; nullCount: number; validity: Uint8Array | null } & (
  | { kind: 'i64' | 'f64' | 'i32'; byteOffset: number }
  | { kind: 'fixed'; width: number; byteOffset: number }
  | { kind: 'bool'; bits: Uint8Array }
  | { kind: 'utf8'; offsets: Int32Array; data: Uint8Array });

export interface DecodeReply {
  id: number;
  pages?: DecodedPageWire[];
  joined?: Uint8Array | null;
  error?: WireError;
}

interface Slot extends WorkerSlot<{ resolve(pages: DecodedPage[]): void; reject(error: Error): void }> {
  /** Settles when the worker has loaded (or failed to). */
  loaded: Promise<void>;
}

/**
 * Worker threads a Quiver starts by default: one per core the process may use besides the
 * main thread (which decodes its own share of every read), at most 8; 0 on one core.
 */
export function defaultDecodeThreads(): number {
  return Math.max(0, Math.min(8, availableParallelism() - 1));
}

let loadSeen = { at: -Infinity, free: 0 };

/**
 * Whole cores free for decode workers: the cores this process may use, less the 1-minute
 * load average (every runnable thread on the machine), less one for the reading thread.
 * Read at most once a second.
 */
export function freeCores(now = performance.now()): number {
  if (now - loadSeen.at >= 1000) loadSeen = { at: now, free: Math.max(0, Math.floor(availableParallelism() - (loadavg()[0] ?? 0) - 1)) };
  return loadSeen.free;
}

export class DecodePool {
  private slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  /** Runs decoded by workers (for tests and explain). */
  tasks = 0;

  /**
   * `freeCores` makes the pool adaptive (a Quiver's default pool passes freeCores below):
   * each read uses only as many workers as there are cores free besides its own thread, so on a busy or two-core machine
   * reads decode on the calling thread, which is faster there (measured on 2 cores: 223 M
   * values/s on the main thread, 135 M with a decode thread). A pool sized explicitly uses
   * its workers whatever the load.
   */
  constructor(readonly threads: number = Math.max(1, defaultDecodeThreads()), private readonly options: { freeCores?: () => number } = {}) {
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new UsageError(`decode threads must be an integer in [1, 64], got ${threads}`);
  }

  /**
   * Workers a read may use now: the ready ones, and for an adaptive pool at most the cores
   * free besides the reading thread. Asking starts the pool, unless no core is free.
   */
  get usableCount(): number {
    if (!this.options.freeCores) return this.readyCount;
    const free = this.options.freeCores();
    return free < 1 ? 0 : Math.min(free, this.readyCount);
  }

  /** Starts the workers (idempotent); they become available as each finishes loading. */
  start(): void {
    if (this.closed || this.slots.length > 0) return;
    for (let i = 0; i < this.threads; i++) this.spawn();
  }

  /** Whether the workers were started (a pool starts on the first read that could use it). */
  get started(): boolean {
    return this.slots.length > 0;
  }

  /** Workers ready now (starts the pool on first ask). */
  get readyCount(): number {
    this.start();
    return countReady(this.slots);
  }

  /** Resolves once every worker is ready (tests; a caller never needs to wait). */
  async whenReady(): Promise<void> {
    this.start();
    await awaitLoaded(this.slots);
  }

  /**
   * Decodes a run of pages on the least busy ready worker. `bytes` is transferred (the caller
   * gives up its buffer: pass a copy of mmap'd or shared bytes).
   */
  decode(request: Omit<DecodeRequest, 'id'>): Promise<DecodedPage[]> {
    const slot = this.slots.filter((s) => s.ready).sort((a, b) => a.pending.size - b.pending.size)[0];
    if (slot === undefined) return Promise.reject(new QuiverError('decode pool: no worker is ready (check readyCount first)'));
    const id = this.nextId++;
    this.tasks++;
    return new Promise<DecodedPage[]>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      const message: DecodeRequest = { ...request, id };
      const transfer = [request.bytes.buffer as ArrayBuffer];
      if (request.into) transfer.push(request.into.buffer as ArrayBuffer);
      slot.worker.postMessage(message, transfer);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    await endWorkers(slots, (s) => failTasks(s, new QuiverError('decode pool closed')));
  }

  private spawn(): void {
    const worker = startWorker(new URL('./decode-worker.js', import.meta.url));
    const { loaded, settle: settleLoad } = loadSignal();
    const slot: Slot = { worker, ready: false, pending: new Map(), loaded };
    // Listeners first, then unref: adding a 'message' listener refs the worker's port again.
    worker.on('message', (message: DecodeReply | { ready: true }) => {
      if ('ready' in message) { slot.ready = true; settleLoad(); return; }
      const task = takeTask(slot, message.id);
      if (task === undefined) return;
      if (message.error) task.reject(fromWireError(message.error));
      else task.resolve(fromWire(message.pages!, message.joined ?? null));
    });
    const die = (error: Error) => {
      slot.ready = false;
      settleLoad(error);
      this.slots = this.slots.filter((s) => s !== slot);
      failTasks(slot, new QuiverError(`decode worker stopped: ${error.message}`, { cause: error }));
    };
    worker.on('error', die);
    worker.on('exit', (code) => { if (this.slots.includes(slot)) die(new Error(`exit code ${code}`)); });
    worker.unref();
    this.slots.push(slot);
  }
}

function fromWire(pages: DecodedPageWire[], joined: Uint8Array | null): DecodedPage[] {
  /** The joined buffer of the fixed-width pages: the worker sends one whenever a page is fixed-width. */
  const fixedBuffer = (): Uint8Array => {
    assert(joined !== null, 'a decode worker sent fixed-width pages without their buffer');
    return joined;
  };
  /** The joined buffer and the byte offset in it of a page that starts `byteOffset` into it. */
  const fixedAt = (byteOffset: number): [ArrayBufferLike, number] => {
    const buf = fixedBuffer();
    return [buf.buffer, buf.byteOffset + byteOffset];
  };
  return pages.map((w) => {
    let values: PageValues;
    switch (w.kind) {
      case 'i64': values = { kind: 'i64', values: new BigInt64Array(...fixedAt(w.byteOffset), w.rows) }; break;
      case 'f64': values = { kind: 'f64', values: new Float64Array(...fixedAt(w.byteOffset), w.rows) }; break;
      case 'i32': values = { kind: 'i32', values: new Int32Array(...fixedAt(w.byteOffset), w.rows) }; break;
      case 'fixed': values = { kind: 'fixed', width: w.width, data: new Uint8Array(...fixedAt(w.byteOffset), w.rows * w.width) }; break;
      case 'bool': values = { kind: 'bool', bits: w.bits, length: w.rows }; break;
      case 'utf8': values = { kind: 'utf8', offsets: w.offsets, data: w.data }; break;
    }
    return { page: w.page, rows: w.rows, nullCount: w.nullCount, values, validity: w.validity };
  });
}
