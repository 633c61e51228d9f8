import { createReadStream } from 'node:fs';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';
import { registerArrowCodecs } from '../format/index.js';
import { InputError } from '../errors.js';
import { TIME_UNIT_OF, fieldTypeOfArrow } from '../table/arrow-schema.js';
import type { TableSchema } from '../table/types.js';
import { Type, type Timestamp } from 'apache-arrow';

const TIME_NAMES = ['time', 'timestamp', 'ts', 'datetime', '_time'];

/**
 * Arrow IPC files and streams (with LZ4_FRAME / ZSTD body compression, through the codecs
 * registered into apache-arrow), batch by batch. A new table takes the first Timestamp
 * column (or `time`) as time, string columns as tags (or `tags`), the rest as fields.
 */
export async function* readArrowFile(file: string, counter: { bytes: number }, options: { time?: string; tags?: string[] }, table?: TableSchema): AsyncGenerator<{ batch: RecordBatch; rowStart: number; schema?: TableSchema }> {
  registerArrowCodecs();
  // Progress is counted per batch from the stream position: a 'data' listener would put the
  // stream in flowing mode and race the reader for the bytes.
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  const bytesBefore = counter.bytes;
  let reader;
  try {
    reader = await RecordBatchReader.from(stream);
  } catch (error) {
    throw new InputError(`${file}: not a readable Arrow IPC file or stream: ${(error as Error).message}`, file);
  }
  let rowStart = 0;
  let schema: TableSchema | undefined = table;
  for await (const batch of reader as AsyncIterable<RecordBatch>) {
    schema ??= arrowTableSchema(file, batch, options);
    counter.bytes = bytesBefore + stream.bytesRead;
    yield { batch, rowStart, schema };
    rowStart += batch.numRows;
  }
}

function arrowTableSchema(file: string, batch: RecordBatch, options: { time?: string; tags?: string[] }): TableSchema {
  const fields = batch.schema.fields;
  const time = fields.find((f) => f.name === options.time) ?? fields.find((f) => f.type.typeId === Type.Timestamp) ?? fields.find((f) => TIME_NAMES.includes(f.name.toLowerCase()));
  if (!time) throw new InputError(`${file}: no time column (a Timestamp column, or name one with --time)`, file);
  const timeUnit = time.type.typeId === Type.Timestamp ? TIME_UNIT_OF[(time.type as Timestamp).unit]! : 'ns';
  const tags = options.tags ?? fields.filter((f) => f !== time && (f.type.typeId === Type.Dictionary || f.type.typeId === Type.Utf8)).map((f) => f.name);
  const out: TableSchema = { time: time.name, timeUnit, tags, fields: [] };
  for (const f of fields) {
    if (f === time || tags.includes(f.name)) continue;
    const type = fieldTypeOfArrow(f.type);
    if (!type) throw new InputError(`${file}: column ${f.name} has Arrow type ${f.type}; a table holds float64, int64, uint64, bool and utf8 fields`, file, undefined, f.name);
    out.fields.push({ name: f.name, type, nullable: true });
  }
  return out;
}
