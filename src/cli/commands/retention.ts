import type { Command } from '../context.js';
import { UsageError } from '../../errors.js';
import { formatDuration, parseRetention, setRetention } from '../../table/retention.js';
import { formatTime } from '../../core/time.js';

export const retentionCommand: Command = {
  usage: `Usage: quiver retention TABLE [DURATION|none]

Without DURATION, prints the table's retention and the cutoff it gives now. With one (30d,
12h, 90m, 1w, 10s; d = 24 h, w = 7 d), sets it as a commit (operation 'retention'); 'none'
removes it. Rows with time < now − retention (the wall clock, never the newest point) are
invisible to scans and queries at once; chunks wholly older are dropped by a commit right
away and after each flush, import and compaction; \`quiver vacuum\` frees their files.
Imports skip (and count) rows already expired.`,
  options: {},
  async run(ctx, _values, positionals) {
    const [name, value, ...extra] = positionals;
    if (!name || extra.length) throw new UsageError('retention takes a TABLE and optionally a DURATION (or none)');
    const table = await (await ctx.open()).table(name);
    let version = table.version;
    let dropped: string[] = [];
    if (value !== undefined) {
      ({ version, dropped } = await setRetention(table, parseRetention(value, 'retention')));
    }
    const retention = table.options.retention;
    const cutoff = table.retentionCutoff();
    ctx.emit({ table: name, version, retentionMs: retention ?? null, retention: retention === undefined ? null : formatDuration(retention), cutoff: cutoff === undefined ? null : formatTime(cutoff, table.schema.timeUnit), droppedChunks: dropped.length }, () =>
      retention === undefined
        ? `${name}: no retention (rows are kept for ever)${value !== undefined ? ` (version ${version})` : ''}`
        : `${name}: retention ${formatDuration(retention)}: rows before ${formatTime(cutoff ?? 0n, table.schema.timeUnit)} are expired${value !== undefined ? ` (version ${version}${dropped.length ? `; ${dropped.length} expired chunk(s) dropped` : ''})` : ''}`);
    return 0;
  },
};
