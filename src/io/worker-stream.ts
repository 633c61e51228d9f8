/**
 * A stream of batches produced in a worker thread (the CSV parser, the Parquet decoder), both
 * sides of it: credit flow (the worker runs at most `credit` batches ahead of the consumer,
 * so memory stays bounded), typed errors across the thread boundary, and a crash, an
 * `process.exit` or an early end of the worker turned into a WorkerCrashError naming the
 * file being read. Messages other than batches (the CSV parser's rejects) pass through
 * without taking credit.
 *
 * Main thread: `for await (const m of workerStream(url, data, what, () => file)) …` yields
 * every 'batch' and other message up to and including 'done'; a credit goes back when the
 * consumer asks for the next message after a batch. Worker: `serveWorkerStream(async (out) =>
 * { … await out.batch(message, transfer) … return doneMessage })`.
 */
import { Worker, parentPort, workerData as threadData } from 'node:worker_threads';
import { QuiverError, WorkerCrashError, assert, fromWireError, toWireError, type WireError } from '../errors.js';
import { workerExecArgv } from '../native/worker-argv.js';

/** Every message a worker stream carries: batches, the end, an error, and the stream's own kinds. */
export type StreamMessage = { type: string };
type ErrorMessage = { type: 'error' } & WireError;
type CreditMessage = { type: 'credit' };

/**
 * Starts the worker at `url` with `workerData` (which must hold `credit`, the batches it may
 * produce ahead) and yields its messages until its 'done' (yielded too). `what` names the
 * worker in errors ("CSV parser worker"), `file()` the file it is reading at that moment.
 * Leaving the loop early (break, an error of the consumer) terminates the worker.
 */
export async function* workerStream<M extends StreamMessage>(url: URL, workerData: { credit: number }, what: string, file: () => string): AsyncGenerator<M> {
  const worker = new Worker(url, { workerData, execArgv: workerExecArgv() });
  const queue: (M | ErrorMessage)[] = [];
  let failure: Error | undefined;
  let exited = false;
  let wake: (() => void) | undefined;
  const notify = () => { wake?.(); wake = undefined; };
  worker.on('message', (m: M | ErrorMessage) => { queue.push(m); notify(); });
  worker.on('error', (error) => { failure ??= new WorkerCrashError(`${file()}: the ${what} crashed: ${error.message}`, file()); notify(); });
  worker.on('exit', (code) => {
    exited = true;
    if (code !== 0) failure ??= new WorkerCrashError(`${file()}: the ${what} exited with code ${code}`, file());
    notify();
  });
  try {
    for (;;) {
      while (queue.length === 0) {
        if (failure) throw failure;
        if (exited) throw new WorkerCrashError(`${file()}: the ${what} exited before the end of the file`, file());
        await new Promise<void>((resolve) => { wake = resolve; });
      }
      const m = queue.shift();
      assert(m !== undefined, 'the queue is not empty');
      if (m.type === 'error') {
        const wire = m as ErrorMessage;
        const error = fromWireError(wire);
        throw error instanceof QuiverError ? error : new WorkerCrashError(`${file()}: the ${what} failed: ${wire.name}: ${wire.message}`, file());
      }
      yield m as M;
      if (m.type === 'done') return;
      if (m.type === 'batch') worker.postMessage({ type: 'credit' } satisfies CreditMessage);
    }
  } finally {
    if (!exited) await worker.terminate();
  }
}

/** What a worker's producer posts through. */
export interface WorkerStreamOutput<M extends StreamMessage> {
  /** Posts a batch (its buffers transferred) once a credit is free. */
  batch(message: M, transfer: ArrayBuffer[]): Promise<void>;
  /** Posts any other message at once (no credit taken). */
  post(message: M): void;
}

/**
 * The worker's side: runs `produce` with this thread's workerData, then posts the message it
 * returns (its 'done'); an error it throws crosses over typed (errors.ts: toWireError/fromWireError).
 */
export function serveWorkerStream<M extends StreamMessage, D extends { credit: number }>(produce: (out: WorkerStreamOutput<M>, data: D) => Promise<M>): void {
  const port = parentPort;
  assert(port !== null, 'serveWorkerStream runs in a worker thread');
  const data = threadData as D;
  let credit = data.credit;
  let wake: (() => void) | undefined;
  port.on('message', (m: CreditMessage) => {
    if (m.type === 'credit') { credit++; wake?.(); wake = undefined; }
  });
  const out: WorkerStreamOutput<M> = {
    async batch(message, transfer) {
      while (credit <= 0) await new Promise<void>((resolve) => { wake = resolve; });
      credit--;
      port.postMessage(message, transfer);
    },
    post(message) { port.postMessage(message); },
  };
  produce(out, data).then((done) => port.postMessage(done), (error: unknown) => {
    port.postMessage({ type: 'error', ...toWireError(error) } satisfies ErrorMessage);
  }).finally(() => port.close());
}
