/**
 * The column shapes of the write buffer (write-buffer.ts): typed arrays that grow by
 * doubling, fixed-width values, field columns with a validity byte per row, tag columns of
 * dictionary codes. Shared by the buffer, its sort (series-sort.ts) and its gather
 * (buffer-gather.ts).
 */
import type { FieldSpec } from '../core/types.js';

export type Growable = Float64Array | BigInt64Array | BigUint64Array | Int32Array | Uint8Array;

export function grow<T extends Growable>(array: T, need: number): T {
  if (need <= array.length) return array;
  const next = new (array.constructor as new (n: number) => T)(Math.max(need, array.length * 2));
  (next as { set(a: T): void }).set(array);
  return next;
}

/**
 * Values of a fixed-width field type other than float64/int64/uint64 (dates, times,
 * durations, timestamps, decimals, fixed-size binary): `width` bytes per row, in the type's
 * Arrow layout.
 */
export class FixedValues {
  constructor(readonly width: number, public bytes: Uint8Array) {}

  grow(capacity: number): void {
    if (capacity * this.width <= this.bytes.length) return;
    const next = new Uint8Array(capacity * this.width);
    next.set(this.bytes);
    this.bytes = next;
  }

  /** Rows in `index` order, in place (through one temporary copy). */
  permute(index: Int32Array): void {
    const w = this.width;
    const copy = this.bytes.slice(0, index.length * w);
    for (let i = 0; i < index.length; i++) this.bytes.set(copy.subarray(index[i]! * w, (index[i]! + 1) * w), i * w);
  }
}

/** A field column being buffered: values plus a validity byte per row (1 = present). Binary values are Uint8Arrays. */
export interface FieldColumn {
  spec: FieldSpec;
  values: Float64Array | BigInt64Array | BigUint64Array | Uint8Array | string[] | Uint8Array[] | FixedValues;
  valid: Uint8Array;
  nulls: number;
}

/**
 * A tag column: codes into an insertion-ordered dictionary. A null tag (no value: a row
 * without it, a null slot of an Arrow column) is an entry of its own, distinct from "": its
 * series is a series of its own, sorted before every value, and written as a null slot.
 */
export interface TagColumn {
  name: string;
  codes: Int32Array;
  dictionary: Map<string | null, number>;
  values: (string | null)[];
}
