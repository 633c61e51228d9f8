import type { Command } from '../context.js';
import { UsageError } from '../../errors.js';
import { listOption, stringOption } from '../args.js';
import { formatDuration } from '../../table/retention.js';

const USAGE = `Usage: quiver rollup create NAME --source T --every 1h [--by tag,…] --agg fn:field,… [--retention 365d]
       quiver rollup list [T]
       quiver rollup refresh T
       quiver rollup drop NAME

A rollup is a table of aggregates of a source table per time bucket and group, kept up to date
as the source receives data (per partition, after each flush, import and compaction) and with
its own retention. It stores mergeable aggregates (count, sum, min, max; a mean is kept as its
sum and count), so a query of the source with a coarser bucket (--every 1d over a 1h rollup)
is answered from it exactly; \`quiver query --explain\` says "answered from rollup NAME", and
\`query --raw\` reads the raw rows.
  --source T        the table rolled up
  --every D         bucket width: a fixed duration (10s, 5m, 1h, 1d) dividing the source's partitions
  --by a,b          group by these tags (a query may group by any subset)
  --agg LIST        count, sum, mean, min, max of fields, e.g. mean:usage_user,max:usage_user
  --retention D     the rollup's own retention (e.g. 365d)`;

export const rollupCommand: Command = {
  usage: USAGE,
  options: { source: { type: 'string' }, every: { type: 'string' }, by: { type: 'string' }, agg: { type: 'string' }, retention: { type: 'string' } },
  async run(ctx, values, positionals) {
    const [action, name, ...extra] = positionals;
    if (extra.length) throw new UsageError(`rollup ${action ?? ''}: unexpected ${extra.join(' ')}`);
    const db = await ctx.open();
    if (action === 'create') {
      if (!name) throw new UsageError('rollup create needs a NAME');
      const source = stringOption(values, 'source');
      const every = stringOption(values, 'every');
      const aggList = listOption(values, 'agg');
      if (!source || !every || !aggList) throw new UsageError('rollup create needs --source, --every and --agg');
      const agg = Object.create(null) as Record<string, string[]>; // keyed by field names
      for (const item of aggList) {
        const colon = item.indexOf(':');
        if (colon <= 0 || colon === item.length - 1) throw new UsageError(`--agg expects fn:field, got ${JSON.stringify(item)}`);
        (agg[item.slice(colon + 1)] ??= []).push(item.slice(0, colon));
      }
      const retention = stringOption(values, 'retention');
      const rollup = await db.createRollup(name, { source, every, by: listOption(values, 'by') ?? [], agg, ...(retention !== undefined ? { retention } : {}) });
      const d = await rollup.describe();
      ctx.emit({ rollup: name, source, version: d.version, rows: d.rows, chunks: d.chunks, bytes: d.bytes }, () => `created rollup ${name} of ${source} (every ${every}): ${d.rows.toLocaleString('en-US')} rows in ${d.chunks} chunk(s), ${d.bytes.toLocaleString('en-US')} bytes`);
      return 0;
    }
    if (action === 'list') {
      const sources = name ? [name] : await db.tables();
      const out: { rollup: string; source: string; every: string | null; by: string[]; agg: Record<string, string[]>; retention: string | null; rows: number; bytes: number }[] = [];
      for (const t of sources) {
        const table = await db.table(t);
        for (const r of table.currentManifest.rollups ?? []) {
          const rollup = await db.table(r);
          const spec = rollup.options.rollupOf;
          const d = await rollup.describe();
          out.push({ rollup: r, source: t, every: spec?.every ?? null, by: spec?.by ?? [], agg: spec?.agg ?? {}, retention: rollup.options.retention === undefined ? null : formatDuration(rollup.options.retention), rows: d.rows, bytes: d.bytes });
        }
      }
      ctx.emit(out, () => out.length === 0 ? '(no rollups)' : out.map((r) => `${r.rollup}: ${r.source} every ${r.every ?? '?'} by ${r.by.join(',') || '(none)'}; ${Object.entries(r.agg).map(([f, fns]) => fns.map((fn) => `${fn}:${f}`).join(',')).join(',')}; retention ${r.retention ?? 'none'}; ${r.rows.toLocaleString('en-US')} rows, ${r.bytes.toLocaleString('en-US')} bytes`).join('\n'));
      return 0;
    }
    if (action === 'refresh') {
      if (!name) throw new UsageError('rollup refresh needs the source TABLE');
      const result = await db.refreshRollups(name);
      ctx.emit(result, () => result.length === 0 ? `${name} has no rollups` : result.map((r) => `${r.rollup}: ${r.partitions.length ? `recomputed ${r.partitions.length} partition(s) (version ${r.version})` : 'up to date'}`).join('\n'));
      return 0;
    }
    if (action === 'drop') {
      if (!name) throw new UsageError('rollup drop needs a NAME');
      await db.dropRollup(name);
      ctx.emit({ dropped: name }, () => `dropped rollup ${name}`);
      return 0;
    }
    throw new UsageError(`rollup: expected create, list, refresh or drop, got ${JSON.stringify(action ?? '')}`);
  },
};
