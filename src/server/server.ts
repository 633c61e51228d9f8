/**
 * The HTTP server of `quiver serve`: node:http, a route table (routes/index.ts), bearer-token
 * auth, one JSON log line per request, request metrics, and a graceful close (stop
 * accepting, finish in-flight requests, flush every buffered point).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Quiver } from '../quiver.js';
import { InputError, LimitExceededError, QuiverError, RequestError, SchemaError, UsageError } from '../errors.js';
import { ROUTES } from './routes/index.js';
import { sendJson, type RequestContext, type Route, type ServerCore } from './route.js';
import { resolveSettings, type ServeOptions } from './settings.js';
import { Metrics } from './metrics.js';
import { Ingest } from './ingest.js';
import { registerStoreMetrics } from './store-metrics.js';
import { ParsePool } from './parse-pool.js';

export interface ServerHandle {
  /** Where the server listens (the port chosen when listen asked for port 0). */
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Stops accepting, finishes in-flight requests, flushes buffered points (then closes the store when the server opened it). */
  close(): Promise<void>;
  /** The line-protocol parse workers (undefined with parse threads 0): their counts, for tests and operations. */
  readonly parsePool?: ParsePool;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The token a request carries: `Authorization: Bearer|Token T`, Basic auth's password, or v1's `?p=`. */
function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const m = /^(Bearer|Token|Basic)\s+(.+)$/i.exec(header.trim());
    if (!m) return undefined;
    if (m[1]!.toLowerCase() !== 'basic') return m[2]!;
    const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return url.searchParams.get('p') ?? undefined;
}

/** InfluxDB's error codes by HTTP status (clients show them). */
const CODES: Record<number, string> = {
  401: 'unauthorized', 404: 'not found', 405: 'method not allowed', 406: 'not acceptable', 413: 'request too large',
  415: 'unsupported media type', 429: 'too many requests', 503: 'unavailable',
};

/** The HTTP status of an error a route threw. */
function statusOf(error: unknown): number {
  if (error instanceof RequestError) return error.status;
  if (error instanceof UsageError || error instanceof SchemaError || error instanceof InputError || error instanceof LimitExceededError) return 400;
  return 500;
}

/** Routes by path, then method. */
function routeTable(routes: readonly Route[]): Map<string, Map<string, Route>> {
  const table = new Map<string, Map<string, Route>>();
  for (const route of routes) {
    const byMethod = table.get(route.path) ?? new Map<string, Route>();
    for (const method of route.methods) {
      if (byMethod.has(method)) throw new Error(`route ${method} ${route.path} registered twice`);
      byMethod.set(method, route);
      if (method === 'GET' && !byMethod.has('HEAD')) byMethod.set('HEAD', route);
    }
    table.set(route.path, byMethod);
  }
  return table;
}

/**
 * Starts serving `db` (opened with a write-ahead log). `owns.closeDb`: close() closes it too.
 * Store requests and commits are counted when db's store is a MeteredChunkManager.
 */
export async function startServer(db: Quiver, options: ServeOptions = {}, owns: { closeDb?: boolean } = {}): Promise<ServerHandle> {
  if (db.walDirectory === undefined) throw new UsageError('serving needs a Quiver opened with a write-ahead log (wal: DIR): writes are acknowledged once durable there');
  const settings = resolveSettings(options);
  const metrics = new Metrics();
  const ingest = new Ingest(db, settings, metrics);
  registerStoreMetrics(metrics, db);
  // The workers have loaded before the server listens (a body arriving before would be parsed inline).
  const parsePool = settings.parseThreads > 0 ? new ParsePool(settings.parseThreads) : undefined;
  try {
    await parsePool?.whenReady();
  } catch (error) {
    await parsePool?.close();
    throw new QuiverError(`line protocol parse workers did not start: ${(error as Error).message}`, { cause: error });
  }
  metrics.gauge('quiver_parse_threads', 'Worker threads parsing line-protocol bodies (ready).', () => parsePool?.readyCount ?? 0);
  metrics.gauge('quiver_parse_worker_bodies', 'Line-protocol bodies parsed by worker threads since start (the others were parsed on the main thread).', () => parsePool?.jobs ?? 0);
  metrics.gauge('quiver_parse_worker_crashes', 'Parse workers that stopped unexpectedly and were replaced.', () => parsePool?.crashes ?? 0);
  const core: ServerCore = { db, ingest, metrics, settings, ...(parsePool ? { parsePool } : {}) };
  const routes = routeTable(ROUTES);
  const requests = metrics.counter('quiver_http_requests_total', 'HTTP requests answered, by route, method and status.');
  const durations = metrics.histogram('quiver_http_request_duration_seconds', 'Time from request to response end, by route.');
  const tokenDigest = settings.token !== undefined ? digest(settings.token) : undefined;
  const inFlight = new Set<Promise<void>>();

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const abort = new AbortController();
    res.on('close', () => { if (!res.writableFinished) abort.abort(); });
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://quiver.invalid');
    } catch {
      url = new URL('http://quiver.invalid/');
    }
    const path = url.pathname.length > 1 && url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
    const byMethod = routes.get(path);
    const route = byMethod?.get(req.method ?? '');
    const ctx: RequestContext = { req, res, url, core, signal: abort.signal };
    // Shutting down: answer, then close the connection (keep-alive clients reconnect elsewhere).
    if (ingest.closing) res.setHeader('Connection', 'close');
    let failure: string | undefined;
    try {
      if (!byMethod) throw new RequestError(404, `no endpoint ${path} (endpoints: ${[...routes.keys()].join(', ')})`);
      if (!route) throw new RequestError(405, `${req.method} is not allowed on ${path} (allowed: ${[...byMethod.keys()].join(', ')})`, { Allow: [...byMethod.keys()].join(', ') });
      if (tokenDigest && !route.public) {
        const given = requestToken(req, url);
        if (given === undefined || !timingSafeEqual(digest(given), tokenDigest)) {
          throw new RequestError(401, given === undefined ? 'authorization required: send "Authorization: Bearer <token>" (or "Token <token>")' : 'authorization failed: wrong token', { 'WWW-Authenticate': 'Bearer realm="quiver"' });
        }
      }
      await route.handle(ctx);
    } catch (error) {
      const status = statusOf(error);
      failure = (error as Error)?.message ?? String(error);
      if (!res.headersSent && !res.destroyed) {
        const headers = error instanceof RequestError ? error.headers : {};
        sendJson(res, status, { code: CODES[status] ?? (status >= 500 ? 'internal error' : 'invalid'), message: failure, error: failure }, headers);
        // The rest of an unread body is read and dropped (the client sees the answer instead of a
        // reset), and the connection closes after it.
        if (!req.complete) { res.shouldKeepAlive = false; req.unpipe(); req.resume(); }
      } else res.destroy();
      if (status >= 500 && !(error instanceof QuiverError)) failure = (error as Error)?.stack ?? failure;
    } finally {
      if (!res.writableFinished && !res.destroyed) await Promise.race([once(res, 'finish'), once(res, 'close')]);
      const ms = performance.now() - started;
      const status = res.statusCode;
      const label = route ? route.path : 'unknown';
      requests.inc({ route: label, method: req.method ?? '', status: String(status) });
      durations.observe(ms / 1000, { route: label });
      settings.log({
        time: new Date().toISOString(), level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
        method: req.method, path, status, ms: Math.round(ms * 1000) / 1000,
        ...(ctx.points !== undefined ? { points: ctx.points } : {}),
        ...(res.destroyed && !res.writableFinished ? { aborted: true } : {}),
        ...(failure !== undefined ? { error: failure } : {}),
      });
    }
  }

  const server = createServer({ keepAliveTimeout: 5000, requestTimeout: 300_000 }, (req, res) => {
    const run = serve(req, res).catch((error) => settings.log({ time: new Date().toISOString(), level: 'error', error: String(error) }));
    inFlight.add(run);
    void run.finally(() => inFlight.delete(run));
  });
  server.on('clientError', (_error, socket) => { if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); else socket.destroy(); });
  server.listen(settings.port, settings.host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => { throw error; })]);
  } catch (error) {
    await ingest.close();
    await parsePool?.close();
    throw new UsageError(`cannot listen on ${settings.host}:${settings.port}: ${(error as Error).message}`);
  }
  try {
    await ingest.start();
  } catch (error) {
    server.close();
    await parsePool?.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  settings.log({ time: new Date().toISOString(), level: 'info', event: 'listening', url: `http://${host}:${address.port}`, store: db.url });
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    url: `http://${host}:${address.port}`,
    ...(parsePool ? { parsePool } : {}),
    close() {
      closing ??= (async () => {
        ingest.closing = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        // Every answer is sent: what connections remain are idle keep-alives or clients still
        // sending a body that was refused.
        server.closeAllConnections();
        await closed;
        // No request is left to use them.
        await parsePool?.close();
        await ingest.close();
        if (owns.closeDb) await db.close();
        settings.log({ time: new Date().toISOString(), level: 'info', event: 'closed' });
      })();
      return closing;
    },
  };
}
