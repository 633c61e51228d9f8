import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BinaryView, CompressionType, type Data, Dictionary, Field, Float64, Int32, IntervalDayTime, LargeBinary, LargeUtf8, List, makeData, Null, RecordBatch,
  RecordBatchFileWriter, RecordBatchStreamWriter, Schema, Struct, TimestampNanosecond, Utf8, Utf8View, Vector, vectorFromArray,
} from 'apache-arrow';
import { registerArrowCodecs } from '../../src/format/index.js';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { InputError } from '../../src/errors.js';
import { importFiles } from '../../src/io/import.js';
import { expectedKeys, keysOf, timesFrom, typedBatch, typedColumns } from '../table/types-fixture.js';
import { seedFromEnv } from '../format/helpers.js';
import { rejection } from './helpers.js';

const T0 = 1_767_225_600_000_000_000n;

function batchOf(columns: Record<string, Data>): RecordBatch {
  const fields = Object.entries(columns).map(([n, d]) => new Field(n, d.type, n !== 'time'));
  const n = Object.values(columns)[0]!.length;
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children: Object.values(columns) }));
}

function utf8Bytes(parts: number[][], type: Utf8 | LargeUtf8 = new Utf8()): Data {
  const large = type instanceof LargeUtf8;
  const offsets = large ? new BigInt64Array(parts.length + 1) : new Int32Array(parts.length + 1);
  let at = 0;
  parts.forEach((p, i) => { at += p.length; offsets[i + 1] = (large ? BigInt(at) : at) as never; });
  return makeData({ type, length: parts.length, nullCount: 0, valueOffsets: offsets, data: Uint8Array.from(parts.flat()) } as never);
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-io-types-arrow-'));
  try { await body(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('Arrow IPC files and streams of every field type import value by value (views, large types and dictionaries of bytes as their plain twins; a Null column adds no field)', () => withDir(async (dir) => {
  registerArrowCodecs();
  const seed = seedFromEnv('types arrow');
  const rows = 600;
  const columns = typedColumns(seed, rows);
  const times = timesFrom(T0, rows);
  // The same bytes as a view, a large type and a dictionary, beside the canonical column.
  const binary = columns.find((c) => c.type === 'binary')!;
  const bytes = binary.values.slice(0, 200).map((v) => v as Uint8Array | null);
  const extra = (start: number, end: number) => {
    const part = bytes.slice(start, end);
    return [
      { field: new Field('view', new BinaryView(), true), data: vectorFromArray(part, new BinaryView()).data[0]! },
      { field: new Field('large', new LargeBinary(), true), data: vectorFromArray(part, new LargeBinary()).data[0]! },
      { field: new Field('nothing', new Null(), true), data: makeData({ type: new Null(), length: end - start, nullCount: end - start }) },
    ];
  };
  const batches = [typedBatch(columns.map((c) => ({ ...c, values: c.values.slice(0, 200) })), times, 0, 200, extra(0, 200))];
  for (const kind of ['file', 'stream'] as const) {
    for (const compression of [null, CompressionType.ZSTD]) {
      const writer = kind === 'file' ? new RecordBatchFileWriter({ compressionType: compression }) : new RecordBatchStreamWriter({ compressionType: compression });
      for (const b of batches) writer.write(b);
      writer.finish();
      const path = join(dir, `types-${compression ?? 'none'}.${kind === 'file' ? 'arrow' : 'arrows'}`);
      writeFileSync(path, writer.toUint8Array(true));
      const db = await Quiver.open(new MemoryChunkManager());
      const summary = await importFiles(db, [path], { table: 't' });
      assert.equal(summary.rows, 200);
      const t = await db.table('t');
      assert.deepEqual(t.schema.fields.map((f) => f.type), [...columns.map((c) => c.type), 'binary', 'binary'], `${kind} ${compression}`);
      const out = await t.query({});
      for (const c of columns) assert.deepEqual(keysOf(out, c.name, c.type), expectedKeys(c).slice(0, 200), `${kind} ${compression} ${c.type} seed ${seed}`);
      const binaryKeys = expectedKeys(binary).slice(0, 200);
      assert.deepEqual(keysOf(out, 'view', 'binary'), binaryKeys, 'BinaryView');
      assert.deepEqual(keysOf(out, 'large', 'binary'), binaryKeys, 'LargeBinary');
    }
  }
}));

test('invalid UTF-8 in a string column of an Arrow file (field or tag; Utf8, LargeUtf8, Utf8View, dictionary) is an error naming the file, row and column; nothing is imported', () => withDir(async (dir) => {
  const time = (n: number) => makeData({ type: new TimestampNanosecond(), length: n, nullCount: 0, data: timesFrom(T0, n) });
  const v = (n: number) => vectorFromArray(Array.from({ length: n }, (_, i) => i + 0.5), new Float64()).data[0]!;
  const dictionary = (bad: number[]) => makeData({
    type: new Dictionary(new Utf8(), new Int32()), length: 3, nullCount: 0, data: Int32Array.from([0, 0, 1]),
    dictionary: new Vector([utf8Bytes([[0x6f, 0x6b], bad])]),
  } as never);
  const cases: [string, Record<string, Data>, string[] | undefined, RegExp][] = [
    // A character split between two values: valid bytes as a whole, not value by value.
    ['field-split.arrows', { time: time(3), note: utf8Bytes([[0x61], [0xc3], [0xa9]]), v: v(3) }, [], /field-split\.arrows: row 2 \(column note\): invalid UTF-8 in a string column/],
    ['field-large.arrows', { time: time(2), note: utf8Bytes([[0x61], [0xed, 0xa0, 0x80]], new LargeUtf8()), v: v(2) }, [], /field-large\.arrows: row 2 \(column note\): invalid UTF-8/],
    ['tag.arrows', { time: time(3), host: utf8Bytes([[0x61], [0x62], [0xff]]), v: v(3) }, ['host'], /tag\.arrows: row 3 \(column host\): invalid UTF-8/],
    ['tag-dictionary.arrows', { time: time(3), host: dictionary([0xc0, 0x80]), v: v(3) }, ['host'], /tag-dictionary\.arrows: row 3 \(column host\): invalid UTF-8/],
  ];
  for (const [name, columns, tags, message] of cases) {
    const path = join(dir, name);
    writeFileSync(path, RecordBatchStreamWriter.writeAll([batchOf(columns)]).toUint8Array(true));
    const db = await Quiver.open(new MemoryChunkManager());
    const error = await rejection(importFiles(db, [path], { table: 't', ...(tags ? { tags } : {}) }));
    assert.ok(error instanceof InputError, `${name}: ${String(error)}`);
    assert.match(error.message, message);
    assert.equal(await db.hasTable('t'), false, name);
  }
  // Utf8View: the same check on the view's bytes.
  const view = vectorFromArray(['fine', 'a string longer than twelve'], new Utf8View()).data[0]!;
  const bytes = (view as unknown as { variadicBuffers: Uint8Array[] }).variadicBuffers[0]!;
  bytes[2] = 0xff;
  const path = join(dir, 'view.arrows');
  writeFileSync(path, RecordBatchStreamWriter.writeAll([batchOf({ time: time(2), note: view, v: v(2) })]).toUint8Array(true));
  const error = await rejection(importFiles(await Quiver.open(new MemoryChunkManager()), [path], { table: 't', tags: [] }));
  assert.match(error.message, /view\.arrows: row 2 \(column note\): invalid UTF-8/);
}));

test('columns a table cannot hold (intervals, lists) are refused naming the file and column', () => withDir(async (dir) => {
  const time = makeData({ type: new TimestampNanosecond(), length: 1, nullCount: 0, data: timesFrom(T0, 1) });
  const interval = makeData({ type: new IntervalDayTime(), length: 1, nullCount: 0, data: Int32Array.from([1, 2]) });
  const list = makeData({ type: new List(new Field('item', new Float64(), true)), length: 1, nullCount: 0, valueOffsets: Int32Array.from([0, 1]), child: vectorFromArray([1], new Float64()).data[0]! } as never);
  for (const [name, column, message] of [
    ['interval.arrows', interval, /interval\.arrows: column span has the type Interval<DAY_TIME>: an interval \(months, days and a time\) has no single length or order/],
    ['list.arrows', list, /list\.arrows: column span has the nested type List<Float64>; flatten it/],
  ] as const) {
    const path = join(dir, name);
    writeFileSync(path, RecordBatchStreamWriter.writeAll([batchOf({ time, span: column as Data })]).toUint8Array(true));
    const error = await rejection(importFiles(await Quiver.open(new MemoryChunkManager()), [path], { table: 't' }));
    assert.ok(error instanceof InputError);
    assert.match(error.message, message);
  }
}));
