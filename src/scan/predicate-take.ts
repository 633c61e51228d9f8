import { makeData, RecordBatch, Struct, type Data } from 'apache-arrow';
import { columnKind, fixedWidthOf } from './aggregate-column.js';

/**
 * Row selection (see aggregate-column.ts on Arrow JS offsets: value buffers are pre-sliced,
 * bitmaps and bool bits are read at `offset + row`) of a RecordBatch by a list of row indices: one typed-array copy per
 * column, dictionaries shared (not copied), validity rebuilt only where there are nulls.
 */
export function takeRows(batch: RecordBatch, rows: Int32Array): RecordBatch {
  const children = batch.schema.fields.map((field, i) => takeData(batch.data.children[i]! as Data, rows, field.name));
  const data = makeData({ type: new Struct(batch.schema.fields), length: rows.length, nullCount: 0, children });
  return new RecordBatch(batch.schema, data);
}

function takeValidity(data: Data, rows: Int32Array): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  if (!(data.nullCount > 0) || !data.nullBitmap || data.nullBitmap.length === 0) return { nullBitmap: undefined, nullCount: 0 };
  const src = data.nullBitmap;
  const out = new Uint8Array((rows.length + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < rows.length; i++) {
    const bit = data.offset + rows[i]!;
    if ((src[bit >> 3]! >> (bit & 7)) & 1) out[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { nullBitmap: undefined, nullCount: 0 } : { nullBitmap: out, nullCount: nulls };
}

export function takeData(data: Data, rows: Int32Array, name: string): Data {
  const kind = columnKind(data, `filter column ${name}`);
  const { nullBitmap, nullCount } = takeValidity(data, rows);
  const n = rows.length;
  const off = data.offset;
  switch (kind) {
    case 'f64': case 'i64': case 'u64': case 'time': case 'i32': case 'w32': case 'w64': {
      const src = data.values as Float64Array | BigInt64Array | BigUint64Array | Int32Array;
      const Ctor = src.constructor as { new(n: number): typeof src };
      const out = new Ctor(n);
      for (let i = 0; i < n; i++) out[i] = src[rows[i]!]!;
      return makeData({ type: data.type, length: n, nullCount, nullBitmap, data: out } as never);
    }
    case 'dict': {
      const src = data.values as Int32Array;
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = src[rows[i]!]!;
      return makeData({ type: data.type, length: n, nullCount, nullBitmap, data: out, dictionary: data.dictionary } as never);
    }
    case 'bool': {
      const src = data.values as Uint8Array;
      const out = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) {
        const bit = off + rows[i]!;
        if ((src[bit >> 3]! >> (bit & 7)) & 1) out[i >> 3]! |= 1 << (i & 7);
      }
      return makeData({ type: data.type, length: n, nullCount, nullBitmap, data: out } as never);
    }
    case 'fixed': {
      const width = fixedWidthOf(data);
      const v = data.values as ArrayBufferView;
      const src = new Uint8Array(v.buffer, v.byteOffset, data.length * width);
      const out = new Uint8Array(n * width);
      for (let i = 0; i < n; i++) out.set(src.subarray(rows[i]! * width, (rows[i]! + 1) * width), i * width);
      const Ctor = (v as object).constructor as new (b: ArrayBufferLike) => ArrayBufferView;
      return makeData({ type: data.type, length: n, nullCount, nullBitmap, data: new Ctor(out.buffer) } as never);
    }
    case 'utf8': case 'bytes': {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      const outOffsets = new Int32Array(n + 1);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const r = rows[i]!;
        total += offsets[r + 1]! - offsets[r]!;
        outOffsets[i + 1] = total;
      }
      const outBytes = new Uint8Array(total);
      for (let i = 0; i < n; i++) {
        const r = rows[i]!;
        outBytes.set(bytes.subarray(offsets[r]!, offsets[r + 1]!), outOffsets[i]!);
      }
      return makeData({ type: data.type, length: n, nullCount, nullBitmap, valueOffsets: outOffsets, data: outBytes } as never);
    }
  }
}
