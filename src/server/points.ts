/**
 * A point as one line of line protocol reads (parseLine: the parser's tests and tools; the
 * server's write path takes lines into columns instead, line-columns.ts), the errors of
 * refused points, and Utf8 Arrow data from strings.
 */
import { type Data, makeData, Utf8 } from 'apache-arrow';

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
export function utf8Data(strings: readonly string[], valid?: Uint8Array, nullCount = 0): Data {
  const n = strings.length;
  const offsets = new Int32Array(n + 1);
  let bytes = 0;
  for (let i = 0; i < n; i++) { bytes += Buffer.byteLength(strings[i]!); offsets[i + 1] = bytes; }
  const data = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < n; i++) data.write(strings[i]!, offsets[i]!, 'utf8');
  return makeData({ type: new Utf8(), length: n, nullCount, nullBitmap: nullCount > 0 ? valid : undefined, valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, bytes) });
}
