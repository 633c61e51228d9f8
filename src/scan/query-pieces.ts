import type { ChunkEntry } from '../core/types.js';
import { NS_PER_UNIT } from '../core/time.js';
import type { TimeUnit } from '../format/types.js';
import type { QueryPlan } from './query-plan.js';
import type { EngineState, QueryOptions, TablePieces } from './query-types.js';

/**
 * A big aggregation split across threads by time (issue 18: DuckDB reads with two threads).
 *
 * ```
 * chunks of the version, in time order ─► pieces: runs of whole chunks, cut where no chunk spans the
 *                                          cut and the time buckets on either side differ
 * this thread ──┬─ piece 0 ─ piece 1 ─ piece 3 … (its own engine, as a serial query would)
 * other thread ─┴─ piece 2 ─ …                   (a fresh engine per piece, opened on the same store)
 *                  └─► EngineState ─► merged into this thread's engine (no slot in common)
 * ```
 *
 * Exactness: a piece is read as the whole query reads those chunks (the same pages, windows and
 * batches, so the same runs of rows per slot), and no (group, bucket) slot spans two pieces, so
 * every slot is summed by one engine in the serial order; merging copies each slot's count,
 * sum, min, max and NaN count into a fresh slot. Only plans whose state is those numbers take
 * this path (count, sum, mean, min, max, spread of float64 fields and count of rows), with time
 * buckets, without a field filter.
 *
 * Threads take pieces as they become free: this thread starts at once; another thread joins
 * when it has started, so a short query never waits for one.
 */

/** Values (rows × columns read) below which a query stays on one thread: a piece costs a scan's set-up and a worker's start. */
export const PARALLEL_QUERY_VALUES_MIN = 16_000_000;

/** Whether a plan's state merges exactly (see above). */
export function mergeablePlan(plan: QueryPlan, options: QueryOptions): boolean {
  if (options.latest || options.filter || options.version !== undefined || plan.bucketer === null || plan.limit !== null) return false;
  return plan.fields.every((f) => f.stateful.length === 0 && (f.kind === 'f64' || f.kind === '*') &&
    !f.needs.stddev && !f.needs.first && !f.needs.last && !f.needs.quantile && !f.needs.rate && !f.needs.derivative);
}

/** One piece: the chunks of [from, to) (table units; null: unbounded). */
export interface Piece { from: bigint | null; to: bigint | null; rows: number }

/**
 * Cuts the chunks of [plan.from, plan.to) into pieces of whole chunks: a cut at t leaves every
 * chunk on one side and the last bucket before t ending at or before the first time after.
 */
export function planPieces(chunks: readonly ChunkEntry[], plan: QueryPlan): Piece[] {
  const bucketer = plan.bucketer;
  if (bucketer === null) return [];
  const spans = chunks.map((c) => ({ min: BigInt(c.timeMin), max: BigInt(c.timeMax), rows: c.rows }))
    .filter((c) => (plan.from === null || c.max >= plan.from) && (plan.to === null || c.min < plan.to))
    .sort((a, b) => (a.min < b.min ? -1 : a.min > b.min ? 1 : 0));
  const pieces: Piece[] = [];
  let from = plan.from, rows = 0, max: bigint | null = null;
  for (const c of spans) {
    if (max !== null && c.min > max && bucketer.locate(max).end <= c.min) {
      pieces.push({ from, to: c.min, rows });
      from = c.min; rows = 0;
    }
    rows += c.rows;
    if (max === null || c.max > max) max = c.max;
  }
  if (rows > 0) pieces.push({ from, to: plan.to, rows });
  // The outer bounds stay the query's own.
  if (pieces.length > 0) { pieces[0]!.from = plan.from; pieces[pieces.length - 1]!.to = plan.to; }
  return pieces;
}

/**
 * A query's pieces and the other threads it takes part with: 0 below valuesMin (rows × columns
 * read) or one piece, else `usable` (default: the threads usable now; asking starts them), at
 * most one fewer than the pieces.
 */
export function splitThreads(table: TablePieces, plan: QueryPlan, usable = () => table.threads.usable()): { pieces: Piece[]; threads: number } {
  const pieces = planPieces(table.chunks, plan);
  let values = 0;
  for (const p of pieces) values += p.rows * plan.scanColumns.length;
  if (pieces.length < 2 || values < (table.threads.valuesMin ?? PARALLEL_QUERY_VALUES_MIN)) return { pieces, threads: 0 };
  return { pieces, threads: Math.min(usable(), pieces.length - 1) };
}

/** The query restricted to a piece (times as epoch ns, as QueryOptions take bigints). */
export function pieceOptions(options: QueryOptions, piece: Piece, unit: TimeUnit): QueryOptions {
  const { signal: _signal, ...rest } = options;
  const ns = (t: bigint) => t * NS_PER_UNIT[unit];
  return { ...rest, from: piece.from === null ? undefined : ns(piece.from), to: piece.to === null ? undefined : ns(piece.to) };
}

/**
 * Runs `pieces` on this thread (`consume`) and on the table's other threads, each taking the
 * next piece from a shared counter (no thread waits on another's event loop); their states go
 * to `merge` after the last piece, in piece order. Another thread joins once it has started
 * (this thread looks between its pieces). Returns the number of pieces read elsewhere.
 */
export async function runPieces(table: TablePieces, pieces: Piece[], options: QueryOptions, unit: TimeUnit, threads: number,
                                consume: (options: QueryOptions) => Promise<void>, merge: (state: EngineState) => void): Promise<number> {
  const requests = pieces.map((p) => ({ ...pieceOptions(options, p, unit), version: table.version }));
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const jobs: Promise<{ piece: number; state: EngineState }[]>[] = [];
  const join = () => {
    while (jobs.length < threads && table.threads.readyCount() > jobs.length && Atomics.load(counter, 0) < pieces.length) {
      jobs.push(table.threads.run({ url: table.url, table: table.table, pieces: requests, counter }));
    }
  };
  let results: PromiseSettledResult<{ piece: number; state: EngineState }[]>[] = [];
  try {
    join();
    for (let i = Atomics.add(counter, 0, 1); i < pieces.length; i = Atomics.add(counter, 0, 1)) {
      await consume({ ...requests[i]!, signal: options.signal });
      // A turn of the event loop: a thread's start is a message (the scan's awaits are microtasks).
      await new Promise<void>((resolve) => setImmediate(resolve));
      join();
    }
  } finally {
    Atomics.store(counter, 0, pieces.length); // on a failure here, the other threads stop after their piece
    // Every thread's pieces settle before the query returns or fails (no unobserved rejection).
    results = await Promise.allSettled(jobs);
  }
  const states: { piece: number; state: EngineState }[] = [];
  for (const r of results) {
    if (r.status === 'rejected') throw r.reason;
    states.push(...r.value);
  }
  states.sort((a, b) => a.piece - b.piece);
  for (const { state } of states) merge(state);
  return states.length;
}
