import type { Command } from '../context.js';
import { choiceOption, intOption, listOption, stringOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { importFiles } from '../../io/import.js';

export const importCommand: Command = {
  summary: 'import CSV, Parquet or Arrow files into a table (all or nothing)',
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
  --schema col:type,…   override inferred types (float64, int64, uint64, bool, utf8, string)
  --layout wide|long    long: one row per series × time × field (needs --field-column, --value-column)
  --field-column C      long layout: column holding the field name
  --value-column C      long layout: column holding the value
  --max-errors N        skip up to N bad rows, writing each to the rejects file
  --rejects FILE        rejects file (default ./<first input's name>.rejects.csv, stdin.rejects.csv for -)
  --memory SIZE         memory budget, e.g. 128MiB, 1GiB (default 256MiB): the write buffer is
                        cut into chunks at a third of it
  --codec auto|zstd|lz4|none  block codec when creating the table (default auto: zstd for
                        the columns where it saves 2% or more, none for the others)
  --compression fast|small  when creating the table: small also tries bitsplit on delta
                        pages and keeps the smaller once compressed (slower imports)
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
    'max-errors': { type: 'string' },
    rejects: { type: 'string' },
    codec: { type: 'string' },
    memory: { type: 'string' },
    compression: { type: 'string' },
    'no-progress': { type: 'boolean' },
  },
  async run(ctx, values, files) {
    const table = stringOption(values, 'table');
    if (!table) throw new UsageError('--table is required');
    if (files.length === 0) throw new UsageError('no input files given');
    const schema = listOption(values, 'schema');
    const overrides = schema && Object.fromEntries(schema.map((item) => {
      const [column, type] = item.split(':');
      if (!column || !type) throw new UsageError(`--schema expects col:type, got ${JSON.stringify(item)}`);
      return [column, type];
    }));
    const timeUnit = stringOption(values, 'time-unit');
    if (timeUnit !== undefined && !['s', 'ms', 'us', 'ns'].includes(timeUnit)) throw new UsageError(`--time-unit must be s, ms, us or ns, got ${JSON.stringify(timeUnit)}`);
    const delimiter = stringOption(values, 'delimiter');
    const db = await ctx.open();
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
      schema: overrides as never,
      layout: choiceOption(values, 'layout', ['wide', 'long'] as const, 'wide'),
      fieldColumn: stringOption(values, 'field-column'),
      valueColumn: stringOption(values, 'value-column'),
      maxErrors: intOption(values, 'max-errors'),
      rejectsPath: stringOption(values, 'rejects'),
      codec: stringOption(values, 'codec') as never,
      ...(stringOption(values, 'compression') !== undefined ? { compression: choiceOption(values, 'compression', ['fast', 'small'] as const, 'fast') } : {}),
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
      ].join('\n');
    });
    return 0;
  },
};

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
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

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3 };

/** `512MiB`, `1GiB`, `300MB`, `1048576` → bytes; a UsageError naming the option otherwise. */
export function parseSize(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined || !(Number(m[1]) * unit >= 1024 * 1024)) {
    throw new UsageError(`${option} expects a size of at least 1MiB such as 256MiB or 1GiB, got ${JSON.stringify(text)}`);
  }
  return Math.floor(Number(m[1]) * unit);
}
