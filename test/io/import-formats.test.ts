// The import-format registry: a toy format registered from a test (one file, one line) imports
// through the library and the CLI; a worker on the shared worker-stream module that dies
// mid-stream fails the import with a typed error naming the file, and nothing is committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { WorkerCrashError, UsageError } from '../../src/errors.js';
import { detectFormat, importFiles } from '../../src/io/import.js';
import { registerImportFormat, unregisterImportFormat, type ImportFormatDescriptor } from '../../src/io/formats/index.js';
import { messageToBatch } from '../../src/io/batch-transfer.js';
import { inTableShape } from '../../src/io/arrow-batch.js';
import { workerStream } from '../../src/io/worker-stream.js';
import { runCli } from '../cli/in-process.js';
import { kvFormat } from './fixtures/kv-format.js';
import type { CrashInput, CrashMessage } from './fixtures/crash-worker.js';
import { rejection, rowsOf } from './helpers.js';

registerImportFormat(kvFormat);

const KV = [
  'time=2026-01-01T00:00:00Z host=a v=1.5',
  'time=2026-01-01T00:00:10Z host=b v=2',
  'time=2026-01-01T00:00:20Z host=a v=-3.25',
  '',
].join('\n');

async function rowsOfTable(db: Quiver, table: string) {
  const batches = [];
  for await (const b of (await db.table(table)).scan()) batches.push(b);
  return rowsOf(batches).map((r) => [r.time, r.host, r.v]).sort((x, y) => Number((x[0] as bigint) - (y[0] as bigint)));
}

const EXPECTED = [[1767225600000000000n, 'a', 1.5], [1767225610000000000n, 'b', 2], [1767225620000000000n, 'a', -3.25]];

test('a toy format registered from a test imports through the library and the CLI; detection and flag checks come from its descriptor', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-io-formats-'));
  try {
    const file = join(dir, 'points.kv');
    writeFileSync(file, KV);
    const unnamed = join(dir, 'points.dat');
    writeFileSync(unnamed, KV);
    assert.equal(detectFormat(file), 'kv');
    assert.equal(detectFormat(unnamed), 'kv', 'by its magic');

    const db = await Quiver.open(join(dir, 'store'));
    try {
      const summary = await importFiles(db, [file, unnamed], { table: 'lib', duplicates: 'keep' }); // both copies stored
      assert.equal(summary.rows, 6);
      assert.equal(summary.bytesIn, 2 * KV.length);
      const table = await db.table('lib');
      assert.deepEqual(table.schema.tags, ['host']);
      assert.deepEqual(table.schema.fields.map((f) => [f.name, f.type]), [['v', 'float64']]);
      const rows = await rowsOfTable(db, 'lib');
      assert.deepEqual(rows, EXPECTED.flatMap((r) => [r, r]).sort((x, y) => Number((x[0] as bigint) - (y[0] as bigint))));
      const lineage = (await table.chunks()).flatMap((c) => c.lineage.map((l) => `${l.source}:${l.rowStart}-${l.rowEnd}`)).sort();
      assert.deepEqual(lineage, [`${file}:0-3`, `${unnamed}:0-3`].sort());
      // CSV-only options do not apply to it; a CSV option is refused naming the format.
      await assert.rejects(importFiles(db, [file], { table: 'x', layout: 'long', fieldColumn: 'f', valueColumn: 'v' }), (e: unknown) => e instanceof UsageError && e.message === 'the long layout applies to CSV input only');
    } finally {
      await db.close();
    }

    const store = join(dir, 'cli-store');
    const imported = await runCli(store, 'import', file, '--table', 'cli', '--no-progress');
    assert.equal(imported.code, 0, imported.out);
    assert.match(imported.out, /imported 3 rows from 1 file\(s\) into cli/);
    const refused = await runCli(store, 'import', file, '--table', 'cli2', '--delimiter', ';');
    assert.equal(refused.code, 2, refused.out);
    assert.match(refused.out, new RegExp(`--delimiter applies to CSV input; ${file} is KV lines, whose columns come with their names and types`));
    const db2 = await Quiver.open(store);
    try {
      assert.deepEqual(await rowsOfTable(db2, 'cli'), EXPECTED);
      assert.equal(await db2.hasTable('cli2'), false);
    } finally {
      await db2.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a descriptor that claims an id or an extension already registered is refused', () => {
  assert.throws(() => registerImportFormat(kvFormat), /import format kv is registered twice/);
  assert.throws(() => registerImportFormat({ ...kvFormat, id: 'kv2', extensions: ['.csv'] }), /import formats csv and kv2 both claim \.csv/);
});

/** A format read by the crash-worker fixture: one batch, then the worker dies (`mode`). */
function crashingFormat(mode: CrashInput['mode']): ImportFormatDescriptor {
  return {
    id: `crash-${mode}`, name: 'Crash', extensions: [`.crash-${mode}`], pipeable: false,
    async *open(input, context) {
      const data: CrashInput = { credit: 1, mode };
      const messages = workerStream<CrashMessage>(new URL('./fixtures/crash-worker.js', import.meta.url), data, 'test worker', () => input.file);
      async function* batches() {
        for await (const m of messages) if (m.type === 'batch' && m.columns.length > 0) yield messageToBatch(m.columns);
      }
      yield* inTableShape(input.file, batches(), context.options, context.table);
    },
  };
}

for (const mode of ['throw', 'exit'] as const) {
  test(`a worker that dies mid-stream (${mode}) fails the import with a WorkerCrashError naming the file; nothing is committed`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-io-crash-'));
    const format = crashingFormat(mode);
    registerImportFormat(format);
    try {
      const file = join(dir, `in.crash-${mode}`);
      writeFileSync(file, 'x');
      const db = await Quiver.open(join(dir, 'store'));
      try {
        const error = await rejection(importFiles(db, [file], { table: 't', memoryBytes: 1024 * 1024 }));
        assert.ok(error instanceof WorkerCrashError, String(error));
        assert.equal(error.file, file);
        assert.equal(error.message, mode === 'exit' ? `${file}: the test worker exited with code 3` : `${file}: the test worker crashed: boom in the worker`);
        assert.equal(await db.hasTable('t'), false);
      } finally {
        await db.close();
      }
      // The batch written before the crash left no chunk file behind.
      const left = readdirSync(join(dir, 'store'), { recursive: true }).map(String).filter((f) => f.endsWith('.qvr'));
      assert.deepEqual(left, []);
    } finally {
      unregisterImportFormat(format.id);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
