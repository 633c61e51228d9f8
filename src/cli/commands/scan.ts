import type { Command, CommandContext } from '../context.js';
import { choiceOption, intOption, listOption, refuse, stringOption, whereOption } from '../args.js';
import { OUTPUT_FORMATS, Sink, writeBatches, type OutputFormat } from '../output.js';
import { UsageError } from '../../errors.js';
import { toTableTime } from '../../table/time.js';

export const SCAN_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  where: { type: 'string', multiple: true },
  columns: { type: 'string' },
  limit: { type: 'string' },
  order: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  explain: { type: 'boolean' },
} as const;

export const SCAN_HELP = `  --from TIME           inclusive start: ISO-8601 (2026-01-01T00:00Z) or epoch ms
  --to TIME             exclusive end
  --where tag=value     tag filter, repeatable; tag=a|b means IN
  --columns a,b         columns to return (time is always first)
  --limit N             at most N rows
  --order O             series (default: each series in time order, overlapping chunks merged)
                        | any (chunk by chunk as stored, no merge)
  --format F            table | csv | jsonl | arrow (default table; arrow is an IPC stream)
  --out FILE            write to FILE instead of stdout
  --explain             print the plan (chunks and pages pruned, bytes to read) instead of rows`;

/** Common option decoding of scan and query. */
export function scanOptions(values: Record<string, unknown>) {
  const from = parseTime(stringOption(values, 'from'), 'from');
  const to = parseTime(stringOption(values, 'to'), 'to');
  // [from, to) holds nothing when from is not before to: a mistake, not an empty answer.
  if (from !== undefined && to !== undefined && toTableTime(from, 'ns', '--from') >= toTableTime(to, 'ns', '--to')) {
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
 * `--from 1767225600000` is epoch ms (negative: before 1970); anything else is passed on as
 * an ISO-8601 string.
 */
function parseTime(value: string | undefined, name: string): string | number | undefined {
  if (value === undefined) return undefined;
  if (/^-?\d+$/.test(value)) return Number(value);
  if (Number.isNaN(Date.parse(value))) throw new UsageError(`--${name} expects ISO-8601 or epoch milliseconds, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The rows' output format, refusing flags that would be ignored: --explain prints the plan
 * (as JSON) to stdout, so --format and --out do not apply; --json asks for JSON lines.
 */
export function outputFormat(ctx: CommandContext, values: Record<string, unknown>): OutputFormat {
  if (values.explain) {
    refuse(values, 'format', 'does not apply to --explain (it prints the plan as JSON)');
    refuse(values, 'out', 'does not apply to --explain (it prints the plan to stdout)');
  }
  const format = choiceOption(values, 'format', OUTPUT_FORMATS, ctx.flags.json ? 'jsonl' : 'table');
  if (ctx.flags.json && format !== 'jsonl') throw new UsageError(`--json writes JSON lines; it cannot be combined with --format ${format}`);
  return format;
}

export const scanCommand: Command = {
  summary: 'read rows of a table: time range, tag filters, projection',
  usage: `Usage: quiver scan TABLE [options]

Options:
${SCAN_HELP}`,
  options: SCAN_OPTIONS,
  async run(ctx, values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length) throw new UsageError('scan takes exactly one TABLE');
    const format = outputFormat(ctx, values);
    const options = scanOptions(values);
    const table = await (await ctx.open()).table(name);
    if (values.explain) {
      const plan = await table.explain(options);
      ctx.emit(plan, () => JSON.stringify(plan, null, 2));
      return 0;
    }
    const sink = new Sink(stringOption(values, 'out'));
    await writeBatches(table.scan({ ...options, signal: ctx.signal }), format, sink);
    await sink.end();
    return 0;
  },
};
