import type { Command, CommandContext } from '../context.js';
import { choiceOption, intOption, listOption, refuse, stringOption, whereOption } from '../args.js';
import { Sink } from '../output.js';
import { pickFormat, writeOutput, type WriteFormat } from '../../export/formats.js';
import { UsageError } from '../../errors.js';
import { parseIsoNs, toTableTime } from '../../core/time.js';
import { TableArrowSchema } from '../../core/arrow-schema.js';
import { planInput } from '../../scan/plan.js';

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
  --where tag=value     tag filter, repeatable; tag=a|b means IN; tag=\\N is the null tag
                        (rows without it), tag= the empty string; \\| and \\\\ escape | and \\
  --columns a,b         columns to return (time is always first)
  --limit N             at most N rows
  --order O             series (default: each series in time order, overlapping chunks merged)
                        | any (chunk by chunk as stored, no merge)
  --format F            table | csv | jsonl | json | arrow | arrow-file | parquet (default table;
                        arrow is an IPC stream, json one array of row objects)
  --out FILE            write to FILE instead of stdout; its extension picks the format
                        (.parquet .csv .arrow (IPC file) .arrows (IPC stream) .jsonl .json)
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
 * `--from 1767225600000` is epoch ms (exact at any size: passed on as epoch ns); anything else
 * must be ISO-8601 (the library's parser). The table's unit range is checked by the scan.
 */
function parseTime(value: string | undefined, name: string): string | number | bigint | undefined {
  if (value === undefined) return undefined;
  if (/^-?\d+$/.test(value)) return Number.isSafeInteger(Number(value)) ? Number(value) : BigInt(value) * 1_000_000n;
  parseIsoNs(value, `--${name} expects ISO-8601 or epoch milliseconds`);
  return value;
}

/**
 * The rows' output format, refusing flags that would be ignored: --explain prints the plan
 * (as JSON) to stdout, so --format and --out do not apply; --json asks for JSON lines.
 */
export function outputFormat(ctx: CommandContext, values: Record<string, unknown>): WriteFormat {
  if (values.explain) {
    refuse(values, 'format', 'does not apply to --explain (it prints the plan as JSON)');
    refuse(values, 'out', 'does not apply to --explain (it prints the plan to stdout)');
  }
  const format = pickFormat(stringOption(values, 'format'), stringOption(values, 'out'), ctx.flags.json ? 'jsonl' : 'table');
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
    // The output schema, for the header (or Arrow schema) of an empty result.
    const schema = new TableArrowSchema(table.schema).project(planInput(table.schema, options).columns);
    await writeOutput(table.scan({ ...options, signal: ctx.signal }), format, sink, { schema: async () => schema });
    await sink.end();
    return 0;
  },
};
