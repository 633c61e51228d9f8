import type { Command } from '../context.js';
import { UsageError } from '../../errors.js';

export const dropCommand: Command = {
  usage: 'Usage: quiver drop TABLE',
  options: {},
  async run(ctx, _values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length) throw new UsageError('drop takes exactly one TABLE');
    await (await ctx.open()).dropTable(name);
    ctx.emit({ dropped: name }, () => `dropped ${name}`);
    return 0;
  },
};
