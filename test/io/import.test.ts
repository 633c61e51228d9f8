import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { InputError, SchemaError, UsageError } from '../../src/errors.js';
import { expandGlobs, importFiles, type ImportProgress } from '../../src/io/import.js';
import { isoNs, rejection, rowsOf } from './helpers.js';

async function fresh() {
  const store = new MemoryChunkManager();
  return { store, db: await Quiver.open(store) };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'quiver-io-test-'));
}

/** host h's rows at 10 s steps from `startS` seconds after 2026-01-01. */
function cpuCsv(hosts: number, steps: number, startS = 0): string {
  const lines = ['time,host,dc,usage,count'];
  for (let s = 0; s < steps; s++) {
    const time = new Date(Date.UTC(2026, 0, 1) + (startS + s * 10) * 1000).toISOString();
    for (let h = 0; h < hosts; h++) lines.push(`${time},host_${h},dc${h % 2},${(h * 7 + s) / 4},${s}`);
  }
  return lines.join('\n') + '\n';
}

/** Every import test that parses CSV runs on the main thread and in the worker. */
const MODES = [
  { name: 'inline', options: { parallel: false } },
  { name: 'worker', options: { parallel: true, workerBytesMin: 0 } },
] as const;

async function tableRows(db: Quiver, name: string) {
  const t = await db.table(name);
  const out = await t.query({});
  return rowsOf(out.batches);
}

for (const mode of MODES) {
  test(`${mode.name}: import a CSV: rows, schema, lineage, progress, summary`, async () => {
    const dir = tmp();
    try {
      const file = join(dir, 'cpu.csv');
      writeFileSync(file, cpuCsv(3, 4));
      const { db } = await fresh();
      const progress: ImportProgress[] = [];
      const summary = await importFiles(db, [file], { ...mode.options, table: 'cpu', onProgress: (p) => progress.push(p) });
      assert.equal(summary.rows, 12);
      assert.equal(summary.files, 1);
      assert.equal(summary.series, 3);
      assert.equal(summary.rejected, 0);
      assert.equal(summary.bytesIn, readFileSync(file).length);
      assert.ok(summary.bytesOut > 0 && summary.chunks >= 1);
      const t = await db.table('cpu');
      assert.deepEqual(t.schema.tags, ['host', 'dc']);
      assert.deepEqual(t.schema.fields.map((f) => [f.name, f.type]), [['usage', 'float64'], ['count', 'int64']]);
      const rows = await tableRows(db, 'cpu');
      assert.equal(rows.length, 12);
      const r = rows.find((x) => x.host === 'host_2' && x.time === isoNs('2026-01-01T00:00:30Z'))!;
      assert.equal(r.usage, (14 + 3) / 4);
      assert.equal(r.count, 3n);
      assert.equal(r.dc, 'dc0');
      const chunks = await t.chunks();
      assert.deepEqual(chunks.flatMap((c) => c.lineage.map((l) => l.source)), chunks.flatMap((c) => c.lineage.map(() => file)));
      assert.equal(chunks.reduce((s, c) => s + c.lineage.reduce((a, l) => a + l.rowEnd - l.rowStart, 0), 0), 12);
      assert.ok(progress.length >= 1);
      assert.deepEqual(progress.at(-1), { bytesRead: summary.bytesIn, bytesTotal: summary.bytesIn, rows: 12, file });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a pipe (bash <(zcat …)) is read once as CSV, gzip detected by its magic', async () => {
  const dir = tmp();
  try {
    const fifo = join(dir, 'in.fifo');
    execFileSync('mkfifo', [fifo]);
    const text = cpuCsv(2, 3);
    const writer = createWriteStream(fifo);
    writer.end(gzipSync(text));
    const { db } = await fresh();
    const summary = await importFiles(db, [fifo], { table: 'p' });
    assert.equal(summary.rows, 6);
    assert.equal(summary.bytesIn, gzipSync(text).length);
    assert.deepEqual((await tableRows(db, 'p')).map((r) => r.count).sort(), [0n, 0n, 1n, 1n, 2n, 2n]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const mode of MODES) {
  test(`${mode.name}: several files: rejects name their file, --max-errors counts across files, lineage names each file`, async () => {
    const dir = tmp();
    try {
      const a = join(dir, 'a.csv');
      const b = join(dir, 'b.csv');
      writeFileSync(a, cpuCsv(2, 3) + '2026-01-01T00:05:00Z,host_0,dc0,x,1\n');
      writeFileSync(b, cpuCsv(2, 3, 1000) + '2026-01-01T01:00:00Z,host_0,dc0,1,y\n');
      const { db } = await fresh();
      const rejectsPath = join(dir, 'rejects.csv');
      const summary = await importFiles(db, [a, b], { ...mode.options, table: 'cpu', maxErrors: 2, rejectsPath, schema: { usage: 'float64', count: 'int64' } });
      assert.equal(summary.rows, 12);
      assert.equal(summary.rejected, 2);
      const lines = readFileSync(rejectsPath, 'utf8').trim().split('\n');
      assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(',')), [`${a},8`, `${b},8`]);
      const chunks = await (await db.table('cpu')).chunks();
      assert.deepEqual([...new Set(chunks.flatMap((c) => c.lineage.map((l) => l.source)))].sort(), [a, b]);
      const over = await rejection(importFiles(db, [a, b], { ...mode.options, table: 'cpu2', maxErrors: 1, rejectsPath, schema: { usage: 'float64', count: 'int64' } }));
      assert.equal(over.message, `${b}:8:5 (column count): expected int64, got "y" (bad row 2; --max-errors is 1; the others are in ${rejectsPath})`);
      assert.equal(await db.hasTable('cpu2'), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('globs expand * and ? in any segment, sorted; a pattern matching nothing is a usage error', () => {
  const dir = tmp();
  try {
    mkdirSync(join(dir, 'd1'));
    mkdirSync(join(dir, 'd2'));
    for (const f of ['d1/a.csv', 'd1/b.csv', 'd1/.hidden.csv', 'd2/c.csv', 'd2/c.txt', 'd1/ab.csv']) writeFileSync(join(dir, f), '');
    assert.deepEqual(expandGlobs([join(dir, 'd*/*.csv')]), ['d1/a.csv', 'd1/ab.csv', 'd1/b.csv', 'd2/c.csv'].map((f) => join(dir, f)));
    assert.deepEqual(expandGlobs([join(dir, 'd1/?.csv')]), ['d1/a.csv', 'd1/b.csv'].map((f) => join(dir, f)));
    assert.deepEqual(expandGlobs([join(dir, 'd1/.*.csv')]), [join(dir, 'd1/.hidden.csv')]);
    assert.deepEqual(expandGlobs(['-', 'plain.csv']), ['-', 'plain.csv']);
    assert.throws(() => expandGlobs([join(dir, 'none/*.csv')]), UsageError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const mode of MODES) {
  test(`${mode.name}: multi-file import is all or nothing: a bad second file leaves no table, or an existing table unchanged`, async () => {
    const dir = tmp();
    try {
      writeFileSync(join(dir, 'a.csv'), cpuCsv(2, 3));
      writeFileSync(join(dir, 'b.csv'), cpuCsv(2, 3, 100).replace(/,3\/4,|,1\.75,/, ',1.75,') + '2026-01-01T01:00:00Z,host_0,dc0,oops,1\n');
      const { db, store } = await fresh();
      const keysBefore = await store.list('', { recursive: true });
      const error = await rejection(importFiles(db, [join(dir, '*.csv')], { ...mode.options, table: 'cpu' }));
      assert.ok(error instanceof InputError);
      assert.equal(error.message, `${join(dir, 'b.csv')}:8:4 (column usage): expected float64, got "oops"`);
      assert.equal(await db.hasTable('cpu'), false);
      assert.deepEqual(await store.list('', { recursive: true }), keysBefore);

      await importFiles(db, [join(dir, 'a.csv')], { ...mode.options, table: 'cpu' });
      const before = await (await db.table('cpu')).describe();
      const keys = await store.list('', { recursive: true });
      const again = await rejection(importFiles(db, [join(dir, 'a.csv'), join(dir, 'b.csv')], { ...mode.options, table: 'cpu', append: true }));
      assert.ok(again instanceof InputError);
      const after = await (await db.table('cpu')).describe();
      assert.equal(after.version, before.version);
      assert.equal(after.rows, before.rows);
      assert.deepEqual(await store.list('', { recursive: true }), keys, 'the aborted import left no chunk behind');
      assert.ok((await rejection(importFiles(db, [join(dir, 'a.csv')], { ...mode.options, table: 'cpu' }))) instanceof UsageError, 'exists without append');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const mode of MODES) {
  test(`${mode.name}: every bad-input case fails the import with its exact error and leaves the table unchanged`, async () => {
    const dir = tmp();
    try {
      const { db, store } = await fresh();
      const good = join(dir, 'good.csv');
      writeFileSync(good, cpuCsv(2, 2));
      await importFiles(db, [good], { ...mode.options, table: 'cpu' });
      const before = await (await db.table('cpu')).describe();
      const keys = await store.list('', { recursive: true });
      const head = cpuCsv(2, 40);
      const cases: [string, string][] = [
        [`${head}2026-01-01T00:10:00Z,host_0,dc0,abc,1\n`, '82:4 (column usage): expected float64, got "abc"'],
        [`${head}2026-01-01T00:10:00Z,host_0,dc0,1,1.5\n`, '82:5 (column count): expected int64, got "1.5"'],
        [`${head}2026-01-01T00:10:00Z,host_0,dc0,1\n`, '82:5 (column count): expected 5 fields, got 4'],
        [`${head}2026-01-01T00:10:00Z,host_0,dc0,1,1,1\n`, '82:6: expected 5 fields, got 6'],
        [`${head}2026-01-01T25:10:00Z,host_0,dc0,1,1\n`, '82:1 (column time): expected an ISO-8601 timestamp, got "2026-01-01T25:10:00Z"'],
        [`${head}2026-01-01T00:10:00Z,"host_0,dc0,1,1\n`, '82:2 (column host): unterminated quoted field (no closing quote before the end of the input)'],
      ];
      for (const [k, [text, message]] of cases.entries()) {
        const file = join(dir, `bad${k}.csv`);
        writeFileSync(file, text);
        const error = await rejection(importFiles(db, [file], { ...mode.options, table: 'cpu', append: true }));
        assert.ok(error instanceof InputError, message);
        assert.equal(error.message, `${file}:${message}`);
        const after = await (await db.table('cpu')).describe();
        assert.equal(after.version, before.version, message);
        assert.equal(after.rows, before.rows, message);
        assert.deepEqual(await store.list('', { recursive: true }), keys, message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const mode of MODES) {
  test(`${mode.name}: maxErrors: bad rows go to the rejects file (default <file>.rejects.csv in the cwd); one more fails`, async () => {
    const dir = tmp();
    const cwd = process.cwd();
    try {
      const text = 'time,host,v\n2026-01-01T00:00:00Z,a,1\n2026-01-01T00:00:10Z,a,x\n2026-01-01T00:00:20Z,"b,c"\nnot-a-time,a,3\n2026-01-01T00:00:40Z,a,4\n';
      writeFileSync(join(dir, 'm.csv'), text);
      process.chdir(dir);
      const { db } = await fresh();
      const summary = await importFiles(db, ['m.csv'], { ...mode.options, table: 'm', maxErrors: 3, schema: { v: 'float64' } });
      assert.equal(summary.rows, 2);
      assert.equal(summary.rejected, 3);
      assert.equal(summary.rejectsPath, join(dir, 'm.csv.rejects.csv'));
      assert.equal(readFileSync(join(dir, 'm.csv.rejects.csv'), 'utf8'), [
        'file,line,reason,row',
        'm.csv,3,"m.csv:3:3 (column v): expected float64, got ""x""","2026-01-01T00:00:10Z,a,x"',
        'm.csv,4,"m.csv:4:3 (column v): expected 3 fields, got 2","2026-01-01T00:00:20Z,""b,c"""',
        'm.csv,5,"m.csv:5:1 (column time): expected an ISO-8601 timestamp, got ""not-a-time""","not-a-time,a,3"',
        '',
      ].join('\n'));
      assert.deepEqual((await tableRows(db, 'm')).map((r) => r.v), [1, 4]);
      const error = await rejection(importFiles(db, ['m.csv'], { ...mode.options, table: 'm2', maxErrors: 2, schema: { v: 'float64' }, rejectsPath: join(dir, 'r.csv') }));
      assert.equal(error.message, `m.csv:5:1 (column time): expected an ISO-8601 timestamp, got "not-a-time" (bad row 3; --max-errors is 2; the others are in ${join(dir, 'r.csv')})`);
      assert.equal(await db.hasTable('m2'), false);
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const mode of MODES) {
  test(`${mode.name}: append: a new field column is added; a type conflict names both types; gzip and long layout`, async () => {
    const dir = tmp();
    try {
      const { db } = await fresh();
      writeFileSync(join(dir, 'a.csv'), 'time,host,v\n2026-01-01T00:00:00Z,a,1.5\n');
      writeFileSync(join(dir, 'b.csv.gz'), gzipSync('time,host,v,w\n2026-01-01T00:00:10Z,b,2,true\n'));
      writeFileSync(join(dir, 'c.csv'), 'time,host,w\n2026-01-01T00:00:20Z,c,7\n');
      await importFiles(db, [join(dir, 'a.csv')], { ...mode.options, table: 't' });
      const s = await importFiles(db, [join(dir, 'b.csv.gz')], { ...mode.options, table: 't', append: true });
      assert.equal(s.rows, 1);
      const t = await db.table('t');
      assert.deepEqual(t.schema.fields.map((f) => [f.name, f.type]), [['v', 'float64'], ['w', 'bool']]);
      const rows = await tableRows(db, 't');
      assert.deepEqual(rows.map((r) => [r.host, r.v, r.w]), [['a', 1.5, null], ['b', 2, true]]);
      const conflict = await rejection(importFiles(db, [join(dir, 'c.csv')], { ...mode.options, table: 't', append: true }));
      assert.equal(conflict.message, `${join(dir, 'c.csv')}:2:3 (column w): expected bool (true/false), got "7"`);
      const parquetLike = await rejection(importFiles(db, [join(dir, 'c.csv')], { ...mode.options, table: 't', append: true, schema: { w: 'int64' } }));
      assert.ok(parquetLike instanceof SchemaError);
      assert.equal(parquetLike.message, `${join(dir, 'c.csv')}: column w is int64 (--schema) but bool in the table`);

      writeFileSync(join(dir, 'long.csv'), 'time,host,name,value\n2026-01-01T00:00:00Z,a,x,1\n2026-01-01T00:00:00Z,a,y,2\n2026-01-01T00:00:10Z,a,x,3\n');
      const long = await importFiles(db, [join(dir, 'long.csv')], { ...mode.options, table: 'l', layout: 'long', fieldColumn: 'name', valueColumn: 'value', schema: { x: 'float64', y: 'float64' } });
      assert.equal(long.rows, 2);
      assert.deepEqual((await tableRows(db, 'l')).map((r) => [r.x, r.y]), [[1, 2], [3, null]]);
      assert.equal(existsSync(join(dir, 'long.csv.rejects.csv')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

