/**
 * Retention: a table option (`retention`, milliseconds) after which rows expire.
 *
 * - **Relative to the wall clock**, never to the table's newest point: the cutoff is
 *   `now − retention` (now from the Quiver's clock, `Quiver.open(…, { clock })` in tests), so a
 *   single point dated in the future cannot make every other row look old.
 * - **Invisible at once**: a row with time < cutoff is never returned by a scan or counted by a
 *   query. The cutoff is a time lower bound of the scan (ScanSource.timeFloor, like `from`);
 *   pages the cutoff cuts are decoded, never answered from their statistics.
 * - **Dropped by a commit**: chunks wholly older than the cutoff (every chunk of an expired
 *   partition) leave the table by one commit (operation 'retention') after each flush, import
 *   and compaction and at `vacuum`; vacuum then deletes their files once no retained version
 *   references them. The commit is the only switch: a crash leaves the old or the new version.
 * - **Imports** skip rows already expired and count them (`expiredRows` of the summary): a
 *   bulk load of history into a table with retention keeps what the table would show.
 */
import type { RecordBatch } from 'apache-arrow';
import { ConflictError, UsageError } from '../errors.js';
import { bigint64Values, columnData } from '../scan/aggregate-column.js';
import { toTableTime } from '../core/time.js';
import type { ChunkEntry, TableOptions } from '../core/types.js';
import type { TimeUnit } from '../format/types.js';
import type { Table } from './table.js';

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A duration ('30d', '12h', '90m', '1w', '10s', '500ms'; d = 24 h, w = 7 d) in milliseconds.
 * `what` names the option in the error.
 */
export function parseDuration(text: string, what: string): number {
  const m = typeof text === 'string' ? /^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$/.exec(text) : null;
  if (!m) throw new UsageError(`${what}: expected a duration such as 30d, 12h, 90m, 1w or 10s, got ${JSON.stringify(text)}`);
  const ms = Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
  if (!Number.isSafeInteger(ms) || ms < 1) throw new UsageError(`${what}: ${JSON.stringify(text)} must be at least 1 ms and at most 2^53 ms`);
  return ms;
}

/** A retention as given (milliseconds, a duration, or 'none'/null for none) → milliseconds or undefined. */
export function parseRetention(value: number | string | null | undefined, what = 'retention'): number | undefined {
  if (value === undefined || value === null || value === 'none') return undefined;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`${what}: expected a whole number of milliseconds ≥ 1, got ${value}`);
    return value;
  }
  return parseDuration(value, what);
}

/** Milliseconds as the largest unit that divides them ('30d', '1w', '90m'). */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's']) {
    const size = DURATION_UNITS_MS[unit]!;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** The first time (table unit) a table with these options still shows at `nowMs`; undefined without retention. */
export function retentionCutoff(options: TableOptions, unit: TimeUnit, nowMs: number): bigint | undefined {
  if (options.retention === undefined) return undefined;
  // Clamped to the unit's range: a retention reaching before year 1677 (ns) expires nothing.
  const ms = nowMs - options.retention;
  try {
    return toTableTime(ms, unit, 'retention cutoff');
  } catch {
    return undefined;
  }
}

/** Chunks wholly older than the cutoff. */
export function expiredChunks(chunks: readonly ChunkEntry[], cutoff: bigint | undefined): ChunkEntry[] {
  if (cutoff === undefined) return [];
  return chunks.filter((c) => BigInt(c.timeMax) < cutoff);
}

/**
 * Drops the chunks of `table` wholly older than its retention cutoff by one commit (operation
 * 'retention'). Returns the keys dropped (none without retention or when nothing expired). A
 * rival commit that removed some of them first (a compaction, another process's drop) wins:
 * nothing is dropped now, the next flush or vacuum tries again.
 */
export async function dropExpired(table: Table, options: { dryRun?: boolean } = {}): Promise<string[]> {
  const expired = expiredChunks(table.currentManifest.chunks, table.retentionCutoff());
  if (expired.length === 0 || options.dryRun) return expired.map((c) => c.key);
  try {
    await table.commitChunks([], [], 'retention', expired.map((c) => c.key));
  } catch (error) {
    if (error instanceof ConflictError) return [];
    throw error;
  }
  return expired.map((c) => c.key);
}

/** Sets (ms, or a duration such as '30d') or removes (undefined, null, 'none') the retention of a table, as one commit (operation 'retention'), then drops what expired. */
export async function setRetention(table: Table, value: number | string | null | undefined): Promise<{ version: number; dropped: string[] }> {
  const retention = parseRetention(value);
  const manifest = await table.commitEdit('retention', (next) => {
    const options: TableOptions = { ...next.options };
    if (retention === undefined) delete options.retention;
    else options.retention = retention;
    next.options = options;
  });
  return { version: manifest.version, dropped: await dropExpired(table) };
}

/**
 * The rows of `batch` at or after the cutoff, as runs of consecutive rows with the index of
 * their first row (so each run keeps its exact place in the source file), and how many rows
 * were before it.
 */
export function keptRuns(batch: RecordBatch, timeColumn: string, cutoff: bigint | undefined): { runs: { batch: RecordBatch; offset: number }[]; expired: number } {
  if (cutoff === undefined || batch.numRows === 0) return { runs: [{ batch, offset: 0 }], expired: 0 };
  return runsWhere(batch, timeColumn, (t) => t >= cutoff);
}

/** The runs of consecutive rows of `batch` whose time passes `keep`, and how many rows did not. */
export function runsWhere(batch: RecordBatch, timeColumn: string, keep: (time: bigint) => boolean): { runs: { batch: RecordBatch; offset: number }[]; expired: number } {
  const times = bigint64Values(columnData(batch, timeColumn, 'time filter'));
  const runs: { batch: RecordBatch; offset: number }[] = [];
  let expired = 0;
  let start = -1;
  for (let i = 0; i <= batch.numRows; i++) {
    const kept = i < batch.numRows && keep(times[i] as bigint);
    if (kept && start < 0) start = i;
    if (!kept && start >= 0) { runs.push({ batch: start === 0 && i === batch.numRows ? batch : batch.slice(start, i), offset: start }); start = -1; }
    if (!kept && i < batch.numRows) expired++;
  }
  return { runs, expired };
}
