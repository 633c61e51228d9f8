import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// `quiver --version`, and what --debug says about the native addon.
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function quiver(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, QUIVER_STORE: '', QUIVER_NO_NATIVE: '', ...env } });
}

test('--version prints the package version and is listed in the help', () => {
  const r = quiver(['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `quiver ${VERSION}\n`);
  assert.match(quiver(['--help']).stdout, /\n {2}--version +the version/);
  const json = quiver(['--version', '--json']);
  assert.deepEqual(JSON.parse(json.stdout), { version: VERSION, native: true });
  const extra = quiver(['--version', 'tables']);
  assert.equal(extra.status, 2);
  assert.match(extra.stderr, /--version takes only --debug and --json/);
});

test('--version --debug says whether the native addon or the JS twins are in use, and why', () => {
  const native = quiver(['--version', '--debug']);
  assert.equal(native.status, 0, native.stderr);
  assert.equal(native.stdout, `quiver ${VERSION}\nnative addon in use (${join(ROOT, 'native', 'build', 'Release', 'quiver_native.node')})\n`);
  const twins = quiver(['--debug', '--version'], { QUIVER_NO_NATIVE: '1' });
  assert.equal(twins.status, 0, twins.stderr);
  assert.equal(twins.stdout, `quiver ${VERSION}\nJS twins in use, not the native addon: disabled by QUIVER_NO_NATIVE=1\n`);
  assert.deepEqual(JSON.parse(quiver(['--version', '--json'], { QUIVER_NO_NATIVE: '1' }).stdout), { version: VERSION, native: false, nativeReason: 'disabled by QUIVER_NO_NATIVE=1' });
});

test('--debug on a command says it on stderr, before the command runs; without --debug nothing is said', () => {
  const store = mkdtempSync(join(tmpdir(), 'quiver-version-'));
  try {
    const r = quiver(['tables', '--store', store, '--debug', '--json'], { QUIVER_NO_NATIVE: '1' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '[]\n');
    assert.equal(r.stderr, 'quiver: JS twins in use, not the native addon: disabled by QUIVER_NO_NATIVE=1\n');
    const quiet = quiver(['tables', '--store', store, '--json']);
    assert.equal(quiet.stderr, '');
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
});
