import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fromWireError, QuiverError, UsageError, type WireError } from './errors.js';
import { workerExecArgv } from './native/worker-argv.js';
import { defaultDecodeThreads, freeCores } from './format/decode-pool.js';
import type { EngineState, QueryOptions, QueryThreads } from './scan/query-types.js';
import { PARALLEL_QUERY_VALUES_MIN } from './scan/query-pieces.js';

/**
 * Worker threads that run pieces of big aggregations (src/scan/query-pieces.ts): each opens the
 * store by its URL (read only: it never writes, replays no log) and answers a piece's engine
 * state. They start on the first query big enough to use them and hold the process open only
 * while they have work.
 */

export interface QueryRequest { id: number; url: string; table: string; pieces: QueryOptions[]; counter: Int32Array }
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

/** The pool of Quiver.open's `queryThreads` option (undefined: 0 threads); adaptive unless the count was given. */
export function queryThreadPool(option: number | undefined): QueryThreadPool | undefined {
  const threads = option ?? defaultQueryThreads();
  if (!(Number.isInteger(threads) && threads >= 0)) throw new UsageError(`queryThreads must be an integer ≥ 0, got ${threads}`);
  return threads > 0 ? new QueryThreadPool(threads, option === undefined) : undefined;
}

interface Slot { worker: Worker; ready: boolean; pending: Map<number, { resolve(s: PieceStates): void; reject(e: Error): void }> }

export class QueryThreadPool implements QueryThreads {
  private slots: Slot[] = [];
  private nextId = 1;
  private readyWaiters: (() => void)[] = [];
  private closed = false;
  /** Pieces the threads have read (tests, benches). */
  piecesRead = 0;
  /** Values (rows × columns) below which a query stays on one thread. */
  valuesMin = PARALLEL_QUERY_VALUES_MIN;

  /** `adaptive`: use at most the cores free at the moment of each query (freeCoresNow); else always `threads`. */
  constructor(readonly threads: number, private readonly adaptive: boolean) {
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new UsageError(`query threads must be an integer in [1, 64], got ${threads}`);
  }

  usable(): number {
    const n = this.adaptive ? Math.min(this.threads, freeCoresNow()) : this.threads;
    if (n > 0) this.start();
    return n;
  }

  readyCount(): number {
    let n = 0;
    for (const s of this.slots) if (s.ready) n++;
    return n;
  }

  /** Resolves once every worker is ready (tests and benches; a query never waits). */
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

  run(request: Omit<QueryRequest, 'id'>): Promise<PieceStates> {
    const slot = this.slots.filter((s) => s.ready).sort((a, b) => a.pending.size - b.pending.size)[0];
    if (slot === undefined) return Promise.reject(new QuiverError('query threads: no worker is ready (check readyCount() first)'));
    const id = this.nextId++;
    return new Promise<PieceStates>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...request, id } satisfies QueryRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    for (const s of slots) this.fail(s, new QuiverError('query threads closed'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private start(): void {
    if (this.closed || this.slots.length > 0) return;
    for (let i = 0; i < this.threads; i++) this.spawn();
  }

  private spawn(): void {
    const worker = new Worker(new URL('./query-worker.js', import.meta.url), { execArgv: workerExecArgv() });
    const slot: Slot = { worker, ready: false, pending: new Map() };
    worker.on('message', (message: QueryReply | { ready: true }) => {
      if ('ready' in message) {
        slot.ready = true;
        for (const wake of this.readyWaiters.splice(0)) wake();
        return;
      }
      const task = slot.pending.get(message.id);
      if (task === undefined) return;
      slot.pending.delete(message.id);
      if (slot.pending.size === 0) worker.unref();
      if ('error' in message) task.reject(fromWireError(message.error));
      else { this.piecesRead += message.states.length; task.resolve(message.states); }
    });
    const die = (error: Error) => {
      slot.ready = false;
      this.slots = this.slots.filter((s) => s !== slot);
      this.fail(slot, new QuiverError(`query worker stopped: ${error.message}`, { cause: error }));
      for (const wake of this.readyWaiters.splice(0)) wake();
    };
    worker.on('error', die);
    worker.on('exit', (code) => { if (this.slots.includes(slot)) die(new Error(`exit code ${code}`)); });
    worker.unref();
    this.slots.push(slot);
  }

  private fail(slot: Slot, error: Error): void {
    for (const task of slot.pending.values()) task.reject(error);
    slot.pending.clear();
    slot.worker.unref();
  }
}
