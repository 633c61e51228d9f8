/**
 * A structural check of an Arrow IPC file or stream before apache-arrow reads it.
 *
 * apache-arrow decodes the flatbuffer metadata of each message trusting its counts: a
 * damaged byte in a record batch's buffer count makes it build hundreds of millions of
 * buffer descriptors (seconds of CPU, gigabytes of memory) out of a 300-byte message, and
 * offsets that point outside the bytes read garbage. So every message's metadata is walked
 * here first, with every offset and vector length checked against the bytes that hold it
 * (a vector of n elements must fit: its loops are then bounded by the metadata's size), as
 * is every message's place in the file (bodies inside the file, the file format's blocks
 * inside the data and in order, never overlapping, so no byte is read twice). Only the
 * metadata is read (bodies are skipped), so the check costs one small read per batch.
 *
 * Layouts (https://arrow.apache.org/docs/format/Columnar.html#serialization-and-interprocess-communication-ipc):
 *   stream   message* · end (0xFFFFFFFF 0x00000000, or the file's end)
 *   message  0xFFFFFFFF · i32 metadata length · Message flatbuffer (padded) · body
 *            (older writers: i32 length without the 0xFFFFFFFF)
 *   file     "ARROW1\0\0" · stream · Footer flatbuffer · i32 footer length · "ARROW1"
 */
import type { FileHandle } from 'node:fs/promises';

export const ARROW_MAGIC = 'ARROW1';
const CONTINUATION = 0xffffffff;
/** Nesting depth of a schema's fields (Arrow writers nest a handful of levels). */
const FIELD_DEPTH_MAX = 64;
/** Metadata of one message (a schema of many thousands of columns stays far below). */
export const ARROW_METADATA_BYTES_MAX = 64 * 1024 * 1024;

/** A structural fault of the file, with the byte offset it was found at. */
export class ArrowStructureError extends Error {
  constructor(readonly offset: number, message: string) {
    super(`${message} (at byte ${offset})`);
  }
}

/** Message header types (Message.fbs). */
const HEADER_SCHEMA = 1;
const HEADER_DICTIONARY_BATCH = 2;
const HEADER_RECORD_BATCH = 3;
/** Type union ids with vectors or strings inside (Schema.fbs). */
const TYPE_TIMESTAMP = 10;
const TYPE_UNION = 14;

/**
 * Bounds-checked reading of one flatbuffer (`base`: its offset in the file, for messages).
 * Tables are addressed by their position in `bytes`.
 */
class FlatBuffer {
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array, private readonly base: number, private readonly what: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(at: number, detail: string): never {
    throw new ArrowStructureError(this.base + at, `${this.what}: ${detail}`);
  }

  private need(at: number, bytes: number, what: string): void {
    if (!(at >= 0 && at + bytes <= this.bytes.length)) this.fail(at, `${what} at ${at}+${bytes} lies outside its ${this.bytes.length} bytes`);
  }

  get length(): number {
    return this.bytes.length;
  }

  u16(at: number): number { this.need(at, 2, 'value'); return this.view.getUint16(at, true); }
  u32(at: number): number { this.need(at, 4, 'value'); return this.view.getUint32(at, true); }
  i32(at: number): number { this.need(at, 4, 'value'); return this.view.getInt32(at, true); }
  u8(at: number): number { this.need(at, 1, 'value'); return this.view.getUint8(at); }
  i64(at: number): number {
    this.need(at, 8, 'value');
    const v = this.view.getBigInt64(at, true);
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(at, `64-bit value ${v} is out of range`);
    return Number(v);
  }

  /** The root table. */
  root(): number {
    return this.table(this.u32(0), 'root table');
  }

  /** Checks the table at `at` and its vtable. */
  table(at: number, what: string): number {
    this.need(at, 4, what);
    const vtable = at - this.i32(at);
    this.need(vtable, 4, `${what}'s vtable`);
    const vtableBytes = this.u16(vtable);
    const tableBytes = this.u16(vtable + 2);
    if (vtableBytes < 4 || vtableBytes % 2 !== 0) this.fail(vtable, `${what}'s vtable size ${vtableBytes} is invalid`);
    this.need(vtable, vtableBytes, `${what}'s vtable`);
    this.need(at, Math.max(4, tableBytes), what);
    return at;
  }

  /** Position of field `index` of the table at `table`, or 0 when absent. */
  field(table: number, index: number): number {
    const vtable = table - this.i32(table);
    const vtableBytes = this.u16(vtable);
    const slot = 4 + 2 * index;
    if (slot + 2 > vtableBytes) return 0;
    const offset = this.u16(vtable + slot);
    if (offset === 0) return 0;
    if (offset + 1 > this.u16(vtable + 2)) this.fail(vtable + slot, `field ${index} at ${offset} lies outside its table`);
    return table + offset;
  }

  /** The table a reference field points to, or 0 when absent. */
  child(table: number, index: number, what: string): number {
    const at = this.field(table, index);
    return at === 0 ? 0 : this.table(at + this.u32(at), what);
  }

  /** A vector field: its first element's position and its length (0, 0 when absent). */
  vector(table: number, index: number, elementBytes: number, what: string): { start: number; length: number } {
    const at = this.field(table, index);
    if (at === 0) return { start: 0, length: 0 };
    const vector = at + this.u32(at);
    const length = this.u32(vector);
    if (length * elementBytes > this.bytes.length) this.fail(vector, `${what} claims ${length} elements in ${this.bytes.length} bytes`);
    this.need(vector + 4, length * elementBytes, what);
    return { start: vector + 4, length };
  }

  /** Checks a vector of tables, calling `each` with each table's position. */
  tables(table: number, index: number, what: string, each: (at: number) => void): void {
    const { start, length } = this.vector(table, index, 4, what);
    for (let i = 0; i < length; i++) {
      const slot = start + 4 * i;
      each(this.table(slot + this.u32(slot), `${what}[${i}]`));
    }
  }
}

function checkKeyValues(fb: FlatBuffer, table: number, index: number): void {
  fb.tables(table, index, 'custom_metadata', (kv) => {
    fb.vector(kv, 0, 1, 'key');
    fb.vector(kv, 1, 1, 'value');
  });
}

/** Checks a Schema table (fields, recursively, with a node budget against shared subtrees). */
function checkSchema(fb: FlatBuffer, schema: number): void {
  let fields = 0;
  const field = (at: number, depth: number): void => {
    if (depth > FIELD_DEPTH_MAX) fb.fail(at, `fields nest deeper than ${FIELD_DEPTH_MAX} levels`);
    // A valid schema holds each field table once: more fields than bytes means shared subtrees.
    if (++fields > fb.length / 4) fb.fail(at, 'more fields than the metadata can hold');
    fb.vector(at, 0, 1, 'field name');
    const typeType = fb.field(at, 2) ? fb.u8(fb.field(at, 2)) : 0;
    const type = fb.child(at, 3, 'field type');
    if (type !== 0 && typeType === TYPE_TIMESTAMP) fb.vector(type, 1, 1, 'timezone');
    if (type !== 0 && typeType === TYPE_UNION) fb.vector(type, 1, 4, 'union type ids');
    const dictionary = fb.child(at, 4, 'dictionary encoding');
    if (dictionary !== 0) fb.child(dictionary, 1, 'dictionary index type');
    fb.tables(at, 5, 'children', (c) => field(c, depth + 1));
    checkKeyValues(fb, at, 6);
  };
  fb.tables(schema, 1, 'fields', (f) => field(f, 0));
  checkKeyValues(fb, schema, 2);
  fb.vector(schema, 3, 8, 'features');
}

/** Checks a RecordBatch table against the body that follows it. */
function checkRecordBatch(fb: FlatBuffer, batch: number, bodyLength: number): void {
  if (fb.field(batch, 0)) {
    const rows = fb.i64(fb.field(batch, 0));
    if (rows < 0) fb.fail(fb.field(batch, 0), `record batch length ${rows} is negative`);
  }
  const nodes = fb.vector(batch, 1, 16, 'field nodes');
  for (let i = 0; i < nodes.length; i++) {
    const length = fb.i64(nodes.start + 16 * i);
    const nulls = fb.i64(nodes.start + 16 * i + 8);
    if (length < 0 || nulls < 0 || nulls > length) fb.fail(nodes.start + 16 * i, `field node ${i}: length ${length}, null count ${nulls}`);
  }
  const buffers = fb.vector(batch, 2, 16, 'buffers');
  for (let i = 0; i < buffers.length; i++) {
    const offset = fb.i64(buffers.start + 16 * i);
    const length = fb.i64(buffers.start + 16 * i + 8);
    if (offset < 0 || length < 0 || offset + length > bodyLength) fb.fail(buffers.start + 16 * i, `buffer ${i} at ${offset}+${length} lies outside the ${bodyLength}-byte body`);
  }
  fb.child(batch, 3, 'body compression');
  fb.vector(batch, 4, 8, 'variadic buffer counts');
}

/** Checks a Message flatbuffer; returns its body length. */
function checkMessage(fb: FlatBuffer): number {
  const message = fb.root();
  const bodyAt = fb.field(message, 3);
  const bodyLength = bodyAt ? fb.i64(bodyAt) : 0;
  if (bodyLength < 0) fb.fail(bodyAt, `body length ${bodyLength} is negative`);
  const headerType = fb.field(message, 1) ? fb.u8(fb.field(message, 1)) : 0;
  const header = fb.child(message, 2, 'message header');
  if (header === 0) fb.fail(0, 'the message has no header');
  if (headerType === HEADER_SCHEMA) checkSchema(fb, header);
  else if (headerType === HEADER_RECORD_BATCH) checkRecordBatch(fb, header, bodyLength);
  else if (headerType === HEADER_DICTIONARY_BATCH) {
    const data = fb.child(header, 1, 'dictionary data');
    if (data !== 0) checkRecordBatch(fb, data, bodyLength);
  } else fb.fail(fb.field(message, 1), `message type ${headerType} is not a schema, dictionary or record batch`);
  checkKeyValues(fb, message, 4);
  return bodyLength;
}

/**
 * Checks one Message flatbuffer held in memory (an Arrow schema embedded elsewhere, e.g. a
 * Parquet footer's ARROW:schema) before apache-arrow decodes it; throws ArrowStructureError.
 */
export function checkArrowMessage(bytes: Uint8Array, what: string): void {
  checkMessage(new FlatBuffer(bytes, 0, what));
}

/** Reads exactly `length` bytes at `offset` (inside the file: checked by the callers). */
async function readAt(handle: FileHandle, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, length - done, offset + done);
    if (bytesRead === 0) throw new ArrowStructureError(offset + done, 'the file ended early (did it change while being read?)');
    done += bytesRead;
  }
  return out;
}

/**
 * Checks the message at `at` (prefix, metadata, body inside `end`); returns where the next
 * one starts, or null at an end-of-stream marker.
 */
async function checkMessageAt(handle: FileHandle, at: number, end: number): Promise<number | null> {
  if (at + 4 > end) throw new ArrowStructureError(at, `${end - at} bytes left, less than a message prefix`);
  const prefix = new DataView((await readAt(handle, at, Math.min(8, end - at))).buffer);
  let metaAt = at + 4;
  let metaLength = prefix.getUint32(0, true);
  if (metaLength === CONTINUATION) {
    if (at + 8 > end) throw new ArrowStructureError(at, 'the message prefix is cut off');
    metaLength = prefix.getUint32(4, true);
    metaAt = at + 8;
  }
  if (metaLength === 0) return null;
  if (metaAt + metaLength > end) throw new ArrowStructureError(at, `message metadata length ${metaLength} runs past byte ${end}`);
  if (metaLength > ARROW_METADATA_BYTES_MAX) throw new ArrowStructureError(at, `message metadata length ${metaLength} exceeds the limit ${ARROW_METADATA_BYTES_MAX}`);
  const fb = new FlatBuffer(await readAt(handle, metaAt, metaLength), metaAt, 'message metadata');
  const bodyLength = checkMessage(fb);
  if (metaAt + metaLength + bodyLength > end) throw new ArrowStructureError(at, `message body of ${bodyLength} bytes runs past byte ${end}`);
  return metaAt + metaLength + bodyLength;
}

/** 'file' when the bytes start with the file format's magic, else 'stream'. */
export async function arrowIpcFormat(handle: FileHandle, size: number): Promise<'file' | 'stream'> {
  const head = await readAt(handle, 0, Math.min(size, 6));
  return new TextDecoder().decode(head) === ARROW_MAGIC ? 'file' : 'stream';
}

/**
 * Checks the structure of the Arrow IPC file or stream in `handle` (`size` bytes, `format`
 * from arrowIpcFormat). Throws ArrowStructureError at the first fault.
 */
export async function checkArrowIpc(handle: FileHandle, size: number, format: 'file' | 'stream'): Promise<void> {
  if (format === 'stream') {
    // Messages one after another, each advancing by at least its 4-byte prefix.
    for (let at: number | null = 0; at !== null && at < size;) at = await checkMessageAt(handle, at, size);
    return;
  }
  if (size < 8 + 10) throw new ArrowStructureError(0, `${size} bytes: too short for an Arrow IPC file (magic, footer, length, magic)`);
  const tail = await readAt(handle, size - 10, 10);
  if (new TextDecoder().decode(tail.subarray(4)) !== ARROW_MAGIC) throw new ArrowStructureError(size - 6, 'the file starts with ARROW1 but does not end with it (cut off?)');
  const footerLength = new DataView(tail.buffer).getInt32(0, true);
  const footerAt = size - 10 - footerLength;
  if (footerLength <= 0 || footerAt < 8) throw new ArrowStructureError(size - 10, `footer length ${footerLength} does not fit the ${size}-byte file`);
  const fb = new FlatBuffer(await readAt(handle, footerAt, footerLength), footerAt, 'file footer');
  const footer = fb.root();
  const schema = fb.child(footer, 1, 'schema');
  if (schema === 0) fb.fail(0, 'the footer has no schema');
  checkSchema(fb, schema);
  checkKeyValues(fb, footer, 4);
  const blocks: { offset: number; metaDataLength: number; bodyLength: number; at: number }[] = [];
  for (const index of [2, 3]) {
    const { start, length } = fb.vector(footer, index, 24, index === 2 ? 'dictionary blocks' : 'record batch blocks');
    for (let i = 0; i < length; i++) {
      const at = start + 24 * i;
      blocks.push({ offset: fb.i64(at), metaDataLength: fb.i32(at + 8), bodyLength: fb.i64(at + 16), at });
    }
  }
  // Blocks lie between the leading magic and the footer, in order, never overlapping.
  blocks.sort((a, b) => a.offset - b.offset);
  let previousEnd = 8;
  for (const b of blocks) {
    const end = b.offset + b.metaDataLength + b.bodyLength;
    if (b.offset < previousEnd || b.metaDataLength < 8 || b.bodyLength < 0 || end > footerAt) {
      fb.fail(b.at, `block at ${b.offset} (metadata ${b.metaDataLength}, body ${b.bodyLength} bytes) overlaps another or lies outside bytes 8–${footerAt}`);
    }
    const next = await checkMessageAt(handle, b.offset, end);
    if (next === null || next > end) fb.fail(b.at, `the message at ${b.offset} does not fit its block`);
    previousEnd = end;
  }
}
