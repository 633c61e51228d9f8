import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// End-to-end tests of the `quiver` command: the real binary, a real local store.
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');
const SAMPLE = join(ROOT, 'examples', 'cpu.csv');

function quiver(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, QUIVER_STORE: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempStore(): string {
  return mkdtempSync(join(tmpdir(), 'quiver-cli-'));
}

function chunkFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.qvr')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

const sampleLines = readFileSync(SAMPLE, 'utf8').trim().split('\n');
const sampleRows = sampleLines.length - 1;

test('import → tables → scan → inspect → verify on a local store', () => {
  const store = tempStore();
  try {
    const imp = quiver(['import', SAMPLE, '--table', 'cpu', '--tags', 'hostname,region,service', '--store', store, '--json']);
    assert.equal(imp.code, 0, imp.stderr);
    const summary = JSON.parse(imp.stdout);
    assert.equal(summary.rows, sampleRows);
    assert.ok(summary.chunks >= 1);
    assert.ok(summary.bytesOut > 0 && summary.bytesOut < summary.bytesIn, 'stored bytes should be below the CSV size');

    const tables = quiver(['tables', '--store', store, '--json']);
    assert.equal(tables.code, 0, tables.stderr);
    assert.deepEqual(JSON.parse(tables.stdout).map((t: { table: string }) => t.table), ['cpu']);
    // Global options may also come before the command.
    const before = quiver(['--store', store, '--json', 'tables']);
    assert.equal(before.code, 0, before.stderr);
    assert.equal(before.stdout, tables.stdout);

    // CSV output: header row, time first, only the matching host, the right count.
    const scan = quiver(['scan', 'cpu', '--store', store, '--where', 'hostname=host_2', '--columns', 'usage_user',
      '--from', '2026-01-01T01:00:00Z', '--to', '2026-01-01T02:00:00Z', '--format', 'csv']);
    assert.equal(scan.code, 0, scan.stderr);
    const lines = scan.stdout.trim().split('\n');
    assert.equal(lines[0], 'time,usage_user');
    const expected = sampleLines.slice(1).map((l) => l.split(',')).filter((c) => c[1] === 'host_2' && c[0]! >= '2026-01-01T01:00:00Z' && c[0]! < '2026-01-01T02:00:00Z');
    assert.equal(lines.length - 1, expected.length);
    assert.deepEqual(lines.slice(1).map((l) => l.split(',')), expected.map((c) => [c[0], String(Number(c[4]))]));

    const jsonl = quiver(['scan', 'cpu', '--store', store, '--where', 'region=eu-west-1', '--limit', '5', '--format', 'jsonl']);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const objs = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(objs.length, 5);
    for (const o of objs) assert.equal(o.region, 'eu-west-1');

    const inspect = quiver(['inspect', 'cpu', '--store', store, '--json']);
    assert.equal(inspect.code, 0, inspect.stderr);
    const info = JSON.parse(inspect.stdout);
    assert.equal(info.table.rows, sampleRows);
    const chunkKey: string = info.chunks[0].key;
    const chunk = quiver(['inspect', 'cpu', chunkKey, '--store', store, '--json']);
    assert.equal(chunk.code, 0, chunk.stderr);
    const footer = JSON.parse(chunk.stdout).footer;
    assert.deepEqual(footer.columns.map((c: { name: string }) => c.name).sort(),
      ['hostname', 'region', 'service', 'time', 'usage_idle', 'usage_system', 'usage_user']);
    const human = quiver(['inspect', chunkFiles(store)[0]!]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /usage_user/);

    const verify = quiver(['verify', '--store', store]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /ok +cpu/);
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
});

test('verify exits 1 naming a bit-flipped chunk, and scans refuse it', () => {
  const store = tempStore();
  try {
    assert.equal(quiver(['import', SAMPLE, '--table', 'cpu', '--store', store]).code, 0);
    const file = chunkFiles(store)[0]!;
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 3)]! ^= 0x10;
    writeFileSync(file, bytes);
    const verify = quiver(['verify', 'cpu', '--store', store]);
    assert.equal(verify.code, 1);
    const name = file.slice(store.length + 1);
    assert.ok(verify.stdout.includes(name), `verify output should name ${name}: ${verify.stdout}`);
    const scan = quiver(['scan', 'cpu', '--store', store, '--format', 'csv']);
    assert.equal(scan.code, 1);
    assert.match(scan.stderr, /corrupt chunk/);
    assert.equal(scan.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
});

test('a malformed CSV row fails naming file:line:column and leaves the table unchanged', () => {
  const store = tempStore();
  try {
    assert.equal(quiver(['import', SAMPLE, '--table', 'cpu', '--store', store]).code, 0);
    const before = JSON.parse(quiver(['inspect', 'cpu', '--store', store, '--json']).stdout);
    const bad = join(store, 'bad.csv');
    const lines = [...sampleLines];
    lines[7] = lines[7]!.replace(/,([0-9.]+),([0-9.]+)$/, ',abc,$2');
    writeFileSync(bad, lines.join('\n') + '\n');
    const imp = quiver(['import', bad, '--table', 'cpu', '--append', '--store', store]);
    assert.equal(imp.code, 1);
    assert.match(imp.stderr, /bad\.csv:8:6/);
    assert.match(imp.stderr, /usage_system/);
    assert.match(imp.stderr, /"abc"/);
    const after = JSON.parse(quiver(['inspect', 'cpu', '--store', store, '--json']).stdout);
    assert.equal(after.table.rows, before.table.rows);
    assert.equal(after.table.version, before.table.version);

    const short = join(store, 'short.csv');
    writeFileSync(short, `${sampleLines[0]}\n${sampleLines[1]}\n2026-01-01T00:00:00Z,host_9,eu\n`);
    const imp2 = quiver(['import', short, '--table', 'cpu', '--append', '--store', store]);
    assert.equal(imp2.code, 1);
    assert.match(imp2.stderr, /short\.csv:3/);
    assert.match(imp2.stderr, /7 fields?/);
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
});

test('usage errors exit 2 with one line; bad table names are rejected', () => {
  const store = tempStore();
  try {
    const none = quiver(['scan', '--store', store]);
    assert.equal(none.code, 2);
    const unknown = quiver(['scan', 'cpu', '--bogus', '--store', store]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /bogus/);
    assert.equal(quiver(['frobnicate']).code, 2);
    for (const name of ['../x', '/abs', 'a/b', '\u0001x']) {
      const r = quiver(['import', SAMPLE, '--table', name, '--store', store]);
      assert.equal(r.code, 2, `table name ${JSON.stringify(name)}: ${r.stderr}`);
      assert.match(r.stderr, /table name/);
    }
    assert.deepEqual(chunkFiles(store), []);
    const missing = quiver(['scan', 'nope', '--store', store]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope/);
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
});

test('copy moves a table between stores and verifies it; a second copy refuses to overwrite', () => {
  const src = tempStore();
  const dst = tempStore();
  try {
    assert.equal(quiver(['import', SAMPLE, '--table', 'cpu', '--store', src]).code, 0);
    const copy = quiver(['copy', src, dst, '--json']);
    assert.equal(copy.code, 0, copy.stderr);
    assert.equal(JSON.parse(copy.stdout)[0].table, 'cpu');
    const a = quiver(['scan', 'cpu', '--store', src, '--format', 'csv']).stdout;
    const b = quiver(['scan', 'cpu', '--store', dst, '--format', 'csv']).stdout;
    assert.equal(b, a);
    assert.equal(a.trim().split('\n').length, sampleRows + 1);
    assert.equal(quiver(['verify', '--store', dst]).code, 0);
    const again = quiver(['copy', src, dst]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  } finally {
    rmSync(src, { recursive: true, force: true });
    rmSync(dst, { recursive: true, force: true });
  }
});
