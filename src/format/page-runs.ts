import { assert } from '../errors.js';

/**
 * The pure planning steps of ChunkReader.readPages: which byte ranges to fetch for the pages
 * a read is missing, and which columns to hand to decode workers. No I/O, no decoding.
 */

/** A byte range of the file. */
export interface Range {
  offset: number;
  length: number;
}

/**
 * Consecutive missing pages of one selected column, fetched as one byte range: `ci` indexes the
 * read's columns, `first`…`last` (inclusive) index the read's pages, `range` indexes `ranges`.
 */
export interface PageRun {
  ci: number;
  first: number;
  last: number;
  range: number;
}

/**
 * One byte range per run of consecutive pages (consecutive page numbers, all missing) per
 * column. `columnPages[ci]` are the pages of the read's column `ci` (by page number),
 * `pages` the read's page numbers (ascending), `missing[ci][i]` whether page `pages[i]` of
 * column `ci` must be fetched. Ranges come in column order, then page order: `runs[k].range`
 * is `k`.
 */
export function planPageRuns(columnPages: readonly (readonly Range[])[], pages: readonly number[], missing: readonly (readonly boolean[])[]): { ranges: Range[]; runs: PageRun[] } {
  const ranges: Range[] = [];
  const runs: PageRun[] = [];
  columnPages.forEach((places, ci) => {
    const miss = missing[ci] ?? [];
    const place = (i: number): Range => {
      const p = places[pages[i] ?? -1];
      // The footer was validated (every column has every page) and the pages checked against it.
      if (p === undefined) assert(false, `page ${pages[i]} of column ${ci} is in its footer`);
      return p;
    };
    for (let i = 0; i < pages.length;) {
      if (!miss[i]) { i++; continue; }
      let j = i;
      while (j + 1 < pages.length && miss[j + 1] && pages[j + 1] === (pages[j] ?? 0) + 1) j++;
      const first = place(i);
      const last = place(j);
      runs.push({ ci, first: i, last: j, range: ranges.length });
      ranges.push({ offset: first.offset, length: last.offset + last.length - first.offset });
      i = j + 1;
    }
  });
  return { ranges, runs };
}

/**
 * Shares columns between this thread (lane 0) and `workers` decode workers: largest first,
 * each to the least loaded lane (the first of equals), so this thread does not wait idle.
 * Returns the columns (`ci`) given to a worker; with no workers, none.
 */
export function assignLanes(eligible: readonly { ci: number; bytes: number }[], workers: number): Set<number> {
  const pooled = new Set<number>();
  if (workers <= 0) return pooled;
  const lanes = new Array<number>(workers + 1).fill(0);
  for (const { ci, bytes } of [...eligible].sort((a, b) => b.bytes - a.bytes)) {
    const lane = lanes.indexOf(Math.min(...lanes));
    lanes[lane] = (lanes[lane] ?? 0) + bytes;
    if (lane > 0) pooled.add(ci);
  }
  return pooled;
}
