import { parentPort } from 'node:worker_threads';
import { toWireError } from './errors.js';
import { Quiver } from './quiver.js';
import { AggregationEngine, consumeQuery } from './scan/query.js';
import { planQuery } from './scan/query-plan.js';
import type { PieceStates, QueryReply, QueryRequest } from './query-threads.js';

/**
 * A query thread (query-threads.ts): reads one piece of an aggregation at the version it is
 * given and answers its engine state. Stores stay open between pieces (one per URL), without a
 * decoded-page cache, decode threads or query threads of their own.
 */

const port = parentPort;
if (port === null) throw new Error('query-worker.js runs as a worker thread');

const stores = new Map<string, Promise<Quiver>>();

port.on('message', (request: QueryRequest) => {
  void answer(request).then((reply) => port.postMessage(reply), (error: unknown) => port.postMessage({ id: request.id, error: toWireError(error) } satisfies QueryReply));
});
port.postMessage({ ready: true });

async function answer(request: QueryRequest): Promise<QueryReply> {
  let db = stores.get(request.url);
  if (db === undefined) {
    db = Quiver.open(request.url, { decodedCacheBytes: 0, decodeThreads: 0, queryThreads: 0 });
    stores.set(request.url, db);
    db.catch(() => stores.delete(request.url));
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
