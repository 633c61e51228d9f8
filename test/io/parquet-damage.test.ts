import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { ByteBuffer } from 'flatbuffers';
import { Message } from 'apache-arrow/fb/message';
import { Schema as SchemaFb } from 'apache-arrow/fb/schema';
import * as parquetWasm from 'parquet-wasm/node';
import { decodeThrift, encodeThrift, type ThriftList, type ThriftStruct } from '../../src/io/parquet-footer.js';
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

/**
 * `bytes` (a Parquet file from parquetBytes) with the fields vector of its footer's embedded
 * Arrow schema (ARROW:schema, base64 of an IPC Schema message) claiming `count` fields.
 */
function withArrowSchemaFields(bytes: Uint8Array, count: number): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerLength = view.getUint32(bytes.length - 8, true);
  const footerAt = bytes.length - 8 - footerLength;
  const footer = decodeThrift(bytes.subarray(footerAt, bytes.length - 8));
  // FileMetaData.5 key_value_metadata: KeyValue 1 key, 2 value.
  const pairs = (footer.find((f) => f.id === 5)!.value as ThriftList).items as ThriftStruct[];
  const value = pairs.find((kv) => new TextDecoder().decode(kv.find((f) => f.id === 1)!.value as Uint8Array) === 'ARROW:schema')!.find((f) => f.id === 2)!;
  const framed = Buffer.from(new TextDecoder().decode(value.value as Uint8Array), 'base64');
  const meta = framed.subarray(8, 8 + framed.readInt32LE(4));
  const schema = Message.getRootAsMessage(new ByteBuffer(meta)).header(new SchemaFb()) as SchemaFb;
  const fields = schema.bb!.__vector(schema.bb_pos + schema.bb!.__offset(schema.bb_pos, 6));
  meta.writeUInt32LE(count, fields - 4);
  value.value = new TextEncoder().encode(framed.toString('base64'));
  const mended = encodeThrift(footer);
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(mended.length, 0);
  tail.write('PAR1', 4, 'latin1');
  return Buffer.concat([bytes.subarray(0, footerAt), mended, tail]);
}

test('a damaged embedded Arrow schema (a fields vector claiming 2^31 - 1 fields) ends in an InputError, without hanging', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-parquet-damage-'));
  try {
    const file = join(dir, 'fields.parquet');
    writeFileSync(file, withArrowSchemaFields(parquetBytes(), 0x7fffffff));
    // In a child process: a hang must not hang the suite (the child is killed after a minute).
    const script = `
      const { readParquetFile } = await import(${JSON.stringify(new URL('../../src/io/parquet.js', import.meta.url).href)});
      try {
        let rows = 0;
        for await (const b of readParquetFile(process.argv[1], { bytes: 0 }, { time: 'time', tags: ['host'] })) rows += b.batch.numRows;
        console.log('rows ' + rows);
      } catch (e) { console.log(e.name + ': ' + e.message); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, null, `the import did not finish (killed by ${r.signal})`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.trim(), new RegExp(`^InputError: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a readable Parquet file \\(\\d+ bytes\\)`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
