import type { Command } from '../context.js';
import { renderTable } from '../output.js';

export const tablesCommand: Command = {
  summary: 'list the tables of the store',
  usage: 'Usage: quiver tables',
  options: {},
  async run(ctx) {
    const db = await ctx.open();
    const names = await db.tables();
    const rows: Record<string, unknown>[] = [];
    for (const name of names) {
      const d = await db.describe(name);
      rows.push({ table: name, rows: d.rows, chunks: d.chunks, bytes: d.bytes, version: d.version, timeMin: d.timeMin, timeMax: d.timeMax });
    }
    ctx.emit(rows, () => renderTable(rows, ['table', 'rows', 'chunks', 'bytes', 'version']));
    return 0;
  },
};
