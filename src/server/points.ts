/**
 * Points as every ingest protocol delivers them (InfluxDB line protocol, Prometheus remote
 * write): a measurement (the table), tags, typed fields and a time in epoch nanoseconds.
 * `pointsBatch` turns a table's valid points into one Arrow batch for Table.append().
 */
import { Bool, type Data, Dictionary, Float64, Int32, Int64, makeData, makeVector, RecordBatch, Timestamp, Uint64, Utf8 } from 'apache-arrow';
import { ARROW_TIME_UNIT } from '../core/arrow-schema.js';
import { NS_PER_UNIT } from '../core/time.js';
import type { TableSchema } from '../core/types.js';

/** The field types a point can carry (line protocol: float, `i`, `u`, string, boolean). */
export type PointFieldType = 'float64' | 'int64' | 'uint64' | 'utf8' | 'bool';

export interface PointField {
  readonly name: string;
  readonly type: PointFieldType;
  readonly value: number | bigint | string | boolean;
}

export interface IngestPoint {
  readonly measurement: string;
  /** Tag keys are unique within a point. */
  readonly tags: readonly (readonly [string, string])[];
  /** At least one; names unique within a point. */
  readonly fields: readonly PointField[];
  /** Epoch nanoseconds (int64). */
  readonly time: bigint;
  /** Where the point came from, for its error: a line number (1-based) or a sample index. */
  readonly line: number;
}

/** A point that was not written, and why. */
export interface PointError {
  readonly line: number;
  readonly message: string;
}

/** Utf8 Data of `strings` (null where `valid` has no bit; a null's slot is empty). */
function utf8Data(strings: readonly string[], valid?: Uint8Array, nullCount = 0): Data {
  const n = strings.length;
  const offsets = new Int32Array(n + 1);
  let bytes = 0;
  for (let i = 0; i < n; i++) { bytes += Buffer.byteLength(strings[i]!); offsets[i + 1] = bytes; }
  const data = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < n; i++) data.write(strings[i]!, offsets[i]!, 'utf8');
  return makeData({ type: new Utf8(), length: n, nullCount, nullBitmap: nullCount > 0 ? valid : undefined, valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, bytes) });
}

interface FieldColumn {
  type: PointFieldType;
  values: Float64Array | BigInt64Array | BigUint64Array | Uint8Array | string[];
  valid: Uint8Array;
  count: number;
}

function newColumn(type: PointFieldType, n: number): FieldColumn {
  const values = type === 'float64' ? new Float64Array(n) : type === 'int64' ? new BigInt64Array(n) : type === 'uint64' ? new BigUint64Array(n)
    : type === 'bool' ? new Uint8Array((n + 7) >> 3) : new Array<string>(n).fill('');
  return { type, values, valid: new Uint8Array((n + 7) >> 3), count: 0 };
}

function columnData(c: FieldColumn, n: number): Data {
  const nullCount = n - c.count;
  const nullBitmap = nullCount > 0 ? c.valid : undefined;
  switch (c.type) {
    case 'float64': return makeData({ type: new Float64(), length: n, nullCount, nullBitmap, data: c.values as Float64Array });
    case 'int64': return makeData({ type: new Int64(), length: n, nullCount, nullBitmap, data: c.values as BigInt64Array });
    case 'uint64': return makeData({ type: new Uint64(), length: n, nullCount, nullBitmap, data: c.values as BigUint64Array });
    case 'bool': return makeData({ type: new Bool(), length: n, nullCount, nullBitmap, data: c.values as Uint8Array });
    case 'utf8': return utf8Data(c.values as string[], c.valid, nullCount);
  }
}

/**
 * One batch of `points` (already checked against the table) in the table's column names:
 * the time at the table's unit (the caller checked it divides exactly), each tag as a
 * dictionary (null where a point lacks it), each field named by any point (null where a
 * point lacks it). One pass over the points.
 */
export function pointsBatch(schema: TableSchema, points: readonly IngestPoint[], fieldTypes: ReadonlyMap<string, PointFieldType>): RecordBatch {
  const n = points.length;
  const per = NS_PER_UNIT[schema.timeUnit];
  const times = new BigInt64Array(n);
  const tagIndex = new Map(schema.tags.map((t, i) => [t, i]));
  const tags = schema.tags.map(() => ({ codes: undefined as Int32Array | undefined, valid: new Uint8Array((n + 7) >> 3), count: 0, dictionary: new Map<string, number>() }));
  const fields = new Map<string, FieldColumn>();
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    times[i] = per === 1n ? p.time : p.time / per;
    const bit = 1 << (i & 7);
    const byte = i >> 3;
    for (const [key, value] of p.tags) {
      const t = tags[tagIndex.get(key)!]!;
      t.codes ??= new Int32Array(n);
      let code = t.dictionary.get(value);
      if (code === undefined) t.dictionary.set(value, (code = t.dictionary.size));
      t.codes[i] = code;
      t.valid[byte]! |= bit;
      t.count++;
    }
    for (const f of p.fields) {
      let c = fields.get(f.name);
      if (!c) fields.set(f.name, (c = newColumn(fieldTypes.get(f.name)!, n)));
      if (c.type === 'bool') { if (f.value === true) (c.values as Uint8Array)[byte]! |= bit; } else (c.values as unknown[])[i] = f.value;
      c.valid[byte]! |= bit;
      c.count++;
    }
  }
  const columns: Record<string, Data> = {
    [schema.time]: makeData({ type: new Timestamp(ARROW_TIME_UNIT[schema.timeUnit]), length: n, data: times }),
  };
  schema.tags.forEach((name, k) => {
    const t = tags[k]!;
    if (!t.codes) return;
    const nullCount = n - t.count;
    const type = new Dictionary<Utf8, Int32>(new Utf8(), new Int32());
    columns[name] = makeData<typeof type>({
      type, length: n, nullCount, nullBitmap: nullCount > 0 ? t.valid : undefined,
      data: t.codes, dictionary: makeVector(utf8Data([...t.dictionary.keys()]) as Data<Utf8>),
    });
  });
  for (const [name, c] of fields) columns[name] = columnData(c, n);
  return new RecordBatch(columns);
}
