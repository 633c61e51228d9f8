#!/usr/bin/env node
// `npm test`: build, start the real object stores the backend tests need (Ceph RGW for S3,
// Azurite for Azure) unless the environment already names them, and the two Prometheus
// servers of the Prometheus test (scripts/prometheus.sh), run every test file with node's
// test runner, stop the servers, exit with the runner's code.
//
//   npm test                       everything
//   npm test -- test/format cli    only test files whose path contains one of the words
//
// A user's own servers: set S3_ENDPOINT (+ S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION) and/or
// AZURE_STORAGE_CONNECTION_STRING; only the one not named is started.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const filters = process.argv.slice(2);

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

console.log('# building TypeScript and the CLI bundle');
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
run(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')]);

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}
const files = testFiles(join(root, 'dist', 'test'))
  .filter((f) => filters.length === 0 || filters.some((w) => relative(join(root, 'dist'), f).includes(w.replace(/\.ts$/, ''))))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

/** A TCP port free on 127.0.0.1 right now (so concurrent test runs never share servers). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

// The report tests render pages in headless Chromium, the completion tests load a zsh: as
// root they are installed when missing, otherwise scripts/test-packages.sh says how (as for
// the object stores below).
const osPackages = [['chromium', join('test', 'report')], ['zsh', 'completion']].filter(([, w]) => files.some((f) => relative(root, f).includes(w))).map(([p]) => p);
if (osPackages.length) run(join(root, 'scripts', 'test-packages.sh'), ['install', ...osPackages]);

const needsStores = files.some((f) => /(s3|azure|object-store|remote)/.test(relative(root, f)));
const stores = join(root, 'scripts', 'object-stores.sh');
const prometheus = join(root, 'scripts', 'prometheus.sh');
/** Server scripts whose `start` succeeded: each is stopped once, whatever ends this run. */
const started = new Set();
function stopServers() {
  for (const script of started) spawnSync(script, ['stop'], { cwd: root, stdio: 'inherit', env: process.env });
  started.clear();
}
// Whatever happens from here on (a throw, process.exit, a signal), servers we started stop.
process.on('exit', stopServers);
let child;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => { child?.kill(signal); stopServers(); process.exit(130); });
}

/**
 * A free port on 127.0.0.1 below the ephemeral range, for a server that starts later than the
 * port is chosen (the Prometheus test's Quiver server): a port from freePort() is the kind the
 * kernel hands the next listen(0) of any test, and Prometheus would then write into that
 * test's server instead.
 */
async function freePortBelowEphemeral() {
  let low = 32768;
  try { low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low; } catch { /* not Linux */ }
  for (;;) {
    const port = 10000 + Math.floor(Math.random() * Math.max(1, low - 10000));
    const free = await new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/**
 * `script start [args]` on its own ports (fresh free ones in the named variables) and state
 * directory per run, so two test runs on one machine do not collide; its `export …` lines go
 * into the environment. A start that fails (Ceph's daemons occasionally trip over each other
 * on a loaded machine) is retried on fresh ports, up to three times, before the run fails.
 */
async function startServers(script, args, dirVariable, portVariables, failure, laterPortVariables = []) {
  for (let attempt = 1; ; attempt++) {
    process.env[dirVariable] = join(tmpdir(), `${dirVariable.toLowerCase().replaceAll('_', '-')}-${process.pid}-${attempt}`);
    for (const name of portVariables) process.env[name] = String(await freePort());
    for (const name of laterPortVariables) process.env[name] = String(await freePortBelowEphemeral());
    try {
      setExports(execFileSync(script, ['start', ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: process.env }));
      started.add(script);
      return;
    } catch {
      spawnSync(script, ['stop'], { cwd: root, stdio: 'inherit', env: process.env });
      if (attempt === 3) {
        console.error(failure);
        process.exit(1);
      }
      console.log(`# ${relative(root, script)} did not start (attempt ${attempt}); retrying on other ports`);
    }
  }
}

/** Lines look like: export A=1 B=2 / export C="x;y" */
function setExports(exports) {
  for (const line of exports.split('\n')) {
    for (const m of line.replace(/^export /, '').matchAll(/([A-Z0-9_]+)=("([^"]*)"|\S+)/g)) process.env[m[1]] = m[3] ?? m[2];
  }
}

const haveS3 = Boolean(process.env.S3_ENDPOINT), haveAzure = Boolean(process.env.AZURE_STORAGE_CONNECTION_STRING);
if (needsStores && !(haveS3 && haveAzure)) {
  const which = haveS3 ? 'azure' : haveAzure ? 's3' : 'all';
  console.log(`# starting ${{ all: 'Ceph RGW (S3) and Azurite (Azure)', s3: 'Ceph RGW (S3)', azure: 'Azurite (Azure)' }[which]} on 127.0.0.1`);
  run(stores, ['install', which]);
  await startServers(stores, [which], 'QUIVER_STORES_DIR', ['RGW_PORT', 'MON_PORT', 'AZURITE_PORT'],
    'could not start the test object stores (see above); set S3_ENDPOINT and AZURE_STORAGE_CONNECTION_STRING to use your own');
}

// The Prometheus test (test/server/prometheus-server.test.ts) needs two real Prometheus servers
// pointed at the port its Quiver server will listen on: started here, once, like the stores
// (as root prometheus is installed when missing; otherwise the script says how and the run
// fails). Own ports and state directory per run; a failed start is retried on fresh ports.
if (files.some((f) => relative(root, f).includes('prometheus-server'))) {
  console.log('# starting two Prometheus servers on 127.0.0.1');
  run(prometheus, ['install']);
  await startServers(prometheus, [], 'QUIVER_PROM_DIR', ['PROM_WRITER_PORT', 'PROM_READER_PORT'],
    'could not start Prometheus for the Prometheus test (see above)', ['QUIVER_PROM_TARGET_PORT']);
}

// The spec reporter for people; a TAP copy in a file whose summary (`# pass N`, `# fail N`)
// is printed at the end, for scripts that grep it.
const tapFile = join(tmpdir(), `quiver-test-${process.pid}.tap`);
console.log(`# running ${files.length} test file(s)`);
child = spawn(process.execPath, [
  '--test', '--test-concurrency=2', '--test-timeout=300000',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
  ...files.map((f) => relative(root, f)),
], { cwd: root, stdio: 'inherit', env: process.env });
child.on('exit', (code, signal) => {
  stopServers();
  try {
    const summary = readFileSync(tapFile, 'utf8').split('\n').filter((l) => /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(l));
    if (summary.length) console.log(summary.join('\n'));
    rmSync(tapFile, { force: true });
  } catch { /* the runner died before writing a summary: its own output says why */ }
  process.exit(code ?? (signal ? 1 : 0));
});
