/**
 * Points as every ingest protocol delivers them (InfluxDB line protocol, Prometheus remote
 * write): a measurement (the table), tags, typed fields and a time in epoch nanoseconds.
 * `pointsBatch` turns a table's valid points into one Arrow batch for Table.append().
 */
import { Bool, type Data, Float64, Int64, makeData, makeVector, RecordBatch, Timestamp, Uint64, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
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

function fieldVector(points: readonly IngestPoint[], name: string, type: PointFieldType): Vector {
  const n = points.length;
  const values = points.map((p) => p.fields.find((f) => f.name === name)?.value);
  if (type === 'utf8') return vectorFromArray(values.map((v) => (v === undefined ? null : (v as string))), new Utf8());
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (values[i] === undefined) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  const nullBitmap = nullCount > 0 ? bitmap : undefined;
  switch (type) {
    case 'float64': {
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) if (values[i] !== undefined) data[i] = values[i] as number;
      return makeVector(makeData({ type: new Float64(), length: n, nullCount, nullBitmap, data }));
    }
    case 'int64': {
      const data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) if (values[i] !== undefined) data[i] = values[i] as bigint;
      return makeVector(makeData({ type: new Int64(), length: n, nullCount, nullBitmap, data }));
    }
    case 'uint64': {
      const data = new BigUint64Array(n);
      for (let i = 0; i < n; i++) if (values[i] !== undefined) data[i] = values[i] as bigint;
      return makeVector(makeData({ type: new Uint64(), length: n, nullCount, nullBitmap, data }));
    }
    case 'bool': {
      const data = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (values[i] === true) data[i >> 3]! |= 1 << (i & 7);
      return makeVector(makeData({ type: new Bool(), length: n, nullCount, nullBitmap, data }));
    }
  }
}

/**
 * One batch of `points` (already checked against the table) in the table's column names:
 * the time at the table's unit (the caller checked it divides exactly), each tag (null where
 * a point lacks it), each field named by any point (null where a point lacks it).
 */
export function pointsBatch(schema: TableSchema, points: readonly IngestPoint[], fieldTypes: ReadonlyMap<string, PointFieldType>): RecordBatch {
  const n = points.length;
  const per = NS_PER_UNIT[schema.timeUnit];
  const times = new BigInt64Array(n);
  for (let i = 0; i < n; i++) times[i] = per === 1n ? points[i]!.time : points[i]!.time / per;
  const columns: Record<string, Data> = {
    [schema.time]: makeData({ type: new Timestamp(ARROW_TIME_UNIT[schema.timeUnit]), length: n, data: times }),
  };
  for (const tag of schema.tags) {
    if (!points.some((p) => p.tags.some(([k]) => k === tag))) continue;
    columns[tag] = vectorFromArray(points.map((p) => p.tags.find(([k]) => k === tag)?.[1] ?? null), new Utf8()).data[0]!;
  }
  const named = new Set<string>();
  for (const p of points) for (const f of p.fields) named.add(f.name);
  for (const name of named) columns[name] = fieldVector(points, name, fieldTypes.get(name)!).data[0]!;
  return new RecordBatch(columns);
}
