import type { Command } from '../context.js';
import { stringOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { collectReport, renderReport, writeReport } from '../../report/index.js';
import { CHART_IDS } from '../../report/page-script.js';

export const reportCommand: Command = {
  usage: `Usage: quiver report TABLE --out FILE.html

A single HTML file (no network needed: Chart.js is inlined) with plots of the table, read
from its manifests and chunk footers (no data pages): rows per partition over time, stored
bytes per column and encoding, compression ratio per column, distinct values per tag, chunk
size histogram, and the retained versions over time. --out - writes the page to stdout.`,
  options: { out: { type: 'string' } },
  async run(ctx, values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length) throw new UsageError('report takes exactly one TABLE');
    const out = stringOption(values, 'out');
    if (out === undefined) throw new UsageError('report needs --out FILE.html (or --out - for stdout)');
    const db = await ctx.open();
    if (out === '-') {
      if (ctx.flags.json) throw new UsageError('--json does not apply to --out -: the page is the output');
      ctx.print(renderReport(await collectReport(db, name)));
      return 0;
    }
    const { bytes, data } = await writeReport(db, name, out);
    const summary = { table: name, out, bytes, charts: CHART_IDS.length, chunks: data.summary.chunks, partitions: data.partitions.length, versions: data.versions.length };
    ctx.emit(summary, () => `wrote ${out}: ${CHART_IDS.length} charts of ${name} (${data.summary.chunks} chunks, ${data.partitions.length} partitions, ${data.versions.length} versions), ${bytes.toLocaleString('en-US')} bytes`);
    return 0;
  },
};
