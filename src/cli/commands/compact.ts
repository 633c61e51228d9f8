import type { Command } from '../context.js';
import { UsageError } from '../../errors.js';
import { intOption, listOption } from '../args.js';

export const compactCommand: Command = {
  usage: `Usage: quiver compact TABLE [--small-rows N] [--partition P,…] [--dry-run]

Merges each partition's chunks of fewer than N rows (default: half the table's rowsPerChunkMax)
into chunks of at most rowsPerChunkMax rows, sorted by series then time, in one commit. Under
a duplicate policy of last or first, chunks that overlap (same times, possibly same series) are
merged whatever their size and their duplicates folded: one row per (series, time).
Replaced chunk files stay readable by older versions; concurrent appends are kept.
  --small-rows N    a chunk below N rows is merged
  --partition P,…   only these partitions (e.g. 2026-11-24 for daily partitions)
  --dry-run         print the plan, write nothing`,
  options: { 'small-rows': { type: 'string' }, partition: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  async run(ctx, values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length) throw new UsageError('compact takes exactly one TABLE');
    const smallRows = intOption(values, 'small-rows', 1);
    const partitions = listOption(values, 'partition');
    const table = await (await ctx.open()).table(name);
    const result = await table.compact({
      ...(smallRows !== undefined ? { smallRows } : {}),
      ...(partitions ? { partitions } : {}),
      dryRun: values['dry-run'] === true,
    });
    const merged = result.groups.reduce((s, g) => s + g.inputs.length, 0);
    ctx.emit({ table: name, dryRun: values['dry-run'] === true, ...result }, () => {
      if (result.groups.length === 0) return `${name}: nothing to compact (${result.chunksBefore} chunk(s))`;
      const lines = result.groups.map((g) => `  ${g.partition}: ${g.inputs.length} chunks, ${g.rows} rows, ${g.bytesBefore} bytes${g.bytesAfter === undefined ? '' : g.outputs?.length === 0 ? ' → none (every row deleted)' : ` → ${g.outputs?.length ?? 1} chunk(s), ${g.rowsAfter ?? g.rows} rows, ${g.bytesAfter} bytes`}`);
      const head = values['dry-run']
        ? `${name}: would merge ${merged} chunks into ${result.groups.length}`
        : `${name}: merged ${merged} chunks into ${result.groups.length} (version ${result.version}; ${result.chunksBefore} → ${result.chunksAfter} chunks)`;
      return [head, ...lines].join('\n');
    });
    return 0;
  },
};
