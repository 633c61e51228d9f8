import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { compress } from 'zstd-napi';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles } from '../../src/io/import.js';
import { CsvTokenizer, fieldText } from '../../src/io/csv/tokenizer.js';
import { parseFloatBytes, parseIsoBytes } from '../../src/io/csv/values.js';
import { InputError } from '../../src/errors.js';

const SEED = Number(process.env.QUIVER_SEED ?? (Date.now() % 2 ** 31));
console.log(`csv-import: seed ${SEED} (rerun with QUIVER_SEED=${SEED})`);
let state = SEED >>> 0 || 1;
const random = () => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state / 2 ** 32; };

function tokenize(bytes: Buffer, pieces: number[] | 'one-byte' | 'whole', delimiter = 0x2c): { rows: string[][]; lines: number[] } {
  const rows: string[][] = [];
  const lines: number[] = [];
  const t = new CsvTokenizer(delimiter, 'x.csv', (row) => { rows.push(Array.from({ length: row.count }, (_, j) => fieldText(row, j))); lines.push(row.line); });
  if (pieces === 'whole') t.feed(bytes);
  else if (pieces === 'one-byte') for (let i = 0; i < bytes.length; i++) t.feed(bytes.subarray(i, i + 1));
  else { let at = 0; for (const p of pieces) { t.feed(bytes.subarray(at, at + p)); at += p; } t.feed(bytes.subarray(at)); }
  t.end();
  return { rows, lines };
}

const tricky = Buffer.from('\ufeffa,b,c\r\n1,"x, y",3\r\n"multi\nline","say ""hi""",\n\n4,,"end"', 'utf8');

test('tokenizer: quotes, embedded newlines and quotes, CRLF, BOM, blank lines, empty fields, any piece size', () => {
  const whole = tokenize(tricky, 'whole');
  assert.deepEqual(whole.rows, [['a', 'b', 'c'], ['1', 'x, y', '3'], ['multi\nline', 'say "hi"', ''], ['4', '', 'end']]);
  assert.deepEqual(whole.lines, [1, 2, 3, 6]);
  assert.deepEqual(tokenize(tricky, 'one-byte'), whole);
  for (let trial = 0; trial < 200; trial++) {
    const pieces = Array.from({ length: 6 }, () => Math.floor(random() * 12));
    assert.deepEqual(tokenize(tricky, pieces), whole, `pieces ${pieces}`);
  }
  assert.throws(() => tokenize(Buffer.from('a,b\n1,"open'), 'whole'), (e: unknown) => e instanceof InputError && /x\.csv:2:2: unterminated quoted field/.test((e as Error).message));
});

test('numbers parse from bytes bit-identical to Number(text)', () => {
  const cases = ['0', '-0', '1.5', '.5', '5.', '123456789012345', '1234567890123456789', '0.1', '0.30000000000000004', '1e10', '-2.5E-3', '99.99', '+7', '1.7976931348623157e308'];
  for (let i = 0; i < 5000; i++) cases.push((Math.round((random() - 0.5) * 10 ** Math.floor(random() * 12)) / 10 ** Math.floor(random() * 8)).toString());
  for (const text of cases) {
    const b = Buffer.from(text);
    assert.ok(Object.is(parseFloatBytes(b, 0, b.length), Number(text)), text);
  }
  assert.ok(Number.isNaN(parseFloatBytes(Buffer.from('abc'), 0, 3)));
});

test('ISO-8601 timestamps: Z, offsets, space separator, fractions to ns, date only', () => {
  const iso = (s: string) => parseIsoBytes(Buffer.from(s), 0, Buffer.byteLength(s));
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  assert.equal(iso('2026-01-01T00:00:00Z'), ns(Date.UTC(2026, 0, 1)));
  assert.equal(iso('2026-01-01 02:00:00+02:00'), ns(Date.UTC(2026, 0, 1)));
  assert.equal(iso('2025-12-31T18:30:00-0530'), ns(Date.UTC(2026, 0, 1)));
  assert.equal(iso('2026-01-01T00:00:00.123456789Z'), ns(Date.UTC(2026, 0, 1)) + 123_456_789n);
  assert.equal(iso('2026-03-05'), ns(Date.UTC(2026, 2, 5)));
  assert.equal(iso('2026-02-30T00:00:00Z'), null);
  assert.equal(iso('yesterday'), null);
});

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-csv-'));
  try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

const CSV = ['ts;host;load;count;ok;note',
  '1767225600;a;1.5;3;true;x',
  '1767225610;b;2.25;4;false;',
  '1767225620;a;;5;true;"semi;colon"'].join('\n') + '\n';

test('import infers delimiter, epoch seconds, types and tags; gzip and zstd inputs import the same', async () => {
  await withDir(async (dir) => {
    writeFileSync(join(dir, 'm.csv'), CSV);
    writeFileSync(join(dir, 'm2.csv.gz'), gzipSync(CSV));
    writeFileSync(join(dir, 'm3.csv.zst'), compress(Buffer.from(CSV)));
    const results = [];
    for (const file of ['m.csv', 'm2.csv.gz', 'm3.csv.zst']) {
      const db = await Quiver.open(new MemoryChunkManager());
      const summary = await importFiles(db, [join(dir, file)], { table: 't', tags: ['host'] });
      assert.equal(summary.rows, 3);
      assert.equal(summary.series, 2);
      const table = await db.table('t');
      assert.deepEqual(table.schema.fields.map((f) => `${f.name}:${f.type}`), ['load:float64', 'count:int64', 'ok:bool', 'note:utf8']);
      const out = await table.query({});
      results.push(JSON.stringify(Array.from({ length: out.numRows }, (_, i) => out.get(i)!.toJSON()), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    }
    assert.equal(results[1], results[0]);
    assert.equal(results[2], results[0]);
    assert.match(results[0]!, /semi;colon/);
    assert.match(results[0]!, /"ts":1767225600000,"host":"a","load":1.5,"count":"3n","ok":true,"note":"x"/);
  });
});

test('--max-errors skips bad rows into a rejects file; one more fails and the table is unchanged', async () => {
  await withDir(async (dir) => {
    const rows = ['time,host,v', '2026-01-01T00:00:00Z,a,1', '2026-01-01T00:00:10Z,a,oops', '2026-01-01T00:00:20Z,a', 'not-a-time,a,4', '2026-01-01T00:00:40Z,a,5'];
    writeFileSync(join(dir, 'bad.csv'), rows.join('\n') + '\n');
    const rejects = join(dir, 'rejects.csv');
    const db = await Quiver.open(new MemoryChunkManager());
    // The sample holds 'oops', so inference alone would make v a string: --schema says float64.
    const ok = await importFiles(db, [join(dir, 'bad.csv')], { table: 't', maxErrors: 3, rejectsPath: rejects, schema: { v: 'float64' } });
    assert.equal(ok.rows, 2);
    assert.equal(ok.rejected, 3);
    const lines = readFileSync(rejects, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'file,line,reason,row');
    assert.deepEqual(lines.slice(1).map((l) => l.split(',')[1]), ['3', '4', '5']);
    assert.match(lines[1]!, /bad\.csv:3:3 \(column v\): expected float64, got ""oops""/);
    assert.match(lines[2]!, /expected 3 fields, got 2/);
    const before = await (await db.table('t')).describe();
    await assert.rejects(importFiles(db, [join(dir, 'bad.csv')], { table: 't', append: true, maxErrors: 2, rejectsPath: rejects }), /bad\.csv:5:1 \(column time\): expected an ISO-8601 timestamp, got "not-a-time"/);
    const after = await (await db.table('t')).describe();
    assert.equal(after.version, before.version);
    assert.equal(after.rows, 2);
  });
});

test('many files in one commit: a bad second file leaves the table unchanged; globs expand', async () => {
  await withDir(async (dir) => {
    writeFileSync(join(dir, 'a1.csv'), 'time,host,v\n2026-01-01T00:00:00Z,a,1\n2026-01-01T00:00:10Z,a,2\n');
    writeFileSync(join(dir, 'a2.csv'), 'time,host,v\n2026-01-01T00:00:20Z,b,3\n');
    writeFileSync(join(dir, 'b.csv'), 'time,host,v\n2026-01-01T00:00:30Z,b,x\n');
    const db = await Quiver.open(new MemoryChunkManager());
    const s = await importFiles(db, [join(dir, 'a*.csv')], { table: 't' });
    assert.equal(s.files, 2);
    assert.equal(s.rows, 3);
    const version = (await (await db.table('t')).describe()).version;
    await assert.rejects(importFiles(db, [join(dir, 'a1.csv'), join(dir, 'b.csv')], { table: 't', append: true }), /b\.csv:2:3 \(column v\): expected int64, got "x"/);
    const d = await (await db.table('t')).describe();
    assert.equal(d.version, version);
    assert.equal(d.rows, 3);
    await assert.rejects(importFiles(db, [join(dir, 'a1.csv')], { table: 't' }), /exists; use --append/);
    writeFileSync(join(dir, 'c.csv'), 'time,host,v\n2026-01-01T00:00:40Z,b,true\n');
    await assert.rejects(importFiles(db, [join(dir, 'c.csv')], { table: 't', append: true }), /c\.csv:2:3 \(column v\): expected int64, got "true"/);
  });
});

test('lineage: each chunk records the source file and row range', async () => {
  await withDir(async (dir) => {
    const lines = ['time,host,v'];
    for (let i = 0; i < 100; i++) lines.push(`2026-01-0${1 + Math.floor(i / 50)}T00:00:${String(i % 50).padStart(2, '0')}Z,h,${i}`);
    writeFileSync(join(dir, 'l.csv'), lines.join('\n'));
    const db = await Quiver.open(new MemoryChunkManager());
    await importFiles(db, [join(dir, 'l.csv')], { table: 't' });
    const chunks = await (await db.table('t')).chunks();
    assert.equal(chunks.length, 2);
    const ranges = chunks.map((c) => c.lineage.map((l) => [l.source.endsWith('l.csv'), l.rowStart, l.rowEnd])).sort();
    assert.deepEqual(ranges, [[[true, 0, 50]], [[true, 50, 100]]]);
  });
});
