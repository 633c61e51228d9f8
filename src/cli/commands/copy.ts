import type { Command } from '../context.js';
import { listOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { Quiver } from '../../quiver.js';

export const copyCommand: Command = {
  usage: `Usage: quiver copy SRC DST [--table T,…]

SRC and DST are store URLs (a directory, s3://…, az://…, gs://…). Chunks are copied first and
checked against their checksums at the destination, the manifest last, so a table appears
at DST only when complete. An existing table of the same name at DST is an error.`,
  options: { table: { type: 'string' } },
  async run(ctx, values, positionals) {
    if (positionals.length !== 2) throw new UsageError('copy takes SRC and DST store URLs');
    if (values.store !== undefined) throw new UsageError('--store does not apply to copy: it names its stores as SRC and DST');
    const [srcUrl, dstUrl] = positionals as [string, string];
    const src = await Quiver.open(srcUrl);
    const dst = await Quiver.open(dstUrl);
    try {
      const names = listOption(values, 'table') ?? (await src.tables());
      const copied: { table: string; chunks: number; bytes: number }[] = [];
      for (const name of names) {
        copied.push(await src.copyTable(name, dst));
      }
      ctx.emit(copied, () => copied.map((c) => `copied ${c.table}: ${c.chunks} chunk(s), ${c.bytes} bytes, verified`).join('\n'));
      return 0;
    } finally {
      await src.close();
      await dst.close();
    }
  },
};
