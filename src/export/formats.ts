import { extname } from 'node:path';
import { makeData, RecordBatch, RecordBatchFileWriter, Struct, Type, Utf8, vectorFromArray, type Data, type Dictionary, type Schema, type Vector } from 'apache-arrow';
import { UsageError } from '../errors.js';
import { OUTPUT_FORMATS, Sink, writeBatches, type OutputFormat, type TimeZoneFormat } from '../cli/output.js';
import { ROW_GROUP_ROWS_MAX, type ParquetCodec } from './options.js';

/**
 * The formats rows can be written in (scan, query, export), on top of the CLI's text
 * formats (src/cli/output.ts): `json` (one document, an array of row objects), `arrow-file`
 * (Arrow IPC file, random access) and `parquet`. `arrow` is the Arrow IPC stream.
 */
export const WRITE_FORMATS = [...OUTPUT_FORMATS, 'json', 'arrow-file', 'parquet'] as const;
export type WriteFormat = (typeof WRITE_FORMATS)[number];

/** `--out`'s extension → format. */
const FORMAT_OF_EXTENSION = new Map<string, WriteFormat>([
  ['.parquet', 'parquet'], ['.csv', 'csv'], ['.arrow', 'arrow-file'], ['.arrows', 'arrow'],
  ['.jsonl', 'jsonl'], ['.ndjson', 'jsonl'], ['.json', 'json'],
]);

/** The format a file name implies, or undefined for an unknown extension. */
export function formatOfPath(path: string): WriteFormat | undefined {
  return FORMAT_OF_EXTENSION.get(extname(path).toLowerCase());
}

/**
 * `--format` when given; else the format `--out`'s extension names; else `fallback`. An
 * `--out` whose extension names no format needs `--format`; a `--format` that contradicts a
 * known extension is an error (a CSV in `x.parquet` helps no one).
 */
export function pickFormat(format: string | undefined, out: string | undefined, fallback: WriteFormat): WriteFormat {
  const implied = out === undefined ? undefined : formatOfPath(out);
  if (format !== undefined) {
    if (!(WRITE_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${WRITE_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    if (implied !== undefined && implied !== format) throw new UsageError(`--format ${format} contradicts --out ${out} (${implied}); drop one`);
    return format as WriteFormat;
  }
  if (implied !== undefined) return implied;
  if (out !== undefined && extname(out) !== '') {
    throw new UsageError(`--out ${out}: unknown extension ${JSON.stringify(extname(out))} (known: ${[...FORMAT_OF_EXTENSION.keys()].join(' ')}); name the format with --format`);
  }
  return fallback;
}

/** jsonl lines → the elements of one JSON array (same cells, same conventions). */
class JsonArraySink extends Sink {
  private first = true;
  constructor(private readonly inner: Sink) { super(); }
  override async write(text: string | Uint8Array): Promise<void> {
    const lines = String(text).split('\n').filter((l) => l.length > 0);
    if (lines.length === 0) return;
    const prefix = this.first ? '[\n' : ',\n';
    this.first = false;
    await this.inner.write(prefix + lines.join(',\n'));
  }
  async close(): Promise<void> {
    await this.inner.write(this.first ? '[]\n' : '\n]\n');
  }
}

/**
 * One dictionary per tag column across a whole Arrow IPC file: the file format cannot replace
 * a dictionary (each scanned chunk brings its own), only extend it, so each batch's codes are
 * remapped into a dictionary that grows by delta chunks (apache-arrow writes the new chunk of
 * a dictionary vector whose earlier chunks it has seen as a delta batch).
 */
class DictionaryUnifier {
  private readonly columns = new Map<string, { index: Map<string, number>; vector?: Vector<Utf8> }>();

  apply(batch: RecordBatch): RecordBatch {
    if (!batch.schema.fields.some((f) => f.type.typeId === Type.Dictionary)) return batch;
    const children = batch.schema.fields.map((f, j) => {
      const data = batch.data.children[j]! as Data<Dictionary>;
      if (f.type.typeId !== Type.Dictionary) return data;
      let col = this.columns.get(f.name);
      if (!col) this.columns.set(f.name, (col = { index: new Map() }));
      const dict = data.dictionary!;
      const remap = new Int32Array(dict.length);
      const added: string[] = [];
      for (let d = 0; d < dict.length; d++) {
        const value = String(dict.get(d));
        let at = col.index.get(value);
        if (at === undefined) { at = col.index.size; col.index.set(value, at); added.push(value); }
        remap[d] = at;
      }
      if (added.length > 0 || !col.vector) {
        const chunk = vectorFromArray(added, new Utf8());
        col.vector = col.vector ? col.vector.concat(chunk) : chunk;
      }
      const codes = data.values as Int32Array; // already sliced to the batch
      const out = new Int32Array(data.length);
      for (let i = 0; i < data.length; i++) out[i] = remap[codes[i]!] ?? 0;
      return makeData({ type: f.type, length: data.length, nullCount: data.nullCount, nullBitmap: data.nullBitmap, data: out, dictionary: col.vector } as never);
    });
    return new RecordBatch(batch.schema, makeData({ type: new Struct(batch.schema.fields), length: batch.numRows, nullCount: 0, children }));
  }
}

export interface WriteOptions {
  /** Parquet codec (default zstd). */
  codec?: ParquetCodec;
  /** The rows' schema, for formats that describe empty results (Parquet, Arrow file). */
  schema?: () => Promise<Schema>;
  /** Text formats (table, csv, jsonl, json): print times in this zone (binary formats keep UTC instants). */
  timeZone?: TimeZoneFormat;
}

/**
 * Streams batches to `sink` in `format`; returns the number of rows. Parquet is written in
 * row groups of ROW_GROUP_ROWS_MAX rows, Arrow files batch by batch (the footer at the end).
 */
export async function writeOutput(batches: AsyncIterable<RecordBatch>, format: WriteFormat, sink: Sink, options: WriteOptions = {}): Promise<number> {
  if ((OUTPUT_FORMATS as readonly string[]).includes(format)) return writeBatches(batches, format as OutputFormat, sink, options.schema ? await options.schema() : undefined, { timeZone: options.timeZone });
  let rows = 0;
  if (format === 'json') {
    const json = new JsonArraySink(sink);
    rows = await writeBatches(batches, 'jsonl', json, undefined, { timeZone: options.timeZone });
    await json.close();
    return rows;
  }
  if (format === 'arrow-file') {
    // The writer's byte queue is drained as it fills (its toUint8Array(true) would return
    // everything written so far, every time). Files may not replace dictionaries, so each
    // tag's dictionary grows by deltas (Arrow streams go through the CLI's writeBatches).
    const writer = new RecordBatchFileWriter();
    const unifier = new DictionaryUnifier();
    const pump = (async () => { for await (const bytes of writer) await sink.write(bytes); })();
    try {
      let any = false;
      for await (const batch of batches) {
        writer.write(unifier.apply(batch));
        rows += batch.numRows;
        any = true;
      }
      if (!any) {
        if (!options.schema) throw new UsageError('an empty result has no schema to write as Arrow IPC');
        writer.reset(undefined, await options.schema());
      }
    } finally {
      writer.finish();
      await pump;
    }
    return rows;
  }
  // parquet: parquet-wasm loads on first use
  const { ParquetFileWriter } = await import('./parquet-writer.js');
  const writer = new ParquetFileWriter(sink, options.codec ? { codec: options.codec } : {});
  let pending: RecordBatch[] = [];
  let pendingRows = 0;
  let schema: Schema | undefined;
  for await (const batch of batches) {
    schema ??= batch.schema;
    pending.push(batch);
    pendingRows += batch.numRows;
    rows += batch.numRows;
    if (pendingRows >= ROW_GROUP_ROWS_MAX) {
      await writer.writeRowGroup(schema, pending);
      pending = [];
      pendingRows = 0;
    }
  }
  if (pendingRows > 0 || writer.rowGroupCount === 0) {
    schema ??= options.schema ? await options.schema() : undefined;
    if (!schema) throw new UsageError('an empty result has no schema to write as Parquet');
    await writer.writeRowGroup(schema, pending);
  }
  await writer.finish({ 'quiver.rows': String(rows) });
  return rows;
}
