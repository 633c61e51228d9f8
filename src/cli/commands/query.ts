import type { Command } from '../context.js';
import { choiceOption, listOption, refuse, stringOption } from '../args.js';
import { filterOption } from '../predicates.js';
import { versionOption } from '../time-travel.js';
import { outputFormat, printExplain, SCAN_HELP, SCAN_OPTIONS, scanOptions, writeRows } from './scan.js';
import { UsageError } from '../../errors.js';
import { aggregateHelp } from '../../scan/aggregates/index.js';
import type { QueryOptions } from '../../scan/query-types.js';
import type { TableSchema } from '../../core/types.js';

export const queryCommand: Command = {
  // A getter: the functions are the registry's (src/scan/aggregates), registered ones included.
  get usage() {
    return `Usage: quiver query TABLE --agg fn:field[,fn:field…] [--every 1h] [--by tag,…] [options]

Functions: ${aggregateHelp()}

Options:
  --agg LIST            aggregations, e.g. max:usage_user,mean:usage_system
  --every D             time bucket: 10s, 5m, 1h, 1d, 1w, 1mo
  --by a,b              group by tags
  --fill F              empty buckets: none | null | previous | linear (default none)
  --latest              the last point of every series (no --agg needed)
  --raw                 read the raw rows even when a rollup table answers the query
${SCAN_HELP}
(--tz also sets the zone of d/w/mo buckets, default UTC; --filter keeps rows before they are
aggregated; --order does not apply to query; --columns applies to --latest only)`;
  },
  options: {
    ...SCAN_OPTIONS,
    agg: { type: 'string' },
    every: { type: 'string' },
    by: { type: 'string' },
    tz: { type: 'string' },
    fill: { type: 'string' },
    latest: { type: 'boolean' },
    raw: { type: 'boolean' },
  },
  async run(ctx, values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length) throw new UsageError('query takes exactly one TABLE');
    const format = outputFormat(ctx, values);
    const table = await (await ctx.open({ decodedCacheBytes: 0 })).table(name) // one read, then exit: no decoded-page cache;
    const options: QueryOptions = { ...queryOptions(values, table.schema), version: await versionOption(values, table) };
    if (values.explain) {
      printExplain(ctx, format, await table.explainQuery(options));
      return 0;
    }
    const result = await table.query({ ...options, signal: ctx.signal });
    await writeRows(ctx, values, format, asyncBatches(result.batches), { schema: async () => result.schema });
    return 0;
  },
};

/**
 * The QueryOptions of query's flags (also the server's /api/v1/query), refusing flags a
 * query cannot honour.
 */
export function queryOptions(values: Record<string, unknown>, schema: TableSchema): QueryOptions {
  const aggList = listOption(values, 'agg');
  if (!aggList && !values.latest) throw new UsageError('--agg or --latest is required');
  const agg: Record<string, string[]> = Object.create(null); // keyed by field names: __proto__ is a name like any other
  for (const item of aggList ?? []) {
    const colon = item.indexOf(':');
    // `count` alone counts rows; `percentile:0.9:field` keeps its argument.
    const fn = colon < 0 ? item : item.slice(0, item.lastIndexOf(':'));
    const field = colon < 0 ? '*' : item.slice(item.lastIndexOf(':') + 1);
    if (!fn || !field) throw new UsageError(`--agg expects fn:field, got ${JSON.stringify(item)}`);
    (agg[field] ??= []).push(fn);
  }
  // Flags of scan a query cannot honour: its rows are groups and buckets in their own order.
  refuse(values, 'order', 'does not apply to query: results come ordered by group, then bucket time');
  if (!values.latest) refuse(values, 'columns', 'applies to query --latest (which fields to return); an aggregation reads the fields named in --agg');
  return {
    ...scanOptions(values),
    agg: aggList ? agg : undefined,
    every: stringOption(values, 'every'),
    by: listOption(values, 'by'),
    timeZone: stringOption(values, 'tz'),
    fill: choiceOption(values, 'fill', ['none', 'null', 'previous', 'linear'] as const, 'none'),
    latest: values.latest === true ? true : undefined,
    filter: filterOption(values, schema),
    ...(values.raw === true ? { rollups: false } : {}),
  };
}

async function* asyncBatches<T>(items: Iterable<T>): AsyncIterable<T> {
  yield* items;
}
