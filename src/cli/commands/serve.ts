import type { Command } from '../context.js';
import { intOption, listOption, stringOption } from '../args.js';
import { parseSize } from './import.js';
import { UsageError } from '../../errors.js';
import { Quiver } from '../../quiver.js';
import { DEFAULT_LISTEN } from '../../server/settings.js';

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * DURATION_MS[m[2]!]! : NaN;
  if (!(ms >= 1 && Number.isSafeInteger(Math.round(ms)))) throw new UsageError(`${option} expects a duration such as 500ms, 10s or 1m, got ${JSON.stringify(text)}`);
  return Math.round(ms);
}

export const serveCommand: Command = {
  usage: `Usage: quiver serve [--store URL] [--listen 127.0.0.1:8086] [--wal DIR] [--token T] [options]

Runs an HTTP server on the store: InfluxDB clients, Telegraf and curl write line protocol
(POST /write, /api/v2/write, /api/v3/write_lp), queries read through GET/POST /api/v1/query,
/health and /metrics (Prometheus format) serve operations. A write is answered 204 once its
points are durable in the write-ahead log (--wal); buffered points are flushed to chunks by
size and age, and at shutdown (SIGTERM, SIGINT: stop accepting, finish requests, flush, exit 0).
One JSON log line per request on stderr.

Options:
  --listen HOST:PORT    where to listen (default ${DEFAULT_LISTEN}; port 0 picks a free one)
  --wal DIR             write-ahead log directory, local (default ./quiver-wal); one server per directory
  --token T             require "Authorization: Bearer T" (or "Token T", or v1's p=T) on every
                        endpoint but /health (default: env QUIVER_TOKEN, else no token)
  --databases a,b       accept only these db / bucket names (404 for others)
  --memory SIZE         budget of unflushed points and bodies being parsed (default 256MiB):
                        writes get 429 with Retry-After beyond it
  --body-max SIZE       largest request body after decompression (default 25MiB; 413 beyond)
  --flush-age D         flush buffered points at most this long after they arrived (default 10s)
  --parse-threads N     worker threads parsing line-protocol bodies (default: cores - 1, at
                        least 1; 0: parse on the main thread)
  --quiet               no request log lines`,
  options: {
    listen: { type: 'string' },
    wal: { type: 'string' },
    token: { type: 'string' },
    databases: { type: 'string' },
    memory: { type: 'string' },
    'body-max': { type: 'string' },
    'flush-age': { type: 'string' },
    'parse-threads': { type: 'string' },
    quiet: { type: 'boolean' },
  },
  async run(ctx, values, positionals) {
    if (positionals.length) throw new UsageError(`serve takes no arguments, got ${positionals.join(' ')}`);
    const memory = stringOption(values, 'memory');
    const bodyMax = stringOption(values, 'body-max');
    const flushAge = stringOption(values, 'flush-age');
    const parseThreads = intOption(values, 'parse-threads');
    const token = stringOption(values, 'token') ?? (process.env.QUIVER_TOKEN || undefined);
    const server = await Quiver.serve({
      store: ctx.flags.store,
      wal: stringOption(values, 'wal') ?? './quiver-wal',
      listen: stringOption(values, 'listen') ?? DEFAULT_LISTEN,
      ...(token !== undefined ? { token } : {}),
      ...(values.databases !== undefined ? { databases: listOption(values, 'databases') } : {}),
      ...(memory !== undefined ? { memoryBytes: parseSize(memory, '--memory') } : {}),
      ...(bodyMax !== undefined ? { bodyBytesMax: parseSize(bodyMax, '--body-max') } : {}),
      ...(flushAge !== undefined ? { flushAgeMs: parseDuration(flushAge, '--flush-age') } : {}),
      ...(parseThreads !== undefined ? { parseThreads } : {}),
      ...(values.quiet ? { log: false as const } : {}),
    });
    ctx.note(`quiver serve: listening on ${server.url} (store ${ctx.flags.store})`);
    await new Promise<void>((resolve) => {
      const stop = () => { process.off('SIGTERM', stop); process.off('SIGINT', stop); resolve(); };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    await server.close();
    return 0;
  },
};
