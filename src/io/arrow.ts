import { open } from 'node:fs/promises';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';
import { registerArrowCodecs } from '../format/index.js';
import { InputError } from '../errors.js';
import type { TableSchema } from '../table/types.js';
import { ArrowBatchConverter, tableSchemaOfArrow, type ArrowImportOptions } from './arrow-batch.js';

/**
 * Arrow IPC files and streams (with LZ4_FRAME / ZSTD body compression, through the codecs
 * registered into apache-arrow), batch by batch through a file handle: the file format is
 * read by random access (footer, then one batch at a time), the stream format in order,
 * so memory holds one record batch. Batches are converted by ArrowBatchConverter.
 */
export async function* readArrowFile(file: string, counter: { bytes: number }, options: ArrowImportOptions, table?: TableSchema): AsyncGenerator<{ batch: RecordBatch; rowStart: number; schema?: TableSchema }> {
  registerArrowCodecs();
  const handle = await open(file, 'r');
  // apache-arrow takes anything with fd, stat() and read(): count the bytes it reads.
  const counting = {
    fd: handle.fd,
    stat: () => handle.stat(),
    close: async () => {},
    read: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
      const r = await handle.read(buffer, offset, length, position);
      counter.bytes += r.bytesRead;
      return r;
    },
  };
  let rowStart = 0;
  let schema: TableSchema | undefined = table;
  let converter: ArrowBatchConverter | undefined;
  try {
    const reader = await RecordBatchReader.from(counting as never);
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
    await handle.close();
  }
}
