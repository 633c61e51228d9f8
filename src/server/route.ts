/**
 * The server's extension seam: an endpoint is one file exporting a `Route` and one line in
 * `routes/index.ts`. A route sees the request, its parsed URL and the server's services
 * (the store, the ingest path with its durability and memory budget, the metrics).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Quiver } from '../quiver.js';
import type { Ingest } from './ingest.js';
import type { Metrics } from './metrics.js';
import type { ServeSettings } from './settings.js';
import type { ParsePool } from './parse-pool.js';

/** What every route handler gets. */
export interface ServerCore {
  readonly db: Quiver;
  /** Points into tables: type checks, table creation, WAL durability, memory budget. */
  readonly ingest: Ingest;
  readonly metrics: Metrics;
  readonly settings: ServeSettings;
  /** Worker threads parsing line-protocol bodies (undefined: parse threads 0). */
  readonly parsePool?: ParsePool;
}

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly core: ServerCore;
  /** Aborted when the client goes away before the response is complete. */
  readonly signal: AbortSignal;
  /** Set by write routes: points written, for the request's log line and metrics. */
  points?: number;
}

export interface Route {
  /** HTTP methods served (HEAD is served wherever GET is). */
  readonly methods: readonly string[];
  /** The exact path (no trailing slash, no query). */
  readonly path: string;
  /** Served without the token (health checks). Default false: the token is required when set. */
  readonly public?: boolean;
  /** Answers the request (the server answers thrown errors: RequestError's status, else 400/500). */
  handle(ctx: RequestContext): Promise<void>;
}

/** Sends a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Sends 204 No Content (a write fully acknowledged). */
export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}
