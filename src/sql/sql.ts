import { Worker, MessageChannel } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { RecordBatchStreamReader, tableToIPC, Table as ArrowTable, type RecordBatch, type Schema } from 'apache-arrow';
import { QuiverError } from '../errors.js';
import { workerExecArgv } from '../native/worker-argv.js';
import type { Quiver } from '../quiver.js';
import type { ScanReply, SqlRequest, WorkerReply } from './protocol.js';

/** What to tell a user whose install lacks DuckDB. */
export const DUCKDB_MISSING = 'SQL runs on DuckDB, which is not installed: add it with `npm install @duckdb/node-api@1.5.5-r.5` (an optional dependency of quiver)';

/** True when `@duckdb/node-api` can be loaded from here. */
export function duckdbAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('@duckdb/node-api');
    return true;
  } catch {
    return false;
  }
}

export interface SqlResult {
  /** The result's columns (known once the first batch arrived). */
  schema(): Promise<Schema>;
  batches: AsyncIterable<RecordBatch>;
}

/**
 * Runs `query` on DuckDB with every table of `db` visible as a table function of its name
 * backed by Quiver's scan (`FROM cpu` or, with time range and tag filters pushed down as named
 * parameters, `FROM cpu(from_time := '2026-01-01', to_time := '2026-01-02', hostname := 'host_1|host_2')`).
 * Projection is pushed down. Streams the result as Arrow batches.
 */
export async function* runSql(db: Quiver, query: string, onSchema?: (schema: Schema) => void): AsyncGenerator<RecordBatch> {
  if (!duckdbAvailable()) throw new QuiverError(DUCKDB_MISSING);
  const names = await db.tables();
  const tables = [];
  for (const name of names) tables.push({ name, schema: (await db.table(name)).schema });
  const request: SqlRequest = { query, tables };
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(12);
  const control = new Int32Array(signal); // see duckdb-worker.ts: [replies, cancel, consumed]
  const worker = new Worker(new URL('./duckdb-worker.js', import.meta.url), { workerData: { ...request, port: port2, signal }, transferList: [port2], execArgv: workerExecArgv() });
  const scans = new Map<number, AsyncIterator<RecordBatch>>();
  const queue: WorkerReply[] = [];
  let wake: (() => void) | undefined;
  let exited: Error | undefined;
  const reply = (message: ScanReply, transfer: ArrayBuffer[] = []) => {
    port1.postMessage(message, transfer);
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
  };
  const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (message: WorkerReply) => {
    if (message.type === 'scan') {
      const table = db.table(message.table);
      const iterator = (async function* () {
        const t = await table;
        yield* t.scan({ columns: message.columns, where: message.where, ...(message.from !== undefined ? { from: timeArg(message.from) } : {}), ...(message.to !== undefined ? { to: timeArg(message.to) } : {}) });
      })();
      scans.set(message.id, iterator);
      return;
    }
    if (message.type === 'next') {
      const iterator = scans.get(message.id)!;
      iterator.next().then((r) => {
        if (r.done) { scans.delete(message.id); reply({ id: message.id, done: true }); return; }
        const ipc = tableToIPC(new ArrowTable([r.value]), 'stream');
        reply({ id: message.id, ipc }, [ipc.buffer as ArrayBuffer]);
      }, (error: Error) => reply({ id: message.id, error: error.message }));
      return;
    }
    queue.push(message);
    wake?.();
  });
  worker.on('error', (error) => { exited = error; wake?.(); });
  worker.on('exit', () => { exited ??= new QuiverError('the DuckDB worker stopped'); wake?.(); });
  let finished = false;
  try {
    for (;;) {
      while (queue.length === 0) {
        if (exited) throw exited;
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = undefined;
      }
      const message = queue.shift()!;
      if (message.type === 'error') { finished = true; throw new QuiverError(message.missing ? DUCKDB_MISSING : `sql: ${message.message}`); }
      if (message.type === 'done') { finished = true; return; }
      if (message.type === 'batch') {
        const reader = RecordBatchStreamReader.from(message.ipc);
        reader.open();
        onSchema?.(reader.schema);
        if (!message.empty) for (const batch of reader) yield batch;
        Atomics.add(control, 2, 1);
        Atomics.notify(control, 2);
      }
    }
  } finally {
    if (!finished && !exited) {
      // The consumer stopped early: ask the worker to stop (never terminate it: see duckdb-worker.ts).
      Atomics.store(control, 1, 1);
      Atomics.notify(control, 0);
      Atomics.notify(control, 2);
      worker.postMessage('cancel');
    }
    await exit;
    for (const it of scans.values()) await it.return?.(undefined);
    port1.close();
  }
}

/** '1767225600000' is epoch ms (as the CLI's --from); anything else ISO-8601. */
function timeArg(value: string): string | number {
  return /^-?\d+$/.test(value) ? Number(value) : value;
}
