import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Field, Float64, makeData, RecordBatch, Schema, Struct, Table, tableToIPC, TimeUnit, Timestamp } from 'apache-arrow';
import { InputError } from '../../src/errors.js';
import { importFiles } from '../../src/io/import.js';
import { Quiver } from '../../src/quiver.js';
import { rejection } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'quiver-io-names-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** One row: a time column and a float column named `name`. */
function arrowTable(name: string): Table {
  const time = new Timestamp(TimeUnit.NANOSECOND, 'UTC');
  const fields = [new Field('time', time, false), new Field(name, new Float64(), true)];
  const children = [makeData({ type: time, length: 1, data: BigInt64Array.of(1n) }), makeData({ type: new Float64(), length: 1, data: Float64Array.of(1.5) })];
  return new Table([new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 1, nullCount: 0, children }))]);
}

// Found by the fuzzer (test/fuzz, arrow-file seed 1 iteration 15): a length in the schema
// message set to 0 made a column name empty, and the import failed with a UsageError (a
// usage error, exit code 2, no file named) instead of an error about the file.
test('an Arrow or Parquet file whose column name a table cannot hold is an InputError naming the file and column', async () => {
  const db = await Quiver.open(join(dir, 'store'), { decodeThreads: 0 });
  try {
    const { writeParquet, Table: WasmTable } = await import('parquet-wasm/node');
    // (apache-arrow writes an empty name as "null", so control characters stand for both.)
    for (const name of ['a\u0001b', 'tab\there']) {
      const table = arrowTable(name);
      const files: [string, Uint8Array][] = [
        ['f.arrow', tableToIPC(table, 'file')], ['s.arrows', tableToIPC(table, 'stream')],
        ['p.parquet', writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')))],
      ];
      for (const [file, bytes] of files) {
        const path = join(dir, file);
        writeFileSync(path, bytes);
        const error = await rejection(importFiles(db, [path], { table: 't' }));
        assert.ok(error instanceof InputError, `${file} ${JSON.stringify(name)}: ${error.name}: ${error.message}`);
        assert.equal(error.file, path);
        assert.equal(error.column, name);
        assert.ok(error.message.startsWith(`${path}: column name ${JSON.stringify(name)} is not allowed`), error.message);
        assert.equal(await db.hasTable('t'), false);
      }
    }
  } finally {
    await db.close();
  }
});
