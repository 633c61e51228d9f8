/**
 * `GET/POST /api/v1/query`: the options of `quiver scan` / `quiver query`, from the query
 * string (`?table=cpu&from=…&where=host=a&where=region=eu&agg=max:usage`) or a JSON body
 * (`{"table":"cpu","agg":["max:usage"],"every":"1h"}`), decoded by the CLI's own option
 * parsing. Rows stream out as JSON (an array of row objects, the CLI's value conventions),
 * JSON lines, CSV or an Arrow IPC stream, by `Accept` (or `format=`), with backpressure:
 * the scan reads on only as the client takes the bytes, and stops if it goes away.
 */
import type { RecordBatch } from 'apache-arrow';
import { RequestError, UsageError } from '../../errors.js';
import { Sink } from '../../cli/output.js';
import { writeOutput, type WriteFormat } from '../../export/formats.js';
import { filteredScan, scanOptions, timeZoneOption } from '../../cli/commands/scan.js';
import { queryOptions } from '../../cli/commands/query.js';
import { filterOption } from '../../cli/predicates.js';
import { planInput } from '../../scan/plan.js';
import { TableArrowSchema } from '../../core/arrow-schema.js';
import { readBody } from '../body.js';
import type { RequestContext, Route } from '../route.js';
import { validateTableName } from '../../table/names.js';

/** Body text: invalid UTF-8 is a 400 (below), never replaced by U+FFFD. */
const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true });

/** Largest JSON request body. */
const QUERY_BODY_BYTES_MAX = 1024 * 1024;

/** Options a query request may carry: the CLI's flags of scan and query, and the table. */
const LIST_OPTIONS = new Set(['columns', 'agg', 'by']);
const MULTIPLE_OPTIONS = new Set(['where', 'filter']);
const STRING_OPTIONS = new Set(['from', 'to', 'limit', 'order', 'every', 'tz', 'fill', 'format']);
const BOOLEAN_OPTIONS = new Set(['latest']);
const ALLOWED = ['table', 'db', ...STRING_OPTIONS, ...LIST_OPTIONS, ...MULTIPLE_OPTIONS, ...BOOLEAN_OPTIONS];

/** Media types answered, by format. */
const MEDIA: Record<string, { type: string; format: WriteFormat }> = {
  json: { type: 'application/json; charset=utf-8', format: 'json' },
  jsonl: { type: 'application/x-ndjson; charset=utf-8', format: 'jsonl' },
  csv: { type: 'text/csv; charset=utf-8', format: 'csv' },
  arrow: { type: 'application/vnd.apache.arrow.stream', format: 'arrow' },
};
const BY_MEDIA: Record<string, string> = {
  'application/json': 'json', 'application/x-ndjson': 'jsonl', 'application/jsonl': 'jsonl', 'text/csv': 'csv',
  'application/vnd.apache.arrow.stream': 'arrow', 'application/*': 'json', 'text/*': 'csv', '*/*': 'json',
};

/** The answer's format: `format=` if given, else the first media type of Accept we serve (JSON without Accept). */
function formatOf(format: string | undefined, accept: string | undefined): string {
  if (format !== undefined) {
    if (!Object.hasOwn(MEDIA, format)) throw new RequestError(400, `format must be one of ${Object.keys(MEDIA).join(', ')}, got ${JSON.stringify(format)}`);
    return format;
  }
  if (!accept) return 'json';
  const wanted = accept.split(',').map((part) => {
    const [type, ...params] = part.trim().split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return { type: type!, q: q ? Number(q.slice(2)) : 1 };
  }).filter((m) => m.q > 0).sort((a, b) => b.q - a.q);
  for (const m of wanted) if (Object.hasOwn(BY_MEDIA, m.type)) return BY_MEDIA[m.type]!;
  throw new RequestError(406, `cannot answer ${JSON.stringify(accept)}: Accept one of ${Object.values(MEDIA).map((m) => m.type.split(';')[0]).join(', ')}`);
}

/** The request's options as the CLI's parsed flags (`values`). */
async function requestValues(ctx: RequestContext): Promise<Record<string, string | boolean | string[] | undefined>> {
  const values: Record<string, string | boolean | string[] | undefined> = Object.create(null);
  const bad = (key: string) => new RequestError(400, `unknown query option ${JSON.stringify(key)} (options: ${ALLOWED.join(', ')})`);
  if (ctx.req.method === 'POST') {
    // Decoded whole: a character split across two chunks of the body (socket reads, 16 KiB
    // gunzip outputs) decoded chunk by chunk would become two U+FFFD, changing a filter.
    const chunks: Buffer[] = [];
    for await (const chunk of readBody(ctx.req, QUERY_BODY_BYTES_MAX)) chunks.push(chunk);
    let body: unknown;
    try {
      body = JSON.parse(UTF8_FATAL.decode(Buffer.concat(chunks)));
    } catch (error) {
      throw new RequestError(400, `query body is not JSON (UTF-8): ${(error as Error).message}`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RequestError(400, 'query body must be a JSON object of options');
    for (const [key, value] of Object.entries(body)) {
      if (!ALLOWED.includes(key)) throw bad(key);
      if (value === null || value === undefined) continue;
      if (BOOLEAN_OPTIONS.has(key)) {
        if (typeof value !== 'boolean') throw new RequestError(400, `${key} must be true or false`);
        values[key] = value;
      } else if (MULTIPLE_OPTIONS.has(key)) {
        const list = Array.isArray(value) ? value : [value];
        if (!list.every((v) => typeof v === 'string')) throw new RequestError(400, `${key} must be a string or an array of strings`);
        values[key] = list as string[];
      } else if (LIST_OPTIONS.has(key) && Array.isArray(value)) {
        if (!value.every((v) => typeof v === 'string')) throw new RequestError(400, `${key} must be a string or an array of strings`);
        values[key] = value.join(',');
      } else if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) values[key] = String(value);
      else throw new RequestError(400, `${key} must be a string`);
    }
  }
  for (const key of new Set(ctx.url.searchParams.keys())) {
    if (key === 'p' || key === 'u') continue; // v1 credentials
    if (!ALLOWED.includes(key)) throw bad(key);
    const all = ctx.url.searchParams.getAll(key);
    if (BOOLEAN_OPTIONS.has(key)) {
      const v = all[all.length - 1];
      if (v !== '' && v !== 'true' && v !== 'false') throw new RequestError(400, `${key} must be true or false, got ${JSON.stringify(v)}`);
      values[key] = v !== 'false';
    } else if (MULTIPLE_OPTIONS.has(key)) values[key] = [...((values[key] as string[] | undefined) ?? []), ...all];
    else if (all.length > 1) throw new RequestError(400, `${key} is given ${all.length} times`);
    else values[key] = all[0];
  }
  return values;
}

export const queryRoute: Route = {
  methods: ['GET', 'POST'],
  path: '/api/v1/query',
  async handle(ctx) {
    const { core, res } = ctx;
    const started = performance.now();
    const values = await requestValues(ctx);
    if (core.settings.databases && values.db !== undefined && !core.settings.databases.has(values.db as string)) {
      throw new RequestError(404, `database not found: ${JSON.stringify(values.db)}`);
    }
    const name = values.table;
    if (typeof name !== 'string' || name === '') throw new RequestError(400, 'missing table option: name the table (measurement) to read');
    const format = formatOf(values.format as string | undefined, ctx.req.headers.accept);
    if (values.tz !== undefined && format === 'arrow') throw new UsageError('tz applies to the text formats; arrow keeps times as UTC instants');
    const kind = values.agg !== undefined || values.latest === true ? 'query' : 'scan';
    validateTableName(name);
    if (!(await core.db.hasTable(name))) throw new RequestError(404, `no table named ${JSON.stringify(name)}`);
    // Points acknowledged before this request are visible to it (scans read unflushed rows
    // too); the table's buffer is flushed first, so the query reads chunks.
    await core.ingest.visible(name);
    const table = await core.db.table(name);
    let batches: AsyncIterable<RecordBatch>;
    let schema;
    if (kind === 'query') {
      const result = await table.query({ ...queryOptions(values, table.schema), signal: ctx.signal });
      batches = (async function* () { yield* result.batches; })();
      schema = result.schema;
    } else {
      const options = scanOptions(values);
      const filter = filterOption(values, table.schema);
      const columns = planInput(table.schema, options).columns;
      schema = new TableArrowSchema(table.schema).project(columns);
      batches = filter ? filteredScan(table, options, filter, columns, ctx.signal) : table.scan({ ...options, signal: ctx.signal });
    }
    res.writeHead(200, { 'Content-Type': MEDIA[format]!.type });
    // A client that goes away stops the scan (signal) and releases a write waiting for 'drain'.
    res.on('close', () => res.emit('drain'));
    const known = schema;
    const rows = await writeOutput(batches, MEDIA[format]!.format, new Sink(res), { schema: async () => known, timeZone: timeZoneOption(values) });
    res.end();
    ctx.points = rows;
    core.metrics.histogram('quiver_query_duration_seconds', 'Time to answer a query request (all rows sent), by kind (scan or query).').observe((performance.now() - started) / 1000, { kind });
  },
};
