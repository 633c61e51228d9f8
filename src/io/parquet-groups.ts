import { statSync } from 'node:fs';
import type * as ParquetWasmTypes from 'parquet-wasm/node';
import { makeData, RecordBatch, Struct, Type, Vector, type Data, type Field } from 'apache-arrow';
import { parseRecordBatch } from 'arrow-js-ffi';
import { InputError } from '../errors.js';
import type { TableSchema } from '../core/types.js';
import { parquetInput, restoreStrings } from './parquet-footer.js';
import { ArrowBatchConverter, checkArrowSchema, tableSchemaOfArrow, type ArrowImportOptions } from './arrow-batch.js';
import { isWasmTrap, parquetWasm, type ParquetWasm } from './parquet-wasm.js';
import { at as atIndex } from './at.js';

/** Rows per Arrow batch decoded from a row group (bounds memory inside large row groups). */
export const PARQUET_BATCH_ROWS = 32_768;

/** One decoded and converted batch of a row group. */
export interface ParquetBatch {
  /** In the table's shape (ArrowBatchConverter). */
  batch: RecordBatch;
  rowStart: number;
  schema: TableSchema;
  /** File bytes this piece accounts for: on a group's last batch its compressed size (the first group's also the footer), else 0. */
  bytes: number;
}

/**
 * The row groups of a Parquet file decoded by parquet-wasm (arrow-rs in WebAssembly) from a
 * file-backed Blob, one batch of PARQUET_BATCH_ROWS at a time, and converted to the table's
 * shape: memory holds the footer, a row group's compressed bytes and one decoded batch
 * (parquet-wasm's stream() is as fast as read() of a whole group here, with ~60 MB less
 * peak RSS on the cpu export). Batches are read through the Arrow C data interface
 * (arrow-js-ffi) as views of WebAssembly memory and converted there, so only what the
 * converted batch keeps is copied out (decoding alone, copying every buffer: 0.74–0.79 s and
 * 213 MB peak RSS on the cpu export, against 0.86–0.90 s and 250 MB through an IPC stream).
 * No table logic beyond conversion, so it runs inline or in a worker thread.
 */
export async function* parquetBatches(file: string, options: ArrowImportOptions, table?: TableSchema): AsyncGenerator<ParquetBatch> {
  const size = statSync(file).size;
  // A panic (trap) in the decoder kills this instance: the next file gets a new one.
  const wasm = parquetWasm();
  let parquet: ParquetWasmTypes.ParquetFile;
  const input = await parquetInput(file);
  try {
    parquet = await wasm.settle(wasm.module.ParquetFile.fromFile(input.blob));
  } catch (error) {
    throw new InputError(`${file}: not a readable Parquet file (${size} bytes): ${describe(error)}`, file);
  }
  let schema = table;
  let converter: ArrowBatchConverter | undefined;
  let rowStart = 0;
  try {
    const { groups, sizes } = decoding(wasm, file, size, 'its footer', () => {
      const metadata = parquet.metadata();
      const groups = metadata.numRowGroups();
      return { groups, sizes: Array.from({ length: groups }, (_, g) => metadata.rowGroup(g).compressedSize()) };
    });
    const footerBytes = Math.max(0, size - sizes.reduce((a, b) => a + b, 0));
    for (let g = 0; g < groups; g++) {
      // One batch of the row group at a time (the group's compressed bytes are read once);
      // the last batch of a group carries the group's byte count for progress.
      let held: ParquetBatch | undefined;
      const at = `row group ${g} of ${groups}`;
      const stream = await decoding(wasm, file, size, at, () => parquet.stream({ rowGroups: [g], batchSize: PARQUET_BATCH_ROWS }));
      const batches = (stream as unknown as AsyncIterable<ParquetWasmTypes.RecordBatch>)[Symbol.asyncIterator]();
      for (;;) {
        const next = await decoding(wasm, file, size, at, () => batches.next());
        if (next.done) break;
        // Converted while the batch is still viewed in WebAssembly memory (no call into it
        // runs meanwhile): tag strings become codes without a copy of their bytes; only
        // buffers the converted batch still views are copied out, before the batch is freed.
        const ffi = decoding(wasm, file, size, at, () => next.value.intoFFI());
        let batch: RecordBatch;
        let rows: number;
        try {
          const memory = wasm.module.wasmMemory().buffer;
          let decoded = decoding(wasm, file, size, at, () => parseRecordBatch(memory, ffi.arrayAddr(), ffi.schemaAddr(), false));
          // A column no table can hold is refused by name before its values are copied (arrow-js-ffi cannot copy intervals).
          checkArrowSchema(file, decoded.schema);
          // arrow-js-ffi 0.4's views are right for these types only (its view of a decimal
          // column, say, holds one word per value): anything else is parsed as copies.
          if (!decoded.schema.fields.every((f: Field) => VIEWABLE_TYPES.has(f.type.typeId))) {
            decoded = decoding(wasm, file, size, at, () => parseRecordBatch(memory, ffi.arrayAddr(), ffi.schemaAddr(), true));
          }
          // String columns read as bytes (parquet-footer.ts) are strings again, every value checked.
          decoded = restoreStrings(file, decoded, input.strings, rowStart);
          schema ??= tableSchemaOfArrow(file, decoded.schema, options);
          converter ??= new ArrowBatchConverter(file, schema, options);
          batch = ownBuffers(converter.convert(decoded, rowStart), memory);
          rows = decoded.numRows;
        } finally {
          if (!wasm.dead) ffi.free();
        }
        if (held) yield held;
        held = { batch, rowStart, schema, bytes: 0 };
        rowStart += rows;
      }
      const bytes = atIndex(sizes, g) + (g === 0 ? footerBytes : 0);
      if (held) yield { ...held, bytes };
    }
  } finally {
    if (!wasm.dead) parquet.free();
  }
}

/** Column types whose arrow-js-ffi views (copy = false) are read correctly. */
const VIEWABLE_TYPES: ReadonlySet<Type> = new Set([Type.Int, Type.Float, Type.Timestamp, Type.Bool, Type.Utf8, Type.LargeUtf8, Type.Binary, Type.LargeBinary]);

/** The batch with every buffer that lies in `memory` replaced by a copy. */
function ownBuffers(batch: RecordBatch, memory: ArrayBuffer): RecordBatch {
  const children = batch.data.children.map((d) => ownData(d, memory));
  if (children.every((d, k) => d === batch.data.children[k])) return batch;
  return new RecordBatch(batch.schema, makeData({ type: new Struct(batch.schema.fields), length: batch.numRows, nullCount: 0, children }));
}

/** `d` itself when no buffer of it (or of its dictionary) lies in `memory`, else a copy that owns them. */
function ownData(d: Data, memory: ArrayBuffer): Data {
  const inMemory = (view: ArrayBufferView | undefined) => view !== undefined && view.buffer === memory;
  const dictionary = d.dictionary && d.dictionary.data.some((x) => inMemory(x.values) || inMemory(x.valueOffsets) || inMemory(x.nullBitmap))
    ? new Vector(d.dictionary.data.map((x) => ownData(x, memory))) : d.dictionary;
  if (dictionary === d.dictionary && !inMemory(d.values) && !inMemory(d.valueOffsets) && !inMemory(d.nullBitmap)) return d;
  const own = <T extends ArrayBufferView | undefined>(view: T): T => (inMemory(view) ? (view as unknown as Uint8Array).slice() as unknown as T : view);
  return makeData({
    type: d.type, offset: d.offset, length: d.length, nullCount: d.nullCount,
    nullBitmap: own(d.nullBitmap), valueOffsets: own(d.valueOffsets), data: own(d.values), ...(dictionary ? { dictionary } : {}),
  } as never) as Data;
}

/**
 * Runs one step of decoding (`at`: the footer or a row group); a failure, a panic of the
 * decoder included, becomes an InputError naming the file and the place.
 */
function decoding<T>(wasm: ParquetWasm, file: string, size: number, at: string, step: () => T): T {
  const fail = (error: unknown): never => {
    throw new InputError(`${file}: not a readable Parquet file (${size} bytes): ${at} does not decode: ${describe(error)}`, file);
  };
  try {
    const out = wasm.call(step);
    return (out instanceof Promise ? wasm.settle(out).catch(fail) : out) as T;
  } catch (error) {
    return fail(error);
  }
}

/** An error of the decoder in one line; a trap says it was a panic. */
function describe(error: unknown): string {
  if (isWasmTrap(error)) return `the Parquet decoder panicked (${error.message})`;
  return String((error as Error)?.message ?? error);
}
