import type { Command } from '../context.js';
import { UsageError } from '../../errors.js';

export const verifyCommand: Command = {
  summary: 'read every chunk and check every checksum; exit 1 naming each bad chunk',
  usage: `Usage: quiver verify [TABLE…]

Without TABLE, verifies every table of the store.`,
  options: {},
  async run(ctx, _values, positionals) {
    const db = await ctx.open();
    const names = positionals.length ? positionals : await db.tables();
    if (positionals.length === 0 && names.length === 0) throw new UsageError('the store has no tables');
    const report: { table: string; chunks: number; bad: { key: string; error: string }[] }[] = [];
    for (const name of names) {
      const results = await (await db.table(name)).verify();
      report.push({ table: name, chunks: results.length, bad: results.filter((r) => !r.ok).map((r) => ({ key: r.key, error: r.error ?? 'failed' })) });
    }
    const badCount = report.reduce((s, t) => s + t.bad.length, 0);
    ctx.emit({ ok: badCount === 0, tables: report }, () => report.map((t) =>
      t.bad.length === 0
        ? `ok   ${t.table}: ${t.chunks} chunk(s) intact`
        : [`BAD  ${t.table}: ${t.bad.length} of ${t.chunks} chunk(s) failed`, ...t.bad.map((b) => `  ${b.key}: ${b.error}`)].join('\n'),
    ).join('\n'));
    return badCount === 0 ? 0 : 1;
  },
};
