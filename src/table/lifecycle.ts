import { dropExpired } from './retention.js';
import { maintainRollups } from './rollup-maintain.js';
import type { Table } from './table.js';

/**
 * What follows a commit that changed a table's data (a flush, an import, a compaction, a
 * delete, which names the `partitions` whose rollup rows must be recomputed): its
 * wholly expired chunks are dropped (retention.ts) and its rollups catch up with the
 * partitions that changed (rollup-maintain.ts). Each is a commit of its own, so the data
 * commit stands whatever happens here: a failure is a warning (QUIVER_LIFECYCLE), and the next
 * commit, `vacuum` or `quiver rollup refresh` finishes the job (both steps look at the table's
 * state, not at what this commit did).
 */
export async function afterCommit(table: Table, operation: string, partitions?: readonly string[]): Promise<void> {
  if (operation === 'retention' || table.uncreated) return;
  try {
    await dropExpired(table);
    if (table.currentManifest.rollups?.length) await maintainRollups(table, partitions ? { partitions } : {});
  } catch (error) {
    process.emitWarning(`${table.name}: ${operation} committed, but ${(error as Error).message}; the next commit, vacuum or \`quiver rollup refresh\` retries`, { code: 'QUIVER_LIFECYCLE' });
  }
}
