import type { Command } from '../context.js';
import { stringOption } from '../args.js';
import { Sink } from '../output.js';
import { pickFormat, writeOutput, WRITE_FORMATS } from '../../export/formats.js';
import { UsageError } from '../../errors.js';

export const sqlCommand: Command = {
  summary: 'run SQL on DuckDB over the store\'s tables (DuckDB is an optional dependency)',
  usage: `Usage: quiver sql "SELECT … FROM cpu WHERE …" [--format F] [--out FILE]

Every table of the store is a DuckDB table function of its name backed by Quiver's scan:
  FROM cpu                                  the whole table (only the columns the query uses are read)
  FROM cpu(from_time := '2026-01-01T00:00Z', to_time := '2026-01-02', hostname := 'host_1|host_2')
                                            time range ([from, to), ISO-8601 or epoch ms) and tag
                                            filters (a|b is IN) pushed down into the scan
Times are TIMESTAMP_NS (or _S/_MS/TIMESTAMP by the table's unit), tags VARCHAR.
Needs DuckDB: npm install @duckdb/node-api@1.5.5-r.5

Options:
  --format F            ${WRITE_FORMATS.join(' | ')} (default table)
  --out FILE            write to FILE; its extension picks the format`,
  options: {
    format: { type: 'string' },
    out: { type: 'string' },
  },
  async run(ctx, values, positionals) {
    if (positionals.length !== 1) throw new UsageError('sql takes exactly one QUERY (quote it)');
    const out = stringOption(values, 'out');
    const format = pickFormat(stringOption(values, 'format'), out, ctx.flags.json ? 'jsonl' : 'table');
    const db = await ctx.open();
    let schema: import('apache-arrow').Schema | undefined;
    const sink = new Sink(out);
    await writeOutput(db.sqlBatches(positionals[0]!, (s) => { schema = s; }), format, sink, { schema: async () => schema! });
    await sink.end();
    return 0;
  },
};
