/**
 * `scan` and `query` output through the real binary and a real pipe: an Arrow stream holds
 * each batch once (apache-arrow reads it back row for row), empty results keep their header
 * (CSV, table) or schema (Arrow), and time bounds outside the table's unit are errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');
const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const ROWS = 720;

function quiver(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, QUIVER_STORE: '' }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8'), text: r.stdout.toString('utf8') };
}

/** 720 rows over three days (three day partitions: three chunks, so a scan yields three batches). */
function withTable(fn: (store: string) => void): void {
  const store = mkdtempSync(join(tmpdir(), 'quiver-cli-out-'));
  try {
    const lines = ['time,host,v'];
    for (let d = 0; d < 3; d++) {
      for (let k = 0; k < ROWS / 3; k++) lines.push(`${new Date(T0 + d * DAY + k * 360_000).toISOString()},h${k % 3},${d * 1000 + k}`);
    }
    const csv = join(store, 'in.csv');
    writeFileSync(csv, lines.join('\n') + '\n');
    const imp = quiver(['import', csv, '--table', 't', '--tags', 'host', '--store', store]);
    assert.equal(imp.code, 0, imp.stderr);
    fn(store);
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

function readArrow(bytes: Uint8Array): { names: string[]; batches: RecordBatch[]; rows: Record<string, unknown>[] } {
  const reader = RecordBatchReader.from(bytes).open();
  const names = reader.schema.fields.map((f) => f.name);
  const batches = [...reader] as RecordBatch[];
  const rows: Record<string, unknown>[] = [];
  for (const b of batches) {
    for (let i = 0; i < b.numRows; i++) {
      rows.push(Object.fromEntries(names.map((n, j) => {
        const child = b.getChildAt(j)!;
        return [n, n === 'time' ? (child.data[0]!.values as BigInt64Array)[i] : child.get(i)];
      })));
    }
  }
  return { names, batches, rows };
}

test('scan --format arrow writes each batch once: 720 rows in three batches read back as 720, --limit 1 as 1', () => {
  withTable((store) => {
    const csv = quiver(['scan', 't', '--store', store, '--format', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    const expected = csv.text.trim().split('\n').slice(1).map((l) => l.split(','));
    assert.equal(expected.length, ROWS);
    const piped = quiver(['scan', 't', '--store', store, '--format', 'arrow']);
    assert.equal(piped.code, 0, piped.stderr);
    const got = readArrow(piped.stdout);
    assert.ok(got.batches.length >= 3, `batches: ${got.batches.length}`);
    assert.deepEqual(got.names, ['time', 'host', 'v']);
    assert.equal(got.rows.length, ROWS);
    assert.deepEqual(got.rows.map((r) => [new Date(Number((r.time as bigint) / 1_000_000n)).toISOString().replace('.000Z', 'Z'), r.host, String(r.v)]), expected);
    // The same through --out (a file), and a limit.
    const out = join(store, 'scan.arrows');
    assert.equal(quiver(['scan', 't', '--store', store, '--format', 'arrow', '--out', out]).code, 0);
    assert.deepEqual(readFileSync(out), piped.stdout);
    const one = quiver(['scan', 't', '--store', store, '--format', 'arrow', '--limit', '1']);
    assert.equal(readArrow(one.stdout).rows.length, 1);
    const q = quiver(['query', 't', '--store', store, '--agg', 'count,max:v', '--every', '1d', '--by', 'host', '--format', 'arrow']);
    assert.equal(q.code, 0, q.stderr);
    const agg = readArrow(q.stdout);
    assert.deepEqual(agg.names, ['time', 'host', 'count', 'max_v']);
    assert.equal(agg.rows.length, 9);
    assert.equal(agg.rows.reduce((s, r) => s + Number(r.count), 0), ROWS);
  });
});

test('empty results: CSV and table print the header, JSON lines nothing, Arrow a schema-only stream', () => {
  withTable((store) => {
    const empty = ['--from', '2027-01-01T00:00:00Z'];
    const csv = quiver(['scan', 't', '--store', store, '--format', 'csv', ...empty]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.text, 'time,host,v\n');
    assert.equal(quiver(['scan', 't', '--store', store, '--format', 'csv', '--columns', 'v', ...empty]).text, 'time,v\n');
    assert.equal(quiver(['scan', 't', '--store', store, '--format', 'table', ...empty]).text, 'time  host  v\n');
    assert.equal(quiver(['scan', 't', '--store', store, '--format', 'jsonl', ...empty]).text, '');
    const arrow = quiver(['scan', 't', '--store', store, '--format', 'arrow', ...empty]);
    assert.equal(arrow.code, 0, arrow.stderr);
    const read = readArrow(arrow.stdout);
    assert.deepEqual(read.names, ['time', 'host', 'v']);
    assert.equal(read.rows.length, 0);
    const q = ['query', 't', '--store', store, '--agg', 'max:v', '--every', '1h', ...empty];
    assert.equal(quiver([...q, '--format', 'csv']).text, 'time,max_v\n');
    assert.equal(quiver([...q, '--format', 'table']).text, 'time  max_v\n');
    assert.deepEqual(readArrow(quiver([...q, '--format', 'arrow']).stdout).names, ['time', 'max_v']);
  });
});

test('--from/--to outside the table unit range: an error naming the value and the range; epoch ms exact at any size', () => {
  withTable((store) => {
    for (const [flag, value, shown] of [['--from', '2300-01-01T00:00:00Z', '"2300-01-01T00:00:00Z"'], ['--to', '1600-01-01', '"1600-01-01"'],
      ['--from', '10413792000000', '10413792000000 (epoch ms)'], ['--to', '99999999999999999999', '99999999999999999999000000 (epoch ns)']] as const) {
      const r = quiver(['scan', 't', '--store', store, flag, value]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.split('\n')[0], `quiver scan: ${flag.slice(2)}: ${shown} is outside the representable range 1677-09-21T00:12:43.145224192Z … 2262-04-11T23:47:16.854775807Z for ns`);
    }
    const bad = quiver(['scan', 't', '--store', store, '--from', '2026-01-01T00:00:00+25:00']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--from expects ISO-8601 or epoch milliseconds: expected ISO-8601 like 2026-01-01T00:00:00Z, got "2026-01-01T00:00:00\+25:00" \(offset \+25:00 is beyond ±23:59\)/);
  });
});
