#!/usr/bin/env node
// `npm test`: build, start the real object stores the backend tests need (Ceph RGW for S3,
// Azurite for Azure) unless the environment already names them, run every test file with
// node's test runner, stop the servers, exit with the runner's code.
//
//   npm test                       everything
//   npm test -- test/format cli    only test files whose path contains one of the words
//
// A user's own servers: set S3_ENDPOINT (+ S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION) and
// AZURE_STORAGE_CONNECTION_STRING, and nothing is started.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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

console.log('# building TypeScript');
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);

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

const needsStores = files.some((f) => /(s3|azure|object-store|remote)/.test(relative(root, f)));
let started = false;
const stores = join(root, 'scripts', 'object-stores.sh');
function stopStores() {
  if (!started) return;
  started = false;
  spawnSync(stores, ['stop'], { cwd: root, stdio: 'inherit', env: process.env });
}
if (needsStores && !(process.env.S3_ENDPOINT && process.env.AZURE_STORAGE_CONNECTION_STRING)) {
  console.log('# starting Ceph RGW (S3) and Azurite (Azure) on 127.0.0.1');
  run(stores, ['install']);
  let exports;
  // Own ports and state directory per run: two test runs on one machine do not collide. A
  // start that fails (Ceph's daemons occasionally trip over each other on a loaded machine)
  // is retried on fresh ports, up to three times, before the run fails.
  for (let attempt = 1; ; attempt++) {
    process.env.QUIVER_STORES_DIR = join(tmpdir(), `quiver-stores-${process.pid}-${attempt}`);
    process.env.RGW_PORT = String(await freePort());
    process.env.MON_PORT = String(await freePort());
    process.env.AZURITE_PORT = String(await freePort());
    try {
      exports = execFileSync(stores, ['start'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
      break;
    } catch {
      spawnSync(stores, ['stop'], { cwd: root, stdio: 'inherit', env: process.env });
      if (attempt === 3) {
        console.error('could not start the test object stores (see above); set S3_ENDPOINT and AZURE_STORAGE_CONNECTION_STRING to use your own');
        process.exit(1);
      }
      console.log(`# object stores did not start (attempt ${attempt}); retrying on other ports`);
    }
  }
  started = true;
  // Lines look like: export A=1 B=2 / export C="x;y"
  for (const line of exports.split('\n')) {
    for (const m of line.replace(/^export /, '').matchAll(/([A-Z0-9_]+)=("([^"]*)"|\S+)/g)) process.env[m[1]] = m[3] ?? m[2];
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { stopStores(); process.exit(130); });

console.log(`# running ${files.length} test file(s)`);
const child = spawn(process.execPath, [
  '--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=300000',
  ...files.map((f) => relative(root, f)),
], { cwd: root, stdio: 'inherit', env: process.env });
child.on('exit', (code, signal) => {
  stopStores();
  process.exit(code ?? (signal ? 1 : 0));
});
