import { parentPort } from 'node:worker_threads';
import { toWireError } from './errors.js';
import { Quiver } from './quiver.js';
import { AggregationEngine, consumeQuery } from './scan/query.js';
import { planQuery } from './scan/query-plan.js';
import type { PieceStates, QueryPoolClosed, QueryReply, QueryRequest } from './query-threads.js';

/**
 * A query thread (query-threads.ts): reads one piece of an aggregation at the version it is
 * given and answers its engine state. Stores stay open between pieces (one per pool and URL,
 * closed when the pool closes), without a decoded-page cache, decode threads or query threads
 * of their own.
 */

const port = parentPort;
if (port === null) throw new Error('query-worker.js runs as a worker thread');

const stores = new Map<string, Promise<Quiver>>();

port.on('message', (message: QueryRequest | QueryPoolClosed) => {
  if ('closePool' in message) { void closePool(message.closePool); return; }
  const request = message;
  void answer(request).then((reply) => port.postMessage(reply), (error: unknown) => port.postMessage({ id: request.id, error: toWireError(error) } satisfies QueryReply));
});
port.postMessage({ ready: true });

/** The stores of a pool that closed (its Quiver closed): closed here too. */
async function closePool(pool: number): Promise<void> {
  for (const [key, db] of [...stores]) {
    if (!key.startsWith(`${pool}\u0000`)) continue;
    stores.delete(key);
    await db.then((d) => d.close(), () => {});
  }
}

async function answer(request: QueryRequest): Promise<QueryReply> {
  // One store per pool (one per Quiver) and URL: a pool never reads through another's handles.
  const key = `${request.pool}\u0000${request.url}`;
  let db = stores.get(key);
  if (db === undefined) {
    db = Quiver.open(request.url, { decodedCacheBytes: 0, decodeThreads: 0, queryThreads: 0 });
    stores.set(key, db);
    db.catch(() => stores.delete(key));
  }
  const table = await (await db).table(request.table);
  const states: PieceStates = [];
  // Pieces from the counter every thread of the query shares, until none is left.
  for (let i = Atomics.add(request.counter, 0, 1); i < request.pieces.length; i = Atomics.add(request.counter, 0, 1)) {
    const options = request.pieces[i]!;
    const plan = planQuery(table.schema, options);
    const engine = new AggregationEngine(plan);
    await consumeQuery(table, options, plan, engine);
    states.push({ piece: i, state: engine.exportState() });
  }
  return { id: request.id, states };
}
