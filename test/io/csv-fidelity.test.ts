// The CSV reader never changes a value silently (issue 12): invalid UTF-8, integers beyond
// 2^53, null vs empty string, dirty numeric columns, 1e999, long-layout duplicates, and
// planning from whole rows however long (issue 13).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Data, RecordBatch } from 'apache-arrow';
import { InputError, UsageError } from '../../src/errors.js';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles, type ImportOptions } from '../../src/io/import.js';
import { readCsvInWorker } from '../../src/io/csv/parse-worker.js';
import { CSV_PLAN_BYTES, inferType } from '../../src/io/csv/reader.js';
import { firstInvalidUtf8 } from '../../src/io/csv/cells.js';
import { constant, isoNs, NS, readText, rejection, rowsOf } from './helpers.js';

const T0 = isoNs('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString().replace('.000Z', 'Z');

/** CSV bytes: text pieces and raw byte arrays joined. */
const bytesOf = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-csv-fidelity-'));
  try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** Imports `text` as t.csv into a fresh in-memory store; returns the summary and the table's rows. */
async function importText(dir: string, text: string | Buffer, options: Partial<ImportOptions> = {}) {
  const file = join(dir, 't.csv');
  writeFileSync(file, text);
  const db = await Quiver.open(new MemoryChunkManager());
  const summary = await importFiles(db, [file], { parallel: false, ...options, table: 't' });
  const table = await db.table('t');
  const rows = rowsOf((await table.query({})).batches);
  return { summary, rows, schema: table.schema };
}

/** A Utf8 or dictionary column's values as raw bytes (no decoding, so nothing is lost on the way). */
function rawStrings(data: Data): (Buffer | null)[] {
  const src = data.dictionary ? data.dictionary.data[0]! : data;
  const offsets = src.valueOffsets as Int32Array;
  const text = (k: number) => Buffer.from(src.values.subarray(offsets[k]!, offsets[k + 1]!));
  return Array.from({ length: data.length }, (_, i) => (data.getValid(i) ? text(data.dictionary ? (data.values as Int32Array)[i]! : i) : null));
}

const column = (batches: RecordBatch[], name: string) => batches.flatMap((b) => rawStrings(b.getChild(name)!.data[0]!));

test('invalid UTF-8 in a tag, a utf8 field or the header is an error naming file:line:column; a BOM inside a value is kept', async () => {
  const tag = bytesOf('time,host,v\n', `${at(0)},a,1\n`, `${at(1)},b`, [0xff], ',2\n');
  for (const sizes of [[], constant(3)]) {
    const error = await rejection(readText(tag, {}, sizes));
    assert.ok(error instanceof InputError);
    assert.equal(error.message, 'in.csv:3:2 (column host): expected UTF-8 text, got "b\ufffd"; byte 2 of the cell (0xff) is not valid UTF-8 (fix the file, or import with --invalid-utf8 replace to store U+FFFD in its place)');
  }
  // A quoted cell with doubled quotes (decoded on another path) and a field.
  const quoted = bytesOf('time,host,note\n', `${at(0)},"a""`, [0xc3, 0x28], '",x\n');
  assert.match((await rejection(readText(quoted))).message, /^in\.csv:2:2 \(column host\): expected UTF-8 text, got .*byte 4 of the cell \(0xc3\)/);
  const field = bytesOf('time,host,note\n', `${at(0)},a,"x`, [0xed, 0xa0, 0x80], '"\n');
  assert.match((await rejection(readText(field, { tags: ['host'] }))).message, /^in\.csv:2:3 \(column note\): expected UTF-8 text, got .*byte 2 of the cell \(0xed\)/);
  const header = bytesOf('time,ho', [0xfe], 'st,v\n', `${at(0)},a,1\n`);
  assert.match((await rejection(readText(header))).message, /^in\.csv:1:2 \(column #2\): expected UTF-8 text, got "ho\ufffdst"; byte 3 of the cell \(0xfe\)/);
  const longName = bytesOf('time,host,field,value\n', `${at(0)},a,cp`, [0x80], ',1\n');
  assert.match((await rejection(readText(longName, { layout: 'long', fieldColumn: 'field', valueColumn: 'value' }))).message, /^in\.csv:2:3 \(column field\): expected UTF-8 text/);
  // Valid multi-byte characters split across pieces are whole again in their cell.
  const valid = `time,host,note\n${at(0)},h\u00e9\u4e2d\u{1f600},"x\u00e9"\n${at(1)},\ufeffb,\ufeffy\n`;
  const ok = await readText(valid, { tags: ['host'] }, constant(1));
  assert.deepEqual(column(ok.batches, 'host').map(String), ['h\u00e9\u4e2d\u{1f600}', '\ufeffb']);
  assert.deepEqual(column(ok.batches, 'note').map(String), ['x\u00e9', '\ufeffy']);
  assert.equal(firstInvalidUtf8(Buffer.from('h\u00e9\u4e2d\u{1f600}')), 10);
  for (const [bad, offset] of [[[0x61, 0xc0, 0x80], 1], [[0xe0, 0x80, 0x80], 0], [[0xf4, 0x90, 0x80, 0x80], 0], [[0x61, 0x62, 0xe2, 0x82], 2], [[0xf8], 0]] as const) {
    assert.equal(firstInvalidUtf8(new Uint8Array(bad)), offset, String(bad));
  }
});

test('--invalid-utf8 replace stores U+FFFD and counts every value it changed (tags per row, fields, header names)', async () => {
  const text = bytesOf('time,ho', [0xfe], 'st,note,v\n',
    `${at(0)},a`, [0xff], ',ok,1\n',
    `${at(1)},a`, [0xff], ',n', [0xc3], ',2\n',
    `${at(2)},b,"q""`, [0xff], '",3\n');
  const options = { invalidUtf8: 'replace' as const, tags: ['ho\ufffdst'] };
  for (const sizes of [[], constant(2)]) {
    let replaced = 0;
    const { rows } = await readText(text, options, sizes);
    assert.deepEqual(rows.map((r) => [r['ho\ufffdst'], r.note]), [['a\ufffd', 'ok'], ['a\ufffd', 'n\ufffd'], ['b', 'q"\ufffd']]);
    const { readCsv } = await import('../../src/io/csv/reader.js');
    const { pieces } = await import('./helpers.js');
    for await (const b of readCsv(pieces(text, sizes), 'in.csv', { ...options, batchRows: 2 })) replaced += b.replaced;
    assert.equal(replaced, 1 + 2 + 2, 'the header name, a tag in two rows, two fields');
  }
  await withDir(async (dir) => {
    for (const parallel of [false, true]) {
      const { summary } = await importText(dir, text, { ...options, parallel, workerBytesMin: 0 });
      assert.equal(summary.invalidUtf8Replaced, 5);
    }
    const plain = await importText(dir, `time,v\n${at(0)},1\n`);
    assert.equal(plain.summary.invalidUtf8Replaced, 0);
  });
});

test('19-digit integers are int64 or uint64, exactly; whole numbers that fit neither are an error, not float64', async () => {
  const { rows, schema } = await readText(`time,id,u,small\n${at(0)},1234567890123456789,18446744073709551615,-5\n${at(1)},1234567890123456790,9223372036854775808,7\n${at(2)},-9223372036854775808,0,\n`);
  assert.deepEqual(schema.fields.map((f) => [f.name, f.type]), [['id', 'int64'], ['u', 'uint64'], ['small', 'int64']]);
  assert.deepEqual(rows.map((r) => [r.id, r.u, r.small]), [
    [1234567890123456789n, 18446744073709551615n, -5n], [1234567890123456790n, 9223372036854775808n, 7n], [-9223372036854775808n, 0n, null]]);
  const mixed = await rejection(readText(`time,id\n${at(0)},-1\n${at(1)},9223372036854775808\n`));
  assert.ok(mixed instanceof InputError);
  assert.equal(mixed.message, 'in.csv:3:2 (column id): expected int64 (-9223372036854775808 to 9223372036854775807), got "9223372036854775808"; the column holds whole numbers only and is not made float64 silently: import id with --schema id:float64 (the nearest double) or id:utf8 (the digits as text)');
  const huge = await rejection(readText(`time,id\n${at(0)},1\n${at(1)},99999999999999999999\n`));
  assert.match(huge.message, /^in\.csv:3:2 \(column id\): expected uint64 \(0 to 18446744073709551615\), got "99999999999999999999"/);
  // Said explicitly, they are what the user asked for.
  const asFloat = await readText(`time,id\n${at(0)},1\n${at(1)},99999999999999999999\n`, { schema: { id: 'float64' } });
  assert.deepEqual(asFloat.rows.map((r) => r.id), [1, 1e20]);
  const asText = await readText(`time,id\n${at(0)},1\n${at(1)},99999999999999999999\n`, { schema: { id: 'utf8' } });
  assert.deepEqual(asText.rows.map((r) => r.id), ['1', '99999999999999999999']);
  // Beyond the sample, the inferred type's range is checked, naming it and the ways out.
  const later = await rejection(readText(`time,id\n${at(0)},1\n${at(1)},9223372036854775808\n`, { planBytes: 1, batchRows: 1 }, constant(16)));
  assert.match(later.message, /^in\.csv:3:2 \(column id\): expected int64 \(-9223372036854775808 to 9223372036854775807\), got "9223372036854775808"; import id with --schema id:uint64 \(when no value is negative\), id:float64/);
  const neg = await rejection(readText(`time,u\n${at(0)},-1\n`, { schema: { u: 'uint64' } }));
  assert.match(neg.message, /^in\.csv:2:2 \(column u\): expected uint64 \(0 to 18446744073709551615\), got "-1"; import u with --schema u:int64/);
});

test('a float64 column refuses an integer no double holds exactly, unless --schema says float64', async () => {
  const text = `time,x\n${at(0)},1.5\n${at(1)},9007199254740992\n${at(2)},9007199254740993\n`;
  const error = await rejection(readText(text));
  assert.equal(error.message, 'in.csv:4:2 (column x): expected float64, got "9007199254740993"; no double holds this integer exactly (it would be stored as 9007199254740992): import x with --schema x:utf8 to keep the digits, or --schema x:float64 to store the nearest double');
  assert.match((await rejection(readText(`time,x\n${at(0)},0.5\n${at(1)},-12345678901234567891\n`))).message, /^in\.csv:3:2 \(column x\): expected float64, got "-12345678901234567891"; no double/);
  const rounded = await readText(text, { schema: { x: 'float64' } });
  assert.deepEqual(rounded.rows.map((r) => r.x), [1.5, 9007199254740992, 9007199254740992]);
  // Decimals and exponents are doubles by definition; exact big integers are fine.
  const fine = await readText(`time,x\n${at(0)},0.1\n${at(1)},12345678901234567891.5\n${at(2)},1e20\n${at(3)},18014398509481984\n`);
  assert.deepEqual(fine.rows.map((r) => r.x), [0.1, 12345678901234567891.5, 1e20, 18014398509481984]);
  // Appending to a float64 table is checked too; the long layout the same way, per field.
  const table = { time: 'time', timeUnit: 'ns' as const, tags: [], fields: [{ name: 'x', type: 'float64' as const, nullable: true }] };
  assert.match((await rejection(readText(`time,x\n${at(0)},9007199254740993\n`, {}, [], table))).message, /no double holds this integer exactly/);
  const long = `time,host,field,value\n${at(0)},a,x,0.5\n${at(1)},a,x,9007199254740993\n`;
  const longOptions = { layout: 'long' as const, fieldColumn: 'field', valueColumn: 'value' };
  assert.match((await rejection(readText(long, longOptions))).message, /^in\.csv:3:4 \(column value\): expected float64, got "9007199254740993"; no double holds this integer exactly \(it would be stored as 9007199254740992\): import x with --schema x:utf8/);
  assert.deepEqual((await readText(long, { ...longOptions, schema: { x: 'float64' } })).rows.map((r) => r.x), [0.5, 9007199254740992]);
});

test('1e999 is an error like any unparseable number; inf, infinity and nan spellings are values', async () => {
  for (const big of ['1e999', '-1e999', '1' + '0'.repeat(400)]) {
    const error = await rejection(readText(`time,v\n${at(0)},1.5\n${at(1)},${big}\n`));
    assert.ok(error instanceof InputError, big);
    assert.ok(error.message.startsWith(`in.csv:3:2 (column v): expected float64, got "${big.slice(0, 60)}`), error.message);
    assert.match(error.message, /beyond the float64 range \(±1\.7976931348623157e\+308\); write inf or -inf for an infinity$/);
    // --schema v:float64 does not make it a value either.
    assert.ok((await rejection(readText(`time,v\n${at(0)},${big}\n`, { schema: { v: 'float64' } }))) instanceof InputError);
  }
  const spellings = ['inf', '-inf', '+inf', 'Infinity', '-INFINITY', 'nan', 'NaN', '-nan', '1e-999', '2.5'];
  const { rows, schema } = await readText(`time,v\n${spellings.map((s, k) => `${at(k)},${s}`).join('\n')}\n`);
  assert.deepEqual(schema.fields.map((f) => f.type), ['float64']);
  assert.deepEqual(rows.map((r) => r.v), [Infinity, -Infinity, Infinity, Infinity, -Infinity, NaN, NaN, NaN, 0, 2.5]);
});

test('an unquoted empty cell is null, a quoted one ("") the empty string: tags in Arrow batches (wide, long, worker), utf8 fields end to end', async () => {
  // Tag cells next to each other (one span per series) and apart, quoted first/last cells.
  const text = 'time,h,r,v,s\n'
    + `${at(0)},"",x,1,a\n`
    + `${at(0)},,x,2,\n`
    + `${at(0)},a,"",3,""\n`
    + `${at(0)},a,,4,b\n`
    + `${at(1)},"",x,5,a\n`
    + `${at(1)},,x,6,\n`;
  const expectedH = ['', null, 'a', 'a', '', null];
  const expectedR = ['x', 'x', '', null, 'x', 'x'];
  const expectedS = ['a', null, '', 'b', 'a', null];
  for (const batchRows of [1, 4, 100]) {
    for (const options of [{ tags: ['h', 'r'] }, { tags: ['h', 's'] }]) {
      const { batches } = await readText(text, { ...options, schema: { v: 'int64' }, batchRows });
      const [a, b] = options.tags as [string, string];
      const expected = { h: expectedH, r: expectedR, s: expectedS };
      assert.deepEqual(column(batches, a).map((x) => x?.toString() ?? null), expected[a as 'h'], `${a} batchRows ${batchRows}`);
      assert.deepEqual(column(batches, b).map((x) => x?.toString() ?? null), expected[b as 'r'], `${b} batchRows ${batchRows}`);
      for (const batch of batches) assert.equal(batch.getChild(a)!.data[0]!.nullCount, column([batch], a).filter((x) => x === null).length);
    }
  }
  const long = `time,h,field,value\n${at(0)},"",cpu,1\n${at(0)},,cpu,2\n${at(0)},,mem,3\n`;
  const pivot = await readText(long, { layout: 'long', fieldColumn: 'field', valueColumn: 'value' });
  assert.deepEqual(pivot.rows.map((r) => [r.h, r.cpu, r.mem]), [['', 1n, null], [null, 2n, 3n]]);
  // Batches parsed in the worker thread keep the null slots of tag columns (and every value byte).
  await withDir(async (dir) => {
    const file = join(dir, 'w.csv');
    writeFileSync(file, `${text}${at(2)},\ufeffz,x,7,\ufeffq\n`);
    const batches: RecordBatch[] = [];
    for await (const b of readCsvInWorker(file, { bytes: 0 }, { tags: ['h', 'r'], schema: { v: 'int64' }, batchRows: 4 })) batches.push(b.batch);
    assert.deepEqual(column(batches, 'h').map((x) => x?.toString() ?? null), [...expectedH, '\ufeffz']);
    assert.deepEqual(column(batches, 's').map((x) => x?.toString() ?? null), [...expectedS, '\ufeffq']);
    // utf8 fields, end to end through a table.
    const { rows } = await importText(dir, text, { tags: ['h', 'r'] });
    assert.deepEqual(rows.sort((p, q) => Number(p.v) - Number(q.v)).map((r) => r.s), expectedS);
  });
});

test('a mostly numeric column with a stray word is an error naming it, not a tag; --schema or --tags says what is meant', async () => {
  const lines = ['time,host,v'];
  for (let k = 0; k < 10; k++) lines.push(`${at(k)},h${k % 2},${k === 3 ? 'n/a' : k * 1.5}`);
  const text = lines.join('\n') + '\n';
  const error = await rejection(readText(text, {}, [], undefined, 'dirty.csv'));
  assert.ok(error instanceof InputError);
  assert.equal(error.message, 'dirty.csv:5:3 (column v): expected a number (9 of the 10 values in the first 10 rows are), got "n/a"; say what the column is: --schema v:float64 (with --max-errors to skip rows like this one), --schema v:utf8 for text, or --tags v for a tag');
  assert.equal(error.line, 5);
  // What the user says goes.
  const rejects: number[] = [];
  const skipped = await readText(text, { schema: { v: 'float64' }, maxErrors: 1, onReject: (r) => rejects.push(r.line) });
  assert.equal(skipped.rows.length, 9);
  assert.deepEqual(rejects, [5]);
  assert.deepEqual((await readText(text, { tags: ['host', 'v'] })).schema.tags, ['host', 'v']);
  assert.deepEqual((await readText(text, { schema: { v: 'utf8' } })).schema.fields.map((f) => [f.name, f.type]), [['v', 'utf8']]);
  // Half numbers is still "mostly numeric"; a minority of numbers among words is text (a tag).
  assert.ok((await rejection(readText(`time,v\n${at(0)},1\n${at(1)},x\n`))) instanceof InputError);
  const names = await readText(`time,host,v\n${at(0)},web,1\n${at(1)},db,2\n${at(2)},42,3\n`);
  assert.deepEqual(names.schema.tags, ['host']);
  assert.deepEqual(names.rows.map((r) => r.host), ['web', 'db', '42']);
  // The long layout: per field, the value column is named.
  const long = `time,h,field,value\n${at(0)},a,cpu,1\n${at(1)},a,cpu,2\n${at(2)},a,cpu,oops\n`;
  assert.match((await rejection(readText(long, { layout: 'long', fieldColumn: 'field', valueColumn: 'value' }))).message,
    /^in\.csv:4:4 \(column value\): expected a number \(2 of the 3 values in the first 3 rows are\), got "oops"; say what the column is: --schema cpu:float64/);
  // The rule on its own.
  assert.equal(inferType(['', ' ']), 'float64');
  assert.equal(inferType(['1', '2.5', 'nan']), 'float64');
  assert.equal(inferType(['true', 'FALSE']), 'bool');
  assert.equal(inferType(['a', 'b', '1']), 'utf8');
  assert.throws(() => inferType(['1', 'true']), InputError);
});

test('--layout long keeps a duplicate (series, time, field) as a row of its own and counts it', async () => {
  const text = 'time,host,field,value\n'
    + `${at(0)},a,cpu,1\n`
    + `${at(0)},a,mem,10\n`
    + `${at(0)},a,cpu,2\n`
    + `${at(0)},a,cpu,3\n`
    + `${at(0)},a,mem,11\n`
    + `${at(0)},b,cpu,4\n`
    + `${at(10)},a,cpu,5\n`;
  const options = { layout: 'long' as const, fieldColumn: 'field', valueColumn: 'value' };
  const expected = [[0n, 'a', 1n, 10n], [0n, 'a', 2n, 11n], [0n, 'a', 3n, null], [0n, 'b', 4n, null], [10n, 'a', 5n, null]];
  const { readCsv } = await import('../../src/io/csv/reader.js');
  const { pieces } = await import('./helpers.js');
  for (const batchRows of [1, 2, 3, 100]) {
    const batches: RecordBatch[] = [];
    for await (const b of readCsv(pieces(Buffer.from(text), []), 'in.csv', { ...options, batchRows })) batches.push(b.batch);
    const rows = rowsOf(batches).map((r) => [((r.time as bigint) - T0) / NS, r.host, r.cpu ?? null, r.mem ?? null]);
    // Every value is there exactly once, whatever the batch size; in one batch the pivot is as above.
    assert.deepEqual(rows.flatMap((r) => [r[2], r[3]]).filter((v) => v !== null).sort(), [1n, 10n, 11n, 2n, 3n, 4n, 5n].sort(), `batchRows ${batchRows}`);
    if (batchRows === 100) assert.deepEqual(rows, expected);
  }
  await withDir(async (dir) => {
    for (const parallel of [false, true]) {
      const kept = await importText(dir, text, { ...options, parallel, workerBytesMin: 0, duplicates: 'keep' });
      assert.equal(kept.summary.duplicates, 3);
      assert.equal(kept.summary.duplicateRows, 2);
      assert.equal(kept.summary.rows, 5);
      assert.deepEqual(kept.rows.map((r) => r.cpu).sort(), [1n, 2n, 3n, 4n, 5n]);
      // The default policy, last: each field's last value at (series, time) wins; same count.
      const last = await importText(dir, text, { ...options, parallel, workerBytesMin: 0 });
      assert.equal(last.summary.duplicates, 3);
      assert.equal(last.summary.duplicatePolicy, 'last');
      assert.deepEqual(last.rows.map((r) => [((r.time as bigint) - T0) / NS, r.host, r.cpu ?? null, r.mem ?? null]), [[0n, 'a', 3n, 11n], [10n, 'a', 5n, null], [0n, 'b', 4n, null]]);
    }
  });
});

test('a long-layout field named like the time column or a tag is an error, not a second column of that name', async () => {
  const options = { layout: 'long' as const, fieldColumn: 'field', valueColumn: 'value' };
  for (const name of ['host', 'time']) {
    const error = await rejection(readText(`time,host,field,value\n${at(0)},a,cpu,1\n${at(1)},a,${name},2\n`, { ...options, schema: { cpu: 'int64' } }));
    assert.equal(error.message, `in.csv:3:3 (column field): expected a field name other than the time column and the tags, got "${name}"`);
  }
});

test('types are inferred from whole rows: a first row over 1 MiB, a header longer than a piece, rows across pieces', async () => {
  const long = 'x'.repeat(CSV_PLAN_BYTES + 100_000);
  const text = `time,host,note,i,f\n${at(0)},a,${long},1,1.5\n${at(1)},b,short,2,2\n`;
  for (const sizes of [[], constant(65_536), constant(1_000_003)]) {
    const { schema, rows } = await readText(text, { tags: ['host'] }, sizes);
    assert.deepEqual(schema.fields.map((f) => [f.name, f.type]), [['note', 'utf8'], ['i', 'int64'], ['f', 'float64']]);
    assert.equal(rows[0]!.note, long);
    assert.deepEqual(rows.map((r) => [r.i, r.f]), [[1n, 1.5], [2n, 2]]);
  }
  // A header far longer than a piece, each name long; a quoted newline in a header name.
  const names = Array.from({ length: 40 }, (_, k) => `field_${String(k).padStart(3, '0')}_${'n'.repeat(200)}`);
  const wide = `time,${names.join(',')}\n${at(0)},${names.map((_, k) => k).join(',')}\n${at(1)},${names.map((_, k) => k + 0.5).join(',')}\n`;
  const w = await readText(wide, {}, constant(1000));
  assert.deepEqual(w.schema.fields.map((f) => f.type), names.map(() => 'float64'));
  assert.equal(w.rows[1]![names[39]!], 39.5);
  // A quoted header name spanning lines parses, and is refused as a column name (a table
  // holds no control characters in names) at its line and column.
  assert.match((await rejection(readText(`time;"a\nb";c\n${at(0)};1;x\n`, {}, constant(3)))).message, /^in\.csv:1:2: column name "a\\nb" is not allowed/);
  // planBytes reached mid-row: the sample still ends at a whole row; every piece size agrees.
  const many = ['time,host,v', ...Array.from({ length: 300 }, (_, k) => `${at(k)},h${k % 3},${k % 7 === 0 ? k + 0.25 : k}`)].join('\n');
  const reference = await readText(many);
  for (const planBytes of [1, 50, 777, 5000]) {
    for (const size of [1, 7, 64, 4096]) {
      const r = await readText(many, { planBytes }, constant(size));
      assert.deepEqual(r.schema, reference.schema, `planBytes ${planBytes} pieces ${size}`);
      assert.equal(r.rows.length, 300);
    }
  }
});

test('csv-spectrum cases: quotes, embedded newlines (LF, CRLF, CR), escaped quotes, JSON in a cell, UTF-8, empty cells, BOM, trailing delimiter, ragged rows, blank lines', async () => {
  const t = [at(0), at(1), at(2)];
  const cases: [string, string, Record<string, unknown>[]][] = [
    ['comma_in_quotes', `time,first,address,city\n${t[0]},John,120 any st.,"Anytown, WW"\n`, [{ first: 'John', address: '120 any st.', city: 'Anytown, WW' }]],
    ['empty', `time,a,b,c\n${t[0]},1,"",""\n${t[1]},2,3,4\n`, [{ a: '1', b: '', c: '' }, { a: '2', b: '3', c: '4' }]],
    ['empty_crlf', `time,a,b,c\r\n${t[0]},1,"",""\r\n${t[1]},2,3,4\r\n`, [{ a: '1', b: '', c: '' }, { a: '2', b: '3', c: '4' }]],
    ['escaped_quotes', `time,a,b\n${t[0]},1,"ha ""ha"" ha"\n${t[1]},3,4\n`, [{ a: '1', b: 'ha "ha" ha' }, { a: '3', b: '4' }]],
    ['json', `time,key,val\n${t[0]},1,"{""type"": ""Point"", ""coordinates"": [102.0, 0.5]}"\n`, [{ key: '1', val: '{"type": "Point", "coordinates": [102.0, 0.5]}' }]],
    ['newlines', `time,a,b,c\n${t[0]},1,2,3\n${t[1]},"Once upon \na time",5,6\n${t[2]},7,8,9\n`, [{ a: '1', b: '2', c: '3' }, { a: 'Once upon \na time', b: '5', c: '6' }, { a: '7', b: '8', c: '9' }]],
    ['newlines_crlf', `time,a,b\r\n${t[0]},1,2\r\n${t[1]},"Once upon \r\na time",5\r\n`, [{ a: '1', b: '2' }, { a: 'Once upon \r\na time', b: '5' }]],
    ['newlines_cr', `time,a,b\r${t[0]},1,2\r${t[1]},"Once upon \ra time",5\r`, [{ a: '1', b: '2' }, { a: 'Once upon \ra time', b: '5' }]],
    ['quotes_and_newlines', `time,a,b\n${t[0]},1,"ha \n""ha"" \nha"\n${t[1]},3,4\n`, [{ a: '1', b: 'ha \n"ha" \nha' }, { a: '3', b: '4' }]],
    ['simple_crlf', `time,a,b,c\r\n${t[0]},1,2,3`, [{ a: '1', b: '2', c: '3' }]],
    ['utf8', `time,a,b,c\n${t[0]},1,2,3\n${t[1]},4,5,\u02a4\n`, [{ a: '1', b: '2', c: '3' }, { a: '4', b: '5', c: '\u02a4' }]],
    ['null (the text NULL is text)', `time,a,b,c\n${t[0]},1,,2\n${t[1]},3,NULL,4\n`, [{ a: '1', b: null, c: '2' }, { a: '3', b: 'NULL', c: '4' }]],
    ['bom + quoted header', `\ufeff"time","a"\n${t[0]},x\n`, [{ a: 'x' }]],
    ['blank lines and a last line without its end', `time,a\n\n${t[0]},x\r\n\r\n\n${t[1]},y`, [{ a: 'x' }, { a: 'y' }]],
    ['trailing delimiter on data rows only: a last empty cell', `time,a,b\n${t[0]},x,\n${t[1]},y,""\n`, [{ a: 'x', b: null }, { a: 'y', b: '' }]],
  ];
  for (const [name, text, expected] of cases) {
    const schema = Object.fromEntries(Object.keys(expected[0]!).map((k) => [k, 'utf8']));
    for (const sizes of [[], constant(1), constant(5)]) {
      const { rows } = await readText(text, { schema, tags: [] }, sizes);
      assert.deepEqual(rows.map(({ time: _, ...rest }) => rest), expected, `${name} pieces ${JSON.stringify(sizes)}`);
    }
  }
  // Ragged rows are errors naming the row; a trailing delimiter on every line (header too) is an empty column name.
  assert.equal((await rejection(readText(`time,a,b\n${t[0]},1\n`))).message, 'in.csv:2:3 (column b): expected 3 fields, got 2');
  assert.equal((await rejection(readText(`time,a\n${t[0]},1,2\n`))).message, 'in.csv:2:3: expected 2 fields, got 3');
  assert.equal((await rejection(readText(`time,a,\n${t[0]},1,\n`))).message, 'in.csv:1:3: the header has an empty column name');
  // latin1 bytes are not UTF-8: an error, or U+FFFD with --invalid-utf8 replace.
  const latin1 = Buffer.from(`time,a\n${t[0]},caf\u00e9\n`, 'latin1');
  assert.match((await rejection(readText(latin1, { schema: { a: 'utf8' } }))).message, /^in\.csv:2:2 \(column a\): expected UTF-8 text/);
  assert.deepEqual((await readText(latin1, { schema: { a: 'utf8' }, invalidUtf8: 'replace' })).rows.map((r) => r.a), ['caf\ufffd']);
});

test('--schema: a tag and a type for one column disagree; the time column is typed by --time-format', async () => {
  const text = `time,host,v\n${at(0)},a,1\n`;
  assert.ok((await rejection(readText(text, { tags: ['host'], schema: { host: 'int64' } }))) instanceof UsageError);
  assert.ok((await rejection(readText(text, { schema: { time: 'int64' } }))) instanceof UsageError);
});

// Found by the fuzzer (seed 13, csv iterations 118 and 122).
test('inference names the first value outside int64 in a column with negatives, and control characters in the header are InputErrors', async () => {
  assert.throws(() => inferType(['1', '-99999999999999999999999'], [2, 3], 'f.csv', 'v', 1),
    (e: unknown) => e instanceof InputError && /f\.csv:3:2 \(column v\): expected int64/.test(e.message));
  assert.throws(() => inferType(['-1', '99999999999999999999999'], [2, 3], 'f.csv', 'v', 1),
    (e: unknown) => e instanceof InputError && /f\.csv:3:2 \(column v\): expected int64/.test(e.message));
  await withDir(async (dir) => {
    const path = join(dir, 'ctl.csv');
    writeFileSync(path, bytesOf('time,us', [0], 'ge\n2026-01-01T00:00:00Z,1\n'));
    const db = await Quiver.open(new MemoryChunkManager());
    await assert.rejects(importFiles(db, [path], { table: 't' }), (e: unknown) => e instanceof InputError && /ctl\.csv:1:2: column name "us\\u0000ge" is not allowed/.test(e.message));
    await db.close();
  });
});
