// `x[i]!` in this file indexes within the bounds of its loop, on per-value paths where an
// assert() per value would cost (noUncheckedIndexedAccess); invariants elsewhere use assert()/at().
import { openAsBlob } from 'node:fs';
import { open } from 'node:fs/promises';
import {
  Binary, BinaryView, type Data, type DataType, Dictionary, Field, LargeBinary, makeData, Message, RecordBatch, Schema, Struct, Type, Utf8, Vector,
} from 'apache-arrow';
import { InputError } from '../errors.js';
import { invalidUtf8RowOf } from '../table/field-convert.js';
import { checkArrowMessage } from './arrow-check.js';
import { at as atIndex } from './at.js';

/**
 * Parquet footers mended before parquet-wasm (arrow-rs) sees them, for what it would misread
 * or die on (a panic in WebAssembly):
 *
 * - A column chunk whose `dictionary_page_offset` is present and 0. parquet-mr 1.8 wrote that
 *   when the dictionary page was the first page (at `data_page_offset`), and some writers set
 *   it to 0 to mean "no dictionary"; arrow-rs takes it as an offset and reads the chunk from
 *   byte 0 of the file, while parquet-mr, Arrow C++ (PARQUET-1402) and DuckDB treat 0 as
 *   absent. So do we: the field is dropped, and the chunk is read from `data_page_offset`,
 *   where the page reader meets the dictionary page (if any) first, as those readers do.
 * - String columns (BYTE_ARRAY annotated UTF8, ENUM or JSON, top-level): arrow-rs validates
 *   their UTF-8 and panics on a bad byte. Their annotation is dropped (and an embedded Arrow
 *   schema's Utf8 made Binary), so they arrive as bytes; restoreStrings checks each value and
 *   makes them strings again, or names the file, row and column of the first bad one.
 *
 * The footer is the Thrift compact encoding of FileMetaData (parquet.thrift); it is decoded
 * into a generic tree (field ids and values, unknown fields kept), changed, and encoded
 * again. parquet-wasm is then given a Blob of the file's bytes up to the footer (still on
 * disk) followed by the mended footer.
 */

/** Footers larger than this are not mended (parquet-wasm reads them as they are). */
export const PARQUET_FOOTER_MEND_BYTES_MAX = 64 * 1024 * 1024;

export interface ParquetInput {
  /** The file for parquet-wasm: itself, or its data with a mended footer (see above). */
  blob: Blob;
  /** Top-level string columns read as bytes (restoreStrings makes them strings). */
  strings: ReadonlySet<string>;
}

export async function parquetInput(file: string): Promise<ParquetInput> {
  const blob = await openAsBlob(file);
  const mended = await mendedFooter(file, blob.size).catch(() => null);
  if (mended === null) return { blob, strings: new Set() };
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(mended.footer.length, 0);
  tail.write('PAR1', 4, 'latin1');
  return { blob: new Blob([blob.slice(0, mended.start), mended.footer, tail]), strings: mended.strings };
}

/**
 * The columns of `batch` (rows from `rowStart` of `file`) that parquetInput had read as bytes,
 * made strings again (Utf8, the same buffers) once every value is checked to be UTF-8.
 */
export function restoreStrings(file: string, batch: RecordBatch, strings: ReadonlySet<string>, rowStart: number): RecordBatch {
  if (strings.size === 0) return batch;
  let changed = false;
  const fields: Field[] = [];
  const children = batch.data.children.map((data, k) => {
    const field = atIndex(batch.schema.fields, k);
    if (!strings.has(field.name)) { fields.push(field); return data; }
    const text = asStrings(data as Data);
    if (text === data) { fields.push(field); return data; }
    const bad = invalidUtf8RowOf(text);
    if (bad >= 0) {
      throw new InputError(`${file}: row ${rowStart + bad + 1} (column ${field.name}): invalid UTF-8 in a string column`, file, rowStart + bad + 1, field.name);
    }
    changed = true;
    fields.push(new Field(field.name, text.type, field.nullable, field.metadata));
    return text;
  });
  if (!changed) return batch;
  return new RecordBatch(new Schema(fields, batch.schema.metadata), makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
}

/** Binary data (or a dictionary of it) relabelled as Utf8: the same buffers. */
function asStrings(data: Data): Data {
  const type = data.type as DataType;
  if (type.typeId === Type.Binary) return data.clone(new Utf8() as never) as Data;
  if (type.typeId === Type.Dictionary && (type as Dictionary).dictionary.typeId === Type.Binary) {
    const dict = type as Dictionary;
    const values = new Vector((data.dictionary as Vector).data.map((d) => d.clone(new Utf8() as never) as Data));
    return makeData({
      type: new Dictionary(new Utf8(), dict.indices, dict.id, dict.isOrdered), offset: data.offset, length: data.length,
      nullCount: data.nullCount, nullBitmap: data.nullBitmap, data: data.values, dictionary: values,
    } as never) as Data;
  }
  return data;
}

/** The mended footer, where the original one starts and the string columns read as bytes; null when there is nothing to mend. */
async function mendedFooter(file: string, size: number): Promise<{ start: number; footer: Uint8Array; strings: ReadonlySet<string> } | null> {
  if (size < 12) return null;
  const handle = await open(file, 'r');
  try {
    const tail = Buffer.alloc(8);
    await handle.read(tail, 0, 8, size - 8);
    if (tail.toString('latin1', 4, 8) !== 'PAR1') return null;
    const length = tail.readUInt32LE(0);
    if (length > PARQUET_FOOTER_MEND_BYTES_MAX || length > size - 12) return null;
    const footer = Buffer.alloc(length);
    await handle.read(footer, 0, length, size - 8 - length);
    const mended = mendFooter(footer);
    return mended === null ? null : { start: size - 8 - length, ...mended };
  } finally {
    await handle.close();
  }
}

/**
 * The footer with every zero `dictionary_page_offset` dropped and top-level string columns
 * made plain bytes (see above), with those columns' names; null when there is nothing to
 * mend (or the footer does not decode).
 */
export function mendFooter(footer: Uint8Array): { footer: Uint8Array; strings: ReadonlySet<string> } | null {
  let tree: ThriftStruct;
  try {
    tree = new CompactReader(footer).struct();
  } catch {
    return null;
  }
  const strings = readStringsAsBytes(tree);
  let mended = strings.size > 0;
  // FileMetaData.4 row_groups → RowGroup.1 columns → ColumnChunk.3 meta_data → ColumnMetaData.11 dictionary_page_offset
  for (const group of listOf(fieldOf(tree, 4))) {
    for (const chunk of listOf(fieldOf(group as ThriftStruct, 1))) {
      const meta = fieldOf(chunk as ThriftStruct, 3);
      if (!Array.isArray(meta)) continue;
      const at = meta.findIndex((f) => f.id === 11 && f.type === I64 && f.value === 0n);
      if (at >= 0) { meta.splice(at, 1); mended = true; }
    }
  }
  return mended ? { footer: new CompactWriter().struct(tree).finish(), strings } : null;
}

/** ConvertedType UTF8, ENUM, JSON and LogicalType STRING, ENUM, JSON (parquet.thrift): text in BYTE_ARRAY. */
const STRING_CONVERTED: ReadonlySet<number> = new Set([0, 4, 19]);
const STRING_LOGICAL: ReadonlySet<number> = new Set([1, 4, 12]);
const BYTE_ARRAY = 6;

/**
 * Drops the string annotation of every top-level BYTE_ARRAY string column (SchemaElement 6
 * converted_type, 10 logicalType) and, in an embedded Arrow schema (key ARROW:schema), makes
 * those fields Binary; returns their names. Changes nothing (and returns none) when the
 * embedded schema cannot be read or names such a column with another type.
 */
function readStringsAsBytes(tree: ThriftStruct): Set<string> {
  const elements = listOf(fieldOf(tree, 2)) as ThriftStruct[];
  const names = new Map<string, ThriftStruct>();
  const children = (el: ThriftStruct) => Number(fieldOf(el, 5) ?? 0);
  const skip = (at: number): number => {
    let next = at + 1;
    for (let c = children(atIndex(elements, at)); c > 0; c--) next = skip(next);
    return next;
  };
  if (elements.length === 0) return new Set();
  for (let at = 1, c = children(atIndex(elements, 0)); c > 0 && at < elements.length; c--) {
    const el = atIndex(elements, at);
    const converted = fieldOf(el, 6);
    const logical = fieldOf(el, 10);
    const logicalId = Array.isArray(logical) ? logical[0]?.id : undefined;
    const text = (typeof converted === 'number' && STRING_CONVERTED.has(converted)) || (logicalId !== undefined && STRING_LOGICAL.has(logicalId));
    if (children(el) === 0 && fieldOf(el, 1) === BYTE_ARRAY && text) {
      const name = fieldOf(el, 4);
      if (name instanceof Uint8Array) names.set(new TextDecoder().decode(name), el);
    }
    at = skip(at);
  }
  if (names.size === 0) return new Set();
  const metadata = listOf(fieldOf(tree, 5)) as ThriftStruct[];
  const arrow = metadata.find((kv) => { const key = fieldOf(kv, 1); return key instanceof Uint8Array && new TextDecoder().decode(key) === 'ARROW:schema'; });
  if (arrow !== undefined) {
    const value = arrow.find((f) => f.id === 2);
    const patched = value?.value instanceof Uint8Array ? binaryArrowSchema(value.value, new Set(names.keys())) : null;
    if (patched === null) return new Set();
    value!.value = patched;
  }
  for (const el of names.values()) {
    for (let i = el.length - 1; i >= 0; i--) if (el[i]!.id === 6 || el[i]!.id === 10) el.splice(i, 1);
  }
  return new Set(names.keys());
}

/** An embedded Arrow schema (base64 of an IPC Schema message) with the named Utf8 fields made Binary; null if it cannot be. */
function binaryArrowSchema(base64: Uint8Array, names: ReadonlySet<string>): Uint8Array | null {
  try {
    let bytes: Uint8Array = Buffer.from(new TextDecoder().decode(base64), 'base64');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length >= 8 && view.getUint32(0, true) === 0xffffffff) bytes = bytes.subarray(8, 8 + view.getInt32(4, true));
    else if (bytes.length >= 4) bytes = bytes.subarray(4, 4 + view.getInt32(0, true));
    // apache-arrow trusts the flatbuffer's vector lengths (a damaged byte can make it loop
    // billions of times): the structure is checked first, as for .arrow files.
    checkArrowMessage(bytes, 'ARROW:schema');
    const schema = Message.decode(bytes).header() as Schema;
    if (!(schema instanceof Schema)) return null;
    let ok = true;
    const fields = schema.fields.map((f) => {
      if (!names.has(f.name)) return f;
      const type = asBytesType(f.type);
      if (type === null) ok = false;
      return new Field(f.name, type ?? f.type, f.nullable, f.metadata);
    });
    if (!ok) return null;
    const message = Message.encode(Message.from(new Schema(fields, schema.metadata)));
    const framed = Buffer.alloc(8 + message.length);
    framed.writeUInt32LE(0xffffffff, 0);
    framed.writeInt32LE(message.length, 4);
    framed.set(message, 8);
    return new TextEncoder().encode(framed.toString('base64'));
  } catch {
    return null;
  }
}

function asBytesType(type: DataType): DataType | null {
  switch (type.typeId) {
    case Type.Utf8: case Type.Binary: return new Binary();
    case Type.LargeUtf8: case Type.LargeBinary: return new LargeBinary();
    case Type.Utf8View: case Type.BinaryView: return new BinaryView();
    case Type.Dictionary: {
      const dict = type as Dictionary;
      const value = asBytesType(dict.dictionary);
      return value === null ? null : new Dictionary(value, dict.indices, dict.id, dict.isOrdered);
    }
    default: return null;
  }
}

// ---------------------------------------------------------------------------------------
// Thrift compact protocol, generically: a struct is its fields in order, each with its id,
// wire type and value; encoding a decoded tree gives the same bytes back.

export const BOOL_TRUE = 1, BOOL_FALSE = 2, BYTE = 3, I16 = 4, I32 = 5, I64 = 6, DOUBLE = 7, BINARY = 8, LIST = 9, SET = 10, MAP = 11, STRUCT = 12;

export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftStruct | ThriftList | ThriftMap;
export interface ThriftField { id: number; type: number; value: ThriftValue }
export type ThriftStruct = ThriftField[];
export interface ThriftList { elementType: number; items: ThriftValue[] }
export interface ThriftMap { keyType: number; valueType: number; entries: [ThriftValue, ThriftValue][] }

/** A Thrift compact struct (a Parquet footer) as a generic tree. */
export function decodeThrift(bytes: Uint8Array): ThriftStruct {
  return new CompactReader(bytes).struct();
}

/** A generic tree (decodeThrift) as Thrift compact bytes. */
export function encodeThrift(struct: ThriftStruct): Uint8Array {
  return new CompactWriter().struct(struct).finish();
}

/** Nesting deeper than this is not a Parquet footer. */
const DEPTH_MAX = 64;

function fieldOf(struct: ThriftStruct, id: number): ThriftValue | undefined {
  return struct.find((f) => f.id === id)?.value;
}

function listOf(value: ThriftValue | undefined): ThriftValue[] {
  return value !== undefined && typeof value === 'object' && 'items' in value ? value.items : [];
}

class CompactReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private byte(): number {
    if (this.at >= this.bytes.length) throw new RangeError('thrift: truncated');
    return this.bytes[this.at++]!;
  }

  private varint(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new RangeError('thrift: varint too long');
  }

  private zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  private size(): number {
    const n = Number(this.varint());
    if (n > this.bytes.length - this.at) throw new RangeError('thrift: size beyond the footer');
    return n;
  }

  struct(depth = 0): ThriftStruct {
    if (depth > DEPTH_MAX) throw new RangeError('thrift: nested too deep');
    const fields: ThriftStruct = [];
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return fields;
      const type = header & 0x0f;
      const delta = header >> 4;
      const id = delta !== 0 ? last + delta : Number(this.zigzag());
      last = id;
      fields.push({ id, type, value: type === BOOL_TRUE ? true : type === BOOL_FALSE ? false : this.value(type, depth) });
    }
  }

  private value(type: number, depth: number): ThriftValue {
    switch (type) {
      case BYTE: return this.byte();
      case I16: case I32: return Number(this.zigzag());
      case I64: return this.zigzag();
      case DOUBLE: { const v = this.bytes.slice(this.at, this.at + 8); if (v.length !== 8) throw new RangeError('thrift: truncated'); this.at += 8; return v; }
      case BINARY: { const n = this.size(); const v = this.bytes.slice(this.at, this.at + n); this.at += n; return v; }
      case LIST: case SET: {
        const header = this.byte();
        const elementType = header & 0x0f;
        const n = header >> 4 === 15 ? this.size() : header >> 4;
        const items: ThriftValue[] = [];
        for (let i = 0; i < n; i++) items.push(elementType === BOOL_TRUE || elementType === BOOL_FALSE ? this.byte() === BOOL_TRUE : this.value(elementType, depth + 1));
        return { elementType, items };
      }
      case MAP: {
        const n = this.size();
        if (n === 0) return { keyType: 0, valueType: 0, entries: [] };
        const header = this.byte();
        const keyType = header >> 4, valueType = header & 0x0f;
        const entries: [ThriftValue, ThriftValue][] = [];
        for (let i = 0; i < n; i++) entries.push([this.value(keyType, depth + 1), this.value(valueType, depth + 1)]);
        return { keyType, valueType, entries };
      }
      case STRUCT: return this.struct(depth + 1);
      default: throw new RangeError(`thrift: unknown type ${type}`);
    }
  }
}

class CompactWriter {
  private out: number[] = [];

  finish(): Uint8Array {
    return Uint8Array.from(this.out);
  }

  private varint(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if (v === 0n) { this.out.push(b); return; }
      this.out.push(b | 0x80);
    }
  }

  private zigzag(value: bigint): void {
    this.varint((value << 1n) ^ (value >> 63n));
  }

  struct(fields: ThriftStruct): this {
    let last = 0;
    for (const f of fields) {
      const type = f.type === BOOL_TRUE || f.type === BOOL_FALSE ? (f.value ? BOOL_TRUE : BOOL_FALSE) : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.out.push((delta << 4) | type);
      else { this.out.push(type); this.zigzag(BigInt(f.id)); }
      last = f.id;
      if (type !== BOOL_TRUE && type !== BOOL_FALSE) this.value(type, f.value);
    }
    this.out.push(0);
    return this;
  }

  private value(type: number, value: ThriftValue): void {
    switch (type) {
      case BYTE: this.out.push(value as number); return;
      case I16: case I32: this.zigzag(BigInt(value as number)); return;
      case I64: this.zigzag(value as bigint); return;
      case DOUBLE: for (const b of value as Uint8Array) this.out.push(b); return;
      case BINARY: {
        const bytes = value as Uint8Array;
        this.varint(BigInt(bytes.length));
        for (const b of bytes) this.out.push(b);
        return;
      }
      case LIST: case SET: {
        const list = value as ThriftList;
        const n = list.items.length;
        if (n < 15) this.out.push((n << 4) | list.elementType);
        else { this.out.push(0xf0 | list.elementType); this.varint(BigInt(n)); }
        for (const item of list.items) {
          if (list.elementType === BOOL_TRUE || list.elementType === BOOL_FALSE) this.out.push(item ? BOOL_TRUE : BOOL_FALSE);
          else this.value(list.elementType, item);
        }
        return;
      }
      case MAP: {
        const map = value as ThriftMap;
        this.varint(BigInt(map.entries.length));
        if (map.entries.length === 0) return;
        this.out.push((map.keyType << 4) | map.valueType);
        for (const [k, v] of map.entries) { this.value(map.keyType, k); this.value(map.valueType, v); }
        return;
      }
      case STRUCT: this.struct(value as ThriftStruct); return;
      default: throw new RangeError(`thrift: unknown type ${type}`);
    }
  }
}
