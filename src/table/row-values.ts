/**
 * Plain-row values into the write buffer (appendRows): each JS value stored exactly in its
 * field column or refused with the row, the column and the value; the text a string column
 * stores for a JS value; a new field's type from its first value.
 */
import type { FieldType } from '../format/types.js';
import { fieldData, fieldTypeInfo, valueFromJs } from '../format/field-types.js';
import { SchemaError } from '../errors.js';
import type { FieldColumn, FixedValues } from './buffer-columns.js';

const INT_RANGE = { int64: [-(2n ** 63n), 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 1n] } as const;

/** A JS value for an error message: strings quoted, bigints with their n, others as JSON would show them. */
export function shownValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return `a Date (${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/**
 * One row value into a field column, exactly or not at all: integers out of the column's
 * 64-bit range, numbers that are not integers (or beyond 2^53, where a double is no longer
 * the integer meant: pass a bigint), bigints a double would round: each an error naming the
 * row, the column and the value.
 */
export function setValue(column: FieldColumn, at: number, v: unknown, row: number): void {
  const name = column.spec.name;
  const type = column.spec.type;
  const bad = (why: string): never => { throw new SchemaError(`row ${row}: column ${name} is ${type}: ${shownValue(v)} ${why}`); };
  switch (type) {
    case 'float64':
      if (typeof v === 'number') (column.values as Float64Array)[at] = v;
      else if (typeof v === 'bigint') {
        const f = Number(v);
        if (!Number.isFinite(f) || BigInt(f) !== v) bad('is not exactly representable as float64 (above 2^53 a double rounds it)');
        (column.values as Float64Array)[at] = f;
      } else bad('is not a number');
      return;
    case 'int64': case 'uint64': {
      let b: bigint;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'number') {
        if (!Number.isInteger(v)) bad('is not an integer');
        if (!Number.isSafeInteger(v)) bad('is beyond 2^53, where a number no longer holds every integer: pass a bigint');
        b = BigInt(v);
      } else return bad('is not an integer (a bigint, or a number up to 2^53)');
      const [lo, hi] = INT_RANGE[type];
      if (b < lo || b > hi) bad(`is outside the ${type} range ${lo} … ${hi}`);
      (column.values as BigInt64Array | BigUint64Array)[at] = b;
      return;
    }
    case 'bool':
      if (typeof v !== 'boolean') bad('is not a boolean');
      (column.values as Uint8Array)[at] = v ? 1 : 0;
      return;
    case 'utf8': {
      const text = stringOf(v);
      if (text === null) bad('is not a string (numbers, bigints and booleans are stored as their text)');
      const lone = loneSurrogateAt(text!);
      if (lone >= 0) bad(loneSurrogateText(lone));
      (column.values as string[])[at] = text!;
      return;
    }
    default: {
      const info = fieldTypeInfo(column.spec.type);
      const value = valueFromJs(info, v);
      if (value === undefined) throw new SchemaError(`row ${row}: column ${name} is ${column.spec.type}, expected ${info.expected}, got ${typeof v} ${JSON.stringify(v instanceof Uint8Array ? `${v.length} bytes` : String(v))}`);
      if (Array.isArray(column.values)) (column.values as Uint8Array[])[at] = (value as Uint8Array).slice();
      else {
        const fixed = column.values as FixedValues;
        const one = fieldData(info, [value]);
        const src = one.values as ArrayBufferView;
        fixed.bytes.set(new Uint8Array(src.buffer, src.byteOffset, fixed.width), at * fixed.width);
      }
      return;
    }
  }
}

/**
 * The text a string column (tag or utf8 field) stores for a JS value: strings as they are;
 * numbers, bigints and booleans as their decimal text (-0 as "-0", so it stays distinct from
 * 0); null for anything else (objects, arrays, functions, symbols), which callers refuse.
 */
export function stringOf(v: unknown): string | null {
  switch (typeof v) {
    case 'string': return v;
    case 'number': return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint': case 'boolean': return String(v);
    default: return null;
  }
}

const isWellFormed = (String.prototype as unknown as { isWellFormed(this: string): boolean }).isWellFormed;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The index of a string's first lone UTF-16 surrogate, or -1. UTF-8 cannot encode one (the
 * encoder would store U+FFFD in its place): a string value holding one is refused.
 */
export function loneSurrogateAt(text: string): number {
  return isWellFormed.call(text) ? -1 : text.search(LONE_SURROGATE);
}

/** Why a string with a lone surrogate at `index` is refused. */
export function loneSurrogateText(index: number): string {
  return `holds a lone UTF-16 surrogate at index ${index}, which UTF-8 cannot store (it would become U+FFFD)`;
}

export function jsFieldType(v: unknown, name: string, row: number): FieldType {
  if (v instanceof Uint8Array) return 'binary';
  switch (typeof v) {
    case 'number': return 'float64';
    case 'bigint': return 'int64';
    case 'boolean': return 'bool';
    case 'string': return 'utf8';
    default: throw new SchemaError(`row ${row}: column ${name} has a value of type ${typeof v}; fields take numbers, bigints, booleans, strings or bytes (Uint8Array) (other types: create the field with its type)`);
  }
}
