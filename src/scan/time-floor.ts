import type { ChunkFooter } from '../format/types.js';
import type { ScanPlanInput } from './plan.js';
import type { PageSummarizer } from './query-types.js';

/**
 * A source's time floor (a table's retention cutoff, src/table/retention.ts): rows before it
 * do not exist for a scan. It is a lower bound like `from` (chunks and pages wholly before it
 * are pruned, rows before it are dropped), and a page that begins before it may hold hidden
 * rows, so its statistics cannot answer a query: such pages are decoded.
 */
export function floorInput(input: ScanPlanInput, floor: bigint | undefined): ScanPlanInput {
  if (floor === undefined || (input.from !== undefined && input.from >= floor)) return input;
  return { ...input, from: floor };
}

/** `summarize`, offered only the pages that begin at or after the floor (the others are decoded). */
export function floorSummarizer(summarize: PageSummarizer | undefined, floor: bigint | undefined): PageSummarizer | undefined {
  if (summarize === undefined || floor === undefined) return summarize;
  const floored: PageSummarizer = (footer: ChunkFooter, pages: number[]) => {
    const time = footer.columns.find((c) => c.name === footer.timeColumn);
    const whole = pages.filter((p) => { const min = time?.pages[p]?.min; return typeof min === 'string' && BigInt(min) >= floor; });
    if (whole.length === pages.length) return summarize(footer, pages);
    const decoded = new Set(pages.filter((p) => !whole.includes(p)));
    for (const p of whole.length ? summarize(footer, whole) : []) decoded.add(p);
    return pages.filter((p) => decoded.has(p));
  };
  if (summarize.whole !== undefined) floored.whole = summarize.whole;
  return floored;
}
