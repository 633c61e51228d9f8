import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import {
  Bool, type Data, type DataType, Dictionary, Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct,
  Timestamp, TimeUnit, Uint64, Utf8, vectorFromArray,
} from 'apache-arrow';
import type { ByteSource } from '../../src/format/index.js';

export { rng } from '../../bench/rng.js';

export function seedFromEnv(name: string): number {
  const fromEnv = process.env['QUIVER_SEED'];
  const seed = fromEnv !== undefined ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
  console.log(`# ${name}: seed ${seed} (rerun with QUIVER_SEED=${seed})`);
  return seed;
}

export type ColumnSpec =
  | { name: string; kind: 'time'; values: bigint[]; unit?: TimeUnit; timezone?: string }
  | { name: string; kind: 'tag'; values: (string | null)[]; plain?: boolean }
  | { name: string; kind: 'float64'; values: (number | null)[] }
  | { name: string; kind: 'int64'; values: (bigint | null)[] }
  | { name: string; kind: 'uint64'; values: (bigint | null)[] }
  | { name: string; kind: 'bool'; values: (boolean | null)[] }
  | { name: string; kind: 'utf8'; values: (string | null)[] };

function arrowType(spec: ColumnSpec): DataType {
  switch (spec.kind) {
    case 'time': return new Timestamp(spec.unit ?? TimeUnit.MILLISECOND, spec.timezone ?? null);
    case 'tag': return spec.plain === true ? new Utf8() : new Dictionary(new Utf8(), new Int32());
    case 'float64': return new Float64();
    case 'int64': return new Int64();
    case 'uint64': return new Uint64();
    case 'bool': return new Bool();
    case 'utf8': return new Utf8();
  }
}

function columnData(spec: ColumnSpec, start: number, end: number): Data {
  const type = arrowType(spec);
  if (spec.kind === 'time') {
    return makeData({ type: type as Timestamp, length: end - start, data: BigInt64Array.from(spec.values.slice(start, end)) });
  }
  if (spec.kind === 'uint64') {
    // vectorFromArray routes bigint through Int64 builders; build Uint64 by hand.
    const values = spec.values.slice(start, end);
    const data = new BigUint64Array(values.length);
    const bitmap = new Uint8Array((values.length + 7) >> 3);
    let nulls = 0;
    values.forEach((v, i) => {
      if (v === null) nulls++;
      else { data[i] = v; bitmap[i >> 3]! |= 1 << (i & 7); }
    });
    return makeData({ type: type as Uint64, length: values.length, nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : undefined, data } as never);
  }
  const vector = vectorFromArray(spec.values.slice(start, end) as never[], type as never) as unknown as { data: Data[] };
  if (vector.data.length !== 1) throw new Error(`vectorFromArray gave ${vector.data.length} chunks`);
  return vector.data[0]!;
}

/** One batch per [start, end) split; every field nullable except the time column. */
export function makeBatches(specs: ColumnSpec[], splits?: number[]): RecordBatch[] {
  const rows = specs[0]!.values.length;
  const bounds = splits ?? [0, rows];
  const fields = specs.map((s) => new Field(s.name, arrowType(s), s.kind !== 'time'));
  const schema = new Schema(fields);
  const batches: RecordBatch[] = [];
  for (let b = 0; b + 1 < bounds.length; b++) {
    const start = bounds[b]!;
    const end = bounds[b + 1]!;
    const children = specs.map((s) => columnData(s, start, end));
    batches.push(new RecordBatch(schema, makeData({ type: new Struct(fields), length: end - start, nullCount: 0, children })));
  }
  return batches;
}

/** Values of a column of a batch as plain JS values (time: bigint from the int64 buffer). */
export function columnValues(batch: RecordBatch, name: string): unknown[] {
  const vector = batch.getChild(name);
  if (vector === null) throw new Error(`no column ${name}`);
  if (vector.type instanceof Timestamp) {
    const out: bigint[] = [];
    for (const d of vector.data) for (let i = 0; i < d.length; i++) out.push((d.values as BigInt64Array)[d.offset + i]!);
    return out;
  }
  const out: unknown[] = [];
  for (let i = 0; i < vector.length; i++) out.push(vector.get(i));
  return out;
}

/** Wraps a source and counts requests and bytes (readRanges counts one request per call). */
export function countingSource(inner: ByteSource): ByteSource & { reads: number; bytes: number; calls: string[] } {
  const counted = {
    name: inner.name,
    reads: 0,
    bytes: 0,
    calls: [] as string[],
    size: () => inner.size(),
    async read(offset: number, length: number) {
      counted.reads++;
      counted.bytes += length;
      counted.calls.push(`read ${offset}+${length}`);
      return inner.read(offset, length);
    },
    async readRanges(ranges: readonly { offset: number; length: number }[]) {
      counted.reads++;
      counted.calls.push(`readRanges ${ranges.map((r) => `${r.offset}+${r.length}`).join(',')}`);
      for (const r of ranges) counted.bytes += r.length;
      return inner.readRanges!(ranges);
    },
  };
  return counted;
}

/** Rebuilds the file with a new footer (plain JSON) and a valid footer CRC. */
export function withFooter(bytes: Uint8Array, edit: (footer: Record<string, any>) => void, rawJson?: string | Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerBytes = view.getUint32(bytes.length - 16, true);
  const footerOffset = bytes.length - 16 - footerBytes;
  let json = rawJson;
  if (json === undefined) {
    const region = bytes.subarray(footerOffset, footerOffset + footerBytes);
    assert.equal(region[0], 0, 'test helper expects a plain JSON footer');
    const footer = JSON.parse(Buffer.from(region.subarray(8)).toString('utf8'));
    edit(footer);
    json = JSON.stringify(footer);
  }
  const text = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  const region = new Uint8Array(8 + text.length);
  new DataView(region.buffer).setUint32(4, text.length, true);
  region.set(text, 8);
  const out = new Uint8Array(footerOffset + region.length + 16);
  out.set(bytes.subarray(0, footerOffset));
  out.set(region, footerOffset);
  const trailer = new DataView(out.buffer, footerOffset + region.length);
  trailer.setUint32(0, region.length, true);
  trailer.setUint32(4, crc32(region), true);
  trailer.setUint32(8, 1, true);
  out.set([0x51, 0x56, 0x52, 0x31], out.length - 4);
  return out;
}
