import type { Command } from '../context.js';
import { UsageError } from '../../errors.js';
import { formatTimestamp } from '../output.js';
import { scanOptions, timeZoneOption } from './scan.js';
import { NS_PER_UNIT, toTableTime } from '../../core/time.js';

export const deleteCommand: Command = {
  usage: `Usage: quiver delete TABLE [--from TIME] [--to TIME] [--where PRED]… | --all

Deletes the rows with time in [--from, --to) matching every --where, in one commit. Chunks
all of whose rows match (a whole partition, a whole series' chunk) leave the table at once
without being rewritten; rows of other chunks are hidden by a tombstone from this version on
(scans, queries and aggregates never return them; rows written after the delete are not
touched; --version before it still shows them), and 'quiver compact' rewrites those chunks
without them. The space is freed by 'quiver vacuum' once no retained version needs the old
chunks. Prints the chunks dropped, the chunks affected (to be rewritten) and the version.
  --from TIME       inclusive start: ISO-8601 (2026-01-01T00:00Z) or epoch ms
  --to TIME         exclusive end
  --where PRED      tag filter, repeatable (ANDed), as scan takes it: tag=a (tag=a|b is IN),
                    tag!=a, tag^=prefix, tag=~regex, \\N the null tag
  --all             delete every row (required when no --from, --to or --where is given)
  --tz ZONE         print the range in ZONE's local time (Europe/Berlin, UTC, local)`,
  options: { from: { type: 'string' }, to: { type: 'string' }, where: { type: 'string', multiple: true }, all: { type: 'boolean' }, tz: { type: 'string' } },
  async run(ctx, values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length) throw new UsageError('delete takes exactly one TABLE');
    const { from, to, where } = scanOptions(values);
    const all = values.all === true;
    if (all && (from !== undefined || to !== undefined || where !== undefined)) throw new UsageError('--all deletes every row; it takes no --from, --to or --where');
    if (!all && from === undefined && to === undefined && where === undefined) throw new UsageError('delete without --from, --to or --where would delete every row: add --all to mean it');
    const zone = timeZoneOption(values);
    const table = await (await ctx.open()).table(name);
    const result = await table.delete({ ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), ...(where ? { where } : {}), ...(all ? { all } : {}) });
    const unit = table.schema.timeUnit;
    const shown = (t: string | number | bigint | undefined, what: string) => (t === undefined ? null : formatTimestamp(toTableTime(t, unit, what), 1_000_000_000n / NS_PER_UNIT[unit], zone));
    const range = { from: shown(from, 'from'), to: shown(to, 'to') };
    ctx.emit({ table: name, ...range, where: where ?? null, ...result }, () => {
      const what = all ? 'every row' : [range.from !== null || range.to !== null ? `rows in [${range.from ?? '-∞'}, ${range.to ?? '+∞'})` : 'rows', where ? `where ${(values.where as string[]).join(' and ')}` : ''].filter(Boolean).join(' ');
      const dropped = result.chunksDropped
        ? `dropped ${result.chunksDropped} chunk(s) whole (${result.rowsDropped} rows${result.partitionsDropped.length ? `; partition(s) ${result.partitionsDropped.join(', ')} emptied` : ''}) without rewriting`
        : 'dropped no chunk whole';
      const affected = result.chunksAffected
        ? `${result.chunksAffected} chunk(s) affected: their matching rows are hidden from now on and go when 'quiver compact ${name}' rewrites them`
        : 'no other chunk affected';
      return `${name}: deleted ${what} (version ${result.version})\n  ${dropped}\n  ${affected}`;
    });
    return 0;
  },
};
