import type { ChunkFooter } from '../format/types.js';
import { compareStrings } from '../format/index.js';
import { assert, UsageError } from '../errors.js';
import type { ChunkEntry, ScanOptions, TableSchema, TagPredicate } from '../core/types.js';
import { toTableTime } from '../core/time.js';
import { bloomMayContain } from '../core/bloom.js';

/**
 * Scan planning: everything decided before a byte of column data is read. Chunks are pruned
 * from manifest stats (time range, tag values; for tags with many values, their min/max and a
 * bloom filter) without opening them; pages from footer
 * stats (time min/max, tag min/max — rows are sorted by series, so tag pages are narrow).
 */
export interface TagFilter {
  tag: string;
  /** Whether a tag value passes (null: the null tag). */
  matches(value: string | null): boolean;
  /** Values the filter names exactly (eq / IN), for range pruning; undefined when open-ended. */
  values?: (string | null)[];
  prefix?: string;
}

export interface ScanPlanInput {
  from?: bigint;
  /** Exclusive. */
  to?: bigint;
  filters: TagFilter[];
  /** Output columns: time first. */
  columns: string[];
  /** Tag columns of the table (merging overlapping chunks sorts by them). */
  tags: string[];
  /** See ScanOptions.order. */
  order: 'series' | 'any';
}

/**
 * A `where` predicate of one tag. The null tag is one more value: `null` and `[null, …]`
 * (eq / in) select it, ne / notIn of other values keep it, prefix and regex never match it.
 */
export function compileTagFilter(tag: string, predicate: TagPredicate): TagFilter {
  if (typeof predicate === 'string' || predicate === null) return { tag, matches: (v) => v === predicate, values: [predicate] };
  if (Array.isArray(predicate)) {
    for (const v of predicate) checkValue(tag, v);
    const set = new Set<string | null>(predicate);
    return { tag, matches: (v) => set.has(v), values: [...set] };
  }
  if (typeof predicate !== 'object') throw new UsageError(`where.${tag}: expected a string, null, an array or an operator object, got ${typeof predicate}`);
  const parts: ((v: string | null) => boolean)[] = [];
  let values: (string | null)[] | undefined;
  let prefix: string | undefined;
  if (predicate.eq !== undefined) { const eq = checkValue(tag, predicate.eq); parts.push((v) => v === eq); values = [eq]; }
  if (predicate.in !== undefined) {
    const set = new Set<string | null>(checkList(tag, 'in', predicate.in));
    parts.push((v) => set.has(v));
    values = values ? values.filter((v) => set.has(v)) : [...set];
  }
  if (predicate.ne !== undefined) { const ne = checkValue(tag, predicate.ne); parts.push((v) => v !== ne); }
  if (predicate.notIn !== undefined) { const set = new Set<string | null>(checkList(tag, 'notIn', predicate.notIn)); parts.push((v) => !set.has(v)); }
  if (predicate.prefix !== undefined) { const p = predicate.prefix; parts.push((v) => v !== null && v.startsWith(p)); prefix = p; }
  if (predicate.regex !== undefined) {
    let re: RegExp;
    try { re = typeof predicate.regex === 'string' ? new RegExp(predicate.regex) : predicate.regex; } catch (error) {
      throw new UsageError(`where.${tag}.regex: ${(error as Error).message}`);
    }
    parts.push((v) => { if (v === null) return false; re.lastIndex = 0; return re.test(v); });
  }
  const unknown = Object.keys(predicate).filter((k) => !['eq', 'in', 'ne', 'notIn', 'prefix', 'regex'].includes(k));
  if (unknown.length) throw new UsageError(`where.${tag}: unknown operator ${unknown.join(', ')} (eq, in, ne, notIn, prefix, regex)`);
  const filter: TagFilter = { tag, matches: (v) => parts.every((p) => p(v)) };
  if (values) filter.values = values;
  if (prefix !== undefined) filter.prefix = prefix;
  return filter;
}

function checkValue(tag: string, v: unknown): string | null {
  if (typeof v !== 'string' && v !== null) throw new UsageError(`where.${tag}: a tag value is a string or null, got ${typeof v}`);
  return v;
}

function checkList(tag: string, op: string, list: unknown): (string | null)[] {
  if (!Array.isArray(list)) throw new UsageError(`where.${tag}.${op}: expected an array`);
  return list.map((v) => checkValue(tag, v));
}

/** Every option a scan takes (the type makes the list complete; a typo is refused at run time, not ignored). */
const SCAN_OPTIONS: Record<keyof ScanOptions, true> = { from: true, to: true, where: true, columns: true, limit: true, signal: true, version: true, order: true };
export const SCAN_OPTION_KEYS: readonly string[] = Object.keys(SCAN_OPTIONS);

/** Refuses option keys outside `valid`, naming the key and the valid ones (JavaScript callers and variables typed loosely). */
export function checkOptionKeys(options: object, valid: readonly string[], what: string): void {
  if (typeof options !== 'object' || options === null) throw new UsageError(`${what} options: expected an object, got ${options === null ? 'null' : typeof options}`);
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) throw new UsageError(`${what}: unknown option ${JSON.stringify(key)} (options: ${valid.join(', ')})`);
  }
}

export function planInput(schema: TableSchema, options: ScanOptions): ScanPlanInput {
  checkOptionKeys(options, SCAN_OPTION_KEYS, 'scan');
  const from = options.from !== undefined ? toTableTime(options.from, schema.timeUnit, 'from') : undefined;
  const to = options.to !== undefined ? toTableTime(options.to, schema.timeUnit, 'to') : undefined;
  const filters = Object.entries(options.where ?? {}).map(([tag, p]) => {
    if (!schema.tags.includes(tag)) throw new UsageError(`where: ${JSON.stringify(tag)} is not a tag of the table (tags: ${schema.tags.join(', ') || 'none'})`);
    return compileTagFilter(tag, p);
  });
  const all = [...schema.tags, ...schema.fields.map((f) => f.name)];
  let columns: string[];
  if (options.columns === undefined) columns = [schema.time, ...all];
  else {
    for (const c of options.columns) {
      if (c !== schema.time && !all.includes(c)) throw new UsageError(`columns: no column ${JSON.stringify(c)} (columns: ${[schema.time, ...all].join(', ')})`);
    }
    columns = [schema.time, ...options.columns.filter((c, i, a) => c !== schema.time && a.indexOf(c) === i)];
  }
  const order = options.order ?? 'series';
  if (order !== 'series' && order !== 'any') throw new UsageError(`order: expected 'series' or 'any', got ${JSON.stringify(order)}`);
  return { from, to, filters, columns, tags: schema.tags, order };
}

/**
 * A record's own entry for a user-named key (tag names are data: `constructor` or `__proto__`
 * must not find Object.prototype's members in an entry built as a plain object).
 */
export function ownEntry<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Whether a chunk can hold matching rows, from its manifest entry alone. */
export function chunkMayMatch(entry: ChunkEntry, input: ScanPlanInput): boolean {
  if (input.from !== undefined && BigInt(entry.timeMax) < input.from) return false;
  if (input.to !== undefined && BigInt(entry.timeMin) >= input.to) return false;
  for (const f of input.filters) {
    const values = ownEntry(entry.tagValues, f.tag);
    if (values) {
      if (!values.some((v) => f.matches(v))) return false;
      continue;
    }
    if (!f.values) continue;
    // Many distinct values: the null tag from the column's null count; values from the tag's
    // min/max, then its bloom filter, for eq / IN.
    const stats = ownEntry(entry.columns, f.tag);
    let named = f.values.filter((v) => v !== null || stats === undefined || stats.nullCount > 0);
    if (stats && typeof stats.min === 'string' && typeof stats.max === 'string') {
      const min = stats.min;
      const max = stats.max;
      named = named.filter((v) => v === null || (compareStrings(v, min) >= 0 && compareStrings(v, max) <= 0));
    }
    const bloom = ownEntry(entry.tagBlooms, f.tag);
    if (bloom !== undefined) named = named.filter((v) => v === null || bloomMayContain(bloom, v));
    if (named.length === 0) return false;
  }
  return true;
}

/** A column of a footer the chunk reader validated (the time column, or one listed as present). */
export function footerColumn(footer: ChunkFooter, name: string): ChunkFooter['columns'][number] {
  const column = footer.columns.find((c) => c.name === name);
  assert(column !== undefined, `chunk footer has column ${JSON.stringify(name)}`);
  return column;
}

/** Pages of an opened chunk that can hold matching rows, from footer stats. */
export function selectPages(footer: ChunkFooter, input: ScanPlanInput): number[] {
  const pages = footer.pageRowStarts.length - 1;
  const time = footerColumn(footer, footer.timeColumn);
  const tagColumns = input.filters.map((f) => {
    const column = footer.columns.find((c) => c.name === f.tag);
    // Values of the tag that pass, among this chunk's dictionary; whether its null rows pass.
    // A chunk without the column holds only the null tag.
    return { column, allowed: (column?.dictionary ?? []).filter((v) => f.matches(v)), nulls: f.matches(null) && (column === undefined || column.nullCount > 0) };
  });
  if (tagColumns.some((t) => t.allowed.length === 0 && !t.nulls)) return [];
  const out: number[] = [];
  for (let p = 0; p < pages; p++) {
    const page = time.pages[p]!;
    if (input.from !== undefined && page.max !== null && BigInt(page.max as string) < input.from) continue;
    if (input.to !== undefined && page.min !== null && BigInt(page.min as string) >= input.to) continue;
    let keep = true;
    for (let i = 0; i < tagColumns.length && keep; i++) {
      const { column, allowed, nulls } = tagColumns[i]!;
      if (!column) continue;
      const { min, max, nullCount } = column.pages[p]!;
      if (nulls && nullCount > 0) continue;
      if (min === null || max === null) { keep = false; continue; } // only null rows, and nulls do not pass
      keep = allowed.some((v) => compareStrings(v, min as string) >= 0 && compareStrings(v, max as string) <= 0);
    }
    if (keep) out.push(p);
  }
  return out;
}
