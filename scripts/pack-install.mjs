#!/usr/bin/env node
// `npm run test:package` (CI runs it after `npm test`): packs quiver as `npm pack` would for
// the registry, installs the tarball into a new project in a temporary folder (dependencies
// from the local npm cache, --prefer-offline), and checks what a user gets:
//   1. the install builds the native addon: `npx quiver --version --debug` says it is in use;
//   2. the library imports and works from that project (create a table, append, scan the
//      values back, exactly), and its types compile against the shipped .d.ts;
//   3. `quiver report` finds Chart.js in the installed dependencies;
//   4. a failed native build (`npm rebuild quiver` with a compiler that fails) still exits 0
//      and leaves Quiver on its JS twins, which `--version --debug` reports with the reason,
//      and the library still works.
// It takes minutes (the dependencies' own native builds), hence not part of `npm test`.
// Ends with `N passed, N failed`. QUIVER_PACK_KEEP=1 keeps the temporary folder.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const work = mkdtempSync(join(tmpdir(), 'quiver-pack-'));
const app = join(work, 'app');
let passed = 0, failed = 0;
const t0 = Date.now();

function run(cmd, args, options = {}) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options, env: { ...process.env, ...options.env } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`# ${[cmd, ...args].join(' ')} (${seconds} s, exit ${r.status ?? r.signal})`);
  return r;
}

function check(name, ok, detail = '') {
  if (ok) { passed++; console.log(`ok ${passed + failed} - ${name}`); }
  else { failed++; console.log(`not ok ${passed + failed} - ${name}\n${detail.split('\n').map((l) => `  ${l}`).join('\n')}`); }
  return ok;
}

function finish() {
  console.log(`# ${((Date.now() - t0) / 1000).toFixed(0)} s in all; ${existsSync(work) && process.env.QUIVER_PACK_KEEP === '1' ? `kept ${work}` : 'temporary folder removed'}`);
  if (process.env.QUIVER_PACK_KEEP !== '1') rmSync(work, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

// The TypeScript build and CLI bundle `prepare` would run, then the tarball (scripts off: built just now).
const build = run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root });
if (!check('TypeScript builds', build.status === 0, build.stdout + build.stderr)) finish();
const bundle = run(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')], { cwd: root });
if (!check('the CLI bundle builds', bundle.status === 0, bundle.stdout + bundle.stderr)) finish();
const pack = run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root });
if (!check('npm pack', pack.status === 0, pack.stderr)) finish();
const tarball = join(work, JSON.parse(pack.stdout)[0].filename);

// A new project that installs the tarball, as a user would.
spawnSync('mkdir', ['-p', app]);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'quiver-pack-check', version: '1.0.0', private: true, type: 'module' }, null, 2));
const install = run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app });
if (!check('npm install of the tarball', install.status === 0, install.stdout + install.stderr)) finish();

function versionDebug() {
  return run(npm, ['exec', '--offline', '--', 'quiver', '--version', '--debug'], { cwd: app });
}
const v = versionDebug();
check('`npx quiver --version --debug` prints the version', v.status === 0 && v.stdout.startsWith(`quiver ${version}\n`), v.stdout + v.stderr);
check('the install built the native addon and it is in use', /native addon in use/.test(v.stdout), v.stdout + v.stderr);

// The library from the project: exact values back, and the shipped types compile.
writeFileSync(join(app, 'check.mjs'), `
import { Quiver } from 'quiver';
const db = await Quiver.open(new URL('./data', import.meta.url).pathname);
const t = await db.createTable('t', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] }, { lazy: true, ifExists: 'append' });
const rows = [{ time: '2026-01-01T00:00:00Z', host: 'a', v: 0.1 }, { time: '2026-01-01T00:00:10Z', host: 'a', v: -0 }, { time: '2026-01-01T00:00:20Z', host: 'b', v: 1e300 }];
await t.append(rows);
await t.flush();
const out = [];
for await (const batch of t.scan({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:30Z' })) {
  for (let i = 0; i < batch.numRows; i++) out.push([batch.getChild('host').get(i), batch.getChild('v').get(i)]);
}
await db.close();
console.log(JSON.stringify(out.map(([h, v]) => [h, Object.is(v, -0) ? '-0' : v])));
`);
const expected = JSON.stringify([['a', 0.1], ['a', '-0'], ['b', 1e300]]);
const lib = run(process.execPath, ['check.mjs'], { cwd: app });
check('import { Quiver } from "quiver": append and scan give the values back', lib.status === 0 && lib.stdout.trim().split('\n').at(-1) === expected, lib.stdout + lib.stderr);

writeFileSync(join(app, 'types.ts'), `
import { Quiver, type QuiverOptions } from 'quiver';
const options: QuiverOptions = {};
export async function rows(path: string): Promise<number> {
  const db: Quiver = await Quiver.open(path, options);
  const t = await db.table('t');
  const d = await t.describe();
  await db.close();
  return d.rows;
}
`);
const types = run(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
  '--skipLibCheck', '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node', 'types.ts'], { cwd: app });
check('the shipped .d.ts files type-check a program using the library', types.status === 0, types.stdout + types.stderr);

const report = run(npm, ['exec', '--offline', '--', 'quiver', 'report', 't', '--out', 'report.html', '--store', './data'], { cwd: app });
const html = existsSync(join(app, 'report.html')) ? readFileSync(join(app, 'report.html'), 'utf8') : '';
check('`quiver report` inlines Chart.js from the installed dependencies', report.status === 0 && html.includes('Chart.js v4'), report.stdout + report.stderr);

// The command runs from the shipped bundle (QUIVER_CLI_TRACE lists its modules), writes its
// code cache next to it on the first run and reads it on the next (npm unpacks files with the
// times of unpacking: the bundle must run all the same); Parquet goes through parquet-wasm,
// which stays in node_modules (export, then import the file).
const quiverCli = (...args) => run(npm, ['exec', '--offline', '--', 'quiver', ...args, '--store', './data'], { cwd: app, env: { QUIVER_CLI_TRACE: '1' } });
const cliDir = join(app, 'node_modules', 'quiver', 'dist', 'cli');
const tables1 = quiverCli('tables');
const cached = existsSync(cliDir) ? readdirSync(cliDir).filter((f) => f.endsWith('-tables.v8cache')) : [];
const tables2 = quiverCli('tables');
check('`quiver tables` runs from the bundle and keeps its code cache next to it', tables1.status === 0 && tables2.status === 0 && tables1.stdout === tables2.stdout &&
  /^t\s+3\s/m.test(tables1.stdout) && /QUIVER_CLI_MODULE dist\/src\/table\/catalog\.js/.test(tables2.stderr) && cached.length === 1, `${tables1.stdout}${tables1.stderr}${tables2.stderr}\ncache files: ${cached.join(' ')}`);
const exported = quiverCli('export', 't', '--out', 'rows.parquet');
const reimported = quiverCli('import', 'rows.parquet', '--table', 'back', '--tags', 'host');
const back = quiverCli('scan', 'back', '--format', 'csv');
check('the bundled CLI exports and imports Parquet from the package (parquet-wasm found in node_modules)', exported.status === 0 && reimported.status === 0 && back.status === 0 &&
  back.stdout.trim().split('\n').length === 4 && /QUIVER_CLI_MODULE dist\/src\/io\/parquet\.js/.test(reimported.stderr), exported.stderr + reimported.stdout + reimported.stderr + back.stdout + back.stderr);

// A native build that fails: the install step still succeeds, the JS twins take over.
const rebuild = run(npm, ['rebuild', 'quiver', '--foreground-scripts'], { cwd: app, env: { CXX: 'false', CC: 'false' } });
check('`npm rebuild quiver` with a failing compiler exits 0', rebuild.status === 0, rebuild.stdout + rebuild.stderr);
check('the failed build says the JS twins are used', /JS twins/.test(rebuild.stdout + rebuild.stderr), rebuild.stdout + rebuild.stderr);
const twins = versionDebug();
check('`quiver --version --debug` then reports the JS twins and why', twins.status === 0 && /JS twins in use, not the native addon: the addon is not built/.test(twins.stdout), twins.stdout + twins.stderr);
const lib2 = run(process.execPath, ['check.mjs'], { cwd: app });
// The same rows appended again are the same points: under the default duplicate policy (last)
// they fold into them, so the scan gives the first run's answer.
check('the library works on the JS twins (same values)', lib2.status === 0 && lib2.stdout.trim().split('\n').at(-1) === expected, lib2.stdout + lib2.stderr);
finish();
