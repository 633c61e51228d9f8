import type { Command } from '../context.js';
import { UsageError } from '../../errors.js';
import type { AlterSpec } from '../../table/alter.js';
import { describeAlter } from '../../table/alter-map.js';
import type { FieldType } from '../../format/types.js';

export const alterCommand: Command = {
  usage: `Usage: quiver alter TABLE [--drop-field F]… [--rename-field A=B]… [--widen F:float64]… [--add-tag T]…

  --drop-field F        drop field F (a field named F added later starts empty: its old
                        values never come back); repeatable
  --rename-field A=B    rename field A to B (B must not be a column); repeatable
  --widen F:TYPE        widen field F to TYPE: int64 or uint64 to float64, refused when the
                        chunks' statistics show a value beyond ±2^53 (float64 could not hold it
                        exactly); repeatable
  --add-tag T           append tag T to the table's tags (T must not be a column); rows written
                        before hold the null tag there (select them with --where T=\\N);
                        repeatable

One commit (operation 'alter', see inspect TABLE --versions): drops apply first, then renames,
then widenings, then added tags. Chunks written before it are read through it; versions
before it still read as they were (scan --version N). Tags and the time column cannot be
dropped, renamed or widened.`,
  options: {
    'drop-field': { type: 'string', multiple: true },
    'rename-field': { type: 'string', multiple: true },
    widen: { type: 'string', multiple: true },
    'add-tag': { type: 'string', multiple: true },
  },
  async run(ctx, values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length) throw new UsageError('alter takes exactly one TABLE');
    const many = (key: string) => (values[key] as string[] | undefined) ?? [];
    const spec: AlterSpec = {
      dropField: many('drop-field'),
      renameField: many('rename-field').map((r) => {
        const eq = r.indexOf('=');
        if (eq <= 0 || eq === r.length - 1) throw new UsageError(`--rename-field expects OLD=NEW, got ${JSON.stringify(r)}`);
        return { from: r.slice(0, eq), to: r.slice(eq + 1) };
      }),
      widen: many('widen').map((w) => {
        const colon = w.lastIndexOf(':');
        if (colon <= 0 || colon === w.length - 1) throw new UsageError(`--widen expects FIELD:TYPE (e.g. usage:float64), got ${JSON.stringify(w)}`);
        return { field: w.slice(0, colon), to: w.slice(colon + 1) as FieldType };
      }),
      addTag: many('add-tag'),
    };
    const table = await (await ctx.open()).table(name);
    const before = table.schema.alters?.length ?? 0;
    const { version, schema } = await table.alter(spec);
    const done = (schema.alters ?? []).slice(before).map((a) => describeAlter(a, ''));
    ctx.emit({ table: name, version, alters: (schema.alters ?? []).slice(before), tags: schema.tags, fields: schema.fields }, () => `altered ${name} (version ${version}): ${done.join(', ')}\n  tags ${schema.tags.join(', ') || '-'}\n  fields ${schema.fields.map((f) => `${f.name}:${f.type}`).join(', ') || '-'}`);
    return 0;
  },
};
