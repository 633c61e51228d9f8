import { open } from 'node:fs/promises';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';
import { registerArrowCodecs } from '../format/index.js';
import { InputError } from '../errors.js';
import type { TableSchema } from '../core/types.js';
import { inTableShape, type ArrowImportOptions } from './arrow-batch.js';
import { arrowIpcFormat, checkArrowIpc } from './arrow-check.js';

/**
 * apache-arrow trusts the lengths and offsets in the file: damaged or random bytes make it
 * seek to negative positions, step backwards (a negative length moves its position back) or
 * ask for bytes past the end, and its read loop retries a read that returns nothing forever.
 * So the handle it reads through refuses every read outside the file, a read that makes no
 * progress, and reading more than this many times the file's bytes (plus
 * ARROW_READ_SLACK_BYTES): a well-formed file or stream is read about once (footer, schema
 * and each batch), while a reader going round in circles keeps reading.
 */
export const ARROW_READ_BYTES_PER_FILE_BYTE_MAX = 2;
export const ARROW_READ_SLACK_BYTES = 64 * 1024;

/** Why a read of the file was refused (becomes the InputError's detail). */
class RefusedRead extends Error {}

/**
 * Arrow IPC files and streams (with LZ4_FRAME / ZSTD body compression, through the codecs
 * registered into apache-arrow), batch by batch through a file handle: the file format is
 * read by random access (footer, then one batch at a time), the stream format in order,
 * so memory holds one record batch. Batches are converted by ArrowBatchConverter. Bytes
 * that are not Arrow IPC end in `FILE: not a readable Arrow IPC file (…)` (or stream).
 */
export async function* readArrowFile(file: string, counter: { bytes: number }, options: ArrowImportOptions, table?: TableSchema): AsyncGenerator<{ batch: RecordBatch; rowStart: number; schema?: TableSchema }> {
  registerArrowCodecs();
  const handle = await open(file, 'r');
  const size = (await handle.stat()).size;
  const budget = ARROW_READ_BYTES_PER_FILE_BYTE_MAX * size + ARROW_READ_SLACK_BYTES;
  let readBytes = 0;
  // apache-arrow takes anything with fd, stat() and read(): bounded and counted here.
  const bounded = {
    fd: handle.fd,
    stat: async () => ({ size }),
    close: async () => {},
    read: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
      if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 0 || position + length > size) {
        throw new RefusedRead(`the reader asked for ${length} bytes at offset ${position}, outside the file's ${size} bytes`);
      }
      if ((readBytes += length) > budget) throw new RefusedRead(`the reader went back over the same bytes (${readBytes} bytes read of a ${size}-byte file)`);
      const r = await handle.read(buffer, offset, length, position);
      if (r.bytesRead === 0 && length > 0) throw new RefusedRead(`the file ended at ${position} of ${size} bytes (did it change while being read?)`);
      counter.bytes += r.bytesRead;
      return r;
    },
  };
  let rowStart = 0;
  let format = 'file or stream';
  try {
    const kind = await arrowIpcFormat(handle, size);
    format = kind;
    await checkArrowIpc(handle, size, kind);
    const reader = (await RecordBatchReader.from(bounded as never)) as RecordBatchReader;
    for await (const b of inTableShape(file, reader as AsyncIterable<RecordBatch>, options, table)) {
      yield b;
      rowStart += b.batch.numRows;
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${file}: not a readable Arrow IPC ${format} (${size} bytes, after ${rowStart} rows): ${(error as Error).message}`, file);
  } finally {
    await handle.close();
  }
}
