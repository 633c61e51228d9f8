import type { RecordBatch } from 'apache-arrow';
import { AbortError } from '../errors.js';
import { INT64_MAX, INT64_MIN, NS_PER_UNIT } from '../core/time.js';
import type { ScanOptions, TableSchema } from '../core/types.js';
import { compareStrings } from '../format/stats.js';
import type { ChunkFooter } from '../format/types.js';
import type { PageSummarizer, QueryableTable, QueryOptions } from './query-types.js';
import { columnData, int64MinMax } from './aggregate-column.js';
import { releaseBatch } from '../format/buffer-pool.js';

/**
 * `latest` over time windows, newest first (issue 18): the last row of a group can only be
 * in the newest window that holds the group, so once a window has been read, a page of an
 * older window whose groups were all found in newer windows is not read at all.
 *
 * 1. A probe learns the time spans of the chunks the query selects without decoding them:
 *    a page summarizer that records each chunk's footer span and answers every page (the
 *    chunks a scan must decode anyway — rows a merge may fold, or a delete may hide — give
 *    their span from their decoded times).
 * 2. Spans that overlap are joined; each joined span is a window [min, max + 1). Windows are
 *    disjoint in time, so every row of a newer window is later than every row of an older one.
 * 3. Windows are scanned newest first into one LatestState (which keeps a group's row only
 *    when it is not older than the best so far: rows of older windows never replace it). In
 *    a window's scan, a page whose statistics leave only groups already found (the values of
 *    each grouping tag in the page's [min, max] among the chunk's dictionary, and null when
 *    the page has nulls) is skipped. The scan offers only pages whose rows it shows as stored
 *    (no fold, no delete, not cut by retention), so a skipped page hides no answer.
 *
 * Inside a window rows are consumed in scan order, as a single scan would: ties (equal times
 * in one group) resolve as before. A table without separate time ranges (one partition) is
 * one window, read once: one pass where the two-phase plan read times and tags twice.
 */

/** Candidate groups of a page above this are not enumerated: the page is read. */
const PAGE_CANDIDATE_GROUPS_MAX = 4096;

/** What the windows need of the latest state: consume batches (keeping no view of them: they are released after), and the groups found so far. */
export interface LatestConsumer {
  consume(batch: RecordBatch): void;
  /** Tag values of every group that has a row (in `tags` order). */
  foundGroups(): Iterable<readonly (string | null)[]>;
}

/** A latest state over time and tags alone: each group's latest time (table units). */
export interface LatestProbe extends LatestConsumer {
  latestTimes(): Iterable<{ values: readonly (string | null)[]; time: bigint }>;
}

export interface Window { from: bigint; to: bigint }

/**
 * The query's windows (table units, newest first), or null when they cannot be expressed as
 * scan bounds (epoch ns beyond int64: the caller reads the plain way).
 */
export async function latestWindows(table: QueryableTable & Required<Pick<QueryableTable, 'scanWithSummaries'>>, options: QueryOptions,
                                    range: { from: bigint | null; to: bigint | null }): Promise<Window[] | null> {
  const spans: { min: bigint; max: bigint }[] = [];
  const time = table.schema.time;
  const probe: PageSummarizer = (footer) => {
    if (footer.timeMin !== null && footer.timeMax !== null) spans.push({ min: BigInt(footer.timeMin), max: BigInt(footer.timeMax) });
    return [];
  };
  const scan = table.scanWithSummaries({ from: options.from, to: options.to, where: options.where, signal: options.signal, version: options.version, columns: [time], order: 'any' }, probe);
  for await (const batch of scan) {
    if (options.signal?.aborted) throw new AbortError('query aborted');
    if (batch.numRows > 0) spans.push(int64MinMax(columnData(batch, time, 'query latest')));
    releaseBatch(batch);
  }
  spans.sort((a, b) => (a.min < b.min ? -1 : a.min > b.min ? 1 : 0));
  const joined: { min: bigint; max: bigint }[] = [];
  for (const s of spans) {
    const last = joined[joined.length - 1];
    if (last !== undefined && s.min <= last.max) { if (s.max > last.max) last.max = s.max; } else joined.push({ ...s });
  }
  const windows: Window[] = [];
  for (let i = joined.length - 1; i >= 0; i--) {
    const j = joined[i]!;
    const from = range.from !== null && range.from > j.min ? range.from : j.min;
    const to = range.to !== null && range.to <= j.max ? range.to : j.max + 1n;
    if (from < to) windows.push({ from, to });
  }
  const unit = NS_PER_UNIT[table.schema.timeUnit];
  const fits = (t: bigint) => t * unit >= INT64_MIN && t * unit <= INT64_MAX;
  return windows.every((w) => fits(w.from) && fits(w.to)) ? windows : null;
}

/**
 * Scans the windows newest first into `state`, skipping pages whose groups newer windows found.
 * An older window, when the query returns columns beyond the tags (and filtered fields), is
 * read in two passes: `probe.columns` first (time, tags, filtered fields) into a fresh probe,
 * which gives the window's groups not found in newer windows and the latest time of each; then
 * every column of only the pages that may hold one of those rows (a group of the page's tag
 * statistics, its latest time within the page's time range). Both passes see the same rows (the
 * same scan bounds), so a page left out holds no answer; none is read when no group is new.
 */
export async function consumeWindows(table: QueryableTable & Required<Pick<QueryableTable, 'scanWithSummaries'>>, options: QueryOptions,
                                     windows: readonly Window[], tags: readonly string[], columns: string[],
                                     state: LatestConsumer, apply: (batch: RecordBatch) => RecordBatch,
                                     probe: { columns: string[]; make(): LatestProbe }): Promise<void> {
  const unit = NS_PER_UNIT[table.schema.timeUnit];
  const twoPasses = columns.some((c) => !probe.columns.includes(c));
  for (const w of windows) {
    const found = new Set<string>();
    for (const values of state.foundGroups()) found.add(JSON.stringify(values));
    const read = async (cols: string[], summarize: PageSummarizer | null, into: LatestConsumer) => {
      const scanOptions: ScanOptions = {
        from: w.from * unit, to: w.to * unit, where: options.where, signal: options.signal, version: options.version, columns: cols, order: 'any',
      };
      const scan = summarize ? table.scanWithSummaries(scanOptions, summarize) : table.scan(scanOptions);
      for await (const batch of scan) {
        if (options.signal?.aborted) throw new AbortError('query aborted');
        const rows = apply(batch);
        if (rows.numRows > 0) into.consume(rows);
        releaseBatch(batch); // the state copies what it keeps
      }
    };
    if (found.size === 0 || !twoPasses) {
      await read(columns, found.size > 0 ? foundPagesSkipper(tags, found) : null, state);
      continue;
    }
    const times = probe.make();
    await read(probe.columns, foundPagesSkipper(tags, found), times);
    const fresh = [...times.latestTimes()].filter((g) => !found.has(JSON.stringify(g.values)));
    if (fresh.length > 0) await read(columns, latestPagesReader(tags, fresh), state);
  }
}

/** A summarizer answering (skipping) the pages that cannot hold the latest row of a `fresh` group. */
function latestPagesReader(tags: readonly string[], fresh: readonly { values: readonly (string | null)[]; time: bigint }[]): PageSummarizer {
  return (footer, pages) => {
    const columns = tags.map((t) => footer.columns.find((c) => c.name === t));
    const time = footer.columns.find((c) => c.name === footer.timeColumn);
    return pages.filter((p) => {
      const tp = time?.pages[p];
      if (tp === undefined || tp.min === null || tp.max === null) return true;
      const min = BigInt(tp.min as string), max = BigInt(tp.max as string);
      const rows = footer.pageRowStarts[p + 1]! - footer.pageRowStarts[p]!;
      return fresh.some((g) => g.time >= min && g.time <= max && g.values.every((v, t) => tagMayHold(columns[t], p, rows, v)));
    });
  };
}

/** Whether page p's statistics of a tag column allow value v (null: the null tag); true when they do not say. */
function tagMayHold(c: ChunkFooter['columns'][number] | undefined, p: number, rows: number, v: string | null): boolean {
  // A chunk without the tag column (written before the tag existed): the null tag on every row.
  if (c === undefined) return v === null;
  const pg = c.pages[p];
  if (pg === undefined) return true;
  if (v === null) return pg.nullCount > 0;
  if (pg.nullCount === rows) return false;
  if (typeof pg.min !== 'string' || typeof pg.max !== 'string') return true;
  return compareStrings(v, pg.min) >= 0 && compareStrings(v, pg.max) <= 0;
}

/** A summarizer answering (skipping) the pages whose candidate groups are all in `found`. */
export function foundPagesSkipper(tags: readonly string[], found: ReadonlySet<string>): PageSummarizer {
  return (footer, pages) => {
    const columns = tags.map((t) => footer.columns.find((c) => c.name === t));
    return pages.filter((p) => !pageGroupsFound(footer, p, columns, found));
  };
}

function pageGroupsFound(footer: ChunkFooter, p: number, columns: readonly (ChunkFooter['columns'][number] | undefined)[], found: ReadonlySet<string>): boolean {
  const rows = footer.pageRowStarts[p + 1]! - footer.pageRowStarts[p]!;
  const candidates: (string | null)[][] = [];
  let product = 1;
  for (const c of columns) {
    // A chunk without the tag column (written before the tag existed): the null tag on every row.
    if (c === undefined) { candidates.push([null]); continue; }
    const pg = c.pages[p];
    if (pg === undefined) return false;
    if (pg.nullCount === rows) { candidates.push([null]); continue; }
    if (typeof pg.min !== 'string' || typeof pg.max !== 'string' || c.dictionary === undefined) return false;
    const min = pg.min, max = pg.max;
    const values: (string | null)[] = c.dictionary.filter((v) => compareStrings(v, min) >= 0 && compareStrings(v, max) <= 0);
    if (pg.nullCount > 0) values.push(null);
    if (values.length === 0) return false;
    product *= values.length;
    if (product > PAGE_CANDIDATE_GROUPS_MAX) return false;
    candidates.push(values);
  }
  // Every combination of the candidate values must be a group found in a newer window.
  const combo: (string | null)[] = new Array(candidates.length);
  const every = (t: number): boolean => {
    if (t === candidates.length) return found.has(JSON.stringify(combo));
    for (const v of candidates[t]!) { combo[t] = v; if (!every(t + 1)) return false; }
    return true;
  };
  return every(0);
}
