import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { InputError } from '../../src/errors.js';
import { readCsvInWorker } from '../../src/io/csv/parse-worker.js';
import { readCsv } from '../../src/io/csv/reader.js';
import { csvBytes } from '../../src/io/csv/bytes.js';
import { rejection, rowsOf, rng } from './helpers.js';

/** Seeded rows of every column kind the reader emits, with nulls and quoting. */
function sampleCsv(seed: number, rows: number): string {
  const random = rng(seed);
  const lines = ['time,host,dc,f,i,u,b,s'];
  for (let r = 0; r < rows; r++) {
    const time = new Date(Date.UTC(2026, 0, 1) + r * 1000).toISOString();
    const f = random() < 0.1 ? '' : (Math.round(random() * 1e6) / 1000).toString();
    const s = random() < 0.2 ? '' : `"v ""${r}"", x"`;
    lines.push(`${time},h${r % 7},"d,${r % 3}",${f},${r - 100},${r * 3},${r % 2 === 0},${s}`);
  }
  return lines.join('\n') + '\n';
}

test('the worker-thread parser gives the same batches, lineage, rejects and progress as the inline one', async () => {
  const seed = 0xc5f;
  console.log(`seed ${seed}`);
  const dir = mkdtempSync(join(tmpdir(), 'quiver-io-worker-'));
  try {
    const file = join(dir, 'w.csv');
    const text = sampleCsv(seed, 3000).replace('\n2026-01-01T00:00:05.000Z,', '\nnot-a-time,');
    writeFileSync(file, text);
    const options = { tags: ['host', 'dc'], schema: { u: 'uint64', s: 'utf8' }, batchRows: 700, maxErrors: 1 };
    const inline: RecordBatch[] = [];
    const inlineStarts: number[] = [];
    const inlineRejects: unknown[] = [];
    for await (const b of readCsv(csvBytes(file, { bytes: 0 }), file, { ...options, onReject: (r) => inlineRejects.push(r) })) { inline.push(b.batch); inlineStarts.push(b.rowStart); }
    const counter = { bytes: 0 };
    const viaWorker: RecordBatch[] = [];
    const workerStarts: number[] = [];
    const workerRejects: unknown[] = [];
    for await (const b of readCsvInWorker(file, counter, { ...options, onReject: (r) => workerRejects.push(r) })) {
      viaWorker.push(b.batch);
      workerStarts.push(b.rowStart);
      assert.deepEqual(b.schema.tags, ['host', 'dc']);
    }
    assert.equal(inline.length, 5);
    assert.deepEqual(workerStarts, inlineStarts);
    assert.deepEqual(rowsOf(viaWorker), rowsOf(inline));
    assert.deepEqual(viaWorker.map((b) => b.schema.fields.map((f) => `${f.name}:${f.type}`)), inline.map((b) => b.schema.fields.map((f) => `${f.name}:${f.type}`)));
    assert.equal(workerRejects.length, 1);
    assert.deepEqual(workerRejects, inlineRejects.map((r) => ({ ...(r as object), file })));
    assert.equal(counter.bytes, text.length);

    const error = await rejection((async () => { for await (const b of readCsvInWorker(file, { bytes: 0 }, { ...options, maxErrors: 0 })) void b; })());
    assert.ok(error instanceof InputError);
    assert.equal(error.message, `${file}:7:1 (column time): expected an ISO-8601 timestamp, got "not-a-time"`);
    assert.equal(error.line, 7);
    assert.equal(error.column, 'time');
    // Stopping early (the writer failed) terminates the worker.
    for await (const b of readCsvInWorker(file, { bytes: 0 }, options)) { void b; break; }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
