#!/usr/bin/env node
'use strict';
// The `quiver` command (CommonJS: bin/package.json). All logic lives in dist/src/cli, built by
// `npm install`. The CLI runs from dist/cli/quiver.cjs, one script bundling dist/src/cli/main.js
// and what it imports (scripts/bundle-cli.mjs), compiled through vm.Script with V8's code
// cache, which Node 20 offers for scripts but not for ES modules (README, "CLI start-up"):
//  - one cache file per command (each holds what its command compiled), Node version,
//    architecture and bundle, next to the bundle or, where that folder cannot be written, in
//    $XDG_CACHE_HOME/quiver (~/.cache/quiver); QUIVER_CLI_CACHE=DIR puts it in DIR instead,
//    QUIVER_CLI_CACHE=0 turns it off;
//  - a command's file is written after its first run (or after a run whose cache V8 rejected)
//    and read at each later start; a damaged, foreign or stale file is ignored (a header with
//    the key and a CRC-32 of the data is checked before V8 sees it; V8 checks its own version
//    and flags);
//  - the ES modules of dist/src run instead when the bundle is missing or, in a checkout,
//    older than dist/src/cli/main.js (a `tsc` since the last bundle), or with QUIVER_CLI_BUNDLE=0;
//  - QUIVER_CLI_TRACE=1 prints on stderr, at exit, whether the code cache was used (hit, miss,
//    rejected by V8, off) and the bundled modules the run initialised.
const { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } = require('node:fs');
const { dirname, join } = require('node:path');

const ROOT = join(__dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'cli', 'quiver.cjs');
const ESM_MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const CACHE_MAGIC = 'quiver-v8-cache 1\n';

function isCheckout() {
  try { statSync(join(ROOT, 'tsconfig.json')); return true; } catch { return false; }
}

/**
 * The bundle when it exists and is not older than the ES modules: its source and its identity
 * (the build's hash from its first line, its length and time), else null.
 */
function bundle() {
  if (process.env.QUIVER_CLI_BUNDLE === '0') return null;
  try {
    const stat = statSync(BUNDLE);
    // In a checkout (tsconfig.json beside package.json), a `tsc` since the last bundle leaves
    // the bundle stale. An installed package ships both from one build and never rebuilds; its
    // files carry the times they were unpacked at, in no useful order.
    if (isCheckout() && stat.mtimeMs < statSync(ESM_MAIN).mtimeMs) return null;
    const bytes = readFileSync(BUNDLE);
    // `// quiver-cli-bundle ID CHARSET`: an ASCII bundle is read as latin1 (exact for ASCII, a
    // one-byte string for V8, no UTF-8 decoding), any other as UTF-8.
    const head = /^\/\/ quiver-cli-bundle ([0-9a-f]+) (ascii|utf8)\n/.exec(bytes.toString('latin1', 0, 80));
    if (!head) return null;
    return { source: bytes.toString(head[2] === 'ascii' ? 'latin1' : 'utf8'), id: `${head[1]}-${bytes.length}-${Math.trunc(stat.mtimeMs)}` };
  } catch {
    return null;
  }
}

/** The command a run will execute, as main() finds it (global options may come first); a cache is kept per command. */
function commandOf(argv) {
  let at = 0;
  while (at < argv.length) {
    const a = argv[at];
    if (a === '--json' || a === '--debug' || a.startsWith('--store=')) at++;
    else if (a === '--store' && at + 1 < argv.length) at += 2;
    else break;
  }
  const name = argv[at];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return 'help';
  if (name === '--version') return 'version';
  return /^[a-z][a-z0-9-]{0,31}$/.test(name) ? name : 'other';
}

/** Where the code cache may live, in the order tried. */
function cacheDirs() {
  const chosen = process.env.QUIVER_CLI_CACHE;
  if (chosen === '0') return [];
  if (chosen) return [chosen];
  const home = process.env.XDG_CACHE_HOME || (process.env.HOME ? join(process.env.HOME, '.cache') : '');
  return home ? [dirname(BUNDLE), join(home, 'quiver')] : [dirname(BUNDLE)];
}

const hex32 = (n) => (n >>> 0).toString(16).padStart(8, '0');

/** The cached data for key from the first folder holding a sound file, else undefined. */
function readCache(dirs, name, key, crc32) {
  const header = `${CACHE_MAGIC}${key}\n`;
  const dataAt = header.length + 9; // then the data's CRC-32 (8 hex digits) and '\n'
  for (const dir of dirs) {
    let file;
    try { file = readFileSync(join(dir, name)); } catch { continue; }
    if (file.length <= dataAt || file.toString('latin1', 0, header.length) !== header) continue;
    const data = file.subarray(dataAt);
    if (file.toString('latin1', header.length, dataAt) !== `${hex32(crc32(data))}\n`) continue;
    return data;
  }
  return undefined;
}

/** Writes the cache into the first folder that takes it (a new file renamed into place); never throws. */
function writeCache(dirs, name, key, data, crc32) {
  const bytes = Buffer.concat([Buffer.from(`${CACHE_MAGIC}${key}\n${hex32(crc32(data))}\n`, 'latin1'), data]);
  for (const dir of dirs) {
    const temp = join(dir, `.${name}.${process.pid}.tmp`);
    try {
      mkdirSync(dir, { recursive: true });
      const fd = openSync(temp, 'w', 0o644);
      try { writeSync(fd, bytes); } finally { closeSync(fd); }
      renameSync(temp, join(dir, name));
    } catch {
      try { unlinkSync(temp); } catch { /* never created */ }
      continue;
    }
    // Caches of other bundles or Node versions in this folder are dead weight.
    const current = `-${process.version}-${process.arch}-${key.split(' ')[2].slice(0, 16)}-`;
    try {
      for (const other of readdirSync(dir)) {
        if (other.startsWith('quiver-cli-') && other.endsWith('.v8cache') && !other.startsWith(`quiver-cli${current}`)) unlinkSync(join(dir, other));
      }
    } catch { /* best effort */ }
    return;
  }
}

/** Compiles and runs the bundle (through the command's code cache when there is one). */
function loadBundle({ source, id }, command) {
  const vm = require('node:vm');
  const { createRequire } = require('node:module');
  const { crc32 } = require('node:zlib'); // Node ≥ 20.15; without it, no cache
  const dirs = typeof crc32 === 'function' ? cacheDirs() : [];
  const name = `quiver-cli-${process.version}-${process.arch}-${id.slice(0, 16)}-${command}.v8cache`;
  const key = `${process.version} ${process.arch} ${id} ${command}`;
  const cachedData = dirs.length ? readCache(dirs, name, key, crc32) : undefined;
  // The bundle is one function expression (exports, require, module, __filename, __dirname).
  const script = new vm.Script(source, { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  const cache = dirs.length === 0 ? 'off' : cachedData === undefined ? 'miss' : script.cachedDataRejected === true ? 'rejected' : 'hit';
  const stale = cache === 'miss' || cache === 'rejected';
  return {
    main: module.exports.main,
    modules: module.exports.initialisedModules,
    cache,
    // After the run, so the cache holds the functions this command compiled, not only the top level.
    afterRun: stale ? () => writeCache(dirs, name, key, script.createCachedData(), crc32) : () => {},
  };
}

async function run() {
  const argv = process.argv.slice(2);
  const found = bundle();
  if (found === null) {
    const { main } = await import('../dist/src/cli/main.js');
    process.exitCode = await main(argv);
    return;
  }
  const { main, modules, cache, afterRun } = loadBundle(found, commandOf(argv));
  if (process.env.QUIVER_CLI_TRACE === '1') {
    process.on('exit', () => process.stderr.write(`QUIVER_CLI_CODE_CACHE ${cache}\n${modules().map((m) => `QUIVER_CLI_MODULE ${m}\n`).join('')}`));
  }
  process.exitCode = await main(argv);
  afterRun();
}

run().catch((error) => {
  process.stderr.write(`quiver: ${error && error.stack ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
