/**
 * The columnar ingest path of line protocol: parsed lines go straight into per-measurement
 * column builders (typed arrays for time and numeric fields, a dictionary code per tag, a
 * validity byte per row and column), with no object per point. Ingest checks the columns
 * against their table (a refused point is dropped with its line's error) and hands the table
 * one Arrow batch per measurement.
 */
import type { LineSeries, LineSink } from './line-protocol.js';
import type { PointFieldType } from './points.js';

const INITIAL_ROWS = 4096;

function grown<T extends BigInt64Array | BigUint64Array | Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const out = new (a.constructor as new (n: number) => T)(n);
  (out as Uint8Array).set(a as Uint8Array);
  return out;
}

export type ColumnValues = Float64Array | BigInt64Array | BigUint64Array | Uint8Array | string[];

/** One field name at one type (a name written at two types has two columns; one is refused). */
export interface FieldBuilder {
  readonly name: string;
  readonly type: PointFieldType;
  values: ColumnValues;
  /** 1 where the row has this field. */
  valid: Uint8Array;
  /** The first row holding it (-1: none yet; the earliest claims a new field's type). */
  firstRow: number;
}

/** One tag key: a code per row into its dictionary (valid 0: the row lacks the tag). */
export interface TagBuilder {
  readonly name: string;
  codes: Int32Array;
  valid: Uint8Array;
  readonly dictionary: Map<string, number>;
  readonly values: string[];
}

/** A tag column as ingest reads it (codes into `values`; valid 0: the row lacks the tag). */
export type TagData = Pick<TagBuilder, 'name' | 'codes' | 'valid' | 'values'>;

/**
 * One measurement's rows as ingest reads them: a MeasurementColumns, or the same columns
 * received from a parse worker (parse-pool.ts). Arrays may be longer than `rows`.
 */
export interface MeasurementData {
  readonly measurement: string;
  readonly rows: number;
  readonly time: BigInt64Array;
  readonly lines: Int32Array;
  readonly seriesOf: Int32Array;
  readonly seriesList: readonly LineSeries[];
  readonly tags: ReadonlyMap<string, TagData>;
  readonly fields: ReadonlyMap<string, readonly FieldBuilder[]>;
}

/** A window of a request's points, by measurement. */
export interface LineWindow {
  readonly measurements: ReadonlyMap<string, MeasurementData>;
  readonly rows: number;
}

/** A series seen by a measurement: its tag columns and codes, resolved once. */
interface SeriesCodes {
  tags: TagBuilder[];
  codes: number[];
}

/** The rows of one measurement, as columns. */
export class MeasurementColumns implements MeasurementData {
  rows = 0;
  private capacity = INITIAL_ROWS;
  time = new BigInt64Array(INITIAL_ROWS);
  /** The body line of each row (for its error). */
  lines = new Int32Array(INITIAL_ROWS);
  /** Series of each row (index into `seriesList`), for per-series checks. */
  seriesOf = new Int32Array(INITIAL_ROWS);
  readonly seriesList: LineSeries[] = [];
  readonly tags = new Map<string, TagBuilder>();
  /** Fields by name, then by type (the first type written is first). */
  readonly fields = new Map<string, FieldBuilder[]>();
  private readonly seriesCodes = new Map<LineSeries, { index: number; codes: SeriesCodes }>();

  constructor(readonly measurement: string) {}

  /** Every field column, in the order they were first written. */
  *fieldColumns(): Generator<FieldBuilder> {
    for (const list of this.fields.values()) yield* list;
  }

  private reserve(): void {
    if (this.rows < this.capacity) return;
    const n = this.capacity * 2;
    this.capacity = n;
    this.time = grown(this.time, n);
    this.lines = grown(this.lines, n);
    this.seriesOf = grown(this.seriesOf, n);
    for (const t of this.tags.values()) { t.codes = grown(t.codes, n); t.valid = grown(t.valid, n); }
    for (const f of this.fieldColumns()) {
      f.valid = grown(f.valid, n);
      if (!Array.isArray(f.values)) f.values = grown(f.values, n);
    }
  }

  /** The series' tag columns and dictionary codes (added on first sight). */
  codesOf(series: LineSeries): { index: number; codes: SeriesCodes } {
    let known = this.seriesCodes.get(series);
    if (known) return known;
    const codes: SeriesCodes = { tags: [], codes: [] };
    for (const [key, value] of series.tags) {
      let tag = this.tags.get(key);
      if (!tag) this.tags.set(key, (tag = { name: key, codes: new Int32Array(this.capacity), valid: new Uint8Array(this.capacity), dictionary: new Map(), values: [] }));
      let code = tag.dictionary.get(value);
      if (code === undefined) { code = tag.values.length; tag.dictionary.set(value, code); tag.values.push(value); }
      codes.tags.push(tag);
      codes.codes.push(code);
    }
    known = { index: this.seriesList.length, codes };
    this.seriesList.push(series);
    this.seriesCodes.set(series, known);
    return known;
  }

  field(name: string, type: PointFieldType): FieldBuilder {
    let list = this.fields.get(name);
    if (!list) this.fields.set(name, (list = []));
    for (const f of list) if (f.type === type) return f;
    const n = this.capacity;
    const values = type === 'float64' ? new Float64Array(n) : type === 'int64' ? new BigInt64Array(n) : type === 'uint64' ? new BigUint64Array(n)
      : type === 'bool' ? new Uint8Array(n) : [];
    const f: FieldBuilder = { name, type, values, valid: new Uint8Array(n), firstRow: -1 };
    list.push(f);
    return f;
  }

  /** Takes one row: series, fields (their columns and values), time, line. */
  add(series: LineSeries, fields: readonly FieldBuilder[], values: readonly (number | bigint | string | boolean)[], count: number, time: bigint, line: number): void {
    this.reserve();
    const r = this.rows;
    const { index, codes } = this.codesOf(series);
    for (let k = 0; k < codes.tags.length; k++) {
      const t = codes.tags[k]!;
      t.codes[r] = codes.codes[k]!;
      t.valid[r] = 1;
    }
    for (let k = 0; k < count; k++) {
      const f = fields[k]!;
      const v = values[k]!;
      if (f.type === 'bool') (f.values as Uint8Array)[r] = v ? 1 : 0;
      else if (f.type === 'utf8') (f.values as string[])[r] = v as string;
      else (f.values as unknown[])[r] = v;
      f.valid[r] = 1;
      if (f.firstRow < 0) f.firstRow = r;
    }
    this.time[r] = time;
    this.lines[r] = line;
    this.seriesOf[r] = index;
    this.rows = r + 1;
  }
}

/**
 * A LineSink collecting a request window's lines by measurement. A line refused part way
 * leaves nothing: its fields are held until end().
 */
export class LineColumns implements LineSink, LineWindow {
  readonly measurements = new Map<string, MeasurementColumns>();
  /** Points taken. */
  rows = 0;
  private current?: MeasurementColumns;
  private line?: LineSeries;
  private readonly pendingFields: FieldBuilder[] = [];
  private readonly pendingValues: (number | bigint | string | boolean)[] = [];
  private pending = 0;

  series(series: LineSeries): void {
    this.line = series;
    this.pending = 0;
    let m = this.current;
    if (!m || m.measurement !== series.measurement) {
      m = this.measurements.get(series.measurement);
      if (!m) this.measurements.set(series.measurement, (m = new MeasurementColumns(series.measurement)));
      this.current = m;
    }
  }

  field(name: string, type: PointFieldType, value: number | bigint | string | boolean): void {
    this.pendingFields[this.pending] = this.current!.field(name, type);
    this.pendingValues[this.pending] = value;
    this.pending++;
  }

  end(time: bigint, line: number): void {
    this.current!.add(this.line!, this.pendingFields, this.pendingValues, this.pending, time, line);
    this.pending = 0;
    this.rows++;
  }
}
