import { intOption, stringOption } from './args.js';
import { UsageError } from '../errors.js';
import { parseIsoNs } from '../core/time.js';
import { versionAsOf } from '../table/versions.js';
import type { Table } from '../table/table.js';

/** Options of scan and query that read an earlier version of the table. */
export const TIME_TRAVEL_OPTIONS = {
  version: { type: 'string' },
  'as-of': { type: 'string' },
} as const;

export const TIME_TRAVEL_HELP = `  --version N           read version N of the table, as committed (inspect TABLE --versions
                        lists them); rows this process has not flushed are never part of one
  --as-of TIME          read the latest version committed at or before TIME (ISO-8601 or
                        epoch ms)`;

/**
 * The version --version or --as-of names (undefined: the latest, with this process's unflushed
 * rows). --as-of finds the newest retained version committed at or before TIME; before the
 * earliest retained one it is an error naming that version.
 */
export async function versionOption(values: Record<string, unknown>, table: Table): Promise<number | undefined> {
  const version = intOption(values, 'version', 1);
  const asOf = stringOption(values, 'as-of');
  if (version !== undefined && asOf !== undefined) throw new UsageError('--version and --as-of both name a version: give one');
  if (asOf === undefined) return version;
  const ns = /^-?\d+$/.test(asOf) ? BigInt(asOf) * 1_000_000n : parseIsoNs(asOf, '--as-of expects ISO-8601 or epoch milliseconds');
  // Commit times have millisecond precision: a commit at or before TIME is one at or before its millisecond.
  const ms = ns >= 0n ? ns / 1_000_000n : -((-ns + 999_999n) / 1_000_000n);
  return versionAsOf(table.store, table.name, Number(ms));
}
