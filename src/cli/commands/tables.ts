import { jsonRatio, jsonTimeRange } from '../json.js';
import type { Command, CommandContext } from '../context.js';
import { renderTable } from '../text.js';

/**
 * Runs `fn` for each table; a table that fails (a corrupt manifest, a store error on its
 * objects) is reported on stderr as `TABLE: error` and the others go on. The caller exits 1
 * when any failed.
 */
export async function perTable<T>(ctx: CommandContext, command: string, names: readonly string[], fn: (name: string) => Promise<T>): Promise<({ table: string; value: T } | { table: string; error: string })[]> {
  const out: ({ table: string; value: T } | { table: string; error: string })[] = [];
  for (const table of names) {
    try {
      out.push({ table, value: await fn(table) });
    } catch (error) {
      const message = ((error as Error)?.message ?? String(error)).split('\n')[0]!;
      out.push({ table, error: message });
      if (!ctx.flags.json) ctx.note(`quiver ${command}: table ${table}: ${message}`);
    }
  }
  return out;
}

export const tablesCommand: Command = {
  usage: `Usage: quiver tables

A table that cannot be read is reported with its error (on stderr; under --json, as its
"error"), the others are listed; exit 1 if any failed.`,
  options: {},
  async run(ctx) {
    const db = await ctx.catalog();
    const results = await perTable(ctx, 'tables', await db.tables(), async (name) => {
      const d = await db.describe(name);
      return { table: name, rows: d.rows, chunks: d.chunks, bytes: d.bytes, rawBytes: d.rawBytes, ratio: jsonRatio(d.rawBytes, d.bytes), version: d.version, ...jsonTimeRange(d.timeMin, d.timeMax, d.schema.timeUnit) };
    });
    const rows = results.map((r) => ('value' in r ? r.value : { table: r.table, error: r.error }));
    ctx.emit(rows, () => renderTable(results.flatMap((r) => ('value' in r ? [r.value] : [])), ['table', 'rows', 'chunks', 'bytes', 'version']));
    return results.some((r) => 'error' in r) ? 1 : 0;
  },
};
