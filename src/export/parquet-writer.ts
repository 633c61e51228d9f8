import * as parquetWasm from 'parquet-wasm/node';
import { Field, RecordBatch, Schema, Struct, Table as ArrowTable, Timestamp, TimeUnit as ArrowTimeUnit, Type, makeData, tableToIPC } from 'apache-arrow';
import { InputError, UsageError } from '../errors.js';
import { PARQUET_CODECS, type ParquetCodec } from './options.js';
import { field, readStruct, removeFields, setField, TType, writeStruct, type ThriftList, type ThriftStruct } from './thrift.js';

/**
 * A Parquet file written row group by row group, in bounded memory.
 *
 * parquet-wasm (arrow-rs in WebAssembly) encodes; its streaming writer
 * (`transformParquetStream`) cuts row groups only at a row count, and `writeParquet` takes a
 * whole table. So each row group is encoded on its own by `writeParquet` (a complete little
 * Parquet file in memory), its column chunks are copied to the output as they are, and its
 * footer's row-group entry is kept with every file offset shifted to where the bytes landed;
 * `finish()` writes one footer listing them all (a Thrift FileMetaData, src/export/thrift.ts).
 * Memory holds one row group (its Arrow batches, their IPC copy, the encoded group) and the
 * footers. The page indexes of the little files are not carried over (they are optional).
 */

export { PARQUET_CODECS, type ParquetCodec };

const CODEC_OF: Record<ParquetCodec, parquetWasm.Compression> = {
  zstd: parquetWasm.Compression.ZSTD,
  snappy: parquetWasm.Compression.SNAPPY,
  gzip: parquetWasm.Compression.GZIP,
  lz4: parquetWasm.Compression.LZ4_RAW,
  brotli: parquetWasm.Compression.BROTLI,
  none: parquetWasm.Compression.UNCOMPRESSED,
};

const MAGIC = new TextEncoder().encode('PAR1');
const CREATED_BY = 'quiver 0.1.0 (parquet-wasm 0.8, arrow-rs)';
/** Parquet has no second unit: seconds are written as milliseconds (×1000), which must fit. */
const SECONDS_AS_MS_MAX = 9_223_372_036_854_775n; // ⌊(2^63 − 1) / 1000⌋

/** Where the bytes go: a file, a stream, a buffer for a store put. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
}

export interface ParquetWriterOptions {
  codec?: ParquetCodec;
  /**
   * Timestamps as UTC instants (isAdjustedToUTC = true, Arrow time zone "UTC"): the default.
   * false writes them without a zone (DuckDB then reads nanoseconds as TIMESTAMP_NS, exactly;
   * it reads UTC nanoseconds as TIMESTAMPTZ, which holds microseconds).
   */
  utc?: boolean;
}

// FileMetaData, RowGroup, ColumnChunk and ColumnMetaData field ids (parquet.thrift).
const FMD = { version: 1, schema: 2, numRows: 3, rowGroups: 4, keyValue: 5, createdBy: 6, columnOrders: 7 } as const;
const RG = { columns: 1, numRows: 3, fileOffset: 5, ordinal: 7 } as const;
const CC = { fileOffset: 2, metaData: 3, pageIndexFields: [4, 5, 6, 7] } as const;
const CMD = { totalCompressed: 7, dataPageOffset: 9, indexPageOffset: 10, dictionaryPageOffset: 11, bloomFields: [14, 15] } as const;

function i64(s: ThriftStruct, id: number): bigint | undefined {
  const f = field(s, id);
  return f === undefined ? undefined : BigInt(f.value as bigint | number);
}

function shift(s: ThriftStruct, id: number, delta: bigint): void {
  const f = field(s, id);
  if (f) f.value = BigInt(f.value as bigint) + delta;
}

/**
 * Timestamps are written as UTC instants (isAdjustedToUTC, Arrow time zone "UTC") unless
 * `utc` is false. Parquet has no second unit (arrow-rs would write bare INT64s), so seconds
 * become milliseconds, which must fit in int64.
 */
function zonedBatch(batch: RecordBatch, utc: boolean): RecordBatch {
  let changed = false;
  const zone = utc ? 'UTC' : null;
  const fields: Field[] = [];
  const children = batch.schema.fields.map((f, j) => {
    const data = batch.data.children[j]!;
    if (f.type.typeId !== Type.Timestamp) { fields.push(f); return data; }
    const type = f.type as Timestamp;
    // A timestamp field with a zone of its own (timestamp(unit,zone), docs/types.md) keeps it.
    const target = type.timezone ? type.timezone : zone;
    if (type.unit !== ArrowTimeUnit.SECOND && (type.timezone ?? null) === target) { fields.push(f); return data; }
    changed = true;
    const zoned = new Timestamp(type.unit === ArrowTimeUnit.SECOND ? ArrowTimeUnit.MILLISECOND : type.unit, target);
    fields.push(new Field(f.name, zoned, f.nullable, f.metadata));
    if (type.unit !== ArrowTimeUnit.SECOND) return data.clone(zoned);
    return makeData({ type: zoned, length: data.length, nullCount: data.nullCount, nullBitmap: data.nullBitmap, data: secondsToMs(f.name, data) } as never);
  });
  if (!changed) return batch;
  const schema = new Schema(fields, batch.schema.metadata);
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
}

function secondsToMs(name: string, data: RecordBatch['data']['children'][number]): BigInt64Array {
  const values = data.values as BigInt64Array; // already sliced to the batch
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = values[i]!;
    if (v > SECONDS_AS_MS_MAX || v < -SECONDS_AS_MS_MAX) {
      throw new InputError(`column ${name}: ${v} s cannot be written to Parquet, which has no second unit: as milliseconds it exceeds int64 (±${SECONDS_AS_MS_MAX} s at most)`);
    }
    out[i] = v * 1000n;
  }
  return out;
}

export class ParquetFileWriter {
  private position = 0;
  private rows = 0n;
  private readonly rowGroups: ThriftStruct[] = [];
  private template?: ThriftStruct;
  private schemaBytes?: string;
  private readonly codec: parquetWasm.Compression;
  private readonly utc: boolean;

  constructor(private readonly out: ByteSink, options: ParquetWriterOptions = {}) {
    const codec = options.codec ?? 'zstd';
    if (!(PARQUET_CODECS as readonly string[]).includes(codec)) throw new UsageError(`Parquet codec must be one of ${PARQUET_CODECS.join(', ')}, got ${JSON.stringify(codec)}`);
    this.codec = CODEC_OF[codec];
    this.utc = options.utc ?? true;
  }

  get bytesWritten(): number { return this.position; }
  get rowGroupCount(): number { return this.rowGroups.length; }

  /**
   * Encodes `batches` (all of `schema`) as one row group and writes it. With no rows, only
   * records the schema (a file of no row groups still describes its columns).
   */
  async writeRowGroup(schema: Schema, batches: readonly RecordBatch[]): Promise<void> {
    const rows = batches.reduce((s, b) => s + b.numRows, 0);
    const table = rows > 0 ? new ArrowTable(batches.filter((b) => b.numRows > 0).map((b) => zonedBatch(b, this.utc))) : new ArrowTable(zonedSchema(schema, this.utc));
    const encoded = encodeTable(table, rows, this.codec);
    const footerLength = new DataView(encoded.buffer, encoded.byteOffset + encoded.length - 8, 4).getUint32(0, true);
    const meta = readStruct(encoded.subarray(encoded.length - 8 - footerLength, encoded.length - 8));
    const schemaBytes = Buffer.from(writeStruct({ fields: [field(meta, FMD.schema)!] })).toString('base64');
    if (this.schemaBytes === undefined) { this.template = meta; this.schemaBytes = schemaBytes; }
    else if (schemaBytes !== this.schemaBytes) throw new InputError('Parquet export: a row group\'s schema differs from the file\'s (a column changed type during the export)');
    const groups = (field(meta, FMD.rowGroups)?.value as ThriftList | undefined)?.items as ThriftStruct[] | undefined ?? [];
    if (groups.length === 0) return;
    if (this.position === 0) { await this.out.write(MAGIC); this.position = MAGIC.length; }
    // The column chunks lie between the magic and the page indexes / footer.
    let end = 4n;
    for (const group of groups) {
      for (const chunk of (field(group, RG.columns)!.value as ThriftList).items as ThriftStruct[]) {
        const md = field(chunk, CC.metaData)!.value as ThriftStruct;
        const start = i64(md, CMD.dictionaryPageOffset) ?? i64(md, CMD.dataPageOffset)!;
        const stop = start + i64(md, CMD.totalCompressed)!;
        if (stop > end) end = stop;
      }
    }
    const delta = BigInt(this.position) - 4n;
    for (const group of groups) {
      for (const chunk of (field(group, RG.columns)!.value as ThriftList).items as ThriftStruct[]) {
        shift(chunk, CC.fileOffset, delta);
        removeFields(chunk, CC.pageIndexFields);
        const md = field(chunk, CC.metaData)!.value as ThriftStruct;
        for (const id of [CMD.dataPageOffset, CMD.indexPageOffset, CMD.dictionaryPageOffset]) shift(md, id, delta);
        removeFields(md, CMD.bloomFields);
      }
      shift(group, RG.fileOffset, delta);
      setField(group, RG.ordinal, TType.I16, this.rowGroups.length);
      this.rows += i64(group, RG.numRows) ?? 0n;
      this.rowGroups.push(group);
    }
    const body = encoded.subarray(4, Number(end));
    await this.out.write(body);
    this.position += body.length;
  }

  /** Writes the footer (with `metadata` as key-value pairs after the Arrow schema) and returns the file's size. */
  async finish(metadata: Record<string, string>): Promise<{ bytes: number; rows: bigint; rowGroups: number }> {
    if (!this.template) throw new InputError('Parquet export: no schema was written');
    if (this.position === 0) { await this.out.write(MAGIC); this.position = MAGIC.length; }
    const enc = new TextEncoder();
    const kv = (field(this.template, FMD.keyValue)?.value as ThriftList | undefined)?.items.slice() ?? [];
    for (const [key, value] of Object.entries(metadata)) {
      kv.push({ fields: [{ id: 1, type: TType.BINARY, value: enc.encode(key) }, { id: 2, type: TType.BINARY, value: enc.encode(value) }] });
    }
    const meta: ThriftStruct = { fields: this.template.fields.filter((f) => f.id !== FMD.rowGroups && f.id !== FMD.numRows && f.id !== FMD.keyValue && f.id !== FMD.createdBy) };
    setField(meta, FMD.numRows, TType.I64, this.rows);
    setField(meta, FMD.rowGroups, TType.LIST, { elemType: TType.STRUCT, items: this.rowGroups });
    setField(meta, FMD.keyValue, TType.LIST, { elemType: TType.STRUCT, items: kv });
    setField(meta, FMD.createdBy, TType.BINARY, enc.encode(CREATED_BY));
    const footer = writeStruct(meta);
    const tail = new Uint8Array(footer.length + 8);
    tail.set(footer);
    new DataView(tail.buffer).setUint32(footer.length, footer.length, true);
    tail.set(MAGIC, footer.length + 4);
    await this.out.write(tail);
    this.position += tail.length;
    return { bytes: this.position, rows: this.rows, rowGroups: this.rowGroups.length };
  }
}

function zonedSchema(schema: Schema, utc: boolean): Schema {
  return new Schema(schema.fields.map((f) => {
    if (f.type.typeId !== Type.Timestamp) return f;
    const { unit, timezone } = f.type as Timestamp;
    return new Field(f.name, new Timestamp(unit === ArrowTimeUnit.SECOND ? ArrowTimeUnit.MILLISECOND : unit, timezone ? timezone : utc ? 'UTC' : null), f.nullable, f.metadata);
  }), schema.metadata);
}

/** One Arrow table → one complete Parquet file of (at most) one row group, in memory. */
function encodeTable(table: ArrowTable, rows: number, codec: parquetWasm.Compression): Uint8Array {
  const wasmTable = parquetWasm.Table.fromIPCStream(tableToIPC(table, 'stream'));
  const props = new parquetWasm.WriterPropertiesBuilder()
    .setCompression(codec)
    .setMaxRowGroupSize(Math.max(rows, 1))
    .setStatisticsEnabled(parquetWasm.EnabledStatistics.Chunk)
    .build();
  return parquetWasm.writeParquet(wasmTable, props);
}
