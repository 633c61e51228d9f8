/**
 * Throughput of writeChunk / openChunk+read on ROWS rows × 10 float64 columns (plus a ms
 * time column and one tag). Not a test (no assertions): run after building with
 *   [ZSTD_LEVEL=3] node dist/test/format/throughput.js [rows]
 * `node --test dist/test/` also loads every file under test/, so under the test runner
 * (NODE_TEST_CONTEXT set) it does nothing.
 */
import { type Data, Dictionary, Field, Float64, Int32, makeData, RecordBatch, Schema, Struct, Timestamp, TimeUnit, Utf8, vectorFromArray } from 'apache-arrow';
import { bufferSource, type BlockCodecId, openChunk, writeChunk } from '../../src/format/index.js';
import { rng } from './helpers.js';

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 1_000_000);
  const columns = 10;
  const random = rng(42);

  const time = new BigInt64Array(rows);
  for (let i = 0; i < rows; i++) time[i] = 1_700_000_000_000n + BigInt(i) * 1000n;
  const host = vectorFromArray(Array.from({ length: rows }, (_, i) => `host-${Math.floor((i * 8) / rows)}`), new Dictionary(new Utf8(), new Int32()));
  const fields: Field[] = [new Field('time', new Timestamp(TimeUnit.MILLISECOND), false), new Field('host', host.type, false)];
  const children: Data[] = [makeData({ type: new Timestamp(TimeUnit.MILLISECOND), length: rows, data: time }), host.data[0]!];
  for (let c = 0; c < columns; c++) {
    const values = new Float64Array(rows);
    let v = 100 * random();
    for (let i = 0; i < rows; i++) {
      v += random() - 0.5;
      // Half the columns are two-decimal gauges, half are full-precision doubles.
      values[i] = c % 2 === 0 ? Math.round(v * 100) / 100 : v * (1 + random() * 1e-3);
    }
    fields.push(new Field(`f${c}`, new Float64(), true));
    children.push(makeData({ type: new Float64(), length: rows, data: values }));
  }
  const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: rows, nullCount: 0, children }));
  const rawBytes = rows * (8 + 4 + 8 * columns);

  function mbps(bytes: number, ms: number): string {
    return `${((bytes / ms) * 1000 / 1e6).toFixed(0)} MB/s`;
  }

  for (const codec of ['zstd', 'lz4', 'none'] as BlockCodecId[]) {
    let best = Infinity;
    let out: Uint8Array = new Uint8Array(0);
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      out = writeChunk(batch, { timeColumn: 'time', tags: ['host'], codec, codecLevel: Number(process.env['ZSTD_LEVEL'] ?? 3) }).bytes;
      best = Math.min(best, performance.now() - t0);
    }
    let bestRead = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const reader = await openChunk(bufferSource(out, 'bench.qvr'));
      const back = await reader.read();
      if (back.numRows !== rows) throw new Error('row count');
      bestRead = Math.min(bestRead, performance.now() - t0);
    }
    console.log(`${codec.padEnd(4)} ${rows} rows × ${columns} f64: write ${best.toFixed(0)} ms (${(rows / best / 1000).toFixed(1)} M rows/s, ${mbps(rawBytes, best)} raw), ` +
      `read ${bestRead.toFixed(0)} ms (${(rows / bestRead / 1000).toFixed(1)} M rows/s, ${mbps(rawBytes, bestRead)}), ` +
      `${(out.length / 1e6).toFixed(1)} MB stored of ${(rawBytes / 1e6).toFixed(0)} MB raw (${(rawBytes / out.length).toFixed(2)}×)`);
  }
}

if (process.env['NODE_TEST_CONTEXT'] === undefined) await main();
