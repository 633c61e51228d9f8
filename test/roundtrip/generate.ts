/**
 * A seeded generator of time-series tables for the round-trip property test: a time column
 * in a random unit, tags, and fields over every column type in COLUMN_KINDS, with nulls,
 * NaNs of several bit patterns, ±0, ±Infinity, boundary values, long / empty / non-ASCII
 * strings, few or many series, unsorted and duplicate times. A column type is one entry of
 * COLUMN_KINDS: how to draw a value, build Arrow data, write a plain row and a CSV cell,
 * and the exact key a value is compared by (bits for floats, bytes for strings).
 */
import { Bool, Data, DataType, Dictionary, Float64, Int32, Int64, makeData, Uint64, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import type { FieldType, TimeUnit } from '../../src/format/types.js';
import { dateValue, decimalValue, timeValue, type DuckDBAppender } from '@duckdb/node-api';
import { fieldTypeInfo, formatValue, valueAt, type FieldValue } from '../../src/format/field-types.js';
import { rng } from '../../bench/rng.js';
import { CAPABILITIES, INT64_MAX, INT64_MIN, UINT64_MAX } from './capabilities.js';
import { fieldData } from '../../src/format/field-types.js';

/** A seeded source of random choices. */
export class Rand {
  private readonly next: () => number;
  constructor(seed: number) { this.next = rng(seed); }
  float(): number { return this.next(); }
  int(n: number): number { return Math.floor(this.next() * n); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(items: readonly T[]): T { return items[this.int(items.length)]!; }
  /** Uniform over [lo, hi] (bigints). */
  big(lo: bigint, hi: bigint): bigint {
    const span = hi - lo + 1n;
    let v = 0n;
    for (let k = 0; k < 5; k++) v = (v << 16n) | BigInt(this.int(65536));
    return lo + (v % span);
  }
  bits64(): bigint { return this.big(0n, UINT64_MAX); }
}

export type Value = bigint | boolean | string;

/** One column type of the generator. `F` is the value as the generator holds it. */
export interface ColumnKind {
  type: FieldType;
  /** A draw strategy for one column (so a column is e.g. all cents, or constant, or wild). */
  style(r: Rand): (r: Rand) => Value;
  arrowType(): DataType;
  data(values: readonly (Value | null)[]): Data;
  /** The value as library append takes it in a plain row. */
  row(v: Value): unknown;
  /** The CSV cell text (before quoting). */
  csv(v: Value): string;
  /** Exact comparison key of a value held by the generator. */
  key(v: Value): string;
  /** Exact comparison key of value i of a scanned column (valid rows only). */
  scanKey(data: Data, i: number): string;
  /** Boundary values of types beyond the five plain ones (boundaryTable). */
  boundary?: readonly Value[];
  /** Whether CSV type inference can know this column's type from the sample's cells alone. */
  csvInferable(cells: readonly string[]): boolean;
  /**
   * DuckDB: the SQL type of the column, how its appender takes a value, the expression that
   * reads it back (`select`, default the column itself) and that value as the generator's.
   */
  duck: DuckKind | null;
}

/** How DuckDB holds a column kind (null: DuckDB has no type that writes it to Parquet exactly as this field type). */
export interface DuckKind {
  type: string; append(appender: DuckDBAppender, v: Value): void; select?(column: string): string; value(x: unknown): Value;
  /** Values the DuckDB path leaves out (null there), with why, when not every value goes through. */
  fits?(v: Value): boolean;
}

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);
export const bitsOf = (x: number): bigint => { F64[0] = x; return U64[0]!; };
export const floatOf = (bits: bigint): number => { U64[0] = bits; return F64[0]!; };
export const isNanBits = (bits: bigint): boolean => (bits & 0x7ff0000000000000n) === 0x7ff0000000000000n && (bits & 0x000fffffffffffffn) !== 0n;
/** The NaN a text or a JS computation gives (0x7ff8000000000000). */
export const CANONICAL_NAN = bitsOf(NaN);

/** NaN bit patterns: quiet, negative quiet, signalling, payloads, all ones. */
export const NAN_PATTERNS = [0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff0000000000001n, 0x7ff4000000000000n, 0x7ff8dead00beef01n, 0xffffffffffffffffn, 0xfff0000000000001n];
export const FLOAT_SPECIALS = [
  0n, 0x8000000000000000n, bitsOf(Infinity), bitsOf(-Infinity), ...NAN_PATTERNS,
  1n, 0x000fffffffffffffn, 0x800fffffffffffffn, 0x0010000000000000n, 0x7fefffffffffffffn, 0xffefffffffffffffn, // subnormals, min normal, ±max
  bitsOf(2 ** 53 - 1), bitsOf(2 ** 53), bitsOf(-(2 ** 53) + 1), bitsOf(2 ** 63), bitsOf(-(2 ** 63)), bitsOf(0.1), bitsOf(-1e-300),
];

function validity(values: readonly (Value | null)[]): { nullCount: number; nullBitmap?: Uint8Array } {
  const n = values.length;
  let nullCount = 0;
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (values[i] === null) nullCount++; else bitmap[i >> 3]! |= 1 << (i & 7);
  return nullCount > 0 ? { nullCount, nullBitmap: bitmap } : { nullCount };
}

const bigKey = (v: Value): string => String(v);

const float64: ColumnKind = {
  type: 'float64',
  style(r) {
    const scale = 10 ** r.int(5);
    const base = r.int(100_000) - 50_000;
    const styles: ((r: Rand) => Value)[] = [
      (r) => bitsOf((base + r.int(20_000)) / scale), // decimal-like (ALP pages)
      (r) => bitsOf(r.int(4)),                        // few distinct small integers
      () => bitsOf(base / scale),                      // constant
      (r) => r.bits64(),                               // any bit pattern (random NaNs included)
      (r) => bitsOf((r.float() - 0.5) * 10 ** (r.int(600) - 300)),
    ];
    const main = r.pick(styles);
    const specials = r.chance(0.6) ? r.float() * 0.3 : 0;
    return (r) => (r.chance(specials) ? r.pick(FLOAT_SPECIALS) : main(r));
  },
  arrowType: () => new Float64(),
  data(values) {
    const bits = new BigUint64Array(values.length);
    values.forEach((v, i) => { if (v !== null) bits[i] = v as bigint; });
    return makeData({ type: new Float64(), length: values.length, ...validity(values), data: new Float64Array(bits.buffer) });
  },
  row: (v) => floatOf(v as bigint),
  csv(v) {
    const x = floatOf(v as bigint);
    if (Object.is(x, -0)) return '-0';
    // An integer literal beyond 2^53 in a float column is refused by the CSV importer (no
    // double holds most such integers), so large integral doubles are written with an exponent.
    const text = String(x);
    return Math.abs(x) >= 2 ** 53 && /^-?\d+$/.test(text) ? x.toExponential() : text;
  },
  key: (v) => (v as bigint).toString(16),
  scanKey(data, i) {
    const values = data.values as Float64Array;
    return new BigUint64Array(values.buffer, values.byteOffset, values.length)[i]!.toString(16);
  },
  csvInferable: (cells) => cells.some((c) => /[.eEnN]/.test(c)),
  duck: { type: 'DOUBLE', append: (a, v) => a.appendDouble(floatOf(v as bigint)), value: (x) => bitsOf(x as number) },
};

function integerKind(type: 'int64' | 'uint64', lo: bigint, hi: bigint, specials: bigint[]): ColumnKind {
  const clamp = (v: bigint) => (v < lo ? lo : v > hi ? hi : v);
  return {
    type,
    style(r) {
      const base = r.chance(0.5) ? r.big(lo, hi) : BigInt(r.int(1_000_000)) + (type === 'int64' ? -500_000n : 0n);
      let at = base;
      const step = BigInt(1 + r.int(1000));
      const styles: ((r: Rand) => Value)[] = [
        (r) => clamp(base + BigInt(r.int(1000))),      // narrow range (frame of reference)
        () => (at = clamp(at + step)),                   // monotone (delta)
        () => base,                                      // constant
        (r) => r.big(lo, hi),                            // anything
        (r) => BigInt(r.int(5)),                         // few distinct values
      ];
      const main = r.pick(styles);
      const rate = r.chance(0.5) ? r.float() * 0.3 : 0;
      return (r) => (r.chance(rate) ? r.pick(specials) : main(r));
    },
    arrowType: () => (type === 'int64' ? new Int64() : new Uint64()),
    duck: type === 'int64'
      ? { type: 'BIGINT', append: (a, v) => a.appendBigInt(v as bigint), value: (x) => x as bigint }
      : { type: 'UBIGINT', append: (a, v) => a.appendUBigInt(v as bigint), value: (x) => x as bigint },
    data(values) {
      const out = type === 'int64' ? new BigInt64Array(values.length) : new BigUint64Array(values.length);
      values.forEach((v, i) => { if (v !== null) out[i] = v as bigint; });
      return makeData({ type: type === 'int64' ? new Int64() : new Uint64(), length: values.length, ...validity(values), data: out as never });
    },
    row: (v) => v,
    csv: (v) => String(v),
    key: bigKey,
    scanKey: (data, i) => String((data.values as BigInt64Array | BigUint64Array)[i]),
    csvInferable(cells) {
      if (type === 'uint64' && !CAPABILITIES.csvInfer19Digits) return false;
      const max = CAPABILITIES.csvInfer19Digits ? 19 : 18;
      return cells.some((c) => c !== '') && cells.every((c) => c === '' || c.replace('-', '').length <= max) && (type === 'int64' || cells.some((c) => c !== '' && BigInt(c) > INT64_MAX));
    },
  };
}

export const INT64_SPECIALS = [
  INT64_MIN, INT64_MAX, INT64_MIN + 1n, INT64_MAX - 1n, 0n, -1n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 32n,
];
export const UINT64_SPECIALS = [0n, 1n, UINT64_MAX, UINT64_MAX - 1n, INT64_MAX, INT64_MAX + 1n, 2n ** 53n + 1n, 2n ** 32n - 1n];
const int64 = integerKind('int64', INT64_MIN, INT64_MAX, INT64_SPECIALS);
const uint64 = integerKind('uint64', 0n, UINT64_MAX, UINT64_SPECIALS);

const bool: ColumnKind = {
  type: 'bool',
  style(r) {
    const p = r.pick([0, 1, 0.5, r.float()]);
    return (r) => r.chance(p);
  },
  arrowType: () => new Bool(),
  data(values) {
    const bits = new Uint8Array((values.length + 7) >> 3);
    values.forEach((v, i) => { if (v === true) bits[i >> 3]! |= 1 << (i & 7); });
    return makeData({ type: new Bool(), length: values.length, ...validity(values), data: bits });
  },
  row: (v) => v,
  csv: (v) => (v ? 'true' : 'false'),
  key: (v) => (v ? 't' : 'f'),
  scanKey: (data, i) => {
    const k = data.offset + i;
    return ((data.values as Uint8Array)[k >> 3]! >> (k & 7)) & 1 ? 't' : 'f';
  },
  csvInferable: (cells) => cells.some((c) => c !== ''),
  duck: { type: 'BOOLEAN', append: (a, v) => a.appendBoolean(v as boolean), value: (x) => x as boolean },
};

const PIECES = ['a', 'Z', '0', ' ', ',', '"', '\n', '\r\n', '\t', ';', 'é', 'ß', '中文', '𝄞', '😀', '\u0301', '\u200b', '\ufeff', '\ufffd', 'ÿ', '\\', "'", 'null', 'NaN', '1', '-', '.'];

/** A string: empty, short ASCII, non-ASCII, long, or made of CSV-hostile pieces. */
export function drawString(r: Rand, maxLength: number): string {
  switch (r.int(6)) {
    case 0: return '';
    case 1: return `s${r.int(1000)}`;
    case 2: {
      let s = '';
      const n = r.int(12);
      for (let k = 0; k < n; k++) s += r.pick(PIECES);
      return s;
    }
    case 3: return r.pick(['é', '中文字', '😀😀', 'Ωmega', 'naïve café', ' leading', 'trailing ', '  ']);
    case 4: return (r.pick(PIECES) + 'x').repeat(1 + r.int(Math.max(1, maxLength / 2)));
    default: return String(r.int(100));
  }
}

/**
 * DuckDB strings are read back as their bytes (encode → BLOB): its Node client decodes
 * VARCHAR with TextDecoder's default, which drops a leading U+FEFF.
 */
export const duckStringBytes = (column: string): string => `encode(${column})`;
export const duckString = (x: unknown): string => Buffer.from((x as { bytes: Uint8Array }).bytes).toString('utf8');

const utf8: ColumnKind = {
  type: 'utf8',
  style(r) {
    const pool = Array.from({ length: 1 + r.int(6) }, () => drawString(r, 200));
    const long = r.chance(0.2) ? 5000 + r.int(70_000) : 200;
    return r.chance(0.5) ? (r) => r.pick(pool) : (r) => drawString(r, r.chance(0.05) ? long : 40);
  },
  arrowType: () => new Utf8(),
  data: (values) => vectorFromArray(values as (string | null)[], new Utf8()).data[0]!,
  row: (v) => v,
  csv: (v) => v as string,
  key: (v) => Buffer.from(v as string).toString('hex'),
  scanKey(data, i) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    return Buffer.from(bytes.buffer, bytes.byteOffset + offsets[i]!, offsets[i + 1]! - offsets[i]!).toString('hex');
  },
  duck: { type: 'VARCHAR', append: (a, v) => a.appendVarchar(v as string), select: duckStringBytes, value: duckString },
  // Inferred as text only when no cell reads as a number or boolean: a mostly-numeric column
  // with a stray word is refused by inference (it asks for --schema), never made a tag or text.
  csvInferable: (cells) => cells.some((c) => c !== '') && cells.every((c) => c === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$|^(true|false)$/i.test(c.trim())),
};

/**
 * A table of every boundary value at once (so each run covers them, whatever the seeds draw):
 * each NaN pattern, ±0, ±Infinity, subnormals, int64/uint64 extremes, the unit's first and
 * last time, empty, long and non-ASCII strings, a null in every field, duplicate times.
 */
export function boundaryTable(unit: TimeUnit): GenTable {
  const [lo, hi] = CAPABILITIES.timeRange(unit);
  const strings = ['', 'é', '中文字', '😀', '\ufeffbom', ' a,b "c"\r\nd ', 'x'.repeat(70_000), '\u0301\u200b'];
  const n = FLOAT_SPECIALS.length + 1;
  const at = <T,>(list: readonly T[], i: number): T | null => (i === n - 1 ? null : list[i % list.length]!);
  return {
    seed: 0,
    unit,
    time: Array.from({ length: n }, (_, i) => [lo, hi, lo + 1n, hi - 1n, 0n, -1n, 0n][i % 7]!),
    tags: [{ name: 'tag0', values: Array.from({ length: n }, (_, i) => ['a', '', '\ufeffb'][i % 3]!) }],
    fields: COLUMN_KINDS.map((kind, k) => ({
      name: fieldName(k, kind),
      kind,
      values: Array.from({ length: n }, (_, i): Value | null => {
        switch (kind.type) {
          case 'float64': return at(FLOAT_SPECIALS, i);
          case 'int64': return at(INT64_SPECIALS, i);
          case 'uint64': return at(UINT64_SPECIALS, i);
          case 'bool': return at([true, false], i);
          case 'utf8': return at(strings, i);
          default: return at(kind.boundary!, i);
        }
      }),
    })),
  };
}

/**
 * A field type of field-types.ts (docs/types.md): values are the stored integers (dates in
 * days, times and durations in their unit, decimals unscaled) or, for binary types, bytes as
 * hex. Rows and CSV cells carry the type's text (formatValue), which import parses back.
 */
function typedKind(type: FieldType, duck: DuckKind | null): ColumnKind {
  const info = fieldTypeInfo(type);
  const fromValue = (v: Value): FieldValue => (info.bytes ? new Uint8Array(Buffer.from(v as string, 'hex')) : v as bigint);
  const toKey = (v: FieldValue): string => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v.toString());
  return {
    type,
    style(r) {
      if (info.bytes) {
        const width = info.family === 'fixed_binary' ? info.width : -1;
        const pool = Array.from({ length: 1 + r.int(5) }, () => randomBytes(r, width < 0 ? r.int(40) : width));
        return r.chance(0.5) ? (r) => r.pick(pool) : (r) => randomBytes(r, width < 0 ? r.pick([0, 1, 16, r.int(300)]) : width);
      }
      const { min, max } = info.int!;
      const specials = [min, max, min + 1n, max - 1n, 0n < min ? min : 0n, 1n > max ? max : 1n];
      const base = r.big(min, max);
      const styles: ((r: Rand) => Value)[] = [
        (r) => r.big(min, max),
        () => base,
        (r) => { const v = base + BigInt(r.int(1000)); return v > max ? max : v; },
      ];
      const main = r.pick(styles);
      const rate = r.chance(0.5) ? r.float() * 0.3 : 0;
      return (r) => (r.chance(rate) ? r.pick(specials) : main(r));
    },
    arrowType: () => info.arrow,
    data: (values) => fieldData(info, values.map((v) => (v === null ? null : fromValue(v)))),
    row: (v) => (info.bytes ? fromValue(v) : formatValue(info, v as bigint)),
    csv: (v) => formatValue(info, fromValue(v)),
    key: (v) => toKey(fromValue(v)),
    scanKey: (data, i) => toKey(valueAt(info, data, i)),
    csvInferable: () => false,
    duck,
    boundary: info.bytes
      ? ['', '00', 'ff'.repeat(info.family === 'fixed_binary' ? info.width : 300), '00ff7f80'].map((h) => (info.family === 'fixed_binary' ? h.padEnd(info.width * 2, '0').slice(0, info.width * 2) : h))
      : [info.int!.min, info.int!.max, info.int!.min + 1n, info.int!.max - 1n, info.int!.min < 0n ? 0n : info.int!.min],
  };
}

/** A field's name: its index and type, in letters, digits and '_' only (a CSV header and --schema take it as is). */
function fieldName(k: number, kind: ColumnKind): string {
  return `f${k}_${kind.type.replace(/[^A-Za-z0-9]+/g, '_')}`;
}

function randomBytes(r: Rand, n: number): string {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = r.int(256);
  return out.toString('hex');
}

const duckBlob: DuckKind = {
  type: 'BLOB', append: (a, v) => a.appendBlob(new Uint8Array(Buffer.from(v as string, 'hex'))), value: (x) => Buffer.from((x as { bytes: Uint8Array }).bytes).toString('hex'),
};
const duckDecimal = (p: number, s: number): DuckKind => ({
  type: `DECIMAL(${p},${s})`, append: (a, v) => a.appendDecimal(decimalValue(v as bigint, p, s)), value: (x) => (x as { value: bigint }).value,
});

/** Every field type the generator covers; a new type is one entry here. */
export const COLUMN_KINDS: readonly ColumnKind[] = [
  float64, int64, uint64, bool, utf8,
  typedKind('binary', duckBlob),
  typedKind('fixed_binary(16)', null),
  typedKind('date32', {
    type: 'DATE', append: (a, v) => a.appendDate(dateValue(Number(v))), value: (x) => BigInt((x as { days: number }).days),
    // DuckDB's V2 pages code INT32 columns DELTA_BINARY_PACKED with deltas that wrap past
    // 32 bits, on which parquet-wasm's decoder (arrow-rs) panics: an import refuses such a file
    // ("the Parquet decoder panicked"), so dates here stay within ±2^30 days of each other.
    fits: (v) => (v as bigint) >= -(2n ** 29n) && (v as bigint) <= 2n ** 29n,
  }),
  typedKind('date64', null),
  typedKind('time(us)', { type: 'TIME', append: (a, v) => a.appendTime(timeValue(v as bigint)), value: (x) => (x as { micros: bigint }).micros }),
  typedKind('duration(ms)', null),
  typedKind('timestamp(ms)', null),
  typedKind('decimal(12,3)', duckDecimal(12, 3)),
  typedKind('decimal(40,6)', null),
];

export interface GenColumn { name: string; kind: ColumnKind; values: (Value | null)[] }

export interface GenTable {
  seed: number;
  unit: TimeUnit;
  time: bigint[];
  tags: { name: string; values: (string | null)[] }[];
  fields: GenColumn[];
}

export const TIME_UNITS: readonly TimeUnit[] = ['s', 'ms', 'us', 'ns'];
const UNIT_PER_SECOND: Record<TimeUnit, bigint> = { s: 1n, ms: 1_000n, us: 1_000_000n, ns: 1_000_000_000n };

/** Times: clustered around a base (several partitions at most), duplicated, unsorted, with the unit's first and last. */
function drawTimes(r: Rand, unit: TimeUnit, rows: number): bigint[] {
  const [lo, hi] = CAPABILITIES.timeRange(unit);
  const perSecond = UNIT_PER_SECOND[unit];
  const base = r.chance(0.5) ? 1_767_225_600n * perSecond : r.big(lo / 2n, hi / 2n); // 2026-01-01 or anywhere
  const spread = r.pick([1n, 1000n, 3600n * perSecond, 86_400n * 3n * perSecond]);
  const sorted = r.chance(0.4);
  const out: bigint[] = [];
  let t = base;
  for (let i = 0; i < rows; i++) {
    if (i > 0 && r.chance(0.1)) { out.push(out[r.int(out.length)]!); continue; } // a duplicate time
    if (r.chance(0.01)) { out.push(r.chance(0.5) ? lo : hi); continue; }
    if (r.chance(0.01)) { out.push(r.pick([lo + 1n, hi - 1n, 0n, -1n])); continue; }
    t = sorted ? t + r.big(0n, spread / 100n + 1n) : base + r.big(0n, spread);
    out.push(t > hi ? hi : t);
  }
  return out;
}

/** Tag values: few or many series, empty strings, non-ASCII, CSV-hostile text. */
function drawTags(r: Rand, rows: number): { name: string; values: (string | null)[] }[] {
  const count = r.pick([0, 1, 1, 2, 3]);
  const tags: { name: string; values: (string | null)[] }[] = [];
  for (let k = 0; k < count; k++) {
    const distinct = r.pick([1, 2, 5, 50, rows]);
    const pool = Array.from({ length: distinct }, (_, j) => (r.chance(0.3) ? drawString(r, 30) : `host_${j}`));
    const nulls = CAPABILITIES.nullTags && r.chance(0.3) ? r.float() * 0.3 : 0;
    tags.push({ name: `tag${k}`, values: Array.from({ length: rows }, () => (r.chance(nulls) ? null : r.pick(pool))) });
  }
  return tags;
}

export interface GenerateOptions { rowsMax: number }

/** The table of case `seed`. */
export function generate(seed: number, options: GenerateOptions): GenTable {
  const r = new Rand(seed);
  const rows = r.chance(0.1) ? r.int(3) + 1 : r.chance(0.15) ? r.int(options.rowsMax) + 1 : r.int(200) + 1;
  const unit = r.pick(TIME_UNITS);
  const time = drawTimes(r, unit, rows);
  const tags = drawTags(r, rows);
  const fields: GenColumn[] = [];
  const fieldCount = 1 + r.int(COLUMN_KINDS.length + 2);
  for (let k = 0; k < fieldCount; k++) {
    const kind = k < COLUMN_KINDS.length && r.chance(0.7) ? COLUMN_KINDS[k]! : r.pick(COLUMN_KINDS);
    const draw = kind.style(r);
    const nulls = r.pick([0, 0, 0.05, 0.5, 1]);
    fields.push({ name: fieldName(k, kind), kind, values: Array.from({ length: rows }, () => (r.chance(nulls) ? null : draw(r))) });
  }
  return { seed, unit, time, tags, fields };
}

/** Tags as Arrow data: plain Utf8 or Dictionary<Utf8, Int32>. */
export function tagData(values: readonly (string | null)[], dictionary: boolean): Data {
  if (!dictionary) return vectorFromArray(values as (string | null)[], new Utf8()).data[0]!;
  const index = new Map<string, number>();
  const codes = new Int32Array(values.length);
  values.forEach((v, i) => {
    if (v === null) return;
    let c = index.get(v);
    if (c === undefined) { c = index.size; index.set(v, c); }
    codes[i] = c;
  });
  const dict = vectorFromArray([...index.keys()], new Utf8()) as Vector<Utf8>;
  return makeData({ type: new Dictionary(new Utf8(), new Int32()), length: values.length, ...validity(values), data: codes, dictionary: dict });
}
