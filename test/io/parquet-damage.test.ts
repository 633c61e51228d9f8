import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm/node';
import { readParquetFile } from '../../src/io/parquet.js';
import { InputError } from '../../src/errors.js';

const ROWS = 5000;
const SEED = 0x9a7;

/** A Parquet file (snappy, row groups of 1000) of time, host, v. */
function parquetBytes(): Uint8Array {
  const t = tableFromArrays({
    time: BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(Date.UTC(2026, 0, 1) + i * 1000) * 1_000_000n),
    host: Array.from({ length: ROWS }, (_, i) => `h${i % 7}`),
    v: Float64Array.from({ length: ROWS }, (_, i) => i * 0.25),
  });
  const props = new parquetWasm.WriterPropertiesBuilder().setCompression(parquetWasm.Compression.SNAPPY).setMaxRowGroupSize(1000).build();
  return parquetWasm.writeParquet(parquetWasm.Table.fromIPCStream(tableToIPC(t, 'stream')), props);
}

/** Seeded mutations of `bytes`: 1–4 random bytes replaced. */
function mutations(bytes: Uint8Array, count: number, seed: number): Uint8Array[] {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: count }, () => {
    const m = Uint8Array.from(bytes);
    const k = 1 + Math.floor(rand() * 4);
    for (let j = 0; j < k; j++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
    return m;
  });
}

/** Reads a Parquet file to the end: its rows, or the error. */
async function readAll(file: string, parallel: boolean): Promise<{ rows: number; sum: number } | Error> {
  try {
    let rows = 0;
    let sum = 0;
    for await (const { batch } of readParquetFile(file, { bytes: 0 }, { time: 'time', tags: ['host'], parallel })) {
      rows += batch.numRows;
      for (const v of batch.getChild('v')!.toArray() as Float64Array) sum += v;
    }
    return { rows, sum };
  } catch (error) {
    return error as Error;
  }
}

const EXPECTED_SUM = (0.25 * ROWS * (ROWS - 1)) / 2;

test(`damaged Parquet files that make the decoder panic are an InputError, on this thread and in the worker; the panicked instance is not reused (seed ${SEED})`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-parquet-damage-'));
  try {
    const good = join(dir, 'good.parquet');
    writeFileSync(good, parquetBytes());
    const files = mutations(parquetBytes(), 14, SEED).map((bytes, i) => {
      const file = join(dir, `m${i}.parquet`);
      writeFileSync(file, bytes);
      return file;
    });
    const panicked: string[] = [];
    for (const file of files) {
      const result = await readAll(file, false);
      if (!(result instanceof Error)) continue;
      assert.ok(result instanceof InputError, `${file}: ${result.name}: ${result.message} (seed ${SEED})`);
      assert.ok(result.message.startsWith(`${file}: not a readable Parquet file (`), result.message);
      if (/the Parquet decoder panicked \(unreachable\)/.test(result.message)) panicked.push(file);
      // The next file gets a working decoder: the good file reads whole after every failure.
      assert.deepEqual(await readAll(good, false), { rows: ROWS, sum: EXPECTED_SUM }, `after ${file}`);
    }
    assert.ok(panicked.length >= 3, `the mutations made the decoder panic ${panicked.length} times (seed ${SEED})`);
    for (const file of panicked.slice(0, 2)) {
      const inWorker = await readAll(file, true);
      assert.ok(inWorker instanceof InputError, String(inWorker));
      assert.match(inWorker.message, /not a readable Parquet file \(\d+ bytes\): row group \d+ of 5 does not decode: the Parquet decoder panicked/);
    }
    assert.deepEqual(await readAll(good, true), { rows: ROWS, sum: EXPECTED_SUM });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
