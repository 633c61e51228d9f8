/**
 * Structural validation of a parsed manifest (manifest.ts): every field has its JSON type,
 * every number is a safe integer in its range, every name is one of the schema's, every key
 * lies under the table's own prefix and names one chunk once. After this, the layers above
 * (planning, scans, compaction, vacuum, describe) can trust the manifest's shape; whether its
 * entries agree with the chunk files is `verify`'s job (verify.ts).
 *
 * Records keyed by user-supplied names (tag values, column stats, per-column options) come
 * out as null-prototype objects: a column or tag named `__proto__` or `constructor` is an
 * ordinary key, never Object.prototype.
 *
 * Throws ManifestShapeError naming the JSON path of the first bad value; the caller turns it
 * into a CorruptManifestError (reading) or a UsageError (creating a table from a spec).
 */
import { assert } from '../errors.js';
import { validateKey } from '../chunk-manager/keys.js';
import { DEFAULT_LIMITS } from '../format/limits.js';
import { statKindOf } from '../format/stats.js';
import { fieldTypeSpec as fieldTypeInfo, isFieldType } from '../format/field-type-spec.js';
import type { ColumnType, ColumnWriteOptions, LineageEntry, StatValue, TimeUnit } from '../format/types.js';
import type { ChunkEntry, ChunkKey, DuplicatePolicy, FieldSpec, PartitionBy, RollupSpec, SchemaAlter, TableOptions, TableSchema } from '../core/types.js';
import type { Manifest } from './manifest.js';
import { validateDeletes } from './tombstone-validate.js';

export class ManifestShapeError extends Error {
  override name = 'ManifestShapeError';
  constructor(readonly field: string, readonly detail: string) {
    super(`${field}: ${detail}`);
  }
}

/** Manifest format versions this reader accepts: 1 (no checksum, read as unchecked) and 2. */
export const MANIFEST_FORMATS: readonly number[] = [1, 2];
const TIME_UNITS: readonly TimeUnit[] = ['s', 'ms', 'us', 'ns'];
const PARTITIONS: readonly PartitionBy[] = ['hour', 'day', 'month', 'none'];
const CODEC_CHOICES: readonly string[] = ['auto', 'zstd', 'lz4', 'none'];
const COMPRESSIONS: readonly string[] = ['fast', 'small'];
const DUPLICATE_POLICIES: readonly string[] = ['last', 'first', 'keep'];
/** Columns a schema may hold (the chunk format's limit). */
const COLUMNS_MAX = DEFAULT_LIMITS.columnsMax;
/** Longest column name (names.ts). */
const COLUMN_NAME_MAX = 256;
/** Longest free text (operation, lineage source). */
const TEXT_MAX = 4096;
/** Rows of one chunk (the chunk format's limit). */
const CHUNK_ROWS_MAX = DEFAULT_LIMITS.rowsMax;
/** Largest page a table may ask for (the chunk writer's limit). */
const PAGE_ROWS_MAX = 1 << 24;
/** Largest encoded bloom filter (bloom.ts: 32 KiB + 1 byte, base64). */
const BLOOM_BASE64_MAX = Math.ceil((32 * 1024 + 1) / 3) * 4;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function fail(field: string, detail: string): never {
  throw new ManifestShapeError(field, detail);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`;
  if (typeof value === 'number') return `number ${value}`;
  return typeof value;
}

export function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, `expected an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) fail(field, `expected an array, got ${describe(value)}`);
  return value;
}

function string(value: unknown, field: string, max = TEXT_MAX): string {
  if (typeof value !== 'string') fail(field, `expected a string, got ${describe(value)}`);
  if (value.length > max) fail(field, `string of ${value.length} characters exceeds ${max}`);
  return value;
}

function boolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') fail(field, `expected true or false, got ${describe(value)}`);
  return value;
}

function integer(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(field, `expected an integer, got ${describe(value)}`);
  if (value < min || value > max) fail(field, `${value} outside [${min}, ${max}]`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) fail(field, `expected one of ${allowed.join(', ')}, got ${describe(value)}`);
  return value as T;
}

function decimal(value: unknown, field: string, min: bigint, max: bigint): string {
  if (typeof value !== 'string' || !/^-?(0|[1-9][0-9]{0,79})$/.test(value) || value === '-0') fail(field, `expected a decimal integer string, got ${describe(value)}`);
  const n = BigInt(value);
  if (n < min || n > max) fail(field, `${value} outside [${min}, ${max}]`);
  return value;
}

/** An ISO-8601 UTC time as Date#toISOString writes it. */
export function isoTime(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ISO_TIME.test(value) || !Number.isFinite(Date.parse(value))) fail(field, `expected an ISO-8601 UTC time, got ${describe(value)}`);
  return value;
}

function columnName(value: unknown, field: string): string {
  const name = string(value, field, COLUMN_NAME_MAX);
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || /[\u0000-\u001f]/.test(name)) fail(field, `column name ${JSON.stringify(name)} is not allowed`);
  return name;
}

/** A null-prototype copy of a JSON object whose values pass `each`. */
function mapOf<T>(value: unknown, field: string, each: (v: unknown, key: string) => T): Record<string, T> {
  const source = record(value, field);
  const out = Object.create(null) as Record<string, T>;
  for (const key of Object.keys(source)) out[key] = each(source[key], key);
  return out;
}

const sub = (field: string, key: string) => `${field}[${JSON.stringify(key)}]`;

export function validateSchema(raw: unknown, field = 'schema'): TableSchema {
  const o = record(raw, field);
  const time = columnName(o['time'], `${field}.time`);
  const timeUnit = oneOf(o['timeUnit'], TIME_UNITS, `${field}.timeUnit`);
  const tagList = array(o['tags'], `${field}.tags`);
  const fieldList = array(o['fields'], `${field}.fields`);
  if (tagList.length + fieldList.length + 1 > COLUMNS_MAX) fail(field, `${tagList.length + fieldList.length + 1} columns exceed ${COLUMNS_MAX}`);
  const tags = tagList.map((t, i) => columnName(t, `${field}.tags[${i}]`));
  const fields = fieldList.map((f, i): FieldSpec => {
    const path = `${field}.fields[${i}]`;
    const spec = record(f, path);
    const type = spec['type'];
    if (typeof type !== 'string' || !isFieldType(type)) fail(`${path}.type`, `expected a field type (docs/types.md), got ${describe(type)}`);
    const out: FieldSpec = { name: columnName(spec['name'], `${path}.name`), type };
    if (spec['nullable'] !== undefined) out.nullable = boolean(spec['nullable'], `${path}.nullable`);
    return out;
  });
  const seen = new Set<string>();
  for (const name of [time, ...tags, ...fields.map((f) => f.name)]) {
    if (seen.has(name)) fail(field, `column ${JSON.stringify(name)} appears twice`);
    seen.add(name);
  }
  if (o['alters'] === undefined) return { time, timeUnit, tags, fields };
  return { time, timeUnit, tags, fields, alters: array(o['alters'], `${field}.alters`).map((a, i) => schemaAlter(a, `${field}.alters[${i}]`)) };
}

/** One schema change (alter-read.ts applies them to older chunks). */
function schemaAlter(raw: unknown, field: string): SchemaAlter {
  const a = record(raw, field);
  const version = integer(a['version'], `${field}.version`, 1);
  const type = (key: string) => {
    const t = a[key];
    if (typeof t !== 'string' || !isFieldType(t)) fail(`${field}.${key}`, `expected a field type, got ${describe(t)}`);
    return t;
  };
  switch (a['op']) {
    case 'drop': return { op: 'drop', field: columnName(a['field'], `${field}.field`), version };
    case 'rename': return { op: 'rename', from: columnName(a['from'], `${field}.from`), to: columnName(a['to'], `${field}.to`), version };
    case 'widen': return { op: 'widen', field: columnName(a['field'], `${field}.field`), from: type('from'), to: type('to'), version };
    case 'addTag': return { op: 'addTag', tag: columnName(a['tag'], `${field}.tag`), version };
    default: return fail(`${field}.op`, `expected 'drop', 'rename', 'widen' or 'addTag', got ${describe(a['op'])}`);
  }
}

function columnOptions(raw: unknown, field: string): ColumnWriteOptions {
  const o = record(raw, field);
  const out: ColumnWriteOptions = {};
  if (o['codec'] !== undefined) out.codec = oneOf(o['codec'], CODEC_CHOICES, `${field}.codec`) as ColumnWriteOptions['codec'] & string;
  if (o['codecLevel'] !== undefined) out.codecLevel = integer(o['codecLevel'], `${field}.codecLevel`, -1_000_000, 1_000_000);
  if (o['encoding'] !== undefined) out.encoding = string(o['encoding'], `${field}.encoding`, 256);
  if (o['validityEncoding'] !== undefined) out.validityEncoding = string(o['validityEncoding'], `${field}.validityEncoding`, 256);
  return out;
}

export function validateOptions(raw: unknown, field = 'options'): TableOptions {
  const o = record(raw, field);
  const out: TableOptions = {
    ...o,
    partition: oneOf(o['partition'], PARTITIONS, `${field}.partition`),
    rowsPerChunkMax: integer(o['rowsPerChunkMax'], `${field}.rowsPerChunkMax`, 1, CHUNK_ROWS_MAX),
    pageRows: integer(o['pageRows'], `${field}.pageRows`, 1, PAGE_ROWS_MAX),
    codec: oneOf(o['codec'], CODEC_CHOICES, `${field}.codec`) as TableOptions['codec'],
    bufferRowsMax: integer(o['bufferRowsMax'], `${field}.bufferRowsMax`, 1),
  };
  if (o['codecLevel'] !== undefined) out.codecLevel = integer(o['codecLevel'], `${field}.codecLevel`, -1_000_000, 1_000_000);
  if (o['compression'] !== undefined) out.compression = oneOf(o['compression'], COMPRESSIONS, `${field}.compression`) as 'fast' | 'small';
  if (o['columns'] !== undefined) out.columns = mapOf(o['columns'], `${field}.columns`, (v, k) => columnOptions(v, sub(`${field}.columns`, k)));
  if (o['duplicates'] !== undefined) out.duplicates = oneOf(o['duplicates'], DUPLICATE_POLICIES, `${field}.duplicates`) as DuplicatePolicy;
  if (o['retention'] !== undefined) out.retention = integer(o['retention'], `${field}.retention`, 1);
  if (o['rollupOf'] !== undefined) out.rollupOf = rollupSpec(o['rollupOf'], `${field}.rollupOf`);
  return out;
}

/** A rollup table's `options.rollupOf` (rollup.ts checks its meaning against the source). */
function rollupSpec(raw: unknown, field: string): RollupSpec {
  const o = record(raw, field);
  const names = (v: unknown, path: string) => array(v, path).map((x, i) => columnName(x, `${path}[${i}]`));
  return {
    source: string(o['source'], `${field}.source`, COLUMN_NAME_MAX),
    every: string(o['every'], `${field}.every`, 64),
    by: names(o['by'], `${field}.by`),
    agg: mapOf(o['agg'], `${field}.agg`, (v, k) => array(v, sub(`${field}.agg`, k)).map((x, i) => string(x, `${sub(`${field}.agg`, k)}[${i}]`, 64))),
  };
}

/**
 * Whether `key` is a partition key of a table partitioned `by`, as time.ts's partitionOf
 * writes it: the UTC ISO time cut to the hour, day or month, of a real calendar date.
 */
function partitionKeyOk(key: string, by: PartitionBy): boolean {
  if (by === 'none') return key === 'all';
  // Years beyond 0000–9999 (possible in s/ms/us tables) are ISO expanded years: a sign and six
  // or more digits (a seconds table reaches year ±292,277,026,596).
  const m = /^(\d{4}|[+-]\d{6,})-(\d{2})(?:-(\d{2})(?:T(\d{2}))?)?$/.exec(key);
  if (!m) return false;
  const kind = m[4] !== undefined ? 'hour' : m[3] !== undefined ? 'day' : 'month';
  if (kind !== by) return false;
  const year = Number(m[1]), month = Number(m[2]), day = Number(m[3] ?? 1), hour = Number(m[4] ?? 0);
  if (month < 1 || month > 12 || hour > 23 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

function statValue(raw: unknown, type: ColumnType, field: string): StatValue {
  if (raw === null) return null;
  switch (statKindOf(type)) {
    case 'float':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) fail(field, `expected a number, got ${describe(raw)}`);
      return raw;
    case 'int': {
      if (type === 'timestamp' || type === 'int64') return decimal(raw, field, INT64_MIN, INT64_MAX);
      if (type === 'uint64') return decimal(raw, field, 0n, UINT64_MAX);
      const range = fieldTypeInfo(type).int;
      assert(range, `${type} is an integer type with a range`);
      return decimal(raw, field, range.min, range.max);
    }
    case 'bool': return boolean(raw, field);
    case 'string':
      if (typeof raw !== 'string') fail(field, `expected a string, got ${describe(raw)}`);
      return raw;
    case 'none': return fail(field, `a ${type} column has no min/max statistics, got ${describe(raw)}`);
  }
}

function lineageOf(raw: unknown, field: string): LineageEntry[] {
  return array(raw, field).map((l, i) => {
    const path = `${field}[${i}]`;
    const o = record(l, path);
    const rowStart = integer(o['rowStart'], `${path}.rowStart`, 0);
    return { source: string(o['source'], `${path}.source`), rowStart, rowEnd: integer(o['rowEnd'], `${path}.rowEnd`, rowStart) };
  });
}

/** A (series, time) of ChunkEntry.keys: one value (string or null) per tag, a time in int64. */
function chunkKey(raw: unknown, field: string, tags: number): ChunkKey {
  const o = record(raw, field);
  const values = array(o['tags'], `${field}.tags`);
  if (values.length !== tags) fail(`${field}.tags`, `expected ${tags} tag value(s), got ${values.length}`);
  values.forEach((v, i) => { if (v !== null && typeof v !== 'string') fail(`${field}.tags[${i}]`, `expected a string or null, got ${describe(v)}`); });
  return { tags: values as (string | null)[], time: decimal(o['time'], `${field}.time`, INT64_MIN, INT64_MAX) };
}

/** A chunk entry of table `table` with schema `schema`; `field` is its JSON path. */
export function validateChunkEntry(raw: unknown, field: string, table: string, schema: TableSchema, options: TableOptions): ChunkEntry {
  const o = record(raw, field);
  const partition = string(o['partition'], `${field}.partition`, 64);
  if (!partitionKeyOk(partition, options.partition)) fail(`${field}.partition`, `${JSON.stringify(partition)} is not a ${options.partition === 'none' ? "'none' partition ('all')" : `${options.partition} partition key`}`);
  const key = string(o['key'], `${field}.key`, 1024);
  const prefix = `${table}/chunks/${partition}/`;
  if (!key.startsWith(prefix) || !/^[^/]+\.qvr$/.test(key.slice(prefix.length))) fail(`${field}.key`, `${JSON.stringify(key)} is not a chunk of partition ${partition} of this table (${prefix}<id>.qvr)`);
  try { validateKey(key); } catch (error) { fail(`${field}.key`, (error as Error).message); }
  const rows = integer(o['rows'], `${field}.rows`, 0, CHUNK_ROWS_MAX);
  const timeMin = decimal(o['timeMin'], `${field}.timeMin`, INT64_MIN, INT64_MAX);
  const timeMax = decimal(o['timeMax'], `${field}.timeMax`, INT64_MIN, INT64_MAX);
  if (BigInt(timeMin) > BigInt(timeMax)) fail(`${field}.timeMin`, `${timeMin} is after timeMax ${timeMax}`);
  const tags = new Set(schema.tags);
  const tagValues = mapOf(o['tagValues'], `${field}.tagValues`, (v, tag) => {
    const path = sub(`${field}.tagValues`, tag);
    if (!tags.has(tag)) fail(path, `${JSON.stringify(tag)} is not a tag of the table`);
    const list = array(v, path);
    const seen = new Set<string | null>();
    for (let i = 0; i < list.length; i++) {
      const value = list[i];
      // null: a null tag value (null tags are representable in chunks).
      if (value !== null && typeof value !== 'string') fail(`${path}[${i}]`, `expected a string or null, got ${describe(value)}`);
      if (seen.has(value)) fail(`${path}[${i}]`, `${JSON.stringify(value)} is listed twice`);
      seen.add(value);
    }
    return list as string[];
  });
  const entry: ChunkEntry = {
    ...o,
    key, partition, rows,
    bytes: integer(o['bytes'], `${field}.bytes`, 1),
    rawBytes: integer(o['rawBytes'], `${field}.rawBytes`, 0),
    timeMin, timeMax, tagValues,
    columns: Object.create(null) as ChunkEntry['columns'],
    lineage: lineageOf(o['lineage'], `${field}.lineage`),
    createdAt: isoTime(o['createdAt'], `${field}.createdAt`),
  };
  if (o['seq'] !== undefined) entry.seq = integer(o['seq'], `${field}.seq`, 0);
  else delete entry.seq;
  if (o['schemaRevision'] !== undefined) entry.schemaRevision = integer(o['schemaRevision'], `${field}.schemaRevision`, 0, schema.alters?.length ?? 0);
  if (o['deletesApplied'] !== undefined) entry.deletesApplied = integer(o['deletesApplied'], `${field}.deletesApplied`, 0);
  else delete entry.deletesApplied;
  if (o['keys'] !== undefined) {
    const k = record(o['keys'], `${field}.keys`);
    entry.keys = { first: chunkKey(k['first'], `${field}.keys.first`, schema.tags.length), last: chunkKey(k['last'], `${field}.keys.last`, schema.tags.length) };
  } else delete entry.keys;
  if (o['tagBlooms'] !== undefined) {
    entry.tagBlooms = mapOf(o['tagBlooms'], `${field}.tagBlooms`, (v, tag) => {
      const path = sub(`${field}.tagBlooms`, tag);
      if (!tags.has(tag)) fail(path, `${JSON.stringify(tag)} is not a tag of the table`);
      const bloom = string(v, path, BLOOM_BASE64_MAX);
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(bloom) || bloom.length % 4 !== 0 || bloom.length < 4) fail(path, 'expected a base64 bloom filter');
      return bloom;
    });
  } else delete entry.tagBlooms;
  const types = new Map<string, ColumnType>([[schema.time, 'timestamp'], ...schema.tags.map((t) => [t, 'string'] as [string, ColumnType]), ...schema.fields.map((f) => [f.name, f.type] as [string, ColumnType])]);
  entry.columns = mapOf(o['columns'], `${field}.columns`, (v, name) => {
    const path = sub(`${field}.columns`, name);
    const type = types.get(name);
    if (type === undefined) fail(path, `${JSON.stringify(name)} is not a column of the table schema`);
    const c = record(v, path);
    return {
      ...c,
      min: statValue(c['min'], type, `${path}.min`),
      max: statValue(c['max'], type, `${path}.max`),
      nullCount: integer(c['nullCount'], `${path}.nullCount`, 0, rows),
      bytes: integer(c['bytes'], `${path}.bytes`, 0),
      rawBytes: integer(c['rawBytes'], `${path}.rawBytes`, 0),
    };
  });
  return entry;
}

/**
 * A whole manifest: the version `version` of table `table` (its key says so). Unknown fields
 * are kept (a newer writer of the same format may add some); known ones must be valid.
 */
export function validateManifest(raw: unknown, table: string, version: number): Manifest {
  const o = record(raw, '(manifest)');
  const format = integer(o['format'], 'format', 0, 1_000_000);
  if (!MANIFEST_FORMATS.includes(format)) fail('format', `format ${format} is not one this reader knows (${MANIFEST_FORMATS.join(', ')})`);
  if (o['table'] !== table) fail('table', `expected ${JSON.stringify(table)} (the table of its key), got ${describe(o['table'])}`);
  if (o['version'] !== version) fail('version', `expected ${version} (the version of its key), got ${describe(o['version'])}`);
  const parent = version === 1 ? null : version - 1;
  if (o['parent'] !== parent) fail('parent', `expected ${parent} (versions follow one another), got ${describe(o['parent'])}`);
  const schema = validateSchema(o['schema']);
  const options = validateOptions(o['options']);
  const list = array(o['chunks'], 'chunks');
  const keys = new Set<string>();
  let rows = 0;
  const chunks = list.map((c, i) => {
    const entry = validateChunkEntry(c, `chunks[${i}]`, table, schema, options);
    if (keys.has(entry.key)) fail(`chunks[${i}].key`, `${JSON.stringify(entry.key)} is listed twice`);
    keys.add(entry.key);
    rows += entry.rows;
    if (!Number.isSafeInteger(rows)) fail(`chunks[${i}].rows`, "the table's rows add up past 2^53");
    return entry;
  });
  const out: Manifest = {
    ...o,
    format, table, version, parent,
    committedAt: isoTime(o['committedAt'], 'committedAt'),
    operation: string(o['operation'], 'operation'),
    schema, options, chunks,
  };
  delete (out as unknown as Record<string, unknown>)['checksum'];
  if (o['walMarks'] !== undefined) out.walMarks = mapOf(o['walMarks'], 'walMarks', (v, id) => integer(v, sub('walMarks', id), 0));
  else delete out.walMarks;
  if (o['deletes'] !== undefined) out.deletes = validateDeletes(o['deletes'], schema, version);
  else delete out.deletes;
  if (o['rollups'] !== undefined) out.rollups = array(o['rollups'], 'rollups').map((v, i) => string(v, `rollups[${i}]`, COLUMN_NAME_MAX));
  else delete out.rollups;
  if (o['rollupMarks'] !== undefined) out.rollupMarks = mapOf(o['rollupMarks'], 'rollupMarks', (v, p) => integer(v, sub('rollupMarks', p), 0));
  else delete out.rollupMarks;
  return out;
}
