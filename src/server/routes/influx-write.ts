/**
 * InfluxDB line protocol writes: `POST /write` (v1), `/api/v2/write` and `/api/v3/write_lp`.
 * The body is parsed as it streams in (gzip decoded on the way); valid lines are written and
 * acknowledged once durable in the write-ahead log; bad lines are listed with their line
 * numbers in a 400 answer (InfluxDB's partial write: the valid lines are written anyway,
 * unless v3's `accept_partial=false` asks for all or nothing).
 */
import { RequestError } from '../../errors.js';
import { readBody } from '../body.js';
import { LineSplitter } from '../line-split.js';
import { LineError, parseLine, PRECISIONS } from '../line-protocol.js';
import { sendJson, sendNoContent, type RequestContext, type Route } from '../route.js';
import type { IngestPoint, PointError } from '../points.js';
import { checkDatabase } from '../database.js';

type Version = keyof typeof PRECISIONS;

/** Longest line accepted (a longer one is that line's error). */
export const LINE_BYTES_MAX = 1024 * 1024;
/** Bad lines listed in an error answer (InfluxDB lists up to 100). */
export const ERRORS_LISTED_MAX = 100;
/** Memory a parsed point is counted as against the write budget, beyond its line's bytes. */
const POINT_OVERHEAD_BYTES = 160;

interface BadLine extends PointError {
  text?: string;
}

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

async function handleWrite(version: Version, ctx: RequestContext): Promise<void> {
  const { url, req, res, core } = ctx;
  checkDatabase(core.settings, url, version === 'v2' ? 'bucket' : 'db');
  const unitNs = precisionOf(version, url);
  const acceptPartial = version !== 'v3' || url.searchParams.get('accept_partial') !== 'false';
  const now = nowAt(unitNs);
  const reservation = core.ingest.admit(Math.min(Number(req.headers['content-length'] ?? 0) || 0, core.settings.bodyBytesMax));
  const points: IngestPoint[] = [];
  const errors: BadLine[] = [];
  let held = 0;
  const extra: { release(): void }[] = [];
  const take = (lines: ReturnType<LineSplitter['push']>) => {
    for (const l of lines) {
      if ('error' in l) { errors.push({ line: l.line, message: l.error, text: l.text }); continue; }
      try {
        const point = parseLine(l.text, l.line, { unitNs, now });
        if (point) { points.push(point); held += l.text.length + POINT_OVERHEAD_BYTES; }
      } catch (error) {
        if (!(error instanceof LineError)) throw error;
        errors.push({ line: l.line, message: `${error.message} (column ${error.column + 1})`, text: l.text.length > 256 ? `${l.text.slice(0, 256)}…` : l.text });
      }
    }
  };
  try {
    const splitter = new LineSplitter(LINE_BYTES_MAX);
    let counted = 0;
    for await (const chunk of readBody(req, core.settings.bodyBytesMax)) {
      take(splitter.push(chunk));
      // The parsed points count against the memory budget as they grow (429 when it is reached).
      if (held - counted > 1 << 20) { extra.push(core.ingest.admit(held - counted)); counted = held; }
    }
    take(splitter.end());
    const texts = new Map(errors.map((e) => [e.line, e]));
    let written = 0;
    if (acceptPartial || errors.length === 0) {
      const result = await core.ingest.write(points);
      written = result.written;
      for (const e of result.errors) {
        const text = points.find((p) => p.line === e.line);
        errors.push({ line: e.line, message: e.message, text: text ? undefined : texts.get(e.line)?.text });
      }
    }
    ctx.points = written;
    if (errors.length === 0) { sendNoContent(res); return; }
    errors.sort((a, b) => a.line - b.line);
    sendJson(res, 400, errorBody(version, errors, written, points.length + errors.length - (written > 0 ? 0 : 0)));
  } finally {
    reservation.release();
    for (const r of extra) r.release();
  }
}

export const influxV1WriteRoute: Route = { methods: ['POST'], path: '/write', handle: (ctx) => handleWrite('v1', ctx) };
export const influxV2WriteRoute: Route = { methods: ['POST'], path: '/api/v2/write', handle: (ctx) => handleWrite('v2', ctx) };
export const influxV3WriteRoute: Route = { methods: ['POST'], path: '/api/v3/write_lp', handle: (ctx) => handleWrite('v3', ctx) };
