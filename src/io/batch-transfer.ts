// `x[i]!` in this file indexes within the bounds of its loop, on per-value paths where an
// assert() per value would cost (noUncheckedIndexedAccess); invariants elsewhere use assert()/at().
/**
 * A batch in the table's shape (what the CSV reader and ArrowBatchConverter emit:
 * Timestamp, Dictionary<Utf8, Int32>, Float64, Int64, Uint64, Bool, Utf8) as a
 * structured-clone message with transferable buffers, and back: no IPC encoding, and no
 * copies where a batch owns its buffers whole (the others are copied by the clone).
 */
import { Bool, Dictionary, Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct, Timestamp, Type, Uint64, Utf8, Vector, type Data, type DataType } from 'apache-arrow';
import { sliceBits } from '../format/bits.js';
import { fieldTypeInfo, fieldTypeOfArrow } from '../format/field-types.js';
import { at } from './at.js';

export interface ColumnMessage {
  name: string;
  kind: 'timestamp' | 'dictionary' | 'float64' | 'int64' | 'uint64' | 'bool' | 'utf8' | 'typed';
  unit?: number;
  /** kind 'typed': the field type (dates, times, durations, timestamps, decimals, binary) whose Arrow type the column has. */
  fieldType?: string;
  nullable: boolean;
  length: number;
  nullCount: number;
  values: ArrayBufferView;
  nullBitmap?: Uint8Array;
  offsets?: Int32Array;
  /** A dictionary column's values as UTF-8 bytes and offsets (not strings: decoding them would drop a leading U+FEFF). */
  dictionary?: { offsets: Int32Array; bytes: Uint8Array };
}

function kindOf(type: DataType, time: boolean): ColumnMessage['kind'] {
  switch (type.typeId) {
    case Type.Timestamp: return time ? 'timestamp' : 'typed';
    case Type.Dictionary: return 'dictionary';
    case Type.Float: return 'float64';
    case Type.Int: return (type as Int64).isSigned ? 'int64' : 'uint64';
    case Type.Bool: return 'bool';
    case Type.Utf8: return 'utf8';
    default:
      if (fieldTypeOfArrow(type) !== undefined) return 'typed';
      throw new Error(`assertion failed: a table-shaped batch holds ${type}`);
  }
}

/** The batch as messages plus the list of buffers to transfer. */
export function batchToMessage(batch: RecordBatch): { columns: ColumnMessage[]; transfer: ArrayBuffer[] } {
  const columns: ColumnMessage[] = [];
  const transfer = new Set<ArrayBuffer>();
  batch.schema.fields.forEach((f, k) => {
    const data = at(batch.data.children, k);
    // The table's time column is the batch's first (every table-shaped batch starts with it).
    const kind = kindOf(f.type, k === 0);
    const m: ColumnMessage = { name: f.name, kind, nullable: f.nullable, length: data.length, nullCount: data.nullCount, values: data.values as ArrayBufferView };
    if (kind === 'timestamp') m.unit = (f.type as Timestamp).unit;
    if (kind === 'typed') {
      m.fieldType = fieldTypeOfArrow(f.type)!;
      if (data.valueOffsets) m.offsets = data.valueOffsets as Int32Array;
    }
    // Value buffers of a sliced Data start at its offset already; its validity bits do not.
    if (data.nullCount > 0 && data.nullBitmap) m.nullBitmap = data.offset === 0 ? data.nullBitmap : sliceBits(data.nullBitmap, data.offset, data.length);
    if (kind === 'utf8') m.offsets = data.valueOffsets as Int32Array;
    if (kind === 'dictionary') m.dictionary = utf8Buffers(data.dictionary as Vector<Utf8>);
    for (const view of [m.values, m.nullBitmap, m.offsets]) {
      // Only buffers the view covers whole can move; others are copied by the clone.
      if (view && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) transfer.add(view.buffer as ArrayBuffer);
    }
    columns.push(m);
  });
  return { columns, transfer: [...transfer] };
}

/** A Utf8 vector's values as one offsets array (from 0) and their bytes, whatever its chunks and slice offsets. */
function utf8Buffers(vector: Vector<Utf8>): { offsets: Int32Array; bytes: Uint8Array } {
  const offsets = new Int32Array(vector.length + 1);
  let size = 0;
  let k = 0;
  for (const d of vector.data) {
    const o = d.valueOffsets;
    for (let i = 0; i < d.length; i++) { size += o[i + 1]! - o[i]!; offsets[++k] = size; }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const d of vector.data) {
    const o = d.valueOffsets;
    const part = d.values.subarray(o[0]!, o[d.length]!);
    bytes.set(part, at);
    at += part.length;
  }
  return { offsets, bytes };
}

export function messageToBatch(columns: ColumnMessage[]): RecordBatch {
  const fields: Field[] = [];
  const children: Data[] = [];
  const length = columns[0]?.length ?? 0;
  for (const m of columns) {
    const nullBitmap = m.nullBitmap;
    let data: Data;
    switch (m.kind) {
      case 'timestamp': { const type = new Timestamp(m.unit!, null); data = makeData({ type, length: m.length, nullCount: 0, data: m.values as never }); break; }
      case 'dictionary': {
        const type = new Dictionary(new Utf8(), new Int32());
        const { offsets, bytes } = m.dictionary!;
        const dictionary = new Vector([makeData({ type: new Utf8(), length: offsets.length - 1, nullCount: 0, valueOffsets: offsets, data: bytes })]);
        data = makeData({ type, length: m.length, nullCount: m.nullCount, nullBitmap, data: m.values as Int32Array, dictionary });
        break;
      }
      case 'float64': data = makeData({ type: new Float64(), length: m.length, nullCount: m.nullCount, nullBitmap, data: m.values as Float64Array }); break;
      case 'int64': data = makeData({ type: new Int64(), length: m.length, nullCount: m.nullCount, nullBitmap, data: m.values as never }); break;
      case 'uint64': data = makeData({ type: new Uint64(), length: m.length, nullCount: m.nullCount, nullBitmap, data: m.values as never }); break;
      case 'bool': data = makeData({ type: new Bool(), length: m.length, nullCount: m.nullCount, nullBitmap, data: m.values as Uint8Array }); break;
      case 'utf8': data = makeData({ type: new Utf8(), length: m.length, nullCount: m.nullCount, nullBitmap, valueOffsets: m.offsets!, data: m.values as Uint8Array }); break;
      case 'typed': {
        const type = fieldTypeInfo(m.fieldType!).arrow;
        data = makeData({ type, length: m.length, nullCount: m.nullCount, nullBitmap, data: m.values, ...(m.offsets ? { valueOffsets: m.offsets } : {}) } as never);
        break;
      }
    }
    fields.push(new Field(m.name, data.type, m.nullable));
    children.push(data);
  }
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, nullCount: 0, children }));
}
