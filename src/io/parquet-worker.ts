/**
 * Parquet decoding in a worker thread: decodes row groups (parquet-wasm) and posts each as
 * an Arrow IPC stream (buffer transferred) while the main thread converts and writes the
 * previous one. At most `credit` groups are decoded ahead of the main thread.
 */
import { toWireError, type WireError } from '../worker-errors.js';
import { parentPort, workerData } from 'node:worker_threads';
import { parquetRowGroups, type ParquetGroup } from './parquet-groups.js';

export type ParquetWorkerMessage =
  | ({ type: 'group' } & ParquetGroup)
  | { type: 'done' }
  | ({ type: 'error' } & WireError);

const port = parentPort!;
const { file, credit: initial } = workerData as { file: string; credit: number };
let credit = initial;
let wake: (() => void) | undefined;
port.on('message', (m: { type: 'credit' }) => {
  if (m.type === 'credit') { credit++; wake?.(); wake = undefined; }
});

async function run(): Promise<void> {
  for await (const g of parquetRowGroups(file)) {
    while (credit <= 0) await new Promise<void>((resolve) => { wake = resolve; });
    credit--;
    port.postMessage({ type: 'group', ...g } satisfies ParquetWorkerMessage, [g.ipc.buffer as ArrayBuffer]);
  }
  port.postMessage({ type: 'done' } satisfies ParquetWorkerMessage);
}

run().catch((error: unknown) => {
  port.postMessage({ type: 'error', ...toWireError(error) } satisfies ParquetWorkerMessage);
}).finally(() => port.close());
