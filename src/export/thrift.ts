import { InputError } from '../errors.js';

/**
 * A generic Thrift compact-protocol codec, enough to read a Parquet footer (FileMetaData),
 * change a few fields and write it back: structs decode into their fields in order, with
 * their wire types, so unknown fields survive a round trip byte for byte in meaning.
 */
export const enum TType {
  TRUE = 1, FALSE = 2, BYTE = 3, I16 = 4, I32 = 5, I64 = 6, DOUBLE = 7, BINARY = 8, LIST = 9, SET = 10, MAP = 11, STRUCT = 12,
}

export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftList | ThriftMap | ThriftStruct;
export interface ThriftList { elemType: TType; items: ThriftValue[] }
export interface ThriftMap { keyType: TType; valueType: TType; entries: [ThriftValue, ThriftValue][] }
export interface ThriftField { id: number; type: TType; value: ThriftValue }
export interface ThriftStruct { fields: ThriftField[] }

/** Nesting deeper than this is not a Parquet footer. */
const DEPTH_MAX = 64;

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw new InputError('Parquet footer: truncated Thrift data');
    return this.bytes[this.pos++]!;
  }
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new InputError('Parquet footer: varint too long');
  }
  zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }
  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.bytes.length) throw new InputError('Parquet footer: truncated Thrift data');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function readValue(r: Reader, type: TType, depth: number): ThriftValue {
  if (depth > DEPTH_MAX) throw new InputError('Parquet footer: Thrift nesting too deep');
  switch (type) {
    case TType.TRUE: return true;
    case TType.FALSE: return false;
    case TType.BYTE: return r.byte();
    case TType.I16: case TType.I32: return Number(r.zigzag());
    case TType.I64: return r.zigzag();
    case TType.DOUBLE: return new DataView(r.take(8).slice().buffer).getFloat64(0, true);
    case TType.BINARY: return r.take(Number(r.varint())).slice(); // a copy: footers outlive the file bytes
    case TType.LIST: case TType.SET: {
      const head = r.byte();
      let size = head >> 4;
      if (size === 15) size = Number(r.varint());
      const elemType = (head & 0x0f) as TType;
      const items: ThriftValue[] = [];
      for (let i = 0; i < size; i++) items.push(elemType === TType.TRUE || elemType === TType.FALSE ? r.byte() === 1 : readValue(r, elemType, depth + 1));
      return { elemType, items };
    }
    case TType.MAP: {
      const size = Number(r.varint());
      if (size === 0) return { keyType: TType.BYTE, valueType: TType.BYTE, entries: [] };
      const kinds = r.byte();
      const keyType = (kinds >> 4) as TType;
      const valueType = (kinds & 0x0f) as TType;
      const entries: [ThriftValue, ThriftValue][] = [];
      for (let i = 0; i < size; i++) entries.push([readValue(r, keyType, depth + 1), readValue(r, valueType, depth + 1)]);
      return { keyType, valueType, entries };
    }
    case TType.STRUCT: return readStructAt(r, depth + 1);
    default: throw new InputError(`Parquet footer: unknown Thrift type ${type as number}`);
  }
}

function readStructAt(r: Reader, depth: number): ThriftStruct {
  const fields: ThriftField[] = [];
  let last = 0;
  for (;;) {
    const head = r.byte();
    if (head === 0) return { fields };
    const type = (head & 0x0f) as TType;
    const delta = head >> 4;
    const id = delta === 0 ? Number(r.zigzag()) : last + delta;
    last = id;
    fields.push({ id, type, value: readValue(r, type, depth) });
  }
}

/** Decodes one struct from `bytes` (a whole Parquet FileMetaData, say). */
export function readStruct(bytes: Uint8Array): ThriftStruct {
  return readStructAt(new Reader(bytes), 0);
}

class Writer {
  private buf = new Uint8Array(4096);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  byte(b: number): void { this.room(1); this.buf[this.length++] = b; }
  varint(v: bigint): void {
    do {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      this.byte(v === 0n ? b : b | 0x80);
    } while (v !== 0n);
  }
  zigzag(v: bigint): void { this.varint(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))); }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.length); this.length += b.length; }
  result(): Uint8Array { return this.buf.slice(0, this.length); }
}

function writeValue(w: Writer, type: TType, value: ThriftValue): void {
  switch (type) {
    case TType.TRUE: case TType.FALSE: return; // carried by the field header
    case TType.BYTE: w.byte(value as number); return;
    case TType.I16: case TType.I32: w.zigzag(BigInt(value as number)); return;
    case TType.I64: w.zigzag(value as bigint); return;
    case TType.DOUBLE: { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, value as number, true); w.bytes(b); return; }
    case TType.BINARY: { const b = value as Uint8Array; w.varint(BigInt(b.length)); w.bytes(b); return; }
    case TType.LIST: case TType.SET: {
      const list = value as ThriftList;
      const n = list.items.length;
      if (n < 15) w.byte((n << 4) | list.elemType);
      else { w.byte(0xf0 | list.elemType); w.varint(BigInt(n)); }
      for (const item of list.items) {
        if (list.elemType === TType.TRUE || list.elemType === TType.FALSE) w.byte(item ? 1 : 2);
        else writeValue(w, list.elemType, item);
      }
      return;
    }
    case TType.MAP: {
      const map = value as ThriftMap;
      w.varint(BigInt(map.entries.length));
      if (map.entries.length === 0) return;
      w.byte((map.keyType << 4) | map.valueType);
      for (const [k, v] of map.entries) { writeValue(w, map.keyType, k); writeValue(w, map.valueType, v); }
      return;
    }
    case TType.STRUCT: writeStructTo(w, value as ThriftStruct); return;
  }
}

function writeStructTo(w: Writer, s: ThriftStruct): void {
  let last = 0;
  for (const f of [...s.fields].sort((a, b) => a.id - b.id)) {
    const type = f.type === TType.TRUE || f.type === TType.FALSE ? (f.value ? TType.TRUE : TType.FALSE) : f.type;
    const delta = f.id - last;
    if (delta > 0 && delta <= 15) w.byte((delta << 4) | type);
    else { w.byte(type); w.zigzag(BigInt(f.id)); }
    last = f.id;
    writeValue(w, type, f.value);
  }
  w.byte(0);
}

/** Encodes a struct (fields written in id order, as Thrift requires for the delta headers). */
export function writeStruct(s: ThriftStruct): Uint8Array {
  const w = new Writer();
  writeStructTo(w, s);
  return w.result();
}

export function field(s: ThriftStruct, id: number): ThriftField | undefined {
  return s.fields.find((f) => f.id === id);
}

/** Sets (or adds) a field. */
export function setField(s: ThriftStruct, id: number, type: TType, value: ThriftValue): void {
  const f = field(s, id);
  if (f) { f.type = type; f.value = value; } else s.fields.push({ id, type, value });
}

export function removeFields(s: ThriftStruct, ids: readonly number[]): void {
  s.fields = s.fields.filter((f) => !ids.includes(f.id));
}
