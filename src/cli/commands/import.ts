import { totalmem } from 'node:os';
import type { Command } from '../context.js';
import { choiceOption, intOption, listOption, refuse, stringOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { formatBytes } from '../text.js';
import { expandGlobs, importFiles } from '../../io/import.js';
import { likelyFormat } from '../../io/formats/index.js';
import type { TableDescription } from '../../core/types.js';

export const importCommand: Command = {
  usage: `Usage: quiver import FILE… --table T [options]

FILE may be a glob ('data/*.csv'), '-' for stdin (CSV), a .gz/.zst compressed CSV,
a Parquet file or an Arrow IPC file/stream. All files land in one commit: a failure
leaves the table unchanged.

Options:
  --table T             target table (created when missing)
  --time COL            time column (default: detected: time, timestamp, ts, date)
  --tags a,b            tag columns (default: the string columns)
  --time-format F       iso | s | ms | us | ns (default: detected)
  --time-unit U         table time unit when creating it: s | ms | us | ns (default ns)
  --append              add to an existing table (schema checked; new fields added)
  --delimiter C         CSV delimiter (default: detected among , ; tab |)
  --columns a,b,…       CSV column names when the file has no header row
  --schema col:type,…   override inferred types (float64, int64, uint64, bool, utf8, string);
                        col:float64 also accepts integers no double holds exactly (rounded)
  --layout wide|long    long: one row per series × time × field (needs --field-column, --value-column)
  --field-column C      long layout: column holding the field name
  --value-column C      long layout: column holding the value
  --invalid-utf8 error|replace  CSV bytes that are not UTF-8: stop at file:line:column
                        (default), or store U+FFFD in their place (counted in the summary)
  --max-errors N        skip up to N bad rows, writing each to the rejects file
  --rejects FILE        rejects file, with --max-errors (default ./<first input's name>.rejects.csv,
                        stdin.rejects.csv for -); its folder must exist
  --memory SIZE         memory budget, e.g. 128MiB, 1GiB (default 256MiB): the write buffer is
                        cut into chunks at a third of it
  --codec auto|zstd|lz4|none  block codec when creating the table (default auto: zstd for
                        the columns where it saves 2% or more, none for the others)
  --compression fast|small  when creating the table: small also tries bitsplit on delta
                        pages and keeps the smaller once compressed (slower imports)
  --duplicates last|first|keep  when creating the table: rows of one series at one time
                        fold into one, each field's last (first) value winning, or are all
                        kept (default last); the summary counts the rows that met one
  --retention D         when creating the table: keep rows for D (30d, 12h, 1w); rows
                        already older are skipped and counted
  --no-progress         no progress output`,
  options: {
    table: { type: 'string' },
    time: { type: 'string' },
    tags: { type: 'string' },
    'time-format': { type: 'string' },
    'time-unit': { type: 'string' },
    append: { type: 'boolean' },
    delimiter: { type: 'string' },
    columns: { type: 'string' },
    schema: { type: 'string' },
    layout: { type: 'string' },
    'field-column': { type: 'string' },
    'value-column': { type: 'string' },
    'invalid-utf8': { type: 'string' },
    'max-errors': { type: 'string' },
    rejects: { type: 'string' },
    codec: { type: 'string' },
    memory: { type: 'string' },
    compression: { type: 'string' },
    duplicates: { type: 'string' },
    retention: { type: 'string' },
    'no-progress': { type: 'boolean' },
  },
  async run(ctx, values, files) {
    const table = stringOption(values, 'table');
    if (!table) throw new UsageError('--table is required');
    if (files.length === 0) throw new UsageError('no input files given');
    const overrides = schemaOption(stringOption(values, 'schema'));
    const maxErrors = intOption(values, 'max-errors');
    if (stringOption(values, 'rejects') !== undefined && !maxErrors) throw new UsageError('--rejects names the file where rows skipped by --max-errors go: give --max-errors N too');
    const timeUnit = stringOption(values, 'time-unit');
    if (timeUnit !== undefined && !['s', 'ms', 'us', 'ns'].includes(timeUnit)) throw new UsageError(`--time-unit must be s, ms, us or ns, got ${JSON.stringify(timeUnit)}`);
    const codec = choiceOption(values, 'codec', ['auto', 'zstd', 'lz4', 'none'] as const, 'auto');
    const compression = choiceOption(values, 'compression', ['fast', 'small'] as const, 'fast');
    const duplicates = choiceOption(values, 'duplicates', ['last', 'first', 'keep'] as const, 'last');
    const delimiter = stringOption(values, 'delimiter');
    refuseIgnoredFlags(values, files);
    const db = await ctx.open();
    if (values.append === true && (await db.hasTable(table))) {
      refuseForExistingTable(values, await db.describe(table), { timeUnit, codec, compression, duplicates });
    }
    const progress = values['no-progress'] !== true && !ctx.flags.json;
    const summary = await importFiles(db, files, {
      table,
      time: stringOption(values, 'time'),
      tags: listOption(values, 'tags'),
      timeFormat: stringOption(values, 'time-format') as never,
      timeUnit: timeUnit as never,
      append: values.append === true,
      delimiter: delimiter === '\\t' || delimiter === 'tab' ? '\t' : delimiter,
      columns: listOption(values, 'columns'),
      schema: overrides,
      layout: choiceOption(values, 'layout', ['wide', 'long'] as const, 'wide'),
      fieldColumn: stringOption(values, 'field-column'),
      valueColumn: stringOption(values, 'value-column'),
      ...(stringOption(values, 'invalid-utf8') !== undefined ? { invalidUtf8: choiceOption(values, 'invalid-utf8', ['error', 'replace'] as const, 'error') } : {}),
      maxErrors,
      rejectsPath: stringOption(values, 'rejects'),
      ...(values.codec !== undefined ? { codec } : {}),
      ...(values.compression !== undefined ? { compression } : {}),
      ...(values.duplicates !== undefined ? { duplicates } : {}),
      ...(stringOption(values, 'retention') !== undefined ? { retention: stringOption(values, 'retention') } : {}),
      ...(stringOption(values, 'memory') !== undefined ? { memoryBytes: parseSize(stringOption(values, 'memory')!, '--memory') } : {}),
      onProgress: progress ? progressPrinter(ctx.stderr) : undefined,
    });
    if (progress) ctx.stderr.write('\n');
    ctx.emit(summary, () => {
      const rate = summary.seconds > 0 ? Math.round(summary.rows / summary.seconds) : summary.rows;
      const ratio = summary.bytesOut > 0 ? (summary.bytesIn / summary.bytesOut).toFixed(1) : '-';
      return [
        `imported ${summary.rows.toLocaleString('en-US')} rows from ${summary.files} file(s) into ${table}`,
        `  series ${summary.series.toLocaleString('en-US')}, chunks ${summary.chunks}, ${formatBytes(summary.bytesIn)} in → ${formatBytes(summary.bytesOut)} stored (${ratio}×)`,
        `  ${summary.seconds.toFixed(2)} s, ${rate.toLocaleString('en-US')} rows/s${summary.rejected ? `, ${summary.rejected} rejected row(s) written to ${summary.rejectsPath}` : ''}`,
        ...(summary.duplicateRows || summary.duplicates ? [duplicateLine(summary)] : []),
        ...(summary.expiredRows ? [`  ${summary.expiredRows.toLocaleString('en-US')} row(s) older than the table's retention skipped`] : []),
        ...(summary.invalidUtf8Replaced ? [`  ${summary.invalidUtf8Replaced.toLocaleString('en-US')} value(s) with invalid UTF-8 stored with U+FFFD in its place (--invalid-utf8 replace)`] : []),
      ].join('\n');
    });
    return 0;
  },
};

/**
 * `--schema col:type,…` → a null-prototype record (column names are user data: `constructor`
 * is a column like any other). The type follows the last ':' (names may hold one); commas
 * inside parentheses belong to the type (`decimal(10,2)`); naming a column twice is an error.
 */
export function schemaOption(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (i === text.length || (c === ',' && depth === 0)) { const item = text.slice(start, i).trim(); if (item) items.push(item); start = i + 1; }
  }
  if (items.length === 0) throw new UsageError(`--schema needs a comma-separated list of col:type, got ${JSON.stringify(text)}`);
  const out: Record<string, string> = Object.create(null);
  for (const item of items) {
    const colon = item.lastIndexOf(':');
    const column = item.slice(0, Math.max(0, colon)).trim();
    const type = item.slice(colon + 1).trim();
    if (colon <= 0 || !column || !type) throw new UsageError(`--schema expects col:type, got ${JSON.stringify(item)}`);
    if (Object.hasOwn(out, column)) throw new UsageError(`--schema names ${JSON.stringify(column)} twice`);
    out[column] = type;
  }
  return out;
}

/** Options that only CSV input reads. */
const CSV_ONLY = ['delimiter', 'columns', 'schema', 'max-errors', 'rejects', 'field-column', 'value-column'] as const;

/**
 * Refuses flags the inputs would ignore: CSV-only options when no input's format reads them
 * (Parquet and Arrow files carry their column names and types) and the long layout's columns without
 * --layout long. (--rejects without --max-errors is refused at the start of run().)
 */
function refuseIgnoredFlags(values: Record<string, unknown>, patterns: string[]): void {
  if (values['field-column'] !== undefined || values['value-column'] !== undefined) {
    if (values.layout !== 'long') {
      refuse(values, 'field-column', 'applies to --layout long');
      refuse(values, 'value-column', 'applies to --layout long');
    }
  }
  const inputs = expandGlobs(patterns).map((f) => [f, likelyFormat(f)] as const);
  if (inputs.some(([, format]) => format.csvOptions)) return;
  const first = inputs[0];
  if (!first) return;
  const [file, format] = first;
  for (const name of CSV_ONLY) refuse(values, name, `applies to CSV input; ${file} is ${format.longName ?? format.name}, whose columns come with their names and types`);
}

/**
 * With --append to an existing table, the options that shape a new table (time unit, codec,
 * compression, time column) are the table's: a different value is refused, not ignored.
 * --tags must name the table's tags and may name new ones, which are added to it.
 */
/** The summary's line on rows and values that met a point already there, by what the policy did with them. */
function duplicateLine(s: { duplicateRows: number; duplicates: number; duplicatePolicy: string }): string {
  const rows = s.duplicateRows.toLocaleString('en-US'), values = s.duplicates.toLocaleString('en-US');
  const what = s.duplicatePolicy === 'last' ? 'replaced the earlier values (policy last)'
    : s.duplicatePolicy === 'first' ? 'were dropped, the earlier values kept (policy first)' : 'kept as rows of their own (policy keep)';
  return `  ${rows} row(s) of a (series, time) already written; ${values} duplicate (series, time, field) value(s) ${what}`;
}

function refuseForExistingTable(values: Record<string, unknown>, table: TableDescription, given: { timeUnit?: string; codec: string; compression: string; duplicates: string }): void {
  const why = (option: string, has: string) => `${option} applies when the import creates the table; ${table.name} exists with ${has}`;
  if (given.timeUnit !== undefined && given.timeUnit !== table.schema.timeUnit) throw new UsageError(why(`--time-unit ${given.timeUnit}`, `time unit ${table.schema.timeUnit}`));
  if (values.codec !== undefined && given.codec !== table.options.codec) throw new UsageError(why(`--codec ${given.codec}`, `codec ${table.options.codec}`));
  const compression = table.options.compression ?? 'fast';
  if (values.compression !== undefined && given.compression !== compression) throw new UsageError(why(`--compression ${given.compression}`, `compression ${compression}`));
  const duplicates = table.options.duplicates ?? 'keep';
  if (values.duplicates !== undefined && given.duplicates !== duplicates) throw new UsageError(why(`--duplicates ${given.duplicates}`, `duplicate policy ${duplicates}`));
  const tags = listOption(values, 'tags');
  // Tags the table lacks are added (importFiles); leaving out one of its tags is refused.
  if (tags && table.schema.tags.some((t) => !tags.includes(t))) {
    throw new UsageError(`--tags ${tags.join(',')} leaves out tags of ${table.name} (its tags: ${table.schema.tags.join(',')}); name them all, and any new ones to add`);
  }
  const time = stringOption(values, 'time');
  if (time !== undefined && time !== table.schema.time) throw new UsageError(why(`--time ${time}`, `time column ${table.schema.time} (the input needs a column of that name)`));
}

/** One updating line on a terminal, a plain line every few seconds otherwise. */
function progressPrinter(stderr: NodeJS.WritableStream): (p: { bytesRead: number; bytesTotal?: number; rows: number; file?: string }) => void {
  const tty = (stderr as { isTTY?: boolean }).isTTY === true;
  const started = Date.now();
  let lastPrinted = 0;
  const intervalMs = tty ? 200 : 5000;
  return (p) => {
    const now = Date.now();
    if (now - lastPrinted < intervalMs) return;
    lastPrinted = now;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? Math.round(p.rows / seconds) : 0;
    const total = p.bytesTotal && p.bytesTotal > 0 ? p.bytesTotal : undefined;
    const percent = total ? Math.min(100, (100 * p.bytesRead) / total) : undefined;
    const eta = total && p.bytesRead > 0 ? ((total - p.bytesRead) * seconds) / p.bytesRead : undefined;
    const bar = percent === undefined ? '' : `[${'#'.repeat(Math.round(percent / 5)).padEnd(20, '.')}] ${percent.toFixed(0)}% `;
    const line = `${bar}${formatBytes(p.bytesRead)}${total ? ` / ${formatBytes(total)}` : ''}, ${p.rows.toLocaleString('en-US')} rows, ${rate.toLocaleString('en-US')} rows/s${eta !== undefined ? `, ETA ${eta.toFixed(0)} s` : ''}`;
    stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
  };
}

const SIZE_UNITS = new Map<string, number>([
  ['', 1], ['b', 1],
  ['k', 1024], ['kib', 1024], ['kb', 1000],
  ['m', 1024 ** 2], ['mib', 1024 ** 2], ['mb', 1000 ** 2],
  ['g', 1024 ** 3], ['gib', 1024 ** 3], ['gb', 1000 ** 3],
  ['t', 1024 ** 4], ['tib', 1024 ** 4], ['tb', 1000 ** 4],
]);
/** The smallest --memory: below it chunks would be a few rows each. */
const MEMORY_BYTES_MIN = 1024 * 1024;

/**
 * `512MiB`, `1GiB`, `300MB`, `1048576` → bytes, from 1 MiB up to this machine's memory (a
 * larger budget could not be honoured); a UsageError naming the option and the bounds
 * otherwise.
 */
export function parseSize(text: string, option: string, memoryBytes = totalmem()): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS.get(m[2]!.toLowerCase()) : undefined;
  if (!m || unit === undefined) throw new UsageError(`${option} expects a size such as 256MiB or 1GiB (units B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB), got ${JSON.stringify(text)}`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < MEMORY_BYTES_MIN || bytes > memoryBytes) {
    throw new UsageError(`${option} must be between ${formatBytes(MEMORY_BYTES_MIN)} and ${formatBytes(memoryBytes)} (this machine's memory), got ${JSON.stringify(text)}`);
  }
  return bytes;
}
