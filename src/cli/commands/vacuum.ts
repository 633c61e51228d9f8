import type { Command } from '../context.js';
import { UsageError } from '../../errors.js';
import { intOption, stringOption } from '../args.js';

const GRACE_UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `1h`, `7d`, or `0`. */
function parseGrace(text: string, option: string): number {
  if (text === '0') return 0;
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!m) throw new UsageError(`${option} expects a duration such as 30m, 1h or 7d (or 0), got ${JSON.stringify(text)}`);
  return Number(m[1]) * GRACE_UNITS_MS[m[2]!]!;
}

export const vacuumCommand: Command = {
  usage: `Usage: quiver vacuum TABLE [--retain N] [--older-than 1h] [--temp-older-than 1h] [--dry-run]

Deletes manifests of versions that stopped being the latest more than --older-than ago
(default 1h: readers that loaded them may still be scanning), keeping the newest --retain
versions (default 1) and version 1, then the chunk files only those versions referenced
(e.g. replaced by compact) and orphans of failed imports older than --older-than. Chunks
of writers still in flight (an import, a flush, a compaction not yet committed: each holds a
lease under TABLE/_leases/, refreshed while it writes) are never deleted, whatever
--older-than says; leases of writers that died expire after 10 minutes. Temp files that
killed writers left in a local store (.tmp-*, anywhere in it) go once older than
--temp-older-than (default 1h: a put in flight keeps its temp file for seconds).
  --retain N          keep at least the N newest versions for time travel
  --older-than D      grace period: 90s, 30m, 1h, 7d or 0
  --temp-older-than D grace period of temp files of unfinished puts (default 1h)
  --dry-run           print what would be deleted`,
  options: { retain: { type: 'string' }, 'older-than': { type: 'string' }, 'temp-older-than': { type: 'string' }, 'dry-run': { type: 'boolean' } },
  async run(ctx, values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length) throw new UsageError('vacuum takes exactly one TABLE');
    const retainVersions = intOption(values, 'retain', 1);
    const grace = stringOption(values, 'older-than');
    const tempGrace = stringOption(values, 'temp-older-than');
    const dryRun = values['dry-run'] === true;
    const table = await (await ctx.open()).table(name);
    const result = await table.vacuum({
      ...(retainVersions !== undefined ? { retainVersions } : {}),
      ...(grace !== undefined ? { olderThanMs: parseGrace(grace, '--older-than') } : {}),
      ...(tempGrace !== undefined ? { tempOlderThanMs: parseGrace(tempGrace, '--temp-older-than') } : {}),
      dryRun,
    });
    ctx.emit({ table: name, dryRun, ...result }, () =>
      `${name}: ${dryRun ? 'would expire' : 'expired'} ${result.expiredVersions.length} version(s), ${dryRun ? 'would delete' : 'deleted'} ${result.deletedChunks.length} chunk file(s); ${result.keptVersions} version(s) kept` +
      (result.liveLeases ? `; ${result.liveLeases} writer(s) in flight: their uncommitted chunks kept` : '') +
      (result.expiredLeases.length ? `; ${dryRun ? 'would delete' : 'deleted'} ${result.expiredLeases.length} expired writer lease(s)` : '') +
      (result.tempFilesRemoved ? `; removed ${result.tempFilesRemoved} temp file(s) of unfinished writes` : ''));
    return 0;
  },
};
