import type { Command, CommandContext } from '../context.js';
import { choiceOption, intOption, listOption, refuse, stringOption } from '../args.js';
import { renderTable, Sink, TimeZoneFormat, toJson } from '../output.js';
import { filterOption, whereOption } from '../predicates.js';
import { formatBytes } from '../text.js';
import { pickFormat, writeOutput, type WriteFormat, type WriteOptions } from '../../export/formats.js';
import { applyFilter, predicateColumns } from '../../scan/predicate.js';
import type { FieldPredicate } from '../../scan/query-types.js';
import type { ScanExplain } from '../../scan/scan.js';
import type { Table } from '../../table/table.js';
import type { RecordBatch } from 'apache-arrow';
import { UsageError } from '../../errors.js';
import { parseIsoNs } from '../../core/time.js';
import { TableArrowSchema } from '../../core/arrow-schema.js';
import { planInput } from '../../scan/plan.js';
import { TIME_TRAVEL_HELP, TIME_TRAVEL_OPTIONS, versionOption } from '../time-travel.js';

/** Rows the terminal table format shows without --limit or --out (the rest are counted). */
export const TABLE_ROWS_SHOWN = 100;

export const SCAN_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  where: { type: 'string', multiple: true },
  filter: { type: 'string', multiple: true },
  tz: { type: 'string' },
  columns: { type: 'string' },
  limit: { type: 'string' },
  order: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  explain: { type: 'boolean' },
  ...TIME_TRAVEL_OPTIONS,
} as const;

export const SCAN_HELP = `  --from TIME           inclusive start: ISO-8601 (2026-01-01T00:00Z) or epoch ms
  --to TIME             exclusive end
  --where PRED          tag filter, repeatable (ANDed): tag=a (tag=a|b is IN), tag!=a (tag!=a|b
                        NOT IN), tag^=prefix, tag=~regex; \\N is the null tag (rows without
                        it), tag= the empty string; \\| \\\\ \\~ escape | \\ ~
  --filter PRED         field predicate, repeatable (ANDed): usage_user>50, v!=0, ok=true
                        (= != < <= > >=; a null field never matches)
  --columns a,b         columns to return (time is always first)
  --limit N             at most N rows
  --order O             series (default: each series in time order, overlapping chunks merged)
                        | any (chunk by chunk as stored, no merge)
  --format F            table | csv | jsonl | json | arrow | arrow-file | parquet (default table;
                        arrow is an IPC stream, json one array of row objects); the table
                        format shows the first ${TABLE_ROWS_SHOWN} rows and counts the rest
                        unless --limit or --out is given
  --tz ZONE             print times in ZONE's local time with its offset (Europe/Berlin, UTC,
                        local); text formats only (Arrow and Parquet keep UTC instants)
  --out FILE            write to FILE instead of stdout; its extension picks the format
                        (.parquet .csv .arrow (IPC file) .arrows (IPC stream) .jsonl .json)
  --explain             print the plan (chunks and pages pruned, bytes to read) instead of rows:
                        as text, or as one JSON document with --json or --format json
${TIME_TRAVEL_HELP}`;

/** Common option decoding of scan and query. */
export function scanOptions(values: Record<string, unknown>) {
  const from = parseTime(stringOption(values, 'from'), 'from');
  const to = parseTime(stringOption(values, 'to'), 'to');
  // [from, to) holds nothing when from is not before to: a mistake, not an empty answer.
  // Compared as exact epoch ns of any size: a bound beyond the ns range is valid for a table
  // of a coarser unit (the scan checks the table's own range).
  if (from !== undefined && to !== undefined && boundNs(from, 'from') >= boundNs(to, 'to')) {
    throw new UsageError(`--from ${from} is not before --to ${to}: the range [from, to) is empty`);
  }
  return {
    from,
    to,
    where: whereOption(values),
    columns: listOption(values, 'columns'),
    limit: intOption(values, 'limit'),
    order: choiceOption(values, 'order', ['series', 'any'] as const, 'series'),
  };
}

/**
 * `--from 1767225600000` is epoch ms (exact at any size: passed on as epoch ns); anything else
 * must be ISO-8601 (the library's parser). The table's unit range is checked by the scan.
 */
function parseTime(value: string | undefined, name: string): string | number | bigint | undefined {
  if (value === undefined) return undefined;
  if (/^-?\d+$/.test(value)) return Number.isSafeInteger(Number(value)) ? Number(value) : BigInt(value) * 1_000_000n;
  parseIsoNs(value, `--${name} expects ISO-8601 or epoch milliseconds`);
  return value;
}

/** A bound from parseTime as epoch ns, unbounded (no unit's range applies yet). */
function boundNs(bound: string | number | bigint, name: string): bigint {
  if (typeof bound === 'bigint') return bound;
  if (typeof bound === 'number') return BigInt(bound) * 1_000_000n;
  return parseIsoNs(bound, `--${name} expects ISO-8601 or epoch milliseconds`);
}

/**
 * The rows' output format, refusing flags that would be ignored: --explain prints the plan (as
 * text, or JSON with --json / --format json) to stdout, so --out and the row formats do not
 * apply; --json asks for one JSON document (--format jsonl for JSON lines).
 */
export function outputFormat(ctx: CommandContext, values: Record<string, unknown>): WriteFormat {
  if (values.explain) {
    refuse(values, 'out', 'does not apply to --explain (it prints the plan to stdout)');
    const format = stringOption(values, 'format');
    if (format !== undefined && format !== 'json' && format !== 'table') throw new UsageError(`--format ${format} does not apply to --explain (it prints the plan as text, or as JSON with --json or --format json)`);
    return ctx.flags.json ? 'json' : ((format ?? 'table') as WriteFormat);
  }
  const format = pickFormat(stringOption(values, 'format'), stringOption(values, 'out'), ctx.flags.json ? 'json' : 'table');
  if (ctx.flags.json && format !== 'json') throw new UsageError(`--json writes one JSON document; it cannot be combined with --format ${format} (use --format jsonl without --json for JSON lines)`);
  if (values.tz !== undefined && (format === 'arrow' || format === 'arrow-file' || format === 'parquet')) {
    throw new UsageError(`--tz applies to the text formats; ${format} keeps times as UTC instants (their type says so)`);
  }
  return format;
}

/** The --tz zone of printed times, if any. */
export function timeZoneOption(values: Record<string, unknown>): TimeZoneFormat | undefined {
  const zone = stringOption(values, 'tz');
  return zone === undefined ? undefined : new TimeZoneFormat(zone);
}

/** Prints a scan or query plan: text, or one JSON document (--json, --format json). */
export function printExplain(ctx: CommandContext, format: WriteFormat, plan: ScanExplain): void {
  if (format === 'json') { ctx.print(toJson(plan)); return; }
  const read = plan.chunksTotal - plan.chunksPruned;
  ctx.print([
    `chunks  ${read} of ${plan.chunksTotal} to read (${plan.chunksPruned} pruned by time range, tags or statistics)`,
    `pages   ${plan.pagesTotal - plan.pagesPruned} of ${plan.pagesTotal} in those chunks (${plan.pagesPruned} pruned)${plan.pagesFromStatistics ? `, ${plan.pagesFromStatistics} of them answered from their statistics (not read)` : ''}`,
    `bytes   ${formatBytes(plan.bytesToRead)} of column data to read`,
    ...(plan.answeredFrom ? [`answered from rollup ${plan.answeredFrom}`] : plan.rollupSkipped ? [`raw rows read (no rollup used: ${plan.rollupSkipped})`] : []),
    '',
    plan.chunks.length ? renderTable(plan.chunks.map((c) => ({ chunk: c.key, pages: c.pages, selected: c.pagesSelected, fromStatistics: c.pagesFromStatistics, bytes: c.bytes }))).trimEnd() : '(no chunk to read)',
  ].join('\n'));
}

/**
 * Writes result rows in `format`: the table format to stdout without --limit/--out shows the
 * first TABLE_ROWS_SHOWN rows, then how many more there are.
 */
export async function writeRows(ctx: CommandContext, values: Record<string, unknown>, format: WriteFormat, batches: AsyncIterable<RecordBatch>, options: WriteOptions): Promise<void> {
  const out = stringOption(values, 'out');
  const sink = new Sink(out);
  const cap = format === 'table' && out === undefined && values.limit === undefined;
  const left = { rows: 0 };
  await writeOutput(cap ? capRows(batches, TABLE_ROWS_SHOWN, left) : batches, format, sink, { ...options, timeZone: timeZoneOption(values) });
  await sink.end();
  if (left.rows > 0) ctx.print(`(${left.rows.toLocaleString('en-US')} more row${left.rows === 1 ? '' : 's'} not shown: --limit N or --out FILE for more)`);
}

/** The first `cap` rows; the rest are counted in `left.rows`. */
async function* capRows(batches: AsyncIterable<RecordBatch>, cap: number, left: { rows: number }): AsyncIterable<RecordBatch> {
  let shown = 0;
  for await (const batch of batches) {
    if (shown >= cap) { left.rows += batch.numRows; continue; }
    if (shown + batch.numRows > cap) {
      yield batch.slice(0, cap - shown);
      left.rows += shown + batch.numRows - cap;
      shown = cap;
      continue;
    }
    shown += batch.numRows;
    yield batch;
  }
}

/**
 * A scan with a field predicate: the predicate's columns are read too, rows are filtered,
 * then projected to the asked columns; --limit counts rows that pass.
 */
export async function* filteredScan(table: Table, options: ReturnType<typeof scanOptions>, filter: FieldPredicate, columns: string[], signal: AbortSignal): AsyncIterable<RecordBatch> {
  const needed = [...new Set([...columns, ...predicateColumns(filter)])].filter((c) => c !== table.schema.time);
  let left = options.limit ?? Infinity;
  if (left === 0) return;
  for await (const batch of table.scan({ ...options, columns: needed, limit: undefined, signal })) {
    let kept = applyFilter(batch, filter);
    if (kept.numRows === 0) continue;
    kept = kept.select(columns);
    if (kept.numRows > left) kept = kept.slice(0, left);
    left -= kept.numRows;
    yield kept;
    if (left === 0) return;
  }
}

export const scanCommand: Command = {
  usage: `Usage: quiver scan TABLE [options]

Options:
${SCAN_HELP}`,
  options: SCAN_OPTIONS,
  async run(ctx, values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length) throw new UsageError('scan takes exactly one TABLE');
    const format = outputFormat(ctx, values);
    const table = await (await ctx.open({ decodedCacheBytes: 0 })).table(name) // one read, then exit: no decoded-page cache;
    const options = { ...scanOptions(values), version: await versionOption(values, table) };
    const filter = filterOption(values, table.schema);
    if (values.explain) {
      refuse(values, 'tz', 'does not apply to --explain');
      printExplain(ctx, format, await table.explain(options));
      return 0;
    }
    // The output schema, for the header (or Arrow schema) of an empty result.
    const tableSchema = await table.schemaAt(options.version);
    const columns = planInput(tableSchema, options).columns;
    const schema = new TableArrowSchema(tableSchema).project(columns);
    const batches = filter
      ? filteredScan(table, options, filter, columns, ctx.signal)
      : table.scan({ ...options, signal: ctx.signal });
    await writeRows(ctx, values, format, batches, { schema: async () => schema });
    return 0;
  },
};
