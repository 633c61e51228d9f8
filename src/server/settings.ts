/** Options of `quiver serve` / `Quiver.serve()`, and their defaults. */
import { UsageError } from '../errors.js';
import { availableParallelism } from 'node:os';

export interface ServeOptions {
  /** `host:port` to listen on (port 0: any free port). Default 127.0.0.1:8086. */
  listen?: string;
  /** When set, every request but /health needs it (`Authorization: Bearer T` or `Token T`). */
  token?: string;
  /** When set, write and query requests must name one of these databases (db / bucket). */
  databases?: readonly string[];
  /** Largest request body, after decompression (413 beyond). Default 25 MiB (InfluxDB's). */
  bodyBytesMax?: number;
  /**
   * Memory budget of written-but-unflushed points (the write buffers) plus the bodies being
   * parsed: beyond it writes answer 429 with Retry-After while flushes drain. Default 256 MiB.
   */
  memoryBytes?: number;
  /** Buffered points are flushed to chunks at most this long after the first arrived. Default 10 s. */
  flushAgeMs?: number;
  /**
   * Worker threads parsing line-protocol bodies (0: parse on the main thread). Default: none
   * on two cores or fewer, else one per core past two, at most 8 (defaultParseThreads).
   */
  parseThreads?: number;
  /** Bodies declaring fewer bytes than this (Content-Length, uncompressed) are parsed on the main thread. Default 64 KiB. */
  parseInlineBytesMax?: number;
  /** One structured line per request and per event (default: JSON lines on stderr; false: none). */
  log?: ((entry: Record<string, unknown>) => void) | false;
}

export interface ServeSettings {
  host: string;
  port: number;
  token?: string;
  databases?: ReadonlySet<string>;
  bodyBytesMax: number;
  memoryBytes: number;
  flushAgeMs: number;
  parseThreads: number;
  parseInlineBytesMax: number;
  log: (entry: Record<string, unknown>) => void;
}

export const DEFAULT_LISTEN = '127.0.0.1:8086';
export const BODY_BYTES_MAX = 25 * 1024 * 1024;
export const MEMORY_BYTES = 256 * 1024 * 1024;
export const FLUSH_AGE_MS = 10_000;
/**
 * Below this declared body size a worker costs more than it saves: the copy and two thread
 * hops against parsing ~200 lines (README, "Server ingestion").
 */
export const PARSE_INLINE_BYTES_MAX = 64 * 1024;
/** Most parse threads a server starts. */
export const PARSE_THREADS_MAX = 64;

/**
 * Parse threads by default: none on two cores or fewer, where the main thread, the fdatasyncs
 * and the writers' own processes already fill both cores and a worker only adds its hand-over
 * (measured: `bench:server` on a quiet 2-core machine, 14.9 vs 18.1 CPU s per M points and
 * fewer points/s with one worker); beyond that, one per core past two, at most 8.
 */
export function defaultParseThreads(): number {
  return Math.max(0, Math.min(8, availableParallelism() - 2));
}

/** `host:port`, `[v6]:port` or `:port`. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`--listen expects host:port (e.g. 127.0.0.1:8086), got ${JSON.stringify(text)}`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isSafeInteger(value) && value > 0)) throw new UsageError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function count(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isSafeInteger(value) && value >= 0 && value <= max)) throw new UsageError(`${name} must be an integer in [0, ${max}], got ${value}`);
  return value;
}

export function resolveSettings(options: ServeOptions): ServeSettings {
  const { host, port } = parseListen(options.listen ?? DEFAULT_LISTEN);
  if (options.token !== undefined && options.token.length === 0) throw new UsageError('token must not be empty');
  const log = options.log === false ? () => {} : options.log ?? ((entry: Record<string, unknown>) => process.stderr.write(`${JSON.stringify(entry)}\n`));
  return {
    host, port,
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.databases ? { databases: new Set(options.databases) } : {}),
    bodyBytesMax: positive('bodyBytesMax', options.bodyBytesMax, BODY_BYTES_MAX),
    memoryBytes: positive('memoryBytes', options.memoryBytes, MEMORY_BYTES),
    flushAgeMs: positive('flushAgeMs', options.flushAgeMs, FLUSH_AGE_MS),
    parseThreads: count('parseThreads', options.parseThreads, defaultParseThreads(), PARSE_THREADS_MAX),
    parseInlineBytesMax: count('parseInlineBytesMax', options.parseInlineBytesMax, PARSE_INLINE_BYTES_MAX, Number.MAX_SAFE_INTEGER),
    log,
  };
}
