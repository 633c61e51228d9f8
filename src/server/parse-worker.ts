/**
 * A line-protocol parse worker (see parse-pool.ts): one LineBody per job (a request body),
 * fed the body's bytes message by message; each reply carries the windows filled so far as
 * transferred column buffers, and the last one the refused lines. An error that is not a
 * line's (a bug) answers the job with it (errors.ts toWireError: its class and fields, which
 * the pool rebuilds) and forgets the job; the worker goes on.
 */
import { parentPort } from 'node:worker_threads';
import { toWireError } from '../errors.js';
import { LineBody } from './line-body.js';
import { toWire, type ParseReply, type ParseRequest } from './parse-pool.js';

const port = parentPort;
if (port === null) throw new Error('parse-worker.js runs as a worker thread');

const jobs = new Map<number, LineBody>();

port.on('message', (request: ParseRequest) => {
  const { job } = request;
  if (request.cancel) { jobs.delete(job); return; }
  try {
    let body = jobs.get(job);
    if (request.start) jobs.set(job, (body = new LineBody(request.start)));
    if (!body) throw new Error(`parse worker: no body for job ${job}`);
    if (request.bytes) body.push(Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength));
    if (request.end) body.end();
    const [windows, transfer] = toWire(request.end ? body.takeAll() : body.takeFull());
    // The message's buffer goes back for reuse (the splitter keeps no view of it).
    const reply: ParseReply = { job, windows, rows: body.rows, ...(request.bytes ? { bytes: request.bytes } : {}) };
    if (request.bytes) transfer.push(request.bytes.buffer as ArrayBuffer);
    if (request.end) {
      reply.errors = body.errors;
      reply.parsed = body.parsed;
      jobs.delete(job);
    }
    port.postMessage(reply, transfer);
  } catch (error) {
    jobs.delete(job);
    const reply: ParseReply = { job, error: toWireError(error) };
    port.postMessage(reply);
  }
});
port.postMessage({ ready: true });
