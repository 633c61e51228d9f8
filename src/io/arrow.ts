import { createReadStream } from 'node:fs';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';
import { registerArrowCodecs } from '../format/index.js';
import { InputError } from '../errors.js';
import type { TableSchema } from '../table/types.js';
import { ArrowBatchConverter, tableSchemaOfArrow, type ArrowImportOptions } from './arrow-batch.js';

/** Bytes per read from an Arrow IPC file. */
const ARROW_READ_BYTES = 1 << 20;

/**
 * Arrow IPC files and streams (with LZ4_FRAME / ZSTD body compression, through the codecs
 * registered into apache-arrow), batch by batch from a read stream: memory holds one
 * record batch. Batches are converted to the table's shape by ArrowBatchConverter.
 */
export async function* readArrowFile(file: string, counter: { bytes: number }, options: ArrowImportOptions, table?: TableSchema): AsyncGenerator<{ batch: RecordBatch; rowStart: number; schema?: TableSchema }> {
  registerArrowCodecs();
  const stream = createReadStream(file, { highWaterMark: ARROW_READ_BYTES });
  stream.on('data', (c: string | Buffer) => { counter.bytes += c.length; });
  let rowStart = 0;
  let schema: TableSchema | undefined = table;
  let converter: ArrowBatchConverter | undefined;
  try {
    const reader = await RecordBatchReader.from(stream);
    for await (const batch of reader as AsyncIterable<RecordBatch>) {
      if (!schema) schema = tableSchemaOfArrow(file, batch.schema, options);
      converter ??= new ArrowBatchConverter(file, schema, options);
      yield { batch: converter.convert(batch, rowStart), rowStart, schema };
      rowStart += batch.numRows;
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${file}: not a readable Arrow IPC file or stream (after ${rowStart} rows): ${(error as Error).message}`, file);
  } finally {
    stream.destroy();
  }
}
