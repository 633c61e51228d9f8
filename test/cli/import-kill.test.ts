import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// A killed import leaves the table as it was, and running it again succeeds.
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');

function chunkCount(dir: string): number {
  let n = 0;
  const walk = (d: string) => { for (const e of readdirSync(d)) { const p = join(d, e); if (statSync(p).isDirectory()) walk(p); else if (p.endsWith('.qvr')) n++; } };
  if (existsSync(dir)) walk(dir);
  return n;
}

async function writeCsv(path: string, rows: number, day: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('time,host,v\n');
  for (let i = 0; i < rows; i += 10_000) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(rows, i + 10_000); j++) lines.push(`${new Date(Date.UTC(2026, 0, day) + j * 100).toISOString()},h${j % 50},${j % 997}.5`);
    if (!out.write(lines.join('\n') + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

test('kill -9 in the middle of an import: the table is unchanged, a re-run succeeds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-kill-'));
  try {
    const store = join(dir, 'store');
    await writeCsv(join(dir, 'small.csv'), 1000, 1);
    await writeCsv(join(dir, 'big.csv'), 1_500_000, 2);
    const q = (args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--store', store], { encoding: 'utf8' });
    assert.equal(q(['import', join(dir, 'small.csv'), '--table', 't']).status, 0);
    const before = JSON.parse(q(['inspect', 't', '--json']).stdout).table;
    const chunksBefore = chunkCount(store);
    const child = spawn(process.execPath, [BIN, 'import', join(dir, 'big.csv'), '--table', 't', '--append', '--store', store, '--no-progress'], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    // Wait for the import's first chunk file to land (it writes chunks long before it commits), then kill it.
    const watchUntil = Date.now() + 120_000;
    while (chunkCount(store) === chunksBefore && child.exitCode === null && Date.now() < watchUntil) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(child.exitCode, null, 'the import was still running when its first chunk appeared');
    child.kill('SIGKILL');
    await exited;
    assert.ok(chunkCount(store) > chunksBefore, 'the killed import had written chunk files');
    const after = JSON.parse(q(['inspect', 't', '--json']).stdout).table;
    assert.equal(after.version, before.version);
    assert.equal(after.rows, before.rows);
    assert.equal(q(['verify', 't']).status, 0);
    const rerun = q(['import', join(dir, 'big.csv'), '--table', 't', '--append', '--json']);
    assert.equal(rerun.status, 0, rerun.stderr);
    assert.equal(JSON.parse(rerun.stdout).rows, 1_500_000);
    assert.equal(JSON.parse(q(['inspect', 't', '--json']).stdout).table.rows, 1_501_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 of an import into a new table leaves no table; the same import run again succeeds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-kill-new-'));
  try {
    const store = join(dir, 'store');
    await writeCsv(join(dir, 'big.csv'), 1_500_000, 2);
    const q = (args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--store', store], { encoding: 'utf8' });
    const child = spawn(process.execPath, [BIN, 'import', join(dir, 'big.csv'), '--table', 'fresh', '--store', store, '--no-progress'], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    // The first chunk file lands long before the commit; kill the import then.
    const watchUntil = Date.now() + 120_000;
    while (chunkCount(store) === 0 && child.exitCode === null && Date.now() < watchUntil) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(child.exitCode, null, 'the import was still running when its first chunk appeared');
    child.kill('SIGKILL');
    await exited;
    assert.ok(chunkCount(store) > 0, 'the killed import had written chunk files');
    const tables = q(['tables', '--json']);
    assert.equal(tables.status, 0, tables.stderr);
    assert.deepEqual(JSON.parse(tables.stdout), [], 'no table is visible');
    const rerun = q(['import', join(dir, 'big.csv'), '--table', 'fresh', '--json']);
    assert.equal(rerun.status, 0, rerun.stderr);
    assert.equal(JSON.parse(rerun.stdout).version, 1);
    assert.equal(JSON.parse(q(['inspect', 'fresh', '--json']).stdout).table.rows, 1_500_000);
    assert.equal(q(['verify', 'fresh']).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
