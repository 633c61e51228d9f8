import { type Data, type Int64, Type } from 'apache-arrow';

/**
 * Arrow integer columns (Int8…Int64, Uint8…Uint64) into a table's int64, uint64 or float64
 * field: widening is copied, narrowing is checked row by row, and a value the target cannot
 * hold exactly (a negative into uint64, above 2^63 − 1 into int64, an integer a double would
 * round into float64) is reported through `fail` — never wrapped or rounded. Null slots are
 * not checked (their bits are not values).
 */
export type IntTarget = 'int64' | 'uint64' | 'float64';

/** `fail(row, value, why)`: row within the Data; throws. */
export type IntFailure = (row: number, value: bigint | number, why: string) => never;

const INT64_MAX = 2n ** 63n - 1n;
const EXACT_FLOAT_MAX = 2n ** 53n;

/** Whether an Arrow type is an integer column. */
export function isArrowInt(data: Data): boolean {
  return data.type.typeId === Type.Int;
}

function validAt(data: Data, i: number): boolean {
  return data.nullCount === 0 || data.getValid(i);
}

/**
 * The values of an integer Data as `target` (row 0 first; null slots hold whatever the
 * source held, converted without a check). A 64-bit source of the target's own signedness is
 * viewed, not copied.
 */
export function convertInts(data: Data, target: IntTarget, fail: IntFailure): BigInt64Array | BigUint64Array | Float64Array {
  const type = data.type as Int64;
  const n = data.length;
  const wide = type.bitWidth === 64;
  const signed = type.isSigned;
  if (target === 'float64') {
    if (!wide) return Float64Array.from((data.values as Int32Array).subarray(0, n));
    const src = (data.values as BigInt64Array | BigUint64Array).subarray(0, n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      const f = Number(v);
      // |v| ≤ 2^53 is exact; beyond, only values a double holds exactly pass.
      if ((v > EXACT_FLOAT_MAX || v < -EXACT_FLOAT_MAX) && BigInt(f) !== v && validAt(data, i)) fail(i, v, 'is not exactly representable as float64 (above 2^53 a double rounds it)');
      out[i] = f;
    }
    return out;
  }
  if (wide) {
    const src = (data.values as BigInt64Array | BigUint64Array).subarray(0, n);
    if ((target === 'int64') === signed) return src;
    if (target === 'int64') {
      for (let i = 0; i < n; i++) if (src[i]! > INT64_MAX && validAt(data, i)) fail(i, src[i]!, 'is above the int64 maximum 9223372036854775807');
      return new BigInt64Array(src.buffer, src.byteOffset, n);
    }
    for (let i = 0; i < n; i++) if (src[i]! < 0n && validAt(data, i)) fail(i, src[i]!, 'is negative, and uint64 holds 0 … 18446744073709551615');
    return new BigUint64Array(src.buffer, src.byteOffset, n);
  }
  const src = (data.values as Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array).subarray(0, n);
  if (target === 'uint64' && signed) {
    for (let i = 0; i < n; i++) if (src[i]! < 0 && validAt(data, i)) fail(i, src[i]!, 'is negative, and uint64 holds 0 … 18446744073709551615');
  }
  const out = target === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
  for (let i = 0; i < n; i++) { const v = src[i]!; out[i] = BigInt(v < 0 && target === 'uint64' ? 0 : v); }
  return out;
}
