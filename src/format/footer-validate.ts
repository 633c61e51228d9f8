import { LimitExceededError } from '../errors.js';
import { MAGIC_BYTES } from './chunk.js';
import { isBlockCodecId } from './codecs/registry.js';
import { bitmapBytes, fixedWidthBytesOf, pageKindOf, pageRawBytes } from './column-kind.js';
import { fieldTypeInfo, isFieldType } from './field-types.js';
import { floatStatFromJson } from './footer.js';
import { compareStrings, statKindOf } from './stats.js';
import type {
  ChunkFooter, ChunkLimits, ColumnFooter, ColumnRole, ColumnType, LineageEntry, PageFooter, StatValue, TimeUnit,
} from './types.js';

/**
 * Structural validation of a parsed footer: every field has its type, every count and
 * offset is consistent with the file, every size is inside the limits. After this, the
 * reader can trust the footer's shape; only page bytes remain to be checked (by CRC and by
 * the decoders). Throws FooterShapeError (detail names the JSON path) or LimitExceededError.
 */
export class FooterShapeError extends Error {
  override name = 'FooterShapeError';
}

export interface FooterContext {
  /** Format version from the trailer. */
  formatVersion: number;
  /** Byte offset of the footer region: column regions must end at or before it. */
  footerOffset: number;
  limits: ChunkLimits;
  /** For limit messages. */
  where: string;
  /**
   * Set: each column's pages are validated when first read (lazyPages), and `wrap` turns a
   * problem found then into the error the reader throws (openChunk: CorruptChunkError naming
   * the chunk).
   */
  lazy?: { wrap(error: unknown): unknown };
}

const TIME_UNITS: readonly TimeUnit[] = ['s', 'ms', 'us', 'ns'];
const ROLES: readonly ColumnRole[] = ['time', 'tag', 'field'];
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const U32_MAX = 0xffffffff;
/** The codec levels a footer may record (wider than any codec takes: the codec checks its own range). */
const CODEC_LEVEL_MIN = -1_000_000;
const CODEC_LEVEL_MAX = 1_000;

function fail(path: string, detail: string): never {
  throw new FooterShapeError(`footer ${path}: ${detail}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number') return `number ${value}`;
  return typeof value;
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, `expected an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, `expected an array, got ${describe(value)}`);
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, `expected a string, got ${describe(value)}`);
  return value;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, `expected a boolean, got ${describe(value)}`);
  return value;
}

function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(path, `expected an integer, got ${describe(value)}`);
  if (value < min || value > max) fail(path, `${value} outside [${min}, ${max}]`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(path, `expected one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

function decimal(value: unknown, path: string, min: bigint, max: bigint): string {
  if (typeof value !== 'string' || !/^-?(0|[1-9][0-9]{0,79})$/.test(value) || value === '-0') {
    fail(path, `expected a decimal integer string, got ${describe(value)}`);
  }
  const n = BigInt(value);
  if (n < min || n > max) fail(path, `${value} outside [${min}, ${max}]`);
  return value;
}

/** The range of the integer statistics of a column type (int64 for the time column). */
function intRange(type: ColumnType): { min: bigint; max: bigint } {
  if (type === 'timestamp' || type === 'int64') return { min: INT64_MIN, max: INT64_MAX };
  if (type === 'uint64') return { min: 0n, max: UINT64_MAX };
  return fieldTypeInfo(type).int!;
}

function stat(raw: unknown, type: ColumnType, path: string): StatValue {
  if (raw === null) return null;
  switch (statKindOf(type)) {
    case 'float': {
      const value = floatStatFromJson(raw);
      if (typeof value !== 'number' || Number.isNaN(value)) fail(path, `expected a float64 stat, got ${describe(raw)}`);
      return value;
    }
    case 'int': {
      const { min, max } = intRange(type);
      return decimal(raw, path, min, max);
    }
    case 'bool': return boolean(raw, path);
    case 'string': return string(raw, path);
    case 'none': return fail(path, `a ${type} column has no min/max statistics, got ${describe(raw)}`);
  }
}

/** A page's sum statistic: any float64 (NaN too) or an exact decimal integer of any size. */
function pageSum(raw: unknown, type: ColumnType, path: string): number | string {
  if (type === 'timestamp' || type === 'string' || !fieldTypeInfo(type).summable) return fail(path, `a ${type} column has no sum statistic`);
  if (type === 'float64') {
    const value = floatStatFromJson(raw);
    if (typeof value !== 'number') fail(path, `expected a float64 sum, got ${describe(raw)}`);
    return value;
  }
  if (typeof raw !== 'string' || !/^-?(0|[1-9][0-9]{0,119})$/.test(raw) || raw === '-0' || (type === 'uint64' && raw.startsWith('-'))) {
    fail(path, `expected a decimal integer sum, got ${describe(raw)}`);
  }
  return raw;
}

function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined ? undefined : string(value, path);
}

function validatePage(
  raw: unknown, path: string, column: { type: ColumnType; nullable: boolean }, expectedOffset: number,
  expectedRows: number, ctx: FooterContext,
): PageFooter {
  const o = object(raw, path);
  const rows = integer(o['rows'], `${path}.rows`, 0, ctx.limits.rowsMax);
  if (rows !== expectedRows) fail(`${path}.rows`, `${rows} != ${expectedRows} rows given by pageRowStarts`);
  const offset = integer(o['offset'], `${path}.offset`, 0, ctx.footerOffset);
  if (offset !== expectedOffset) fail(`${path}.offset`, `${offset}, expected ${expectedOffset} (pages are contiguous)`);
  const length = integer(o['length'], `${path}.length`, 0, ctx.footerOffset - offset);
  const nullCount = integer(o['nullCount'], `${path}.nullCount`, 0, rows);
  if (nullCount > 0 && !column.nullable) fail(`${path}.nullCount`, `${nullCount} nulls in a non-nullable column`);
  const kind = pageKindOf(column.type);
  const encodedBytes = integer(o['encodedBytes'], `${path}.encodedBytes`, 0, Number.MAX_SAFE_INTEGER);
  if (encodedBytes > ctx.limits.pageDecodedBytesMax) {
    throw new LimitExceededError('pageDecodedBytesMax', encodedBytes, ctx.limits.pageDecodedBytesMax, `${path}.encodedBytes of ${ctx.where}`);
  }
  const rawBytes = integer(o['rawBytes'], `${path}.rawBytes`, 0, Number.MAX_SAFE_INTEGER);
  if (rawBytes > ctx.limits.pageDecodedBytesMax) {
    throw new LimitExceededError('pageDecodedBytesMax', rawBytes, ctx.limits.pageDecodedBytesMax, `${path}.rawBytes of ${ctx.where}`);
  }
  const width = kind === 'fixed' ? fieldTypeInfo(column.type).width : 0;
  const minRaw = pageRawBytes(kind, rows, nullCount > 0, rows * width);
  if (kind === 'utf8' ? rawBytes < minRaw : rawBytes !== minRaw) {
    fail(`${path}.rawBytes`, `${rawBytes} does not fit ${rows} ${column.type} rows (${kind === 'utf8' ? 'at least ' : ''}${minRaw})`);
  }
  const page: PageFooter = {
    offset, length, encodedBytes, rawBytes, rows, nullCount,
    min: stat(o['min'], column.type, `${path}.min`),
    max: stat(o['max'], column.type, `${path}.max`),
    encoding: string(o['encoding'], `${path}.encoding`),
    crc32: integer(o['crc32'], `${path}.crc32`, 0, U32_MAX),
  };
  if (o['sum'] !== undefined) page.sum = pageSum(o['sum'], column.type, `${path}.sum`);
  if (o['nanCount'] !== undefined) {
    if (column.type !== 'float64') fail(`${path}.nanCount`, `a ${column.type} column has no NaN count`);
    page.nanCount = integer(o['nanCount'], `${path}.nanCount`, 1, rows - nullCount);
    if (page.sum !== undefined && page.sum === page.sum) fail(`${path}.nanCount`, `${page.nanCount} NaN on a page whose sum ${page.sum} is not NaN`);
  }
  if (nullCount > 0) {
    page.validityEncoding = string(o['validityEncoding'], `${path}.validityEncoding`);
    page.validityLength = integer(o['validityLength'], `${path}.validityLength`, 0, length);
    page.validityEncodedBytes = integer(o['validityEncodedBytes'], `${path}.validityEncodedBytes`, 0, ctx.limits.pageDecodedBytesMax);
  } else if (o['validityEncoding'] !== undefined || o['validityLength'] !== undefined || o['validityEncodedBytes'] !== undefined) {
    fail(path, 'validity fields on a page without nulls');
  }
  // A fixed-width page's decoded size is known exactly; guard the decoder's allocation too.
  const valueBytes = rows * (width || fixedWidthBytesOf(kind));
  if (valueBytes > ctx.limits.pageDecodedBytesMax) {
    throw new LimitExceededError('pageDecodedBytesMax', valueBytes, ctx.limits.pageDecodedBytesMax, `${path} of ${ctx.where}`);
  }
  if (kind === 'bool' && bitmapBytes(rows) > ctx.limits.pageDecodedBytesMax) {
    throw new LimitExceededError('pageDecodedBytesMax', bitmapBytes(rows), ctx.limits.pageDecodedBytesMax, `${path} of ${ctx.where}`);
  }
  return page;
}

function validateColumn(raw: unknown, index: number, footer: { rowCount: number; pageRowStarts: number[] }, ctx: FooterContext): ColumnFooter {
  const path = `columns[${index}]`;
  const o = object(raw, path);
  const name = string(o['name'], `${path}.name`);
  const role = oneOf(o['role'], ROLES, `${path}.role`);
  let type: ColumnType;
  if (role === 'time') type = oneOf(o['type'], ['timestamp'] as const, `${path}.type`);
  else if (role === 'tag') type = oneOf(o['type'], ['string'] as const, `${path}.type`);
  else {
    const raw = o['type'];
    if (typeof raw !== 'string' || !isFieldType(raw)) fail(`${path}.type`, `expected a field type (docs/types.md), got ${describe(raw)}`);
    type = raw;
  }
  const nullable = boolean(o['nullable'], `${path}.nullable`);
  const codec = string(o['codec'], `${path}.codec`);
  if (!isBlockCodecId(codec)) fail(`${path}.codec`, `unknown block codec ${JSON.stringify(codec)}`);
  const offset = integer(o['offset'], `${path}.offset`, MAGIC_BYTES, ctx.footerOffset);
  const length = integer(o['length'], `${path}.length`, 0, ctx.footerOffset - offset);
  const column: ColumnFooter = {
    name, role, type, nullable, codec, offset, length,
    rawBytes: integer(o['rawBytes'], `${path}.rawBytes`, 0, Number.MAX_SAFE_INTEGER),
    storedBytes: integer(o['storedBytes'], `${path}.storedBytes`, 0, Number.MAX_SAFE_INTEGER),
    nullCount: integer(o['nullCount'], `${path}.nullCount`, 0, footer.rowCount),
    min: stat(o['min'], type, `${path}.min`),
    max: stat(o['max'], type, `${path}.max`),
    crc32: integer(o['crc32'], `${path}.crc32`, 0, U32_MAX),
    pages: [],
  };
  if (o['codecLevel'] !== undefined) column.codecLevel = integer(o['codecLevel'], `${path}.codecLevel`, CODEC_LEVEL_MIN, CODEC_LEVEL_MAX);
  if (column.storedBytes !== length) fail(`${path}.storedBytes`, `${column.storedBytes} != region length ${length}`);
  if (column.nullCount > 0 && !nullable) fail(`${path}.nullCount`, `${column.nullCount} nulls in a non-nullable column`);
  if (role === 'tag') {
    const entries = array(o['dictionary'], `${path}.dictionary`);
    const dictionary: string[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const value = string(entries[i], `${path}.dictionary[${i}]`);
      if (i > 0 && compareStrings(dictionary[i - 1]!, value) >= 0) fail(`${path}.dictionary[${i}]`, 'dictionary is not strictly ascending');
      dictionary[i] = value;
    }
    column.dictionary = dictionary;
  } else if (o['dictionary'] !== undefined) {
    fail(`${path}.dictionary`, `a ${role} column has no dictionary`);
  }
  if (ctx.lazy === undefined) column.pages = validatePages(o['pages'], path, column, footer, ctx);
  else lazyPages(column, o['pages'], path, footer, ctx, ctx.lazy.wrap);
  return column;
}

/** The pages of a column checked against pageRowStarts and the column's region and totals. */
function validatePages(raw: unknown, path: string, column: ColumnFooter, footer: { pageRowStarts: number[] }, ctx: FooterContext): PageFooter[] {
  const pages = array(raw, `${path}.pages`);
  const pageCount = footer.pageRowStarts.length - 1;
  if (pages.length !== pageCount) fail(`${path}.pages`, `${pages.length} pages, pageRowStarts gives ${pageCount}`);
  const out: PageFooter[] = new Array(pages.length);
  let next = column.offset;
  let nulls = 0;
  let rawBytes = 0;
  for (let p = 0; p < pages.length; p++) {
    const rows = footer.pageRowStarts[p + 1]! - footer.pageRowStarts[p]!;
    const page = validatePage(pages[p], `${path}.pages[${p}]`, column, next, rows, ctx);
    next += page.length;
    nulls += page.nullCount;
    rawBytes += page.rawBytes;
    out[p] = page;
  }
  if (next !== column.offset + column.length) fail(`${path}.length`, `${column.length}, pages cover ${next - column.offset} bytes`);
  if (nulls !== column.nullCount) fail(`${path}.nullCount`, `${column.nullCount}, pages hold ${nulls}`);
  if (rawBytes !== column.rawBytes) fail(`${path}.rawBytes`, `${column.rawBytes}, pages hold ${rawBytes}`);
  return out;
}

/**
 * `column.pages` as a property that validates `raw` (the column's parsed pages JSON) when first
 * read, then holds the validated pages (a problem is thrown, through `wrap`, at each read
 * until then).
 */
function lazyPages(column: ColumnFooter, raw: unknown, path: string, footer: { pageRowStarts: number[] }, ctx: FooterContext, wrap: (error: unknown) => unknown): void {
  const settle = (pages: PageFooter[]) => {
    Object.defineProperty(column, 'pages', { value: pages, writable: true, enumerable: true, configurable: true });
    return pages;
  };
  Object.defineProperty(column, 'pages', {
    enumerable: true,
    configurable: true,
    get() {
      try {
        return settle(validatePages(raw, path, column, footer, ctx));
      } catch (error) {
        throw wrap(error);
      }
    },
    set: settle,
  });
}

/** Validates a parsed footer (see the class comment); returns it typed. */
export function validateFooter(json: unknown, ctx: FooterContext): ChunkFooter {
  const o = object(json, '(root)');
  const formatVersion = integer(o['formatVersion'], 'formatVersion', 0, U32_MAX);
  if (formatVersion !== ctx.formatVersion) fail('formatVersion', `${formatVersion} != trailer version ${ctx.formatVersion}`);
  const rowCount = integer(o['rowCount'], 'rowCount', 0, Number.MAX_SAFE_INTEGER);
  if (rowCount > ctx.limits.rowsMax) throw new LimitExceededError('rowsMax', rowCount, ctx.limits.rowsMax, `footer of ${ctx.where}`);
  const starts = array(o['pageRowStarts'], 'pageRowStarts');
  if (starts.length - 1 > ctx.limits.pagesMax) throw new LimitExceededError('pagesMax', starts.length - 1, ctx.limits.pagesMax, `footer of ${ctx.where}`);
  if (starts.length < 1) fail('pageRowStarts', 'empty (expected at least [0])');
  const pageRowStarts: number[] = new Array(starts.length);
  for (let i = 0; i < starts.length; i++) {
    pageRowStarts[i] = integer(starts[i], `pageRowStarts[${i}]`, 0, rowCount);
    if (i === 0 && pageRowStarts[0] !== 0) fail('pageRowStarts[0]', `${pageRowStarts[0]}, expected 0`);
    if (i > 0 && pageRowStarts[i]! <= pageRowStarts[i - 1]!) fail(`pageRowStarts[${i}]`, 'not strictly increasing');
  }
  if (pageRowStarts[pageRowStarts.length - 1] !== rowCount) fail('pageRowStarts', `last entry ${pageRowStarts[pageRowStarts.length - 1]} != rowCount ${rowCount}`);

  const columnsRaw = array(o['columns'], 'columns');
  if (columnsRaw.length > ctx.limits.columnsMax) throw new LimitExceededError('columnsMax', columnsRaw.length, ctx.limits.columnsMax, `footer of ${ctx.where}`);
  const columns = columnsRaw.map((c, i) => validateColumn(c, i, { rowCount, pageRowStarts }, ctx));
  const names = new Set<string>();
  for (const column of columns) {
    if (names.has(column.name)) fail('columns', `duplicate column ${JSON.stringify(column.name)}`);
    names.add(column.name);
  }
  const regions = columns.filter((c) => c.length > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < regions.length; i++) {
    if (regions[i]!.offset < regions[i - 1]!.offset + regions[i - 1]!.length) {
      fail('columns', `regions of ${JSON.stringify(regions[i - 1]!.name)} and ${JSON.stringify(regions[i]!.name)} overlap`);
    }
  }

  const timeColumn = string(o['timeColumn'], 'timeColumn');
  const timeColumns = columns.filter((c) => c.role === 'time');
  if (timeColumns.length !== 1 || timeColumns[0]!.name !== timeColumn) {
    fail('timeColumn', `${JSON.stringify(timeColumn)} must be the one column with role time (found ${timeColumns.length})`);
  }
  if (timeColumns[0]!.nullCount !== 0) fail('timeColumn', 'the time column holds nulls');
  const tags = array(o['tags'], 'tags').map((t, i) => string(t, `tags[${i}]`));
  const tagColumns = columns.filter((c) => c.role === 'tag').map((c) => c.name);
  if (tags.length !== tagColumns.length || tags.some((t) => !tagColumns.includes(t))) {
    fail('tags', `${JSON.stringify(tags)} != tag columns ${JSON.stringify(tagColumns)}`);
  }
  const timeMin = o['timeMin'] === null ? null : decimal(o['timeMin'], 'timeMin', INT64_MIN, INT64_MAX);
  const timeMax = o['timeMax'] === null ? null : decimal(o['timeMax'], 'timeMax', INT64_MIN, INT64_MAX);
  if ((timeMin === null) !== (rowCount === 0) || (timeMax === null) !== (rowCount === 0)) {
    fail('timeMin', 'time range must be null exactly when rowCount is 0');
  }
  const lineage = array(o['lineage'], 'lineage').map((raw, i): LineageEntry => {
    const entry = object(raw, `lineage[${i}]`);
    const rowStart = integer(entry['rowStart'], `lineage[${i}].rowStart`, 0, Number.MAX_SAFE_INTEGER);
    return {
      source: string(entry['source'], `lineage[${i}].source`),
      rowStart,
      rowEnd: integer(entry['rowEnd'], `lineage[${i}].rowEnd`, rowStart, Number.MAX_SAFE_INTEGER),
    };
  });
  const metadataRaw = object(o['metadata'], 'metadata');
  // fromEntries defines own properties, so a "__proto__" key stays data, not a prototype.
  const metadata: Record<string, string> = Object.fromEntries(
    Object.keys(metadataRaw).map((key) => [key, string(metadataRaw[key], `metadata.${key}`)]),
  );

  const footer: ChunkFooter = {
    formatVersion,
    writer: string(o['writer'], 'writer'),
    rowCount,
    timeColumn,
    timeUnit: oneOf(o['timeUnit'], TIME_UNITS, 'timeUnit'),
    tags,
    timeMin,
    timeMax,
    pageRowStarts,
    columns,
    sortedBySeries: boolean(o['sortedBySeries'], 'sortedBySeries'),
    lineage,
    metadata,
  };
  const timeZone = optionalString(o['timeZone'], 'timeZone');
  if (timeZone !== undefined) footer.timeZone = timeZone;
  return footer;
}
