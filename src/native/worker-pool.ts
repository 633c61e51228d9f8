import { Worker } from 'node:worker_threads';
import { workerExecArgv } from './worker-argv.js';

/**
 * The slot skeleton of Quiver's worker pools (format/decode-pool.ts, query-threads.ts,
 * server/parse-pool.ts): a worker, whether it has said it is ready, and the tasks it owes by
 * id. What a worker's death means stays each pool's own (the parse pool respawns, the query
 * threads wake their waiters, the decode pool rejects the start), and so do the messages.
 */
export interface WorkerSlot<Task extends { reject(error: Error): void }> {
  worker: Worker;
  ready: boolean;
  pending: Map<number, Task>;
}

/** A worker thread of Quiver's running the module at `url`, with workerExecArgv(). */
export function startWorker(url: URL): Worker {
  return new Worker(url, { execArgv: workerExecArgv() });
}

/** The task a reply answers, taken off the slot (undefined: none, e.g. already failed); a slot left idle no longer holds the process open. */
export function takeTask<Task extends { reject(error: Error): void }>(slot: WorkerSlot<Task>, id: number): Task | undefined {
  const task = slot.pending.get(id);
  if (task === undefined) return undefined;
  slot.pending.delete(id);
  if (slot.pending.size === 0) slot.worker.unref();
  return task;
}

/** Rejects every task of the slot with `error`; the worker no longer holds the process open. */
export function failTasks<Task extends { reject(error: Error): void }>(slot: WorkerSlot<Task>, error: Error): void {
  for (const task of slot.pending.values()) task.reject(error);
  slot.pending.clear();
  slot.worker.unref();
}

/** Ends a pool's workers: `fail` settles each slot's tasks, then every worker terminates. */
export async function endWorkers<Slot extends { worker: Worker }>(slots: readonly Slot[], fail: (slot: Slot) => void): Promise<void> {
  for (const s of slots) fail(s);
  await Promise.all(slots.map((s) => s.worker.terminate()));
}

/**
 * A worker's start as a promise and its settle function (no argument: loaded; an error: it
 * failed to). Its rejection is observed here: a failed start also reaches the pool's own
 * death handler, so nobody need await it.
 */
export function loadSignal(): { loaded: Promise<void>; settle(error?: Error): void } {
  let settle!: (error?: Error) => void;
  const loaded = new Promise<void>((resolve, reject) => { settle = (error) => (error ? reject(error) : resolve()); });
  loaded.catch(() => {});
  return { loaded, settle };
}

/** Slots whose worker has said it is ready. */
export function countReady(slots: readonly { ready: boolean }[]): number {
  let n = 0;
  for (const s of slots) if (s.ready) n++;
  return n;
}

/**
 * Waits for each slot's worker to load (rejects when one failed to); the workers hold the
 * process open only while awaited here or busy.
 */
export async function awaitLoaded(slots: readonly (WorkerSlot<{ reject(error: Error): void }> & { loaded: Promise<void> })[]): Promise<void> {
  await Promise.all(slots.map(async (s) => {
    if (s.ready) return;
    s.worker.ref();
    try { await s.loaded; } finally { if (s.pending.size === 0) s.worker.unref(); }
  }));
}
