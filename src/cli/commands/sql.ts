import type { Command } from '../context.js';
import { WRITE_FORMATS } from '../../export/formats.js';
import { outputFormat, writeRows } from './scan.js';
import { UsageError } from '../../errors.js';

export const sqlCommand: Command = {
  usage: `Usage: quiver sql "SELECT … FROM cpu WHERE …" [--format F] [--out FILE]

Every table of the store is a DuckDB table function of its name backed by Quiver's scan:
  FROM cpu                                  the whole table (only the columns the query uses are read)
  FROM cpu(from_time := '2026-01-01T00:00Z', to_time := '2026-01-02', hostname := 'host_1|host_2')
                                            time range ([from, to), ISO-8601 or epoch ms) and tag
                                            filters (a|b is IN) pushed down into the scan
Times are TIMESTAMP_NS (or _S/_MS/TIMESTAMP by the table's unit), tags VARCHAR.
Needs DuckDB: npm install @duckdb/node-api@1.5.5-r.5

Options:
  --format F            ${WRITE_FORMATS.join(' | ')} (default table: the first 100
                        rows and a count of the rest, unless --out is given)
  --out FILE            write to FILE; its extension picks the format
  --tz ZONE             print times in ZONE's local time (text formats)`,
  options: {
    format: { type: 'string' },
    out: { type: 'string' },
    tz: { type: 'string' },
  },
  async run(ctx, values, positionals) {
    if (positionals.length !== 1) throw new UsageError('sql takes exactly one QUERY (quote it)');
    const format = outputFormat(ctx, values);
    const db = await ctx.open();
    let schema: import('apache-arrow').Schema | undefined;
    await writeRows(ctx, values, format, db.sqlBatches(positionals[0]!, (s) => { schema = s; }), { schema: async () => schema! });
    return 0;
  },
};
