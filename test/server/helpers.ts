import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import type { ServeOptions } from '../../src/server/settings.js';
import type { ServerHandle } from '../../src/server/server.js';

export interface TestServer {
  server: ServerHandle;
  url: string;
  store: string;
  wal: string;
  logs: Record<string, unknown>[];
  /** Closes the server (flushing) and removes its directories. */
  stop(): Promise<void>;
}

/** A server on a free loopback port over a new local store and WAL directory. */
export async function startTestServer(options: ServeOptions & { store?: string } = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-serve-'));
  const store = options.store ?? join(dir, 'store');
  const wal = join(dir, 'wal');
  const logs: Record<string, unknown>[] = [];
  const server = await Quiver.serve({ listen: '127.0.0.1:0', log: (e) => logs.push(e), ...options, store, wal });
  return {
    server, url: server.url, store, wal, logs,
    async stop() {
      try { await server.close(); } finally { rmSync(dir, { recursive: true, force: true }); }
    },
  };
}

/** POSTs a body (string or bytes) and returns status, headers and the body text. */
export async function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The rows of a query as parsed JSON. */
export async function queryRows(url: string, params: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) search.append(k, x);
  const res = await fetch(`${url}/api/v1/query?${search}`, { headers });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`query answered ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>[];
}

/** The rows of a query as CSV lines (exact text of every value, 64-bit integers included). */
export async function queryCsv(url: string, params: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<string[]> {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) search.append(k, x);
  const res = await fetch(`${url}/api/v1/query?${search}`, { headers: { Accept: 'text/csv', ...headers } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`query answered ${res.status}: ${text}`);
  return text.trimEnd().split('\n');
}
