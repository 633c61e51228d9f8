import {
  type Data, Field, makeData, RecordBatch, Schema, Struct, TimestampNanosecond, type Table, type Vector,
} from 'apache-arrow';
import { fieldData, fieldTypeInfo, valueAt, type FieldValue } from '../../src/format/field-types.js';
import type { FieldType } from '../../src/format/types.js';
import { rng } from '../../bench/rng.js';

/**
 * Columns of every field type beyond the numbers, bool and utf8, with the extremes of each
 * (first rows), nulls and seeded random values, as the canonical values a table must give
 * back: the stored integer (bigint) of integer-backed types, the bytes of binary ones.
 */
export interface TypedColumn {
  name: string;
  type: FieldType;
  values: (FieldValue | null)[];
}

/** The column names and types the fixture makes (names are the types, made identifiers). */
export const FIXTURE_TYPES: FieldType[] = [
  'date32', 'date64', 'time(s)', 'time(ms)', 'time(us)', 'time(ns)', 'duration(s)', 'duration(ms)', 'duration(us)', 'duration(ns)',
  'timestamp(ms)', 'timestamp(us,UTC)', 'timestamp(ns,Europe/Paris)', 'timestamp(s,+05:30)',
  'decimal(9,2)', 'decimal(18,4)', 'decimal(19,0)', 'decimal(38,10)', 'decimal(76,6)', 'decimal(5,-2)', 'decimal(1,1)',
  'binary', 'fixed_binary(16)', 'fixed_binary(1)',
];

export function columnName(type: FieldType): string {
  return `c_${type.replace(/[^a-z0-9]+/gi, '_').replace(/_$/, '')}`;
}

function randomBigInt(random: () => number, min: bigint, max: bigint): bigint {
  const span = max - min + 1n;
  let r = 0n;
  for (let i = 0; i < 6; i++) r = (r << 48n) | BigInt(Math.floor(random() * 2 ** 48));
  return min + (r % span);
}

function randomBytes(random: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
}

/** Extremes first, then nulls every 7th row and random values. */
export function typedColumns(seed: number, rows: number, types: readonly FieldType[] = FIXTURE_TYPES): TypedColumn[] {
  const random = rng(seed);
  return types.map((type) => {
    const info = fieldTypeInfo(type);
    const extremes: FieldValue[] = [];
    let value: () => FieldValue;
    if (info.family === 'binary') {
      extremes.push(new Uint8Array(0), Uint8Array.from([0xff, 0xfe, 0xc3, 0x28, 0]), randomBytes(random, 100_000));
      value = () => randomBytes(random, Math.floor(random() * 40));
    } else if (info.family === 'fixed_binary') {
      extremes.push(new Uint8Array(info.width), new Uint8Array(info.width).fill(255));
      value = () => randomBytes(random, info.width);
    } else {
      const { min, max } = info.int!;
      // Times of day within the day; every other integer-backed type over its whole range.
      const dayUnits = info.family === 'time' ? 86_400n * { s: 1n, ms: 1_000n, us: 1_000_000n, ns: 1_000_000_000n }[info.unit!] : null;
      extremes.push(min, max, 0n, 1n);
      if (min < 0n) extremes.push(-1n);
      if (info.family === 'date32' || info.family === 'date64') extremes.push(info.family === 'date32' ? 20_454n : 1_767_225_600_000n);
      value = () => (dayUnits !== null && random() < 0.8 ? randomBigInt(random, 0n, dayUnits - 1n) : randomBigInt(random, min, max));
    }
    const values: (FieldValue | null)[] = [];
    for (let i = 0; i < rows; i++) values.push(i < extremes.length ? extremes[i]! : i % 7 === 3 ? null : value());
    return { name: columnName(type), type, values };
  });
}

/** Nanosecond times 0, 1, 2… from `t0` (one series, in order). */
export function timesFrom(t0: bigint, rows: number): BigInt64Array {
  return BigInt64Array.from({ length: rows }, (_, i) => t0 + BigInt(i) * 1_000_000_000n);
}

/** A batch of a time column and the columns in their canonical Arrow types (rows [start, end)). */
export function typedBatch(columns: TypedColumn[], times: BigInt64Array, start = 0, end = times.length, extra: { field: Field; data: Data }[] = []): RecordBatch {
  const n = end - start;
  const fields = [new Field('time', new TimestampNanosecond(), false), ...columns.map((c) => new Field(c.name, fieldTypeInfo(c.type).arrow, true)), ...extra.map((e) => e.field)];
  const children = [
    makeData({ type: new TimestampNanosecond(), length: n, nullCount: 0, data: times.slice(start, end) }),
    ...columns.map((c) => fieldData(fieldTypeInfo(c.type), c.values.slice(start, end))),
    ...extra.map((e) => e.data),
  ];
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}

/** A value as a comparable key: bigint → its digits, bytes → hex (b:…), null. */
export function key(v: FieldValue | null): string | null {
  if (v === null) return null;
  return typeof v === 'bigint' ? v.toString() : `b:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
}

/** The values of column `name` of a table or batches, as keys (valueAt of the column's field type). */
export function keysOf(source: Table | RecordBatch[], name: string, type: FieldType): (string | null)[] {
  const info = fieldTypeInfo(type);
  const out: (string | null)[] = [];
  const vectors: Vector[] = Array.isArray(source) ? source.map((b) => b.getChild(name)!) : [source.getChild(name)!];
  for (const vector of vectors) {
    for (const data of vector.data) {
      for (let i = 0; i < data.length; i++) out.push(data.getValid(i) ? key(valueAt(info, data, i)) : null);
    }
  }
  return out;
}

export function expectedKeys(column: TypedColumn): (string | null)[] {
  return column.values.map(key);
}
