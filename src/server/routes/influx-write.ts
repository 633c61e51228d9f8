/**
 * InfluxDB line protocol writes: `POST /write` (v1), `/api/v2/write` and `/api/v3/write_lp`.
 * The body is parsed as it streams in (gzip decoded on the way); valid lines are written and
 * acknowledged once durable in the write-ahead log; bad lines are listed with their line
 * numbers in a 400 answer (InfluxDB's partial write: the valid lines are written anyway,
 * unless v3's `accept_partial=false` asks for all or nothing).
 */
import { QuiverError, RequestError } from '../../errors.js';
import { contentEncoding, readBody } from '../body.js';
import { PRECISIONS } from '../line-protocol.js';
import { inlineParse, type BadLine, type BodyParse, type LineBodyOptions } from '../line-body.js';
import type { LineWindow } from '../line-columns.js';
import { sendJson, sendNoContent, type RequestContext, type Route } from '../route.js';
import { checkDatabase } from '../database.js';

type Version = keyof typeof PRECISIONS;

export { LINE_BYTES_MAX } from '../line-body.js';
/** Bad lines listed in an error answer (InfluxDB lists up to 100). */
export const ERRORS_LISTED_MAX = 100;

/** Epoch nanoseconds now, truncated to `unitNs` (a point without a timestamp gets the request's time at its precision). */
function nowAt(unitNs: bigint): bigint {
  const ns = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  const unit = unitNs === 0n ? 1n : unitNs;
  return ns - (ns % unit);
}

function precisionOf(version: Version, url: URL): bigint {
  const given = url.searchParams.get('precision');
  const table = PRECISIONS[version] as Record<string, bigint>;
  if (given === null || given === '') return version === 'v3' ? 0n : 1n;
  const unit = Object.hasOwn(table, given) ? table[given] : undefined;
  if (unit === undefined) throw new RequestError(400, `invalid precision ${JSON.stringify(given)}: expected one of ${Object.keys(table).join(', ')}`);
  return unit;
}

function errorBody(version: Version, errors: BadLine[], written: number, total: number): Record<string, unknown> {
  const listed = errors.slice(0, ERRORS_LISTED_MAX);
  const first = listed[0]!;
  const summary = written > 0
    ? `partial write: ${written} of ${total} points written; ${errors.length} line${errors.length === 1 ? '' : 's'} refused`
    : `no point written: ${errors.length} line${errors.length === 1 ? '' : 's'} refused`;
  const message = `${summary}; first: line ${first.line}: ${first.message}`;
  const data = listed.map((e) => ({ line_number: e.line, error_message: e.message, original_line: e.text ?? '' }));
  if (version === 'v3') return { error: written > 0 ? 'partial write of line protocol occurred' : 'parsing failed for write_lp endpoint', message, data };
  if (version === 'v2') return { code: 'invalid', message, line: first.line, data };
  return { error: message, data };
}

/**
 * Points parsed and not yet written are held in windows of this many: a full window is
 * written (durably) while the body goes on streaming, so a request holds at most one window
 * of points whatever its size. (v3's accept_partial=false holds the whole body: it writes
 * nothing unless every line is valid; its points count against the memory budget as they grow.)
 */
export const WINDOW_POINTS = 20_000;
/** Memory a held point is counted as (the point object, its tags and fields). */
const POINT_BYTES = 256;

/** Where a body is parsed: a parse worker, unless there is none ready or the body is declared small. */
function openParse(ctx: RequestContext, options: LineBodyOptions, declared: number): BodyParse {
  const { parsePool, settings } = ctx.core;
  const encoding = contentEncoding(ctx.req);
  const compressed = encoding !== 'identity' && encoding !== '';
  const small = declared > 0 && !compressed && declared < settings.parseInlineBytesMax;
  return (!small && parsePool?.open(options)) || inlineParse(options);
}

async function handleWrite(version: Version, ctx: RequestContext): Promise<void> {
  const { url, req, res, core } = ctx;
  checkDatabase(core.settings, url, version === 'v2' ? 'bucket' : 'db');
  const unitNs = precisionOf(version, url);
  const acceptPartial = version !== 'v3' || url.searchParams.get('accept_partial') !== 'false';
  const now = nowAt(unitNs);
  const declared = Number(req.headers['content-length'] ?? 0) || 0;
  const holds = [core.ingest.admit(Math.min(WINDOW_POINTS * POINT_BYTES, 64 * 1024 + declared * 4))];
  const errors: BadLine[] = [];
  let parsed = 0;
  let written = 0;
  // Lines go from the body's bytes into windows of columns (no string per line), here or in a worker.
  const parse = openParse(ctx, { unitNs, now, windowPoints: acceptPartial ? WINDOW_POINTS : Infinity }, declared);
  const write = async (windows: readonly LineWindow[]) => {
    for (const window of windows) {
      const result = await core.ingest.writeLines(window);
      written += result.written;
      errors.push(...result.errors);
    }
  };
  try {
    for await (const chunk of readBody(req, core.settings.bodyBytesMax)) {
      const { windows, rows } = await parse.push(chunk);
      if (acceptPartial) await write(windows);
      else while (rows >= WINDOW_POINTS * holds.length) holds.push(core.ingest.admit(WINDOW_POINTS * POINT_BYTES));
    }
    const last = await parse.end();
    parsed = last.parsed;
    errors.push(...last.errors);
    if (acceptPartial || errors.length === 0) await write(last.windows);
  } catch (error) {
    // Windows already written stay written: say so (a retry of the whole body would repeat them).
    if (written > 0 && error instanceof QuiverError) {
      const status = error instanceof RequestError ? error.status : 500;
      throw new RequestError(status, `${error.message}; ${written} points of the lines before were written (durable) before this error`, error instanceof RequestError ? error.headers : {});
    }
    throw error;
  } finally {
    parse.close();
    for (const h of holds) h.release();
    ctx.points = written;
  }
  if (errors.length === 0) { sendNoContent(res); return; }
  errors.sort((a, b) => a.line - b.line);
  sendJson(res, 400, errorBody(version, errors, written, parsed));
}

export const influxV1WriteRoute: Route = { methods: ['POST'], path: '/write', handle: (ctx) => handleWrite('v1', ctx) };
export const influxV2WriteRoute: Route = { methods: ['POST'], path: '/api/v2/write', handle: (ctx) => handleWrite('v2', ctx) };
export const influxV3WriteRoute: Route = { methods: ['POST'], path: '/api/v3/write_lp', handle: (ctx) => handleWrite('v3', ctx) };
