import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// What the light commands load: `quiver tables`, `inspect`, `--help` and `--version` start
// without the engine (the CLI start-up budget, issue 18). A module-loading hook in the child
// names every module it loads; none may be Arrow's, a codec's, Parquet's, DuckDB's or a worker.
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');
const SAMPLE = join(ROOT, 'examples', 'cpu.csv');
const HEAVY = /node_modules\/(apache-arrow|zstd-napi|lz4-napi|parquet-wasm|@duckdb)\/|^node:worker_threads$|dist\/src\/(format\/(codecs|decode-pool|chunk-reader)|scan|quiver)\b/;

function loadedBy(dir: string, args: string[]): { code: number | null; stdout: string; modules: string[] } {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, BIN, ...args], { encoding: 'utf8', env: { ...process.env, QUIVER_STORE: '' } });
  const modules = r.stderr.split('\n').filter((l) => l.startsWith('QUIVER_TEST_LOAD ')).map((l) => l.slice('QUIVER_TEST_LOAD '.length).replace(/^file:\/\//, ''));
  assert.ok(modules.some((m) => m.endsWith('/cli/main.js')), `the hook saw the CLI load: ${r.stderr.slice(0, 500)}`);
  return { code: r.status, stdout: r.stdout, modules };
}

test('tables, inspect, --help and --version load no Arrow, codec, Parquet, DuckDB, worker or engine module', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-startup-'));
  try {
    writeFileSync(join(dir, 'hooks.mjs'), `import { writeSync } from 'node:fs';
export async function load(url, context, next) { writeSync(2, 'QUIVER_TEST_LOAD ' + url + '\\n'); return next(url, context); }\n`);
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
    const store = join(dir, 'store');
    const imported = spawnSync(process.execPath, [BIN, '--store', store, 'import', SAMPLE, '--table', 'cpu', '--tags', 'hostname,region,service'], { encoding: 'utf8' });
    assert.equal(imported.status, 0, imported.stderr);

    // The import itself loads the engine: the hook sees heavy modules when they load.
    const heavy = loadedBy(dir, ['--store', store, 'scan', 'cpu', '--limit', '1']);
    assert.equal(heavy.code, 0);
    assert.ok(heavy.modules.some((m) => HEAVY.test(m)), 'a scan loads Arrow (the check can fail)');

    for (const args of [['--store', store, 'tables'], ['--store', store, 'inspect', 'cpu'], ['--store', store, 'inspect', 'cpu', '--versions'], ['--store', store, 'inspect'], ['--help'], ['--version'], ['tables', '--help']]) {
      const r = loadedBy(dir, args);
      assert.equal(r.code, 0, args.join(' '));
      assert.ok(r.stdout.length > 0, args.join(' '));
      assert.deepEqual(r.modules.filter((m) => HEAVY.test(m)), [], `quiver ${args.join(' ')}`);
    }
    assert.match(loadedBy(dir, ['--store', store, 'tables']).stdout, /^cpu\s+\d+/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
