import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

// What `npm pack` ships (scripts/pack-install.mjs installs the real tarball; CI runs it).
const ROOT = resolve(import.meta.dirname, '..', '..', '..');

test('npm pack ships dist JS and .d.ts, bin, native sources, docs and README; no tests, benches, CI or source maps', () => {
  // --ignore-scripts: `npm test` built dist already (prepare would build it again).
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path).sort();
  for (const needed of ['package.json', 'README.md', 'bin/quiver.js', 'bin/package.json', 'dist/cli/quiver.cjs', 'dist/cli/quiver-light.cjs', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js',
    'dist/src/report/html.js', 'native/binding.gyp', 'native/src/quiver_native.cc', 'scripts/install-native.mjs', 'docs/format.md', 'docs/tables.md', 'examples/cpu.csv']) {
    assert.ok(files.includes(needed), `${needed} is shipped`);
  }
  // Nor the CLI's code caches, written next to the bundle by the runs of a checkout.
  const unwanted = files.filter((f) => /^(test|bench|\.ci|src|dist\/(test|bench))\/|\.map$|\.v8cache$|^native\/build\/|^node_modules\/|^scripts\/(?!install-native\.mjs$)/.test(f));
  assert.deepEqual(unwanted, []);
  // Every module the package's entry points load is in it: each shipped .js has its .d.ts.
  for (const js of files.filter((f) => f.startsWith('dist/src/') && f.endsWith('.js'))) {
    assert.ok(files.includes(js.replace(/\.js$/, '.d.ts')), `${js} has its .d.ts`);
  }
  const pkg = spawnSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json").scripts.install)'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(JSON.parse(pkg.stdout), 'node scripts/install-native.mjs', 'the install step builds the addon');
  assert.ok(files.includes(join('scripts', 'install-native.mjs')));
});
