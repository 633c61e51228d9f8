import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { assert, fromWireError, QuiverError, UsageError, type WireError } from './errors.js';
import { countReady, endWorkers, failTasks, startWorker, takeTask, type WorkerSlot } from './native/worker-pool.js';
import { defaultDecodeThreads, freeCores } from './format/decode-pool.js';
import type { EngineState, QueryOptions, QueryThreads } from './scan/query-types.js';
import { PARALLEL_QUERY_VALUES_MIN } from './scan/query-pieces.js';

/**
 * Worker threads that run pieces of big aggregations (src/scan/query-pieces.ts): each opens the
 * store by its URL (read only: it never writes, replays no log) and answers a piece's engine
 * state. They start on the first query big enough to use them and hold the process open only
 * while they have work.
 *
 * The default (adaptive) pools of every Quiver in a process share one set of workers: cores
 * are the process's, and a worker's compiled code (V8 compiles per thread: its first pieces
 * run several times slower than warm ones) serves every Quiver's queries. Measured on the
 * scale-10 Q4 (issue 18): a fresh worker needs a few queries before its pieces run as fast as
 * the main thread's, and the bench's two Quivers (cached, uncached) each warmed a worker of
 * their own. Each pool still has its own stores in the worker (opened by URL for that pool,
 * closed with it), so no pool reads through another's open handles. A pool sized explicitly
 * (queryThreads: N) has workers of its own.
 */

/** `pool`: the QueryThreadPool asking (the worker keeps one store per pool and URL, closed with the pool). */
export interface QueryRequest { id: number; pool: number; url: string; table: string; pieces: QueryOptions[]; counter: Int32Array }
/** A pool closed: its stores in the worker close. */
export interface QueryPoolClosed { closePool: number }
export type PieceStates = { piece: number; state: EngineState }[];
export type QueryReply = { id: number; states: PieceStates } | { id: number; error: WireError };

/**
 * Cores free now: the cores this process may use less the threads running or ready to run at
 * this moment, the reading thread among them (Linux: /proc/loadavg's fourth field). On an idle
 * two-core machine running one query that is 1. Not the 1-minute load average: a query's own
 * thread would count there for a minute after it, and the second core would never be asked for.
 * Elsewhere: the decode pool's freeCores() (cores − 1-minute load − 1).
 */
export function freeCoresNow(): number {
  const cores = availableParallelism();
  try {
    const running = Number(readFileSync('/proc/loadavg', 'latin1').split(' ')[3]?.split('/')[0]);
    if (Number.isInteger(running) && running > 0) return Math.max(0, cores - running);
  } catch { /* not Linux: the load average below */ }
  return freeCores();
}

/** Query threads a Quiver starts by default: as many as decode threads (one per core beyond the first, at most 8). */
export const defaultQueryThreads = defaultDecodeThreads;

/** The workers the default pools share (undefined while no pool holds them). */
let shared: QueryWorkers | undefined;

/** The pool of Quiver.open's `queryThreads` option (undefined: 0 threads); adaptive and shared unless the count was given. */
export function queryThreadPool(option: number | undefined): QueryThreadPool | undefined {
  const threads = option ?? defaultQueryThreads();
  if (!(Number.isInteger(threads) && threads >= 0)) throw new UsageError(`queryThreads must be an integer ≥ 0, got ${threads}`);
  if (threads === 0) return undefined;
  if (option !== undefined) return new QueryThreadPool(threads, false);
  if (shared === undefined || shared.threads !== threads) shared = new QueryWorkers(threads);
  return new QueryThreadPool(threads, true, shared);
}

interface Task { pool: QueryThreadPool; resolve(s: PieceStates): void; reject(e: Error): void }
type Slot = WorkerSlot<Task>;

/** Worker threads, held by the pools using them (a reference count); the last pool's close ends them. */
class QueryWorkers {
  private slots: Slot[] = [];
  private nextId = 1;
  private readyWaiters: (() => void)[] = [];
  private closed = false;
  private pools = 0;

  constructor(readonly threads: number) {
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new UsageError(`query threads must be an integer in [1, 64], got ${threads}`);
  }

  hold(): void {
    assert(!this.closed, 'query workers are held only before their last pool closes');
    this.pools++;
  }

  readyCount(): number {
    return countReady(this.slots);
  }

  async whenReady(): Promise<void> {
    this.start();
    // Workers hold the process open only while awaited (here) or busy.
    for (const s of this.slots) s.worker.ref();
    try {
      while (this.slots.length > 0 && this.readyCount() < this.slots.length) await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    } finally {
      for (const s of this.slots) if (s.pending.size === 0) s.worker.unref();
    }
  }

  run(pool: QueryThreadPool, request: Omit<QueryRequest, 'id'>): Promise<PieceStates> {
    const slot = this.slots.filter((s) => s.ready).sort((a, b) => a.pending.size - b.pending.size)[0];
    if (slot === undefined) return Promise.reject(new QuiverError('query threads: no worker is ready (check readyCount() first)'));
    const id = this.nextId++;
    return new Promise<PieceStates>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { pool, resolve, reject });
      slot.worker.postMessage({ ...request, id } satisfies QueryRequest);
    });
  }

  /** A pool is done: its tasks fail, the workers close its stores; the last pool ends the workers. */
  async release(pool: QueryThreadPool, id: number): Promise<void> {
    for (const slot of this.slots) {
      for (const [taskId, task] of slot.pending) {
        if (task.pool !== pool) continue;
        slot.pending.delete(taskId);
        task.reject(new QuiverError('query threads closed'));
      }
      if (slot.pending.size === 0) slot.worker.unref();
      if (slot.ready) slot.worker.postMessage({ closePool: id } satisfies QueryPoolClosed);
    }
    if (--this.pools > 0) return;
    this.closed = true;
    if (shared === this) shared = undefined;
    const slots = this.slots;
    this.slots = [];
    await endWorkers(slots, (s) => failTasks(s, new QuiverError('query threads closed')));
  }

  start(): void {
    if (this.closed || this.slots.length > 0) return;
    for (let i = 0; i < this.threads; i++) this.spawn();
  }

  private spawn(): void {
    const worker = startWorker(new URL('./query-worker.js', import.meta.url));
    const slot: Slot = { worker, ready: false, pending: new Map() };
    worker.on('message', (message: QueryReply | { ready: true }) => {
      if ('ready' in message) {
        slot.ready = true;
        for (const wake of this.readyWaiters.splice(0)) wake();
        return;
      }
      const task = takeTask(slot, message.id);
      if (task === undefined) return;
      if ('error' in message) task.reject(fromWireError(message.error));
      else { task.pool.piecesRead += message.states.length; task.resolve(message.states); }
    });
    const die = (error: Error) => {
      slot.ready = false;
      this.slots = this.slots.filter((s) => s !== slot);
      failTasks(slot, new QuiverError(`query worker stopped: ${error.message}`, { cause: error }));
      for (const wake of this.readyWaiters.splice(0)) wake();
    };
    worker.on('error', die);
    worker.on('exit', (code) => { if (this.slots.includes(slot)) die(new Error(`exit code ${code}`)); });
    worker.unref();
    this.slots.push(slot);
  }
}

let nextPoolId = 1;

/** One Quiver's query threads: its own counters, on workers of its own or shared (see above). */
export class QueryThreadPool implements QueryThreads {
  private readonly workers: QueryWorkers;
  private readonly id = nextPoolId++;
  private closed = false;
  /** Pieces the threads have read for this pool (tests, benches). */
  piecesRead = 0;
  /** Values (rows × columns) below which a query stays on one thread. */
  valuesMin = PARALLEL_QUERY_VALUES_MIN;

  /** `adaptive`: use at most the cores free at the moment of each query (freeCoresNow); else always `threads`. */
  constructor(readonly threads: number, private readonly adaptive: boolean, workers?: QueryWorkers) {
    this.workers = workers ?? new QueryWorkers(threads);
    this.workers.hold();
  }

  /** Whether this pool runs on the workers another pool uses too (tests). */
  sharesWorkersWith(other: QueryThreadPool): boolean {
    return this.workers === other.workers;
  }

  usable(): number {
    if (this.closed) return 0;
    const n = this.adaptive ? Math.min(this.threads, freeCoresNow()) : this.threads;
    if (n > 0) this.workers.start();
    return n;
  }

  readyCount(): number {
    return this.closed ? 0 : this.workers.readyCount();
  }

  /** Resolves once every worker is ready (tests and benches; a query never waits). */
  whenReady(): Promise<void> {
    return this.closed ? Promise.resolve() : this.workers.whenReady();
  }

  run(request: Omit<QueryRequest, 'id' | 'pool'>): Promise<PieceStates> {
    if (this.closed) return Promise.reject(new QuiverError('query threads closed'));
    return this.workers.run(this, { ...request, pool: this.id });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.workers.release(this, this.id);
  }
}
