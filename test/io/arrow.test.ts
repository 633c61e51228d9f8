import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompressionType, DateDay, Dictionary, Field, Float32, Float64, Int16, Int32, Int64, makeData, RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter,
  Schema, Struct, TimestampMillisecond, Uint64, Utf8, vectorFromArray, type Data, type Vector,
} from 'apache-arrow';
import { registerArrowCodecs } from '../../src/format/index.js';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { InputError } from '../../src/errors.js';
import { importFiles } from '../../src/io/import.js';
import { rejection, rowsOf, rng } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1);

/** Seeded batches: ms timestamps, a dictionary tag, a Utf8 tag, float/int/uint/float32/int16 fields with nulls. */
function batches(seed: number, count: number, rows: number): RecordBatch[] {
  const random = rng(seed);
  const out: RecordBatch[] = [];
  // One schema object for all batches (a writer starts a new stream on a schema change).
  const fields = [
    new Field('time', new TimestampMillisecond(), false),
    new Field('host', new Dictionary(new Utf8(), new Int32()), true),
    new Field('region', new Utf8(), true),
    new Field('f', new Float64(), true),
    new Field('i', new Int64(), true),
    new Field('u', new Uint64(), true),
    new Field('f32', new Float32(), true),
    new Field('i16', new Int16(), true),
  ];
  const hosts = vectorFromArray(['a', 'b', 'c'], new Utf8()) as Vector<Utf8>;
  for (let b = 0; b < count; b++) {
    const time = new BigInt64Array(rows);
    const hostCodes = new Int32Array(rows);
    const regions: string[] = [];
    const f: (number | null)[] = [];
    const i64 = new BigInt64Array(rows);
    const u64 = new BigUint64Array(rows);
    const f32 = new Float32Array(rows);
    const i16 = new Int16Array(rows);
    for (let i = 0; i < rows; i++) {
      time[i] = BigInt(T0 + (b * rows + i) * 1000);
      hostCodes[i] = Math.floor(random() * 3);
      regions.push(random() < 0.5 ? 'eu' : 'us');
      f.push(random() < 0.1 ? null : Math.round(random() * 1e6) / 100);
      i64[i] = BigInt(Math.floor(random() * 2 ** 40)) - 2n ** 39n;
      u64[i] = 2n ** 64n - 1n - BigInt(i);
      f32[i] = random() * 10;
      i16[i] = Math.floor(random() * 60000) - 30000;
    }
    const children: Data[] = [
      makeData({ type: new TimestampMillisecond(), length: rows, nullCount: 0, data: time as never }),
      makeData({ type: fields[1]!.type as Dictionary<Utf8, Int32>, length: rows, nullCount: 0, data: hostCodes, dictionary: hosts }),
      vectorFromArray(regions, new Utf8()).data[0]!,
      vectorFromArray(f, new Float64()).data[0]!,
      makeData({ type: new Int64(), length: rows, nullCount: 0, data: i64 as never }),
      makeData({ type: new Uint64(), length: rows, nullCount: 0, data: u64 as never }),
      makeData({ type: new Float32(), length: rows, nullCount: 0, data: f32 }),
      makeData({ type: new Int16(), length: rows, nullCount: 0, data: i16 }),
    ];
    out.push(new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: rows, nullCount: 0, children })));
  }
  return out;
}

test('Arrow time columns: epoch integers by magnitude, ISO-8601 strings, dates; a named Timestamp wins over an earlier one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-io-arrow-'));
  try {
    const write = (name: string, columns: Record<string, Data>) => {
      const fields = Object.entries(columns).map(([n, d]) => new Field(n, d.type, true));
      const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: Object.values(columns)[0]!.length, nullCount: 0, children: Object.values(columns) }));
      const path = join(dir, name);
      writeFileSync(path, RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true));
      return path;
    };
    const v = vectorFromArray([1.5, 2.5], new Float64()).data[0]!;
    const s0 = 1_767_225_600n;
    const cases: [string, Record<string, Data>, bigint[]][] = [
      ['epoch-s.arrows', { ts: makeData({ type: new Int64(), length: 2, nullCount: 0, data: BigInt64Array.from([s0, s0 + 10n]) as never }), v }, [s0 * 1_000_000_000n, (s0 + 10n) * 1_000_000_000n]],
      ['epoch-ms.arrows', { ts: makeData({ type: new Int64(), length: 2, nullCount: 0, data: BigInt64Array.from([s0 * 1000n + 5n, s0 * 1000n + 6n]) as never }), v }, [(s0 * 1000n + 5n) * 1_000_000n, (s0 * 1000n + 6n) * 1_000_000n]],
      ['iso.arrows', { time: vectorFromArray(['2026-01-01T00:00:00Z', '2026-01-01T01:00:00.5+01:00'], new Utf8()).data[0]!, v }, [s0 * 1_000_000_000n, s0 * 1_000_000_000n + 500_000_000n]],
      ['date.arrows', { date: makeData({ type: new DateDay(), length: 2, nullCount: 0, data: Int32Array.from([20454, 20455]) }), v }, [s0 * 1_000_000_000n, (s0 + 86_400n) * 1_000_000_000n]],
      ['two-timestamps.arrows', {
        created: makeData({ type: new TimestampMillisecond(), length: 2, nullCount: 0, data: BigInt64Array.from([1n, 2n]) as never }),
        time: makeData({ type: new TimestampMillisecond(), length: 2, nullCount: 0, data: BigInt64Array.from([s0 * 1000n, s0 * 1000n + 1n]) as never }),
        v,
      }, [s0 * 1_000_000_000n, s0 * 1_000_000_000n + 1_000_000n]],
    ];
    for (const [name, columns, times] of cases) {
      const db = await Quiver.open(new MemoryChunkManager());
      await importFiles(db, [write(name, columns)], { table: 't' });
      const t = await db.table('t');
      const rows = rowsOf((await t.query({})).batches);
      assert.deepEqual(rows.map((r) => r[t.schema.time]), times, name);
      assert.deepEqual(rows.map((r) => r.v), [1.5, 2.5], name);
    }
    const bad = write('bad-iso.arrows', { time: vectorFromArray(['2026-01-01T00:00:00Z', 'yesterday'], new Utf8()).data[0]!, v });
    const error = await rejection(importFiles(await Quiver.open(new MemoryChunkManager()), [bad], { table: 't' }));
    assert.equal(error.message, `${bad}: row 2 (column time): expected an ISO-8601 timestamp, got "yesterday"`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Arrow IPC files and streams, uncompressed and with LZ4_FRAME / ZSTD bodies, round-trip through import', async () => {
  registerArrowCodecs();
  const seed = 0xa77;
  console.log(`seed ${seed}`);
  const input = batches(seed, 3, 500);
  const expected = rowsOf(input).map((r) => ({ ...r, time: (r.time as bigint) * 1_000_000n, i16: BigInt(r.i16 as number), f32: r.f32 }));
  const dir = mkdtempSync(join(tmpdir(), 'quiver-io-arrow-'));
  try {
    for (const compression of [null, CompressionType.LZ4_FRAME, CompressionType.ZSTD]) {
      for (const kind of ['file', 'stream'] as const) {
        const writer = kind === 'file' ? new RecordBatchFileWriter({ compressionType: compression }) : new RecordBatchStreamWriter({ compressionType: compression });
        for (const b of input) writer.write(b);
        writer.finish();
        const bytes = writer.toUint8Array(true);
        const path = join(dir, `x-${compression ?? 'none'}.${kind === 'file' ? 'arrow' : 'arrows'}`);
        writeFileSync(path, bytes);
        const db = await Quiver.open(new MemoryChunkManager());
        const summary = await importFiles(db, [path], { table: 't' });
        assert.equal(summary.rows, 1500);
        assert.equal(summary.bytesIn, bytes.length);
        const t = await db.table('t');
        assert.equal(t.schema.timeUnit, 'ns');
        assert.deepEqual(t.schema.tags, ['host', 'region']);
        assert.deepEqual(t.schema.fields.map((f) => `${f.name}:${f.type}`), ['f:float64', 'i:int64', 'u:uint64', 'f32:float64', 'i16:int64']);
        const got = rowsOf((await t.query({})).batches);
        const key = (r: Record<string, unknown>) => `${r.time}`;
        const byTime = new Map(got.map((r) => [key(r), r]));
        assert.equal(byTime.size, expected.length);
        for (const e of expected) assert.deepEqual(byTime.get(key(e)), e, `${kind} ${compression} t=${e.time}`);
      }
    }
    const truncated = join(dir, 'truncated.arrow');
    const w = new RecordBatchStreamWriter();
    for (const b of input) w.write(b);
    w.finish();
    const full = w.toUint8Array(true);
    writeFileSync(truncated, full.subarray(0, full.length - 3000));
    const db = await Quiver.open(new MemoryChunkManager());
    const error = await rejection(importFiles(db, [truncated], { table: 't' }));
    assert.ok(error instanceof InputError, String(error));
    assert.match(error.message, /truncated\.arrow: /);
    assert.equal(await db.hasTable('t'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
