import {
  Bool, Data, DataType, Dictionary, Field, Float64, Int32, Int64, makeData, Schema, Timestamp, TimeUnit as ArrowTimeUnit,
  Type, Utf8, vectorFromArray, type Vector,
} from 'apache-arrow';
import { fieldData, fieldTypeInfo, importFieldTypeOf } from '../format/field-types.js';
import type { FieldType, TimeUnit } from '../format/types.js';
import { SchemaError } from '../errors.js';
import type { TableSchema } from './types.js';

export const ARROW_TIME_UNIT: Record<TimeUnit, ArrowTimeUnit> = {
  s: ArrowTimeUnit.SECOND, ms: ArrowTimeUnit.MILLISECOND, us: ArrowTimeUnit.MICROSECOND, ns: ArrowTimeUnit.NANOSECOND,
};
export const TIME_UNIT_OF: Record<number, TimeUnit> = {
  [ArrowTimeUnit.SECOND]: 's', [ArrowTimeUnit.MILLISECOND]: 'ms', [ArrowTimeUnit.MICROSECOND]: 'us', [ArrowTimeUnit.NANOSECOND]: 'ns',
};

/** The Arrow type scans return for a field type (one shared instance per type). */
export function fieldArrowType(type: FieldType): DataType {
  return fieldTypeInfo(type).arrow;
}

/**
 * The field type an Arrow type of an input maps to (docs/types.md: narrower numbers widen,
 * views and large types become their plain twins), null for the Null type (a column of no
 * values), or undefined when a table cannot hold it (importFieldTypeOf says why).
 */
export function fieldTypeOfArrow(type: DataType): FieldType | null | undefined {
  const mapped = importFieldTypeOf(type);
  return mapped === null ? null : typeof mapped === 'string' ? undefined : mapped.type;
}

/**
 * One Arrow schema per table (scan output): time first, then tags (Dictionary<Utf8, Int32>),
 * then fields. Every batch a scan emits uses these very Field objects, so batches from
 * different chunks concatenate into one Arrow Table.
 */
export class TableArrowSchema {
  readonly schema: Schema;
  readonly fields = new Map<string, Field>();

  constructor(readonly table: TableSchema) {
    const fields = [
      new Field(table.time, new Timestamp(ARROW_TIME_UNIT[table.timeUnit], null), false),
      ...table.tags.map((t) => new Field(t, new Dictionary(new Utf8(), new Int32()), true)),
      ...table.fields.map((f) => new Field(f.name, fieldArrowType(f.type), f.nullable !== false)),
    ];
    for (const f of fields) this.fields.set(f.name, f);
    this.schema = new Schema(fields);
  }

  field(name: string): Field {
    const f = this.fields.get(name);
    if (!f) throw new SchemaError(`no column ${JSON.stringify(name)} in table (columns: ${[...this.fields.keys()].join(', ')})`);
    return f;
  }

  /** A schema of the named columns, in the order given. */
  project(names: readonly string[]): Schema {
    return new Schema(names.map((n) => this.field(n)));
  }
}

const EMPTY_DICTIONARY = vectorFromArray([] as string[], new Utf8()) as Vector<Utf8>;

/** Data of `length` nulls of a field's type (columns an older chunk does not have). */
export function nullData(field: Field, length: number): Data {
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  const type = field.type as DataType;
  switch (type.typeId) {
    case Type.Float: return makeData({ type: type as Float64, length, nullCount: length, nullBitmap, data: new Float64Array(length) });
    case Type.Int: return makeData({ type: type as Int64, length, nullCount: length, nullBitmap, data: new BigInt64Array(length) as never });
    case Type.Bool: return makeData({ type: type as Bool, length, nullCount: length, nullBitmap, data: new Uint8Array((length + 7) >> 3) });
    case Type.Utf8: return makeData({ type: type as Utf8, length, nullCount: length, nullBitmap, valueOffsets: new Int32Array(length + 1), data: new Uint8Array(0) });
    case Type.Dictionary: return makeData({ type: type as Dictionary<Utf8, Int32>, length, nullCount: length, nullBitmap, data: new Int32Array(length), dictionary: EMPTY_DICTIONARY });
    default: {
      const mapped = importFieldTypeOf(type);
      if (mapped === null || typeof mapped === 'string') throw new SchemaError(`cannot make a null column of type ${type}`);
      return fieldData(fieldTypeInfo(mapped.type), new Array<null>(length).fill(null));
    }
  }
}

/** Re-labels Data read from a chunk with the table's canonical field type (same buffers). */
export function retype(data: Data, field: Field): Data {
  const type = field.type as DataType;
  if (data.type === type) return data;
  return makeData({
    type, length: data.length, offset: data.offset, nullCount: data.nullCount, nullBitmap: data.nullBitmap,
    data: data.values, valueOffsets: data.valueOffsets, dictionary: data.dictionary,
  } as never);
}
