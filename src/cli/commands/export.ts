import type { Command } from '../context.js';
import { choiceOption, intOption, stringOption } from '../args.js';
import { scanOptions } from './scan.js';
import { UsageError } from '../../errors.js';
import { isDirectoryTarget, PARQUET_CODECS } from '../../export/options.js';
import { pickFormat, WRITE_FORMATS, writeOutput } from '../../export/formats.js';
import { Sink } from '../output.js';

export const exportCommand: Command = {
  usage: `Usage: quiver export TABLE --out FILE.parquet|DIR/|FILE.csv|… [options]

  --out FILE.parquet    one Parquet file: a row group per partition (split at --row-group-rows)
  --out DIR/            a directory or store URL ending in '/' (./dump/, s3://bucket/dir/?endpoint=…):
                        one Parquet file per partition in Hive-style folders (date=YYYY-MM-DD/TABLE.parquet)
  --out FILE.EXT        other formats by extension: .csv .arrow (IPC file) .arrows (IPC stream)
                        .jsonl .json (one array of row objects)
  --format F            the format when --out's extension names none: ${WRITE_FORMATS.filter((f) => f !== 'table').join(' | ')}
  --codec C             ${PARQUET_CODECS.join(' | ')} (default zstd)
  --row-group-rows N    rows per row group at most (default 131072)
  --order O             any (default: chunk by chunk, memory bounded by a chunk) | series (each
                        series in time order: chunks overlapping in time are merged, held together)
  --naive-time          timestamps without a time zone (default: UTC instants; DuckDB reads UTC
                        nanoseconds as microsecond TIMESTAMPTZ, zone-less ones as exact TIMESTAMP_NS)
  --from TIME           inclusive start: ISO-8601 or epoch ms
  --to TIME             exclusive end
  --where tag=value     tag filter, repeatable; tag=a|b means IN
  --columns a,b         columns to export (time is always first)

Timestamps are written in the table's unit as UTC instants (seconds as milliseconds, which
Parquet can hold), tags as dictionary-encoded strings; the file's key-value metadata records
the table, its version and the exported time range (quiver.*).`,
  options: {
    out: { type: 'string' },
    format: { type: 'string' },
    codec: { type: 'string' },
    'row-group-rows': { type: 'string' },
    'naive-time': { type: 'boolean' },
    order: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    where: { type: 'string', multiple: true },
    columns: { type: 'string' },
  },
  async run(ctx, values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length) throw new UsageError('export takes exactly one TABLE');
    const out = stringOption(values, 'out');
    if (!out) throw new UsageError('--out FILE.parquet or --out DIR/ is required');
    const codec = choiceOption(values, 'codec', PARQUET_CODECS, 'zstd');
    const rowGroupRows = intOption(values, 'row-group-rows', 1);
    const { from, to, where, columns } = scanOptions(values);
    const format = isDirectoryTarget(out) ? 'parquet' : pickFormat(stringOption(values, 'format'), out, 'parquet');
    if (format === 'table') throw new UsageError('export writes files: --format table is for the terminal (use scan)');
    const table = await (await ctx.open()).table(name);
    const started = performance.now();
    if (format !== 'parquet') {
      const sink = new Sink(out);
      const rows = await writeOutput(table.scan({ from, to, where, columns }), format, sink, { schema: async () => (await table.query({ from: 0n, to: 0n, columns })).schema });
      await sink.end();
      const seconds = (performance.now() - started) / 1000;
      ctx.emit({ table: name, version: table.version, rows, format, files: [{ path: out, rows }], seconds }, () => `exported ${rows} rows of ${name} to ${out} (${format}) in ${seconds.toFixed(2)} s`);
      return 0;
    }
    const { exportTable } = await import('../../export/export.js');
    const result = await exportTable(table, out, {
      codec,
      ...(values['naive-time'] === true ? { utc: false } : {}),
      order: choiceOption(values, 'order', ['any', 'series'] as const, 'any'),
      ...(rowGroupRows !== undefined ? { rowGroupRows } : {}),
      ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}),
      ...(where ? { where } : {}), ...(columns ? { columns } : {}),
    });
    const seconds = (performance.now() - started) / 1000;
    ctx.emit({ ...result, seconds }, () => [
      `exported ${result.rows} rows of ${result.table} (version ${result.version}) in ${result.rowGroups} row groups, ${result.bytes} bytes, ${seconds.toFixed(2)} s (${Math.round(result.rows / Math.max(seconds, 1e-9))} rows/s)`,
      ...result.files.map((f) => `  ${f.path}  ${f.rows} rows  ${f.bytes} bytes`),
    ].join('\n'));
    return 0;
  },
};
