import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// What the light commands load: `quiver tables`, `inspect`, `--help` and `--version` start
// without the engine (the CLI start-up budget, issue 18), on both paths of bin/quiver.js:
//  - the bundle (dist/cli/quiver.cjs, the usual path): QUIVER_CLI_TRACE=1 names every bundled
//    module the run initialised, and a preload names the built-in modules loaded;
//  - the ES modules (QUIVER_CLI_BUNDLE=0, or a bundle older than tsc's output): a
//    module-loading hook in the child names every module it loads.
// None may be Arrow's, a codec's, Parquet's, DuckDB's, a worker's or the engine's.
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');
const SAMPLE = join(ROOT, 'examples', 'cpu.csv');
const HEAVY = /node_modules\/(apache-arrow|flatbuffers|zstd-napi|lz4-napi|parquet-wasm|arrow-js-ffi|@duckdb)\/|^node:worker_threads$|dist\/src\/(format\/(codecs|decode-pool|chunk-reader)|scan|quiver)\b/;
const LIGHT = [['tables'], ['inspect', 'cpu'], ['inspect', 'cpu', '--versions'], ['inspect'], ['--help'], ['--version'], ['tables', '--help']];

function lines(stderr: string, prefix: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
}

test('tables, inspect, --help and --version load no Arrow, codec, Parquet, DuckDB, worker or engine module', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-startup-'));
  try {
    writeFileSync(join(dir, 'hooks.mjs'), `import { writeSync } from 'node:fs';
export async function load(url, context, next) { writeSync(2, 'QUIVER_TEST_LOAD ' + url + '\\n'); return next(url, context); }\n`);
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
    writeFileSync(join(dir, 'builtins.cjs'), `process.on('exit', () => { for (const m of process.moduleLoadList) if (m.startsWith('NativeModule ')) process.stderr.write('QUIVER_TEST_BUILTIN node:' + m.slice(13) + '\\n'); });\n`);
    const store = join(dir, 'store');
    const cache = join(dir, 'cache');
    const imported = spawnSync(process.execPath, [BIN, '--store', store, 'import', SAMPLE, '--table', 'cpu', '--tags', 'hostname,region,service'], { encoding: 'utf8' });
    assert.equal(imported.status, 0, imported.stderr);

    const esm = (args: string[]) => {
      const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, BIN, '--store', store, ...args],
        { encoding: 'utf8', env: { ...process.env, QUIVER_STORE: '', QUIVER_CLI_BUNDLE: '0' } });
      const modules = lines(r.stderr, 'QUIVER_TEST_LOAD ').map((m) => m.replace(/^file:\/\//, ''));
      assert.ok(modules.some((m) => m.endsWith('/dist/src/cli/main.js')), `the hook saw the ES modules of the CLI load: ${r.stderr.slice(0, 500)}`);
      return { code: r.status, stdout: r.stdout, modules };
    };
    const bundled = (args: string[]) => {
      const r = spawnSync(process.execPath, ['--require', join(dir, 'builtins.cjs'), BIN, '--store', store, ...args],
        { encoding: 'utf8', env: { ...process.env, QUIVER_STORE: '', QUIVER_CLI_TRACE: '1', QUIVER_CLI_CACHE: cache } });
      assert.equal(lines(r.stderr, 'QUIVER_CLI_CODE_CACHE ').length, 1, `the bundle ran: ${r.stderr.slice(0, 500)}`);
      return { code: r.status, stdout: r.stdout, modules: [...lines(r.stderr, 'QUIVER_CLI_MODULE '), ...lines(r.stderr, 'QUIVER_TEST_BUILTIN ')] };
    };

    for (const [path, run] of [['ES modules', esm], ['bundle', bundled]] as const) {
      await t.test(path, () => {
        // A scan loads the engine: each way of looking sees heavy modules when they load.
        const heavy = run(['scan', 'cpu', '--limit', '1']);
        assert.equal(heavy.code, 0);
        assert.ok(heavy.modules.some((m) => /node_modules\/apache-arrow\//.test(m)), 'a scan loads Arrow (the check can fail)');
        assert.ok(heavy.modules.some((m) => /dist\/src\/scan\//.test(m)), 'a scan loads the scan modules (the check can fail)');
        for (const args of LIGHT) {
          const r = run(args);
          assert.equal(r.code, 0, args.join(' '));
          assert.ok(r.stdout.length > 0, args.join(' '));
          assert.deepEqual(r.modules.filter((m) => HEAVY.test(m)), [], `quiver ${args.join(' ')}`);
          // The bundle's light path lists and stats through node:fs's callbacks and reads through mmap (src/chunk-manager/local.ts).
          if (path === 'bundle') assert.deepEqual(r.modules.filter((m) => /^node:(internal\/)?fs\/promises$/.test(m)), [], `quiver ${args.join(' ')}: no node:fs/promises`);
        }
        if (path === 'bundle') assert.ok(heavy.modules.includes('node:internal/fs/promises'), 'a scan loads node:fs/promises (the check can fail)');
        assert.match(run(['tables']).stdout, /^cpu\s+\d+/m);
      });
    }
    // The bundle is ASCII, so bin/quiver.js reads it as a one-byte string (scripts/bundle-cli.mjs).
    assert.match(readFileSync(join(ROOT, 'dist', 'cli', 'quiver.cjs'), 'latin1').slice(0, 80), /^\/\/ quiver-cli-bundle [0-9a-f]+ ascii\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
