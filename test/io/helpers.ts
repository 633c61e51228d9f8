import { Type, type RecordBatch } from 'apache-arrow';
import { readCsv, type CsvOptions } from '../../src/io/csv/reader.js';
import type { TableSchema } from '../../src/core/types.js';

export { rng } from '../../bench/rng.js';

/** The bytes cut into pieces of the given sizes (the last piece takes the rest). */
export async function* pieces(bytes: Uint8Array, sizes: Iterable<number>): AsyncGenerator<Buffer> {
  let at = 0;
  for (const size of sizes) {
    if (at >= bytes.length) return;
    yield Buffer.from(bytes.subarray(at, at + size));
    at += size;
  }
  if (at < bytes.length) yield Buffer.from(bytes.subarray(at));
}

export function* constant(size: number): Generator<number> {
  for (;;) yield size;
}

export function* randomSizes(random: () => number, max: number): Generator<number> {
  for (;;) yield 1 + Math.floor(random() * max);
}

/**
 * Plain rows of batches: Timestamp as bigint, dictionary tags as strings, nulls as null.
 * Columns are own properties whatever their name (`__proto__` too).
 */
export function rowsOf(batches: RecordBatch[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const batch of batches) {
    for (let i = 0; i < batch.numRows; i++) {
      const row: Record<string, unknown> = {};
      const set = (name: string, value: unknown) => Object.defineProperty(row, name, { value, enumerable: true, writable: true, configurable: true });
      batch.schema.fields.forEach((f, k) => {
        const child = batch.getChildAt(k)!;
        if (!child.isValid(i)) { set(f.name, null); return; }
        const v = child.get(i);
        if (f.type.typeId === Type.Timestamp) set(f.name, (child.data[0]!.values as BigInt64Array)[i]);
        else set(f.name, v);
      });
      out.push(row);
    }
  }
  return out;
}

export interface CsvResult { rows: Record<string, unknown>[]; schema: TableSchema; batches: RecordBatch[]; rowStarts: number[] }

/** Reads CSV text (or bytes) fed in the given piece sizes. */
export async function readText(text: string | Uint8Array, options: CsvOptions = {}, sizes: Iterable<number> = [], table?: TableSchema, file = 'in.csv'): Promise<CsvResult> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const batches: RecordBatch[] = [];
  const rowStarts: number[] = [];
  let schema: TableSchema | undefined;
  for await (const b of readCsv(pieces(bytes, sizes), file, options, table)) {
    batches.push(b.batch);
    rowStarts.push(b.rowStart);
    schema = b.plan.schema;
  }
  return { rows: rowsOf(batches), schema: schema!, batches, rowStarts };
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

export const NS = 1_000_000_000n;
export const isoNs = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
