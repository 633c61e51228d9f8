#!/usr/bin/env node
'use strict';
// The `quiver` command (CommonJS: bin/package.json). All logic lives in dist/src/cli, built by
// `npm install`. The CLI runs from one of two scripts bundling dist/src/cli/main.js and what it
// imports (scripts/bundle-cli.mjs), compiled through vm.Script with V8's code cache, which
// Node 20 offers for scripts but not for ES modules (README, "CLI start-up"):
//  - dist/cli/quiver-light.cjs for the commands its first line lists (`tables`, `inspect`,
//    `--help`, `--version`): ~0.1 MB without Arrow, codecs or the engine; when a run needs a
//    module it left out (`inspect` of one chunk), main() throws QUIVER_FULL_CLI before printing
//    anything and the full bundle runs the same arguments;
//  - dist/cli/quiver.cjs, the full CLI, for every other command;
//  - one cache file per bundle and command (each holds what its command compiled), Node
//    version, architecture and bundle, next to the bundle or, where that folder cannot be
//    written, in $XDG_CACHE_HOME/quiver (~/.cache/quiver); QUIVER_CLI_CACHE=DIR puts it in DIR
//    instead, QUIVER_CLI_CACHE=0 turns it off;
//  - a command's file is written after its first run (or after a run whose cache V8 rejected)
//    and read at each later start; a damaged, foreign or stale file is ignored (a header with
//    the key and a CRC-32 of the data is checked before V8 sees it: a release build of V8
//    checks only its version, flags and the source's length);
//  - the ES modules of dist/src run instead when the full bundle is missing or, in a checkout,
//    older than dist/src/cli/main.js (a `tsc` since the last bundle), or with QUIVER_CLI_BUNDLE=0;
//  - QUIVER_CLI_TRACE=1 prints on stderr, at exit, which bundle ran, whether the code cache was
//    used (hit, miss, rejected by V8, off) and the bundled modules the run initialised.
const { closeSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } = require('node:fs');
const { dirname, join } = require('node:path');

const ROOT = join(__dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'cli', 'quiver.cjs');
const LIGHT_BUNDLE = join(ROOT, 'dist', 'cli', 'quiver-light.cjs');
const ESM_MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const CACHE_MAGIC = 'quiver-v8-cache 1\n';

function isCheckout() {
  try { statSync(join(ROOT, 'tsconfig.json')); return true; } catch { return false; }
}

/**
 * The bundle at `path` when it exists, is not older than the ES modules and, for the light
 * bundle, serves `command`: its source, its identity (the build's hash from its first line,
 * its length and time) and its name in cache files and traces, else null.
 */
function bundle(path, kind, command) {
  if (process.env.QUIVER_CLI_BUNDLE === '0') return null;
  try {
    const stat = statSync(path);
    // In a checkout (tsconfig.json beside package.json), a `tsc` since the last bundle leaves
    // the bundle stale. An installed package ships both from one build and never rebuilds; its
    // files carry the times they were unpacked at, in no useful order.
    if (isCheckout() && stat.mtimeMs < statSync(ESM_MAIN).mtimeMs) return null;
    // `// quiver-cli-bundle ID CHARSET[ commands=a,b]`: an ASCII bundle is read as latin1 (exact
    // for ASCII, a one-byte string for V8, no UTF-8 decoding), any other as UTF-8; the light
    // bundle lists the commands it serves. Its first 200 bytes first: the whole bundle only
    // when it serves the command (a full-bundle command never reads the light one).
    const fd = openSync(path, 'r');
    let head, bytes;
    try {
      const first = Buffer.alloc(200);
      head = /^\/\/ quiver-cli-bundle ([0-9a-f]+) (ascii|utf8)(?: commands=([a-z,-]+))?\n/.exec(first.toString('latin1', 0, readSync(fd, first, 0, 200, 0)));
      if (!head) return null;
      if (kind === 'light' && !(head[3] ?? '').split(',').includes(command)) return null;
      bytes = readFileSync(fd); // from position 0: the positional readSync above does not move it
    } finally {
      closeSync(fd);
    }
    return { path, kind, source: bytes.toString(head[2] === 'ascii' ? 'latin1' : 'utf8'), id: `${head[1]}-${bytes.length}-${Math.trunc(stat.mtimeMs)}` };
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

/**
 * Writes the cache into the first folder that takes it (a new file renamed into place); never
 * throws. `prefix`: the start of every cache file name of this bundle kind (`quiver-cli-v`,
 * `quiver-cli-light-v`), `current` the start of this bundle's.
 */
function writeCache(dirs, name, key, data, crc32, prefix, current) {
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
    // Caches of older builds of this bundle or other Node versions in this folder are dead weight.
    try {
      for (const other of readdirSync(dir)) {
        if (other.startsWith(prefix) && other.endsWith('.v8cache') && !other.startsWith(current)) unlinkSync(join(dir, other));
      }
    } catch { /* best effort */ }
    return;
  }
}

/** Compiles and runs the bundle (through the command's code cache when there is one). */
function loadBundle({ path, kind, source, id }, command) {
  const vm = require('node:vm');
  const { createRequire } = require('node:module');
  // node:zlib loads node:stream, which a command printing to a pipe loads anyway (process.stdout).
  // A CRC-32 or a word-wise hash in JS measured as slow or slower at start-up (~2.5 ms for a
  // light command's 0.13 MB cache, ~13 ms for 0.7 MB: the loop runs before V8 optimises it), a
  // WebAssembly one ~3 ms (the engine's first use). Node ≥ 20.15 has crc32; without it, no cache.
  const { crc32 } = require('node:zlib');
  const dirs = typeof crc32 === 'function' ? cacheDirs() : [];
  const prefix = kind === 'light' ? 'quiver-cli-light-v' : 'quiver-cli-v';
  const current = `${prefix}${process.version.slice(1)}-${process.arch}-${id.slice(0, 16)}-`;
  const name = `${current}${command}.v8cache`;
  const key = `${process.version} ${process.arch} ${kind} ${id} ${command}`;
  const cachedData = dirs.length ? readCache(dirs, name, key, crc32) : undefined;
  // The bundle is one function expression (exports, require, module, __filename, __dirname).
  const script = new vm.Script(source, { filename: path, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(path), module, path, dirname(path));
  const cache = dirs.length === 0 ? 'off' : cachedData === undefined ? 'miss' : script.cachedDataRejected === true ? 'rejected' : 'hit';
  const stale = cache === 'miss' || cache === 'rejected';
  return {
    main: module.exports.main,
    modules: module.exports.initialisedModules,
    cache,
    // After the run, so the cache holds the functions this command compiled, not only the top level.
    afterRun: stale ? () => writeCache(dirs, name, key, script.createCachedData(), crc32, prefix, current) : () => {},
  };
}

async function run() {
  const argv = process.argv.slice(2);
  const command = commandOf(argv);
  const found = bundle(LIGHT_BUNDLE, 'light', command) ?? bundle(BUNDLE, 'full', command);
  if (found === null) {
    const { main } = await import('../dist/src/cli/main.js');
    process.exitCode = await main(argv);
    return;
  }
  const traces = [];
  if (process.env.QUIVER_CLI_TRACE === '1') {
    process.on('exit', () => process.stderr.write(traces.map(({ kind, cache, modules }) =>
      `QUIVER_CLI_BUNDLE ${kind}\nQUIVER_CLI_CODE_CACHE ${cache}\n${modules().map((m) => `QUIVER_CLI_MODULE ${m}\n`).join('')}`).join('')));
  }
  const light = loadBundle(found, command);
  traces.push({ kind: found.kind, cache: light.cache, modules: light.modules });
  try {
    process.exitCode = await light.main(argv);
    light.afterRun();
  } catch (error) {
    // The light bundle lacks a module this run needs (nothing was printed): the full one runs it.
    const full = found.kind === 'light' && error && error.code === 'QUIVER_FULL_CLI' ? bundle(BUNDLE, 'full', command) : null;
    if (full === null) throw error;
    light.afterRun();
    const loaded = loadBundle(full, command);
    traces.push({ kind: 'full', cache: loaded.cache, modules: loaded.modules });
    process.exitCode = await loaded.main(argv, { handedOver: true });
    loaded.afterRun();
  }
}

run().catch((error) => {
  process.stderr.write(`quiver: ${error && error.stack ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
