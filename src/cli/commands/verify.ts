import type { Command } from '../context.js';
import { QuiverError, UsageError } from '../../errors.js';
import { verifyTable } from '../../table/verify.js';
import { validateTableName } from '../../table/names.js';
import { perTable } from './tables.js';

export const verifyCommand: Command = {
  usage: `Usage: quiver verify [TABLE…]

Without TABLE, verifies every table of the store. For each table: every retained manifest
version (its checksum, every field), every chunk those versions name (trailer, footer, every
page and region checksum, a decode of every page), and every manifest entry against its
chunk's footer (size, rows, time range, schema, tag values, column statistics, lineage).
Manifests written before manifest checksums (format 1) are validated and reported as
unchecked. A table that cannot be read at all is reported and the others are verified.
Exit 1 if anything is wrong.`,
  options: {},
  async run(ctx, _values, positionals) {
    const db = await ctx.open();
    for (const name of positionals) validateTableName(name);
    const names = positionals.length ? positionals : await db.tables();
    if (positionals.length === 0 && names.length === 0) throw new UsageError('the store has no tables');
    const results = await perTable(ctx, 'verify', names, async (name) => {
      const check = await verifyTable(db.store, name);
      if (check.version === 0) throw new QuiverError(`no table named ${name} in ${db.store.url}`);
      return check;
    });
    const report = results.map((r) => {
      if ('error' in r) return { table: r.table, ok: false, error: r.error };
      const c = r.value;
      return {
        table: c.table, version: c.version, ok: c.ok, chunks: c.chunks.length, manifests: c.manifests.length,
        uncheckedManifests: c.manifests.filter((m) => m.checksum === 'absent').map((m) => m.version),
        bad: [...c.manifests.filter((m) => !m.ok).map((m) => ({ key: m.key, error: m.error ?? 'failed', errors: [m.error ?? 'failed'] })), ...c.chunks.filter((k) => !k.ok).map((k) => ({ key: k.key, error: k.error ?? 'failed', errors: k.errors ?? [] }))],
      };
    });
    const ok = report.every((t) => t.ok);
    ctx.emit({ ok, tables: report }, () => report.map((t) => {
      if ('error' in t) return `BAD  ${t.table}: ${t.error}`;
      const unchecked = t.uncheckedManifests.length ? `; ${t.uncheckedManifests.length} manifest(s) without a checksum (format 1, written before checksums): fields validated, bytes unchecked` : '';
      if (t.bad.length === 0) return `ok   ${t.table}: ${t.chunks} chunk(s) intact, ${t.manifests} manifest(s) checked${unchecked}`;
      return [
        `BAD  ${t.table}: ${t.bad.length} problem object(s) among ${t.manifests} manifest(s) and ${t.chunks} chunk(s)${unchecked}`,
        ...t.bad.flatMap((b) => (b.errors.length > 1 ? [`  ${b.key}:`, ...b.errors.map((e) => `    ${e}`)] : [`  ${b.key}: ${b.error}`])),
      ].join('\n');
    }).join('\n'));
    return ok ? 0 : 1;
  },
};
