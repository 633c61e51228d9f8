/**
 * Output of batches that are slices of bigger ones (offset > 0): every format prints the rows
 * of the slice, times included. apache-arrow slices fixed-width value buffers with the data and
 * keeps `offset` for bitmaps, so adding the offset again would print other rows' times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeData, RecordBatch, Schema, Field, TimestampNanosecond, Utf8, Float64, Struct, vectorFromArray } from 'apache-arrow';
import { Sink, writeBatches, type OutputFormat } from '../../src/cli/output.js';

function batchOf(n: number): RecordBatch {
  const time = new BigInt64Array(n);
  for (let i = 0; i < n; i++) time[i] = 1_767_225_600_000_000_000n + BigInt(i) * 1_000_000_001n;
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (i % 3 !== 1) bitmap[i >> 3]! |= 1 << (i & 7);
  const nulls = Array.from({ length: n }, (_, i) => (i % 3 === 1 ? 1 : 0)).reduce((a: number, b) => a + b, 0);
  const timeData = makeData({ type: new TimestampNanosecond(), length: n, nullCount: nulls, nullBitmap: bitmap, data: time });
  const host = vectorFromArray(Array.from({ length: n }, (_, i) => `h${i}`), new Utf8());
  const v = vectorFromArray(Array.from({ length: n }, (_, i) => i + 0.5), new Float64());
  const schema = new Schema([new Field('time', new TimestampNanosecond(), true), new Field('host', new Utf8(), true), new Field('v', new Float64(), true)]);
  const data = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: [timeData, host.data[0]!, v.data[0]!] });
  return new RecordBatch(schema, data);
}

async function print(batch: RecordBatch, format: OutputFormat): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-out-slice-'));
  try {
    const path = join(dir, 'out');
    const sink = new Sink(path);
    async function* one() { yield batch; }
    await writeBatches(one(), format, sink);
    await sink.end();
    return readFileSync(path, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a sliced batch prints its own rows (times, nulls, strings, numbers) in csv, jsonl and table', async () => {
  const whole = batchOf(40);
  for (const format of ['csv', 'jsonl', 'table'] as const) {
    const all = (await print(whole, format)).trimEnd().split('\n');
    const headerLines = format === 'jsonl' ? 0 : 1;
    for (const [from, to] of [[5, 17], [1, 2], [33, 40]] as const) {
      const part = (await print(whole.slice(from, to), format)).trimEnd().split('\n');
      const expected = all.slice(headerLines + from, headerLines + to);
      const got = part.slice(headerLines);
      if (format === 'table') assert.deepEqual(got.map((l) => l.split(/\s+/).join(' ')), expected.map((l) => l.split(/\s+/).join(' ')), `${format} rows ${from}..${to}`);
      else assert.deepEqual(got, expected, `${format} rows ${from}..${to}`);
    }
  }
});
