import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';

// bin/quiver.js runs the CLI from a bundled script through V8's code cache (README, "CLI
// start-up"): dist/cli/quiver-light.cjs for the light commands (tables, inspect, --help,
// --version), dist/cli/quiver.cjs for the others and for what the light one leaves out. These tests run a copy of the package's layout in a
// temporary folder (bin/ and the bundle copied, dist/src and node_modules linked), so they can
// age or damage files without touching the checkout.
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const SAMPLE = join(ROOT, 'examples', 'cpu.csv');

interface Run { status: number | null; stdout: string; stderr: string; cache: string | undefined; bundles: string[]; modules: string[] }

function layout(dir: string): string {
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  mkdirSync(join(pkg, 'dist', 'cli'), { recursive: true });
  for (const f of ['quiver.js', 'package.json']) copyFileSync(join(ROOT, 'bin', f), join(pkg, 'bin', f));
  copyFileSync(join(ROOT, 'tsconfig.json'), join(pkg, 'tsconfig.json')); // a checkout: the bundle's age is checked
  for (const f of ['quiver.cjs', 'quiver-light.cjs']) copyFileSync(join(ROOT, 'dist', 'cli', f), join(pkg, 'dist', 'cli', f));
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'dist', 'src'), join(pkg, 'dist', 'src'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  symlinkSync(join(ROOT, 'native'), join(pkg, 'native'));
  return pkg;
}

function quiver(pkg: string, args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Run {
  const r = spawnSync(process.execPath, [...nodeArgs, join(pkg, 'bin', 'quiver.js'), ...args],
    { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, QUIVER_STORE: '', QUIVER_CLI_TRACE: '1', HOME: join(pkg, 'home'), XDG_CACHE_HOME: '', ...env } });
  const cache = /^QUIVER_CLI_CODE_CACHE (\w+)$/m.exec(r.stderr)?.[1];
  const bundles = r.stderr.split('\n').filter((l) => l.startsWith('QUIVER_CLI_BUNDLE ')).map((l) => l.slice('QUIVER_CLI_BUNDLE '.length));
  const modules = r.stderr.split('\n').filter((l) => l.startsWith('QUIVER_CLI_MODULE ')).map((l) => l.slice('QUIVER_CLI_MODULE '.length));
  const stderr = r.stderr.split('\n').filter((l) => !l.startsWith('QUIVER_CLI_')).join('\n');
  return { status: r.status, stdout: r.stdout, stderr, cache, bundles, modules };
}

function ok(r: Run, what: string): Run {
  assert.equal(r.status, 0, `${what}: ${r.stderr}`);
  return r;
}

interface Setup { dir: string; pkg: string; store: string; env: Record<string, string> }

/** Runs body in a fresh package layout with a store and a cache folder of its own; the sample imported unless told not to. */
function withPackage(body: (s: Setup) => void, sample = true): void {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-bundle-'));
  try {
    const pkg = layout(dir);
    const setup = { dir, pkg, store: join(dir, 'store'), env: { QUIVER_CLI_CACHE: join(dir, 'cache') } };
    if (sample) ok(quiver(pkg, ['--store', setup.store, 'import', SAMPLE, '--table', 'cpu', '--tags', 'hostname,region,service'], setup.env), 'import');
    body(setup);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hex32 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

test('code cache: one per command, written after the first run and used after it; damaged, foreign or stale files are ignored and replaced', () => withPackage(({ dir, pkg, store, env }) => {
  const cacheDir = env.QUIVER_CLI_CACHE!;
  rmSync(cacheDir, { recursive: true, force: true }); // the import's cache: this test starts empty
  const tables = (e: Record<string, string> = env) => ok(quiver(pkg, ['--store', store, 'tables'], e), 'tables');
  const expected = tables({ QUIVER_CLI_CACHE: '0' });
  assert.equal(expected.cache, 'off');
  assert.match(expected.stdout, /^cpu\s+720\s/m);
  const files = () => readdirSync(cacheDir).filter((f) => f.endsWith('.v8cache')).sort();

  // A stale file of another Node or bundle is cleared when a cache is written.
  mkdirSync(cacheDir);
  writeFileSync(join(cacheDir, 'quiver-cli-light-v0.0.1-x64-0123456789abcdef-tables.v8cache'), 'old');
  const first = tables();
  assert.deepEqual(first.bundles, ['light']);
  assert.equal(first.cache, 'miss');
  assert.equal(first.stdout, expected.stdout);
  const [tablesFile, ...others] = files();
  assert.deepEqual(others, [], 'the old file is gone, one file for tables');
  assert.match(tablesFile!, new RegExp(`^quiver-cli-light-${process.version}-${process.arch}-[0-9a-f]{16}-tables\\.v8cache$`));
  const path = join(cacheDir, tablesFile!);
  const sound = readFileSync(path);
  assert.equal(tables().cache, 'hit');

  // Each command has its own file; the others stay.
  const inspect = ok(quiver(pkg, ['--store', store, 'inspect', 'cpu'], env), 'inspect');
  assert.equal(inspect.cache, 'miss');
  assert.equal(files().length, 2);
  assert.equal(ok(quiver(pkg, ['--store', store, 'inspect', 'cpu'], env), 'inspect').cache, 'hit');
  assert.equal(tables().cache, 'hit');
  // The full bundle's caches live beside the light one's: writing one clears neither.
  const scan = ok(quiver(pkg, ['--store', store, 'scan', 'cpu', '--limit', '1'], env), 'scan');
  assert.deepEqual([scan.bundles, scan.cache], [['full'], 'miss']);
  assert.equal(files().length, 3);
  assert.equal(tables().cache, 'hit');
  rmSync(join(cacheDir, files().find((f) => f.endsWith('-scan.v8cache'))!));

  const headerEnd = sound.indexOf('\n', sound.indexOf('\n') + 1) + 10; // magic, key, CRC lines
  const damaged: [string, Buffer][] = [
    ['a flipped bit in the data', Buffer.from(sound).fill(sound[headerEnd + 1000]! ^ 0x10, headerEnd + 1000, headerEnd + 1001)],
    ['cut short', sound.subarray(0, sound.length >> 1)],
    ['empty', Buffer.alloc(0)],
    ['not a cache', Buffer.from('hello\n')],
    ['the key of another Node', Buffer.from(sound.toString('latin1').replace(process.version, 'v0.0.1'), 'latin1')],
  ];
  for (const [what, bytes] of damaged) {
    writeFileSync(path, bytes);
    const r = tables();
    assert.equal(r.cache, 'miss', what);
    assert.equal(r.stdout, expected.stdout, what);
    assert.equal(tables().cache, 'hit', `${what}: replaced by a sound file`);
  }

  // V8's data of another script behind a sound header: V8 rejects it, the run goes on.
  const foreign = new Script('(function () { return 1 + 1; })').createCachedData();
  const header = sound.subarray(0, sound.indexOf('\n', sound.indexOf('\n') + 1) + 1);
  writeFileSync(path, Buffer.concat([header, Buffer.from(`${hex32(crc32(foreign))}\n`), foreign]));
  const rejected = tables();
  assert.equal(rejected.cache, 'rejected');
  assert.equal(rejected.stdout, expected.stdout);
  assert.equal(tables().cache, 'hit');

  // A cache folder that cannot be made: the run goes on without writing one.
  writeFileSync(join(dir, 'a-file'), 'x');
  const nowhere = tables({ QUIVER_CLI_CACHE: join(dir, 'a-file', 'cache') });
  assert.equal(nowhere.cache, 'miss');
  assert.equal(nowhere.stdout, expected.stdout);

  // By default the cache lives next to the bundle.
  assert.equal(tables({}).cache, 'miss');
  assert.equal(readdirSync(join(pkg, 'dist', 'cli')).filter((f) => f.endsWith('-tables.v8cache')).length, 1);
  assert.equal(tables({}).cache, 'hit');
}));

test('in a checkout the bundle runs only when it is not older than the ES modules (a tsc since the last bundle); an installed package always runs it; QUIVER_CLI_BUNDLE=0 runs the ES modules', () => withPackage(({ pkg, store, env }) => {
  const fresh = ok(quiver(pkg, ['--store', store, 'tables'], env), 'tables');
  assert.ok(fresh.cache !== undefined && fresh.modules.includes('dist/src/cli/commands/tables.js'), 'the bundle ran');
  const off = ok(quiver(pkg, ['--store', store, 'tables'], { ...env, QUIVER_CLI_BUNDLE: '0' }), 'tables');
  assert.equal(off.cache, undefined, 'QUIVER_CLI_BUNDLE=0: the ES modules ran');
  assert.equal(off.stdout, fresh.stdout);
  const bundles = ['quiver.cjs', 'quiver-light.cjs'].map((f) => join(pkg, 'dist', 'cli', f));
  const esmTime = statSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')).mtime;
  for (const bundle of bundles) utimesSync(bundle, new Date(esmTime.getTime() - 60_000), new Date(esmTime.getTime() - 60_000));
  const aged = ok(quiver(pkg, ['--store', store, 'tables'], env), 'tables');
  assert.equal(aged.cache, undefined, 'an older bundle is not used');
  assert.equal(aged.stdout, fresh.stdout);
  // An installed package (no tsconfig.json) has the times its files were unpacked at: its
  // bundle is used whatever their order.
  rmSync(join(pkg, 'tsconfig.json'));
  const installed = ok(quiver(pkg, ['--store', store, 'tables'], env), 'tables');
  assert.deepEqual(installed.bundles, ['light'], 'an installed package runs its bundle');
  assert.equal(installed.stdout, fresh.stdout);
  // Without the light bundle the full one serves every command; without both, the ES modules.
  rmSync(bundles[1]!);
  const full = ok(quiver(pkg, ['--store', store, 'tables'], env), 'tables');
  assert.deepEqual(full.bundles, ['full']);
  assert.equal(full.stdout, fresh.stdout);
  rmSync(bundles[0]!);
  const missing = ok(quiver(pkg, ['--store', store, 'tables'], env), 'tables');
  assert.equal(missing.cache, undefined);
  assert.equal(missing.stdout, fresh.stdout);
}));

test('the bundled CLI prints and exits as the ES modules do', () => withPackage(({ pkg, store, env }) => {
  const cases = [
    ['--help'], ['--version'], ['--version', '--json'], ['tables'], ['tables', '--json'], ['inspect', 'cpu'], ['inspect', 'cpu', '--json'], ['query', '--help'],
    ['query', 'cpu', '--every', '1h', '--by', 'hostname', '--agg', 'max:usage_user,mean:usage_system,count:usage_idle', '--format', 'csv'],
    ['query', 'cpu', '--latest', '--columns', 'usage_user', '--json'],
    ['scan', 'cpu', '--where', 'hostname=host_1', '--from', '2026-01-01T01:00Z', '--to', '2026-01-01T01:10Z', '--format', 'csv'],
    ['verify'],
    ['bogus'], ['tables', '--bogus'], ['scan', 'nope'], ['query', 'cpu', '--agg', 'nope:usage_user'],
  ];
  for (const args of cases) {
    const bundled = quiver(pkg, ['--store', store, ...args], env);
    const esm = quiver(pkg, ['--store', store, ...args], { ...env, QUIVER_CLI_BUNDLE: '0' });
    assert.ok(bundled.cache !== undefined && esm.cache === undefined, args.join(' '));
    assert.deepEqual([bundled.status, bundled.stdout, bundled.stderr], [esm.status, esm.stdout, esm.stderr], `quiver ${args.join(' ')}`);
  }
}));

test('the light bundle serves tables, inspect, --help and --version; a run needing what it left out (inspect of one chunk) is handed to the full bundle, printing as the ES modules do', () => withPackage(({ dir, pkg, store, env }) => {
  const key = /^(cpu\/\S+\.qvr)\s/m.exec(ok(quiver(pkg, ['--store', store, 'inspect', 'cpu'], env), 'inspect').stdout)?.[1];
  assert.ok(key, 'a chunk key in inspect cpu');
  const file = join(dir, 'one.qvr');
  copyFileSync(join(store, key), file);
  const cases: [string[], string[]][] = [
    [['tables'], ['light']], [['inspect'], ['light']], [['inspect', 'cpu', '--versions'], ['light']], [['--help'], ['light']], [['--version', '--json'], ['light']],
    [['tables', '--help'], ['light']], [['inspect', 'nope'], ['light']],
    [['inspect', 'cpu', key.slice(-16)], ['light', 'full']], [['inspect', 'cpu', key.slice(-16), '--json'], ['light', 'full']],
    [['query', '--help'], ['full']], [['scan', 'cpu', '--limit', '2', '--format', 'csv'], ['full']],
  ];
  for (const [args, expected] of cases) {
    for (let run = 0; run < 2; run++) { // a miss, then a hit of the code caches
      const bundled = quiver(pkg, ['--store', store, ...args], env);
      const esm = quiver(pkg, ['--store', store, ...args], { ...env, QUIVER_CLI_BUNDLE: '0' });
      assert.deepEqual(bundled.bundles, expected, `quiver ${args.join(' ')}`);
      assert.deepEqual([bundled.status, bundled.stdout, bundled.stderr], [esm.status, esm.stdout, esm.stderr], `quiver ${args.join(' ')}`);
    }
  }
  // --debug's line is printed once, by the light bundle (the ES modules name the addon by its real path, not the package's).
  const debug = quiver(pkg, ['--store', store, 'inspect', 'cpu', key.slice(-16), '--debug'], env);
  assert.deepEqual([debug.status, debug.bundles, debug.stderr.split('\n').filter((l) => l.startsWith('quiver: ')).length], [0, ['light', 'full'], 1], debug.stderr);
  // A chunk file on disk: inspect FILE.qvr (no --store) is handed over too.
  const bundled = quiver(pkg, ['inspect', file], env);
  const esm = quiver(pkg, ['inspect', file], { ...env, QUIVER_CLI_BUNDLE: '0' });
  assert.deepEqual(bundled.bundles, ['light', 'full']);
  assert.equal(bundled.status, 0, bundled.stderr);
  assert.deepEqual([bundled.stdout, bundled.stderr], [esm.stdout, esm.stderr]);
  assert.match(bundled.stdout, /^chunk /m);
  // The light bundle holds no Arrow and no chunk reader (scripts/bundle-cli.mjs fails the build otherwise).
  const light = readFileSync(join(pkg, 'dist', 'cli', 'quiver-light.cjs'), 'latin1');
  assert.match(light.slice(0, 200), /^\/\/ quiver-cli-bundle [0-9a-f]+ ascii commands=help,version,tables,inspect\n/);
  assert.ok(light.length < 300_000 && !light.includes('node_modules/apache-arrow') && !light.includes('dist/src/format/chunk-reader.js'), `light bundle of ${light.length} bytes`);
}));

test('workers start from the bundled CLI: the CSV parser, the Parquet decoder, the decode pool and DuckDB', () => withPackage(({ dir, pkg, store, env }) => {
  // A module-loading hook, inherited by worker threads, names the ES modules they load. Import
  // workers start on machines of 3 cores or more and decode workers use the cores the load
  // average leaves free: a preload shows the CLI 4 idle cores.
  writeFileSync(join(dir, 'hooks.mjs'), `import { writeSync } from 'node:fs';
export async function load(url, context, next) { writeSync(2, 'QUIVER_TEST_LOAD ' + url + '\\n'); return next(url, context); }\n`);
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  writeFileSync(join(dir, 'cores.cjs'), `const os = require('node:os'); os.availableParallelism = () => 4; os.loadavg = () => [0, 0, 0];\n`);
  const hooked = (args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, '--require', join(dir, 'cores.cjs'), join(pkg, 'bin', 'quiver.js'), '--store', store, ...args],
      { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, QUIVER_STORE: '', QUIVER_CLI_TRACE: '1', ...env } });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr.split('\n').filter((l) => !l.startsWith('QUIVER_')).join('\n')}`);
    assert.match(r.stderr, /^QUIVER_CLI_CODE_CACHE /m, 'the bundle ran');
    return { stdout: r.stdout, loaded: r.stderr.split('\n').filter((l) => l.startsWith('QUIVER_TEST_LOAD ')).map((l) => l.slice('QUIVER_TEST_LOAD '.length)) };
  };
  const workerLoaded = (loaded: string[], file: string) => loaded.some((u) => u.endsWith(`/dist/src/${file}`));

  // A CSV of 8 MiB or more is parsed in a worker (src/io/csv/parse-worker.ts); values of
  // full precision keep the float column large enough for the decode pool (256 KiB a chunk).
  const rows = 140_000;
  const lines = ['time,host,v,note'];
  const note = (i: number) => `${i.toString(36)}${'y'.repeat(30)}`;
  for (let i = 0; i < rows; i++) lines.push(`${new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString()},h${i % 7},${Math.sin(i) * 1e6},${note(i)}`);
  const csv = join(dir, 'big.csv');
  writeFileSync(csv, `${lines.join('\n')}\n`);
  assert.ok(statSync(csv).size >= 8 * 1024 * 1024, 'large enough for the parse worker');
  const csvImport = hooked(['import', csv, '--table', 'big', '--tags', 'host', '--no-progress']);
  assert.ok(workerLoaded(csvImport.loaded, 'io/csv/worker.js'), 'the CSV parse worker started');

  // Every row back, decoded by the pool's workers, as the ES modules read them on this thread.
  const scanned = hooked(['scan', 'big', '--format', 'csv']);
  assert.ok(workerLoaded(scanned.loaded, 'format/decode-worker.js'), 'decode workers started');
  const esm = quiver(pkg, ['--store', store, 'scan', 'big', '--format', 'csv'], { ...env, QUIVER_CLI_BUNDLE: '0' });
  assert.equal(esm.status, 0, esm.stderr);
  assert.equal(scanned.stdout.split('\n').length, rows + 2);
  assert.equal(scanned.stdout, esm.stdout);
  assert.ok(scanned.stdout.split('\n').includes(`2026-01-01T00:00:01Z,h1,${Math.sin(1) * 1e6},${note(1)}`), 'a row as written');

  // Parquet out and in again (decoded in a worker from 4 MiB on: uncompressed): the same rows.
  const parquet = join(dir, 'big.parquet');
  hooked(['export', 'big', '--out', parquet, '--codec', 'none']);
  assert.ok(statSync(parquet).size >= 4 * 1024 * 1024, 'large enough for the Parquet worker');
  const parquetImport = hooked(['import', parquet, '--table', 'again', '--tags', 'host', '--no-progress']);
  assert.ok(workerLoaded(parquetImport.loaded, 'io/parquet-worker.js'), 'the Parquet decoder worker started');
  assert.equal(hooked(['scan', 'again', '--format', 'csv']).stdout, scanned.stdout);

  // SQL runs DuckDB in a worker (an optional dependency, installed with the dev ones).
  const sql = hooked(['sql', 'SELECT count(*) AS n, count(DISTINCT host) AS hosts FROM big', '--format', 'csv']);
  assert.ok(workerLoaded(sql.loaded, 'sql/duckdb-worker.js'), 'the DuckDB worker started');
  assert.equal(sql.stdout.trim(), `n,hosts\n${rows},7`);
}, false));
