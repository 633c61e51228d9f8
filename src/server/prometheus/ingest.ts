/**
 * Remote write into tables (the mapping is in tables.ts): every series of a request is checked
 * first, then each metric's samples go to its table as one Arrow batch (one WAL frame, so a
 * table takes all of a request's samples or none), all tables at once (their WAL fsyncs
 * group). Series that cannot be stored are listed (HTTP 400 with the list), the others are
 * written; an error while writing (the WAL or the store failing) is thrown (HTTP 500, which
 * Prometheus retries: tables already written then hold that request's samples twice, as
 * every at-least-once sender's retry may).
 */
import {
  Dictionary, Field, Float64, Int32, makeData, RecordBatch, Schema, Struct, TimestampMillisecond, Utf8, vectorFromArray,
} from 'apache-arrow';
import type { Quiver } from '../../quiver.js';
import type { Table } from '../../table/table.js';
import { TAG_VALUE_BYTES_MAX, tagValueBytesOver } from '../../table/tag-values.js';
import { QuiverError } from '../../errors.js';
import type { DecodedWrite, WireSeries } from './write-request.js';
import { labelNameError, NAME_LABEL, shapeError, tableOfMetric, TIME_COLUMN, VALUE_COLUMN } from './tables.js';
import { addNewTags } from '../new-tags.js';

/** One series bound for a table: its labels but the name (empty values dropped), its samples. */
interface Pending {
  tags: Map<string, string>;
  first: number;
  count: number;
  index: number;
}

export interface WriteOutcome {
  /** Samples and series written. */
  samples: number;
  series: number;
  /** Why each refused series was refused (`series 3 (up{job="x"}): …`). */
  errors: string[];
}

/** Opens metric tables, creating them on first write, and caches them (one Table per name). */
export class MetricTables {
  private readonly tables = new Map<string, Promise<Table>>();

  constructor(readonly db: Quiver) {}

  /** The metric's table, created with `tags` when it does not exist. */
  get(name: string, tags: readonly string[]): Promise<Table> {
    let table = this.tables.get(name);
    if (!table) {
      table = this.openOrCreate(name, tags);
      this.tables.set(name, table);
      table.catch(() => this.tables.delete(name));
    }
    return table;
  }

  /** A metric table that exists (undefined when none does). */
  async existing(name: string): Promise<Table | undefined> {
    const known = this.tables.get(name);
    if (known) return known;
    if (!(await this.db.hasTable(name))) return undefined;
    return this.get(name, []);
  }

  private async openOrCreate(name: string, tags: readonly string[]): Promise<Table> {
    if (await this.db.hasTable(name)) return this.db.table(name);
    try {
      return await this.db.createTable(name, { time: TIME_COLUMN, timeUnit: 'ms', tags: [...tags].sort(), fields: [{ name: VALUE_COLUMN, type: 'float64' }] });
    } catch (error) {
      // Another request (or process) created it first.
      if (error instanceof QuiverError && /already exists/.test(error.message)) return this.db.table(name);
      throw error;
    }
  }
}

/** A series as PromQL shows it, for errors: `up{job="x",instance="y"}`. */
export function shownSeries(labels: readonly [string, string][]): string {
  const name = labels.find(([k]) => k === NAME_LABEL)?.[1] ?? '';
  const rest = labels.filter(([k]) => k !== NAME_LABEL).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const text = `${name}{${rest.join(',')}}`;
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** The series of a request grouped by table; refused ones described in `errors`. */
function groupSeries(series: readonly WireSeries[], errors: Refused[]): Map<string, Pending[]> {
  const groups = new Map<string, Pending[]>();
  series.forEach((s, index) => {
    const refuse = (why: string) => errors.push({ index, message: `series ${index} (${shownSeries(s.labels)}): ${why}` });
    if (s.count === 0) return;
    let metric: string | undefined;
    const tags = new Map<string, string>();
    const seen = new Set<string>();
    for (const [name, value] of s.labels) {
      if (seen.has(name)) return refuse(`label ${JSON.stringify(name)} appears twice`);
      seen.add(name);
      if (name === NAME_LABEL) { metric = value; continue; }
      const bad = labelNameError(name);
      if (bad) return refuse(bad);
      const bytes = tagValueBytesOver(value);
      if (bytes !== undefined) return refuse(`label ${name}: value of ${bytes} UTF-8 bytes exceeds ${TAG_VALUE_BYTES_MAX} (TAG_VALUE_BYTES_MAX)`);
      // An empty value is an absent label (Prometheus' data model): the null tag.
      if (value !== '') tags.set(name, value);
    }
    if (metric === undefined || metric === '') return refuse(`no ${NAME_LABEL} label`);
    const mapped = tableOfMetric(metric);
    if ('error' in mapped) return refuse(mapped.error);
    let group = groups.get(mapped.table);
    if (!group) groups.set(mapped.table, (group = []));
    group.push({ tags, first: s.first, count: s.count, index });
  });
  return groups;
}

interface Refused { index: number; message: string }

/** Writes a decoded request; resolves once every table has it in its WAL (or buffer). `append`: how a batch is appended (default: Table.append). */
export async function writeSamples(tables: MetricTables, request: DecodedWrite,
  append?: (table: string, batch: RecordBatch) => Promise<void>): Promise<WriteOutcome> {
  const errors: Refused[] = [];
  const groups = groupSeries(request.series, errors);
  const batches: { name: string; table: Table; batch: RecordBatch; series: number }[] = [];
  for (const [name, pending] of groups) {
    const labels = new Set<string>();
    for (const p of pending) for (const k of p.tags.keys()) labels.add(k);
    const table = await tables.get(name, [...labels]);
    if (!shapeError(table.schema)) await addNewTags(table, labels);
    const schema = table.schema;
    const shape = shapeError(schema);
    const accepted = pending.filter((p) => {
      const why = shape ? `table ${name} ${shape}` : [...p.tags.keys()].find((k) => !schema.tags.includes(k));
      if (why === undefined) return true;
      errors.push({ index: p.index, message: `series ${p.index} (${shownSeries(request.series[p.index]!.labels)}): ${shape ? why
        : `label ${JSON.stringify(why)} is not a tag of table ${name} and could not be added (its tags: ${schema.tags.join(', ') || 'none'}; its fields: ${schema.fields.map((f) => f.name).join(', ')})`}` });
      return false;
    });
    if (accepted.length) batches.push({ name, table, batch: samplesBatch(schema.tags, accepted, request), series: accepted.length });
  }
  await Promise.all(batches.map(({ name, table, batch }) => (append ? append(name, batch) : table.append(batch))));
  return {
    samples: batches.reduce((n, b) => n + b.batch.numRows, 0),
    series: batches.reduce((n, b) => n + b.series, 0),
    errors: errors.sort((a, b) => a.index - b.index).map((e) => e.message),
  };
}

/** One table's samples as an Arrow batch: time (ms), one dictionary column per tag, value. */
function samplesBatch(tagNames: readonly string[], series: readonly Pending[], request: DecodedWrite): RecordBatch {
  const n = series.reduce((sum, s) => sum + s.count, 0);
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  // Values are copied as bytes: bit for bit, NaN payloads and the staleness marker included.
  const valueBytes = new Uint8Array(values.buffer);
  const source = new Uint8Array(request.values.buffer, request.values.byteOffset, request.values.byteLength);
  let at = 0;
  for (const s of series) {
    times.set(request.times.subarray(s.first, s.first + s.count), at);
    valueBytes.set(source.subarray(s.first * 8, (s.first + s.count) * 8), at * 8);
    at += s.count;
  }
  const fields: Field[] = [new Field(TIME_COLUMN, new TimestampMillisecond(), false)];
  const children = [makeData({ type: new TimestampMillisecond(), length: n, nullCount: 0, data: times })] as ReturnType<typeof makeData>[];
  for (const tag of tagNames) {
    const dictionary = new Map<string, number>();
    const codes = new Int32Array(n);
    const valid = new Uint8Array((n + 7) >> 3);
    let nulls = 0;
    at = 0;
    for (const s of series) {
      const v = s.tags.get(tag);
      if (v === undefined) { nulls += s.count; at += s.count; continue; }
      let code = dictionary.get(v);
      if (code === undefined) dictionary.set(v, (code = dictionary.size));
      codes.fill(code, at, at + s.count);
      for (let i = at; i < at + s.count; i++) valid[i >> 3]! |= 1 << (i & 7);
      at += s.count;
    }
    const type = new Dictionary(new Utf8(), new Int32());
    fields.push(new Field(tag, type, true));
    children.push(makeData({ type, length: n, nullCount: nulls, nullBitmap: nulls ? valid : null, data: codes, dictionary: vectorFromArray([...dictionary.keys()], new Utf8()) }) as never);
  }
  fields.push(new Field(VALUE_COLUMN, new Float64(), false));
  children.push(makeData({ type: new Float64(), length: n, nullCount: 0, data: values }) as never);
  const schema = new Schema(fields);
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}
