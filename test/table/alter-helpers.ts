import type { Table as ArrowTable } from 'apache-arrow';
import type { Quiver } from '../../src/quiver.js';
import type { Table } from '../../src/table/table.js';

const T0 = Date.UTC(2026, 0, 1);

/** Rows of a scan as plain objects (values as Arrow gives them: numbers, bigints, strings). */
export async function scanRows(table: Table, options: Parameters<Table['scan']>[0] = {}): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const b of table.scan(options)) for (const r of b.toArray()) out.push({ ...(r.toJSON() as Record<string, unknown>) });
  return out;
}

export function plain(t: ArrowTable): Record<string, unknown>[] {
  return t.toArray().map((r) => ({ ...(r.toJSON() as Record<string, unknown>) }));
}

/**
 * A table altered between two flushes: fields a float64, n int64, s utf8; then s dropped, a
 * renamed to usage, n widened to float64; then rows with s re-added as int64. `before` is the
 * version before the alter.
 */
export async function alterScenario(db: Quiver, name: string): Promise<{ cpu: Table; before: number; alterVersion: number }> {
  const cpu = await db.createTable(name, { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'a', type: 'float64' }, { name: 'n', type: 'int64' }, { name: 's', type: 'utf8' }] });
  await cpu.append([
    { time: T0, host: 'a', a: 1.5, n: 10n, s: 'old' },
    { time: T0 + 1000, host: 'a', a: 2.5, n: 20n, s: 'old2' },
    { time: T0 + 500, host: 'b', a: null, n: 2n ** 53n, s: 'old3' },
    { time: T0 + 1500, host: 'b', a: 4.5, n: -(2n ** 53n), s: null },
  ]);
  await cpu.flush();
  const before = cpu.version;
  const { version: alterVersion } = await cpu.alter({ dropField: 's', renameField: { from: 'a', to: 'usage' }, widen: { field: 'n', to: 'float64' } });
  await cpu.append([{ time: T0 + 2000, host: 'a', usage: 3.5, n: 0.25, s: 7n }]);
  await cpu.flush();
  return { cpu, before, alterVersion };
}

/** What alterScenario's table scans as after the alter. */
export const ALTERED_ROWS = [
  { time: T0, host: 'a', usage: 1.5, n: 10, s: null },
  { time: T0 + 1000, host: 'a', usage: 2.5, n: 20, s: null },
  { time: T0 + 500, host: 'b', usage: null, n: 2 ** 53, s: null },
  { time: T0 + 1500, host: 'b', usage: 4.5, n: -(2 ** 53), s: null },
  { time: T0 + 2000, host: 'a', usage: 3.5, n: 0.25, s: 7n }, // a later chunk, after the first's span
];

/** What it scans as at the version before the alter. */
export const UNALTERED_ROWS = [
  { time: T0, host: 'a', a: 1.5, n: 10n, s: 'old' },
  { time: T0 + 1000, host: 'a', a: 2.5, n: 20n, s: 'old2' },
  { time: T0 + 500, host: 'b', a: null, n: 2n ** 53n, s: 'old3' },
  { time: T0 + 1500, host: 'b', a: 4.5, n: -(2n ** 53n), s: null },
];
