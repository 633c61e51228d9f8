#!/usr/bin/env node
// npm's `install` step for quiver: builds the N-API addon (native/: mmap reads and the hot
// decode kernels) with node-gyp. A build that fails (no C++ compiler or Python, another
// platform) does not fail the install: Quiver then uses the pure-JS twins of every native
// function, which give the same results, slower. `quiver --version --debug` says which is in
// use and why. QUIVER_SKIP_NATIVE_BUILD=1 skips the build (the JS twins are used).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const warn = (text) => process.stderr.write(`quiver: ${text}\n`);

// `npm ci --dry-run` runs lifecycle scripts too but installs nothing: build nothing.
if (process.env.npm_config_dry_run === 'true') process.exit(0);
if (process.env.QUIVER_SKIP_NATIVE_BUILD === '1') {
  warn('QUIVER_SKIP_NATIVE_BUILD=1: the native addon is not built; the JS twins are used');
  process.exit(0);
}
// npm names its own node-gyp for lifecycle scripts (npm_config_node_gyp); a `node-gyp` on
// PATH otherwise (npm also puts one there while it runs scripts).
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp && existsSync(gyp)
  ? [process.execPath, [gyp, 'rebuild', '--directory', 'native']]
  : ['node-gyp', ['rebuild', '--directory', 'native']];
const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], shell: process.platform === 'win32' });
if (result.status !== 0) {
  // A half-built addon must not be loaded: remove what the failed build left.
  rmSync(join(root, 'native', 'build'), { recursive: true, force: true });
  const why = result.error ? result.error.message : `node-gyp exited with ${result.status ?? result.signal}`;
  warn(`the native addon did not build (${why}); the install goes on and Quiver uses its JS twins (same results, slower).`);
  warn('`npx quiver --version --debug` tells which is in use; `npm rebuild quiver` retries the build (needs a C++ compiler, make and Python).');
}
process.exit(0);
