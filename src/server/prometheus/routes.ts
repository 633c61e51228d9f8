/**
 * `POST /api/v1/write` (Prometheus remote write 1.0) and `POST /api/v1/read` (remote read,
 * SAMPLES responses). Status codes as the remote write spec has them: 204 once every sample
 * is durable in the write-ahead log; 400 for a body that is not a snappy-compressed
 * WriteRequest, or for refused series (the others are written; Prometheus does not retry a
 * 4xx); 413 past a size limit; 429 with Retry-After at the server's memory budget and 5xx
 * when writing fails (both retried by Prometheus).
 */
import type { IncomingMessage } from 'node:http';
import { LimitExceededError, RequestError } from '../../errors.js';
import { checkDeclaredLength } from '../body.js';
import { sendJson, sendNoContent, type RequestContext, type Route, type ServerCore } from '../route.js';
import { PrometheusRemote } from './remote.js';
import { snappyLength } from './snappy.js';

/** Refused series listed in a 400 answer. */
const ERRORS_LISTED_MAX = 100;

/** One PrometheusRemote (its table cache) per server. */
const remotes = new WeakMap<ServerCore, PrometheusRemote>();

function remoteOf(core: ServerCore): PrometheusRemote {
  let remote = remotes.get(core);
  if (!remote) {
    const written = core.metrics.counter('quiver_prometheus_samples_written_total', 'Samples acknowledged by Prometheus remote write.');
    // Appends go through the server's write path: age and size flushes, the memory budget, the flush on close.
    remote = new PrometheusRemote(core.db, { bodyBytesMax: core.settings.bodyBytesMax }, {
      append: (name, batch) => core.ingest.appendBatch(name, batch),
      written: (samples) => written.inc({}, samples),
    });
    remotes.set(core, remote);
  }
  return remote;
}

/** A body of at most `max` bytes (snappy bodies carry no Content-Encoding Node could undo). */
async function readBytes(req: IncomingMessage, max: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'snappy').trim().toLowerCase();
  if (encoding !== 'snappy') throw new RequestError(415, `Content-Encoding ${JSON.stringify(encoding)}: remote write and read bodies are snappy blocks (Content-Encoding: snappy)`);
  checkDeclaredLength(req, max);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) throw new RequestError(413, `request body exceeds the limit of ${max} bytes (lower max_samples_per_send)`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** A body over a size limit (after decompression too) is 413, as one over --body-max. */
async function sized<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof LimitExceededError && error.limit.endsWith('uncompressed bytes')) throw new RequestError(413, error.message);
    throw error;
  }
}

export const remoteWriteRoute: Route = {
  methods: ['POST'],
  path: '/api/v1/write',
  async handle(ctx: RequestContext) {
    const { req, res, core } = ctx;
    const remote = remoteOf(core);
    const body = await readBytes(req, remote.bodyBytesMax);
    // Decoded bytes plus the sample arrays (≤ the decoded size) are held while writing.
    const reservation = core.ingest.admit(body.length + 2 * Math.min(snappyLength(body, 'remote write body'), remote.decodedBytesMax));
    try {
      const outcome = await sized(() => remote.write(body));
      ctx.points = outcome.samples;
      if (outcome.errors.length === 0) return sendNoContent(res);
      const message = `${outcome.samples} samples of ${outcome.series} series written; ${outcome.errors.length} series refused; first: ${outcome.errors[0]}`;
      sendJson(res, 400, { code: 'invalid', message, error: message, data: outcome.errors.slice(0, ERRORS_LISTED_MAX) });
    } finally {
      reservation.release();
    }
  },
};

export const remoteReadRoute: Route = {
  methods: ['POST'],
  path: '/api/v1/read',
  async handle({ req, res, core }: RequestContext) {
    const remote = remoteOf(core);
    const body = await readBytes(req, remote.bodyBytesMax);
    const response = await sized(() => remote.read(body));
    res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'Content-Length': response.length });
    res.end(response);
  },
};
