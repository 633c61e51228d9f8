import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Table as ArrowTable, tableToIPC, TimestampMillisecond, vectorFromArray } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm/node';
import { Quiver } from '../../src/quiver.js';
import { main } from '../../src/cli/main.js';
import { runCli } from './in-process.js';

// The CLI's flags and output streams: closed pipes, errors printed once, misleading
// messages, and flags that would be accepted and ignored (refused with a reason instead).
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');
const T0 = Date.UTC(2026, 0, 1);
const ROWS = 20_000;

let dir: string;
let store: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quiver-cli-flags-'));
  store = join(dir, 'store');
  const db = await Quiver.open(store);
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  await t.append(Array.from({ length: ROWS }, (_, i) => ({ time: T0 + i * 1000, host: `h${i % 7}`, v: i / 4 })));
  await db.close();
  writeFileSync(join(dir, 'a.csv'), 'time,host,v\n2026-01-02T00:00:00Z,h1,1\n');
  const arrowRows = new ArrowTable({ time: vectorFromArray([T0, T0 + 1000], new TimestampMillisecond()), host: vectorFromArray(['h1', 'h2']), v: vectorFromArray(Float64Array.of(1, 2)) });
  writeFileSync(join(dir, 'a.arrow'), tableToIPC(arrowRows, 'file'));
  writeFileSync(join(dir, 'a.parquet'), parquetWasm.writeParquet(parquetWasm.Table.fromIPCStream(tableToIPC(arrowRows, 'stream'))));
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** The quiver binary with stdout read until `lines` lines arrived, then closed (like `| head`). */
function headOf(args: string[], lines: number): Promise<{ code: number | null; signal: string | null; stderr: string; got: number }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, QUIVER_STORE: '' } });
    let text = '';
    let stderr = '';
    let got = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      got = text.split('\n').length - 1;
      if (got >= lines) child.stdout.destroy();
    });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('close', (code, signal) => done({ code, signal, stderr, got }));
  });
}

test('a closed stdout pipe (quiver scan … | head -2) ends the command quietly with exit 0, in every output format', async () => {
  for (const format of ['table', 'csv', 'jsonl', 'arrow']) {
    const r = await headOf(['scan', 'm', '--store', store, '--format', format], 2);
    assert.ok(r.got >= 2, `${format}: output arrived`);
    assert.equal(r.stderr, '', `${format}: nothing on stderr`);
    assert.deepEqual([r.code, r.signal], [0, null], `${format}: exit 0`);
  }
  const q = await headOf(['query', 'm', '--store', store, '--agg', 'max:v', '--every', '1s', '--by', 'host'], 2);
  assert.equal(q.stderr, '');
  assert.equal(q.code, 0);
});

/** Runs the CLI in process with its own stdout and stderr. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = new Writable({ write(chunk, _e, cb) { stdout += String(chunk); cb(); } });
  const err = new Writable({ write(chunk, _e, cb) { stderr += String(chunk); cb(); } });
  const code = await main(args, { stdout: out, stderr: err, env: {} });
  return { code, stdout, stderr };
}

test('an error is printed once: a store that fails to open is not reported again by the close', async () => {
  const r = await cli('tables', '--store', 'foo://x');
  assert.equal(r.code, 2);
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('quiver tables:')).length, 1, r.stderr);
  const s3 = await cli('tables', '--store', 's3://b/p?endpoint=http://127.0.0.1:1');
  assert.equal(s3.code, 1);
  assert.equal(s3.stderr.split('\n').filter((l) => l.startsWith('quiver tables:')).length, 1, s3.stderr);
});

test('messages that misled: negative numbers, --memory bounds, a store that is a file, --from after --to', async () => {
  const limit = await runCli(store, 'scan', 'm', '--limit', '-1');
  assert.equal(limit.code, 2);
  assert.match(limit.out, /--limit expects an integer ≥ 0, got "-1"/);
  assert.doesNotMatch(limit.out, /ambiguous/);
  // --from -1000 is epoch milliseconds (before 1970): a time, not an option.
  const from = spawnSync(process.execPath, [BIN, 'scan', 'm', '--store', store, '--from', '-1000', '--limit', '2', '--format', 'csv'], { encoding: 'utf8' });
  assert.equal(from.status, 0, from.stderr);
  assert.equal(from.stdout.trim().split('\n').length, 3);
  const range = await runCli(store, 'scan', 'm', '--from', '2026-01-02', '--to', '2026-01-01');
  assert.equal(range.code, 2);
  assert.match(range.out, /--from 2026-01-02 is not before --to 2026-01-01: the range \[from, to\) is empty/);
  const same = await runCli(store, 'query', 'm', '--agg', 'count', '--from', '1767225600000', '--to', '2026-01-01T00:00:00Z');
  assert.equal(same.code, 2);
  const memory = await runCli(store, 'import', join(dir, 'a.csv'), '--table', 'x', '--memory', '1TiB');
  assert.equal(memory.code, 2);
  assert.match(memory.out, /--memory must be between 1\.0 MiB and [\d.]+ GiB \(this machine's memory\), got "1TiB"/);
  const unit = await runCli(store, 'import', join(dir, 'a.csv'), '--table', 'x', '--memory', '12XB');
  assert.match(unit.out, /--memory expects a size such as 256MiB or 1GiB \(units B, KiB, MiB, GiB, TiB/);
  const file = join(dir, 'a.csv');
  const notDir = await cli('scan', 'm', '--store', file);
  assert.equal(notDir.code, 2);
  assert.match(notDir.stderr, new RegExp(`store ${file.replaceAll('/', '\\/')} is not a directory`));
  assert.doesNotMatch(notDir.stderr, /not found/);
});

test('flags that would be ignored are refused with a reason (exit 2); the same values that the table already has are accepted', async () => {
  const refused = async (args: string[], reason: RegExp) => {
    const r = await runCli(store, ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}`);
    assert.match(r.out, reason, args.join(' '));
  };
  for (const input of ['a.arrow', 'a.parquet']) {
    const path = join(dir, input);
    const kind = input.endsWith('.arrow') ? 'Arrow IPC' : 'Parquet';
    for (const [flag, value] of [['--delimiter', ';'], ['--columns', 'a,b,c'], ['--schema', 'v:int64'], ['--max-errors', '5']] as const) {
      await refused(['import', path, '--table', 'n', flag, value], new RegExp(`${flag} applies to CSV input; .*${input} is ${kind}`));
    }
  }
  await refused(['import', join(dir, 'a.csv'), '--table', 'n', '--rejects', join(dir, 'r.csv')], /--rejects names the file where rows skipped by --max-errors go: give --max-errors N too/);
  await refused(['import', join(dir, 'a.csv'), '--table', 'n', '--field-column', 'f'], /--field-column applies to --layout long/);
  // --time-format on a Timestamp column of an Arrow file: its unit is in the file.
  const tf = await runCli(store, 'import', join(dir, 'a.arrow'), '--table', 'n', '--time-format', 'ms', '--no-progress');
  assert.equal(tf.code, 1);
  assert.match(tf.out, /a\.arrow: --time-format ms does not apply: column time holds Arrow timestamps, whose unit is in the file/);
  // --append to an existing table: options that shape a new table must match it.
  const csv = join(dir, 'a.csv');
  await refused(['import', csv, '--table', 'm', '--append', '--time-unit', 'ms'], /--time-unit ms applies when the import creates the table; m exists with time unit ns/);
  await refused(['import', csv, '--table', 'm', '--append', '--codec', 'lz4'], /--codec lz4 applies when the import creates the table; m exists with codec auto/);
  await refused(['import', csv, '--table', 'm', '--append', '--compression', 'small'], /--compression small applies when .* m exists with compression fast/);
  await refused(['import', csv, '--table', 'm', '--append', '--tags', 'v'], /--tags v leaves out tags of m \(its tags: host\)/);
  await refused(['import', csv, '--table', 'm', '--append', '--time', 'ts'], /--time ts applies when .* m exists with time column time/);
  const same = await runCli(store, 'import', csv, '--table', 'm', '--append', '--time-unit', 'ns', '--codec', 'auto', '--compression', 'fast', '--tags', 'host', '--time', 'time', '--no-progress');
  assert.equal(same.code, 0, same.out);
  // query and scan.
  await refused(['query', 'm', '--agg', 'max:v', '--columns', 'v'], /--columns applies to query --latest/);
  await refused(['query', 'm', '--agg', 'max:v', '--order', 'any'], /--order does not apply to query/);
  await refused(['scan', 'm', '--explain', '--out', join(dir, 'plan.txt')], /--out does not apply to --explain/);
  await refused(['scan', 'm', '--explain', '--format', 'csv'], /--format csv does not apply to --explain/);
  await refused(['scan', 'm', '--json', '--format', 'csv'], /--json writes one JSON document; it cannot be combined with --format csv/);
  await refused(['scan', 'm', '--tz', 'Europe/Berlin', '--format', 'parquet'], /--tz applies to the text formats; parquet keeps times as UTC instants/);
  await refused(['scan', 'm', '--tz', 'Mars/Olympus'], /--tz "Mars\/Olympus": not a time zone/);
  await refused(['scan', 'm', '--filter', 'host=a'], /"host" is a tag: use --where/);
  await refused(['scan', 'm', '--filter', 'v>x'], /expected a number for a float64 field, got "x"/);
  await refused(['scan', 'm', '--where', 'host=~('], /--where "host=~\(": Invalid regular expression/);
  const latest = await runCli(store, 'query', 'm', '--latest', '--columns', 'v', '--json');
  assert.equal(latest.code, 0, latest.out);
  const copy = await cli('copy', store, join(dir, 'copy'), '--store', store);
  assert.equal(copy.code, 2);
  assert.match(copy.stderr, /--store does not apply to copy/);
});

test('quiver wal check and wal salvage: a damaged log is reported (exit 1), salvaged with the lost ranges listed, and then opens', async () => {
  const walDir = join(dir, 'wal');
  const walStore = join(dir, 'walstore');
  const db = await Quiver.open(walStore, { wal: walDir });
  const t = await db.createTable('w', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  for (let k = 1; k <= 4; k++) await t.append([{ time: T0 + k, host: 'a', v: k + 0.5 }]);
  await t.detachWal();
  const log = join(walDir, 'w.wal');
  const bytes = readFileSync(log);
  const ok = await cli('wal', 'check', walDir);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^ok {4}.*w\.wal: 4 frame\(s\) \(seq 1–4\)/);
  // Frame 2's payload: its first byte after the 24-byte header of the second frame.
  const damaged = Buffer.from(bytes);
  const second = 24 + 24 + bytes.readUInt32LE(24);
  damaged[second + 24 + 3] = damaged[second + 24 + 3]! ^ 0x40;
  writeFileSync(log, damaged);
  const bad = await cli('wal', 'check', log);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, new RegExp(`BAD {3}.*w\\.wal: damaged at byte ${second} \\(frame 2\\): CRC-32 .*; 2 intact frame\\(s\\) follow; run 'quiver wal salvage`));
  const dry = await cli('wal', 'salvage', walDir, '--dry-run', '--store', walStore);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^\(dry run\) write-ahead log: salvaged .*w\.wal; kept 3 frame\(s\), 3 row\(s\); lost bytes \d+–\d+ \(frame seq 2\): CRC-32/);
  assert.deepEqual(readFileSync(log), damaged, 'a dry run changes nothing');
  const salvage = await cli('wal', 'salvage', walDir, '--json');
  assert.equal(salvage.code, 0, salvage.stderr);
  const report = JSON.parse(salvage.stdout).logs[0].report;
  assert.deepEqual(report.lost.map((l: { start: number; afterSeq: number; beforeSeq: number }) => [l.start, l.afterSeq, l.beforeSeq]), [[second, 1, 3]]);
  assert.deepEqual(readFileSync(report.movedTo), damaged);
  const db2 = await Quiver.open(walStore, { wal: walDir });
  const t2 = await db2.table('w');
  await t2.flush();
  assert.deepEqual(Array.from((await t2.query({})).getChild('v')!.toArray() as Float64Array).sort(), [1.5, 3.5, 4.5]);
  await db2.close();
  assert.equal((await cli('wal', 'check', walDir)).code, 0);
  const usage = await cli('wal', 'fix', walDir);
  assert.equal(usage.code, 2);
});
