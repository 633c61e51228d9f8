import { getBit } from './bits.js';
import { pageValueCount, type PageValues } from './encodings/types.js';
import { fieldTypeSpec as fieldTypeInfo, wordsToBigInt } from './field-type-spec.js';
import type { ColumnType, StatValue } from './types.js';
import { utf8Decoder } from './utf8.js';

/**
 * Min/max over a row range of a flat column, skipping nulls (validity bit 0) and NaN.
 * 64-bit integers are compared through two 32-bit halves so no BigInt is made per value.
 * Strings are ordered by Unicode code point (= UTF-8 byte order), see compareStrings.
 */

export interface MinMax {
  min: StatValue;
  max: StatValue;
}

const NONE: MinMax = { min: null, max: null };

/** Code-point order of two JS strings (UTF-16 surrogates sort above U+E000–U+FFFF). */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

export function float64MinMax(values: Float64Array, start: number, end: number, validity: Uint8Array | null): MinMax {
  // NaN fails both comparisons, so it is skipped without a test of its own.
  let min = Infinity;
  let max = -Infinity;
  let seen = false;
  if (validity === null) {
    for (let i = start; i < end; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    seen = min <= max || hasNonNaN(values, start, end, null);
  } else {
    for (let i = start; i < end; i++) {
      if (((validity[i >>> 3]! >>> (i & 7)) & 1) === 0) continue;
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    seen = min <= max || hasNonNaN(values, start, end, validity);
  }
  if (!seen) return NONE;
  // Zero is the one value with two signs: -0 is the smaller. Rare, so a second pass.
  if (min === 0 || max === 0) {
    let negativeZero = false;
    let positiveZero = false;
    for (let i = start; i < end; i++) {
      if (values[i] !== 0 || (validity !== null && !getBit(validity, i))) continue;
      if (Object.is(values[i], -0)) negativeZero = true;
      else positiveZero = true;
    }
    if (min === 0) min = negativeZero ? -0 : 0;
    if (max === 0) max = positiveZero ? 0 : -0;
  }
  return { min, max };
}

/** True when some valid value is not NaN (min > max after a scan happens only for none). */
function hasNonNaN(values: Float64Array, start: number, end: number, validity: Uint8Array | null): boolean {
  for (let i = start; i < end; i++) {
    if (validity !== null && !getBit(validity, i)) continue;
    if (values[i] === values[i]) return true;
  }
  return false;
}

/**
 * Min/max of int64 (or uint64 when `unsigned`) values as decimal strings. `words` is an
 * Int32Array view of the same buffer as the BigInt64Array (little-endian: lo at 2i, hi at 2i+1).
 */
export function int64MinMax(values: BigInt64Array, start: number, end: number, validity: Uint8Array | null, unsigned: boolean): MinMax {
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  let minIndex = -1;
  let maxIndex = -1;
  let minHi = 0, minLo = 0, maxHi = 0, maxLo = 0;
  const flip = unsigned ? 0x80000000 : 0; // xor the sign bit: unsigned order through signed compares
  for (let i = start; i < end; i++) {
    if (validity !== null && !getBit(validity, i)) continue;
    const hi = (words[2 * i + 1]! ^ flip) | 0;
    const lo = words[2 * i]! >>> 0;
    if (minIndex < 0) {
      minIndex = maxIndex = i;
      minHi = maxHi = hi;
      minLo = maxLo = lo;
      continue;
    }
    if (hi < minHi || (hi === minHi && lo < minLo)) { minIndex = i; minHi = hi; minLo = lo; }
    if (hi > maxHi || (hi === maxHi && lo > maxLo)) { maxIndex = i; maxHi = hi; maxLo = lo; }
  }
  if (minIndex < 0) return NONE;
  if (unsigned) {
    const u = new BigUint64Array(values.buffer, values.byteOffset, values.length);
    return { min: u[minIndex]!.toString(), max: u[maxIndex]!.toString() };
  }
  return { min: values[minIndex]!.toString(), max: values[maxIndex]!.toString() };
}

/** Min/max of int32 values (dates, times of day in s or ms) as decimal strings. */
export function int32MinMax(values: Int32Array, start: number, end: number, validity: Uint8Array | null): MinMax {
  let min = 0x7fffffff, max = -0x80000000, seen = false;
  for (let i = start; i < end; i++) {
    if (validity !== null && !getBit(validity, i)) continue;
    const v = values[i]!;
    seen = true;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return seen ? { min: String(min), max: String(max) } : NONE;
}

/** Min/max of wide two's complement integers (decimals on fixed pages of 16 or 32 bytes) as decimal strings. */
export function wideIntMinMax(data: Uint8Array, width: number, start: number, end: number, validity: Uint8Array | null): MinMax {
  const words = wideWords(data);
  const n = width / 4;
  let min: bigint | null = null, max: bigint | null = null;
  for (let i = start; i < end; i++) {
    if (validity !== null && !getBit(validity, i)) continue;
    const v = wordsToBigInt(words, i * n, n);
    if (min === null || v < min) min = v;
    if (max === null || v > max) max = v;
  }
  return min === null ? NONE : { min: min.toString(), max: max!.toString() };
}

/** Exact sum of wide integers (see wideIntMinMax). */
export function wideIntSum(data: Uint8Array, width: number, start: number, end: number, validity: Uint8Array | null): bigint {
  const words = wideWords(data);
  const n = width / 4;
  let sum = 0n;
  for (let i = start; i < end; i++) if (validity === null || getBit(validity, i)) sum += wordsToBigInt(words, i * n, n);
  return sum;
}

function wideWords(data: Uint8Array): Uint32Array {
  const bytes = data.byteOffset % 4 === 0 ? data : data.slice();
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
}

/** Min/max dictionary codes mapped back to strings (the dictionary is sorted, so code order is string order). */
export function codeMinMax(codes: Int32Array, start: number, end: number, validity: Uint8Array | null, dictionary: readonly string[]): MinMax {
  let min = 0x7fffffff;
  let max = -1;
  for (let i = start; i < end; i++) {
    if (validity !== null && !getBit(validity, i)) continue;
    const c = codes[i]!;
    if (c < min) min = c;
    if (c > max) max = c;
  }
  return max < 0 ? NONE : { min: dictionary[min]!, max: dictionary[max]! };
}

export function boolMinMax(bits: Uint8Array, start: number, end: number, validity: Uint8Array | null): MinMax {
  let anyTrue = false;
  let anyFalse = false;
  for (let i = start; i < end && !(anyTrue && anyFalse); i++) {
    if (validity !== null && !getBit(validity, i)) continue;
    if (getBit(bits, i)) anyTrue = true;
    else anyFalse = true;
  }
  if (!anyTrue && !anyFalse) return NONE;
  return { min: !anyFalse, max: anyTrue };
}

function compareBytes(data: Uint8Array, a0: number, a1: number, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) {
    const d = data[a0 + i]! - data[b0 + i]!;
    if (d !== 0) return d;
  }
  return (a1 - a0) - (b1 - b0);
}


export function utf8MinMax(offsets: Int32Array, data: Uint8Array, start: number, end: number, validity: Uint8Array | null): MinMax {
  let minIndex = -1;
  let maxIndex = -1;
  for (let i = start; i < end; i++) {
    if (validity !== null && !getBit(validity, i)) continue;
    if (minIndex < 0) { minIndex = maxIndex = i; continue; }
    const s = offsets[i]!, e = offsets[i + 1]!;
    if (compareBytes(data, s, e, offsets[minIndex]!, offsets[minIndex + 1]!) < 0) minIndex = i;
    else if (compareBytes(data, s, e, offsets[maxIndex]!, offsets[maxIndex + 1]!) > 0) maxIndex = i;
  }
  if (minIndex < 0) return NONE;
  return {
    min: utf8Decoder.decode(data.subarray(offsets[minIndex]!, offsets[minIndex + 1]!)),
    max: utf8Decoder.decode(data.subarray(offsets[maxIndex]!, offsets[maxIndex + 1]!)),
  };
}

/** Merges page stats into column stats with the type's order. */
export function mergeMinMax(a: MinMax, b: MinMax, compare: (x: StatValue, y: StatValue) => number): MinMax {
  if (a.min === null) return b;
  if (b.min === null) return a;
  return {
    min: compare(b.min, a.min) < 0 ? b.min : a.min,
    max: compare(b.max, a.max) > 0 ? b.max : a.max,
  };
}

/** What the min/max statistics of a column type are (field types: their descriptor). */
export function statKindOf(type: ColumnType): 'float' | 'int' | 'bool' | 'string' | 'none' {
  if (type === 'timestamp') return 'int';
  if (type === 'string') return 'string';
  return fieldTypeInfo(type).stat;
}

/** The order of stat values of one column type. */
export function statComparator(type: ColumnType): (x: StatValue, y: StatValue) => number {
  switch (statKindOf(type)) {
    case 'float': return (x, y) => ((x as number) < (y as number) ? -1 : (x as number) > (y as number) ? 1 : Object.is(x, -0) && Object.is(y, 0) ? -1 : Object.is(x, 0) && Object.is(y, -0) ? 1 : 0);
    case 'int': return (x, y) => {
      const a = BigInt(x as string), b = BigInt(y as string);
      return a < b ? -1 : a > b ? 1 : 0;
    };
    case 'bool': return (x, y) => Number(x) - Number(y);
    default: return (x, y) => compareStrings(x as string, y as string);
  }
}

/** Min/max of rows [start, end) of values (a page's, or a chunk-wide column's) of a column type. */
export function valuesMinMax(values: PageValues, start: number, end: number, validity: Uint8Array | null, type: ColumnType, dictionary?: readonly string[]): MinMax {
  switch (values.kind) {
    case 'f64': return float64MinMax(values.values, start, end, validity);
    case 'i64': return int64MinMax(values.values, start, end, validity, type === 'uint64');
    case 'i32': return type === 'string' ? codeMinMax(values.values, start, end, validity, dictionary ?? []) : int32MinMax(values.values, start, end, validity);
    case 'bool': return boolMinMax(values.bits, start, end, validity);
    case 'utf8': return statKindOf(type) === 'none' ? NONE : utf8MinMax(values.offsets, values.data, start, end, validity);
    case 'fixed': return statKindOf(type) === 'none' ? NONE : wideIntMinMax(values.data, values.width, start, end, validity);
  }
}

/** Stats of one decoded page (page-local values and validity), as the writer computes them. */
export function pageValuesMinMax(values: PageValues, validity: Uint8Array | null, type: ColumnType, dictionary?: readonly string[]): MinMax {
  return valuesMinMax(values, 0, pageValueCount(values), validity, type, dictionary);
}

/** Stat equality, min/max and sum alike (Object.is: -0 and 0 differ, NaN equals NaN). */
export function sameStat(a: StatValue | undefined, b: StatValue | undefined): boolean {
  return Object.is(a, b);
}

/**
 * The page `sum` statistic (numeric field columns; absent in chunks written before it):
 * float64 pages sum their non-null values in row order over four interleaved lanes
 * ((l0 + l1) + (l2 + l3), the order the query engine's own sum loop uses), NaN and ±Infinity
 * included as IEEE addition has them; 64-bit integer pages sum exactly (a decimal string, it
 * may exceed 64 bits). A page with no valid value sums to 0.
 */
export function float64Sum(values: Float64Array, start: number, end: number, validity: Uint8Array | null): number {
  if (validity === null) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = start;
    for (; i + 3 < end; i += 4) { s0 += values[i]!; s1 += values[i + 1]!; s2 += values[i + 2]!; s3 += values[i + 3]!; }
    for (; i < end; i++) s0 += values[i]!;
    return (s0 + s1) + (s2 + s3);
  }
  let sum = 0;
  for (let i = start; i < end; i++) if (((validity[i >>> 3]! >>> (i & 7)) & 1) === 1) sum += values[i]!;
  return sum;
}

/** NaN among the non-null float64 values of rows [start, end) (the page `nanCount` statistic). */
export function float64NanCount(values: Float64Array, start: number, end: number, validity: Uint8Array | null): number {
  let nan = 0;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    if (v !== v && (validity === null || ((validity[i >>> 3]! >>> (i & 7)) & 1) === 1)) nan++;
  }
  return nan;
}

/** Rows summed per piece: 2^21 × 2^32 stays inside float64's exact 2^53. */
const EXACT_SUM_PIECE = 1 << 21;

/** Exact sum of int64 (or uint64) values: 32-bit halves summed apart in float64, one BigInt per piece. */
export function int64Sum(values: BigInt64Array, start: number, end: number, validity: Uint8Array | null, unsigned: boolean): bigint {
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  let total = 0n;
  for (let a = start; a < end; a += EXACT_SUM_PIECE) {
    const b = Math.min(end, a + EXACT_SUM_PIECE);
    let hi = 0, lo = 0;
    for (let i = a; i < b; i++) {
      if (validity !== null && ((validity[i >>> 3]! >>> (i & 7)) & 1) === 0) continue;
      hi += unsigned ? words[2 * i + 1]! >>> 0 : words[2 * i + 1]!;
      lo += words[2 * i]! >>> 0;
    }
    if (hi !== 0 || lo !== 0) total += BigInt(hi) * 4294967296n + BigInt(lo);
  }
  return total;
}

/**
 * The sum statistic of a page's values (see float64Sum), undefined for types without one.
 * Integer-backed types with a sum (decimals, durations) sum their stored integers exactly.
 */
export function pageValuesSum(values: PageValues, start: number, end: number, validity: Uint8Array | null, type: ColumnType): number | string | undefined {
  if (type === 'timestamp' || type === 'string' || !fieldTypeInfo(type).summable) return undefined;
  if (values.kind === 'f64') return float64Sum(values.values, start, end, validity);
  if (values.kind === 'i64') return int64Sum(values.values, start, end, validity, type === 'uint64').toString();
  if (values.kind === 'fixed') return wideIntSum(values.data, values.width, start, end, validity).toString();
  return undefined;
}
