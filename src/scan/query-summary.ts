import type { PageSummarizer } from './query-types.js';
import type { TagFilter } from './plan.js';
import type { QueryPlan } from './query-plan.js';
import type { AggregationEngine } from './query.js';
import { statKindOf } from '../format/stats.js';
import type { PageFooter } from '../format/types.js';
import { assert } from '../errors.js';

/** Pages a query answers from their footer statistics, without decoding them (see runQuery). */
/** What one page's statistics say about one field (see FieldAccumulator.addSummary). */
export interface FieldSummary {
  field: string;
  /** Non-null values. */
  valid: number;
  /** Float min/max (NaN skipped), or the exact decimal strings of 64-bit integer fields; null when no value. */
  min: number | string | null;
  max: number | string | null;
  /** NaN among the values (float64 fields whose min/max is asked; 0 otherwise). */
  nan: number;
  /** The page's sum statistic (when the query needs it). */
  sum: number | string | undefined;
}

/**
 * Answers a page from the footer when it lies wholly inside [from, to) and inside one time
 * bucket, and every grouping and filtered tag holds one value on it (sorted by series, most
 * pages do): its rows, non-null counts, min/max and sums fold straight into the slot.
 */
export function pageSummarizer(plan: QueryPlan, engine: AggregationEngine, filters: TagFilter[]): PageSummarizer {
  return (footer, pages) => {
    const column = (name: string) => footer.columns.find((c) => c.name === name);
    const time = column(footer.timeColumn);
    const by = plan.by.map(column);
    const filtered = filters.map((f) => ({ f, c: column(f.tag) }));
    const fields = plan.fields.filter((f) => f.kind !== '*').map((f) => ({ name: f.field, c: column(f.field), needs: f.needs }));
    // A chunk without a grouping or filtered tag column (written before the tag existed) decodes.
    if (!time || !allPresent(by) || !allPresent(filtered.map(({ c }) => c))) return pages;
    const rest: number[] = [];
    const values: (string | null)[] = new Array(by.length);
    for (const p of pages) {
      const tp = time.pages[p]!;
      if (tp.min === null || tp.max === null) { rest.push(p); continue; }
      const tMin = BigInt(tp.min as string), tMax = BigInt(tp.max as string);
      let ok = (plan.from === null || tMin >= plan.from) && (plan.to === null || tMax < plan.to);
      let bucket: { key: number; start: bigint } | null = null;
      if (ok && plan.bucketer) {
        const range = plan.bucketer.locate(tMin);
        ok = tMax < range.end;
        bucket = range;
      }
      const rows = footer.pageRowStarts[p + 1]! - footer.pageRowStarts[p]!;
      // A tag holds one value on the page: one string, or the null tag on every row.
      const single = (pg: { nullCount: number; min: unknown; max: unknown }): { one: boolean; value: string | null } =>
        pg.nullCount === rows ? { one: true, value: null } : { one: pg.nullCount === 0 && typeof pg.min === 'string' && pg.min === pg.max, value: pg.min as string };
      for (let t = 0; ok && t < by.length; t++) {
        const { one, value } = single(by[t]!.pages[p]!);
        ok = one;
        values[t] = value;
      }
      for (let k = 0; ok && k < filtered.length; k++) {
        const { f, c } = filtered[k]!;
        assert(c !== undefined, 'filtered tag column present');
        const { one, value } = single(c.pages[p]!);
        ok = one && f.matches(value);
      }
      // A zero float min or max may stand for -0 and +0 mixed on the page: which one a
      // row-by-row min/max keeps depends on their order, which the statistics do not record.
      // NaN is not in min/max: the page must say how many it holds (nanCount, or a sum that
      // is not NaN: then none), else it is decoded.
      for (let k = 0; ok && k < fields.length; k++) {
        const { c, needs } = fields[k]!;
        const pg = c?.pages[p];
        if (c === undefined || pg === undefined) continue;
        if (needs.minMax) ok = c.type === 'float64' ? pg.min !== 0 && pg.max !== 0 && pageNanCount(pg) !== undefined : statKindOf(c.type) === 'int';
        if (ok && needs.sum) ok = pg.sum !== undefined;
      }
      if (!ok) { rest.push(p); continue; }
      engine.consumeSummary(values, bucket, tMin, tMax, rows, fields.map(({ name, c, needs }): FieldSummary => {
        const pg = c?.pages[p];
        if (c === undefined || pg === undefined) return { field: name, valid: 0, min: null, max: null, nan: 0, sum: undefined };
        let nan = 0;
        if (needs.minMax && c.type === 'float64') {
          const count = pageNanCount(pg);
          assert(count !== undefined, 'pages with an unknown NaN count are decoded');
          nan = count;
        }
        return {
          field: name, valid: rows - pg.nullCount,
          min: needs.minMax ? pg.min as number | string | null : null,
          max: needs.minMax ? pg.max as number | string | null : null,
          nan,
          sum: needs.sum ? pg.sum : undefined,
        };
      }));
    }
    return rest;
  };
}

function allPresent<T>(items: (T | undefined)[]): items is T[] {
  return items.every((x) => x !== undefined);
}

/**
 * NaN on a float64 page, from its statistics: `nanCount` (written when there is any), else
 * none when the page sum is a number (NaN would make it NaN); undefined when unknown (chunks
 * written before nanCount whose sum is NaN or absent).
 */
function pageNanCount(pg: PageFooter): number | undefined {
  if (pg.nanCount !== undefined) return pg.nanCount;
  return typeof pg.sum === 'number' && pg.sum === pg.sum ? 0 : undefined;
}
