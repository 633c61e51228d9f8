#!/usr/bin/env node
// Bundles the `quiver` command into CommonJS scripts from the TypeScript build's output
// (dist/src/cli/main.js and everything it imports, Arrow included), so that bin/quiver.js can
// compile them through vm.Script with V8's code cache (Node 20 has no compile cache for ES
// modules): see README, "CLI start-up". Run after `tsc` by `npm run build:ts` (and so by
// `npm install`'s prepare step), `npm test` and `npm run test:package`. The library entry
// (dist/src/index.js) stays ES modules. Two bundles, of the same entry:
//  - dist/cli/quiver.cjs, the full CLI (every command);
//  - dist/cli/quiver-light.cjs, the light commands alone (LIGHT below, and --help and
//    --version): every other command's module, the engine (src/quiver.ts) and the chunk
//    reader `inspect` needs for one chunk are left out, so `quiver tables` reads and compiles
//    ~0.1 MB instead of 1.2 MB. Its first line lists the commands it serves; bin/quiver.js runs
//    it for those. A left-out module throws an error with code QUIVER_FULL_CLI when imported
//    (src/cli/main.ts passes it up before anything is printed), and bin/quiver.js runs the
//    full bundle instead: `inspect TABLE CHUNK` and `inspect FILE.qvr` take that way.
//
// Kept out of the bundle and loaded from node_modules as usual:
//  - native addons (zstd-napi, lz4-napi, snappy, our own through src/native/addon.ts) and
//    parquet-wasm (its glue reads its .wasm file next to itself);
//  - the cloud SDKs (minio, @azure/storage-blob) and DuckDB: large, loaded only by the
//    commands and store schemes that use them;
//  - worker entry files: each worker starts from its own ES module in dist/src, found through
//    `new URL('./x.js', import.meta.url)`. `import.meta.url` of every bundled module of ours
//    is rewritten to the URL of that module's file in dist/src, computed from the bundle's own
//    location at run time, so the URLs are right wherever the package is installed.
// Any esbuild warning fails the build: e.g. an `import.meta` other than `.url`, which would
// silently become `{}` in CommonJS output.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const BUNDLE = join(dist, 'cli', 'quiver.cjs');
const LIGHT_BUNDLE = join(dist, 'cli', 'quiver-light.cjs');

/**
 * The commands of the light bundle (src/cli/commands/index.ts names them), beside `--help` and
 * `--version`, which main() answers itself. Each must start without the engine:
 * test/cli/startup.test.ts checks what they load.
 */
const LIGHT = ['tables', 'inspect'];

/** What the light bundle leaves out, as `importer (a dist/src path) → specifier` of a dynamic import. */
function leftOut(importer, spec) {
  if (importer === 'src/cli/commands/index.js') return !LIGHT.includes(/^\.\/([a-z-]+)\.js$/.exec(spec)?.[1]);
  if (importer === 'src/cli/context.js') return spec === '../quiver.js'; // the engine: open(); the light commands use catalog()
  if (importer === 'src/cli/commands/inspect.js') return true; // the chunk reader (and Arrow) for `inspect TABLE CHUNK` and `inspect FILE.qvr`
  return false;
}

/** In the light bundle, each dynamic import leftOut() names becomes a module that throws QUIVER_FULL_CLI. */
const lightStubs = {
  name: 'quiver-light-stubs',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\//, namespace: 'file' }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const importer = relative(dist, args.importer).split(sep).join('/');
      return leftOut(importer, args.path) ? { path: `${importer} -> ${args.path}`, namespace: 'quiver-full-cli' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'quiver-full-cli' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`not in the light CLI bundle: ${args.path}`)}), { code: 'QUIVER_FULL_CLI' });`,
      loader: 'js',
    }));
  },
};

/** Loaded from node_modules at run time (see above). */
const EXTERNAL = ['zstd-napi', 'lz4-napi', 'snappy', 'parquet-wasm', 'minio', '@azure/storage-blob', '@duckdb/node-api', 'chart.js'];

/** `import.meta.url` of a bundled module of ours → the URL of its file in dist/src. */
const importMetaUrl = {
  name: 'quiver-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const rel = relative(dist, args.path).split(sep).join('/');
      return { contents: source.replaceAll('import.meta.url', `__quiverModuleUrl(${JSON.stringify(rel)})`), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

/**
 * Each lazily initialised module (esbuild's `__esm` and `__commonJS` wrappers: everything not
 * loaded at start-up) appends its path to `__quiverInitialised` when it first runs, for
 * QUIVER_CLI_TRACE (bin/quiver.js) and test/cli/startup.test.ts. The helpers' text is esbuild's
 * (minified whitespace); a version that prints them otherwise fails here, not silently.
 */
function instrument(text) {
  const hooks = [
    ['return fn&&(res=(0,fn[__getOwnPropNames(fn)[0]])(fn=0)),res', 'return fn&&(__quiverInitialised.push(__getOwnPropNames(fn)[0]),res=(0,fn[__getOwnPropNames(fn)[0]])(fn=0)),res'],
    ['return mod||(0,cb[__getOwnPropNames(cb)[0]])((mod={exports:{}}).exports,mod),mod.exports', 'return mod||(__quiverInitialised.push(__getOwnPropNames(cb)[0]),(0,cb[__getOwnPropNames(cb)[0]])((mod={exports:{}}).exports,mod)),mod.exports'],
  ];
  for (const [from, to] of hooks) {
    if (text.split(from).length !== 2) {
      console.error(`bundle-cli: esbuild's module wrapper is not as expected (${from}): update instrument() in scripts/bundle-cli.mjs`);
      process.exit(1);
    }
    text = text.replace(from, to);
  }
  return Buffer.from(text, 'utf8');
}

/** Builds one bundle into `outfile`; `light`: the light bundle (lightStubs). Exits the process on any problem. */
async function bundle(outfile, light) {
const started = performance.now();
const result = await build({
  entryPoints: [join(dist, 'src', 'cli', 'main.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: EXTERNAL,
  plugins: light ? [lightStubs, importMetaUrl] : [importMetaUrl],
  // import() of an external becomes a require(): a vm.Script has no ES module loader of its own.
  supported: { 'dynamic-import': false },
  // The file is one function expression taking what a CommonJS module gets, so bin/quiver.js
  // compiles it as it is (no wrapping: a string concatenation of the whole source that V8 would flatten at every
  // start). The bundle's own folder is dist/cli: modules of ours live in dist/src.
  banner: { js: "(function (exports, require, module, __filename, __dirname) {\n'use strict';\nconst __quiverInitialised = [];\nconst __quiverModuleUrl = (rel) => require('node:url').pathToFileURL(require('node:path').join(__dirname, '..', rel)).href;" },
  footer: { js: 'module.exports.initialisedModules = () => __quiverInitialised.slice();\n})' },
  write: false,
  legalComments: 'none',
  charset: 'ascii',
  // No comments or indentation: a smaller file to read and hash at each start. Names stay (no
  // identifier minifying), so stack traces still name functions.
  minifyWhitespace: true,
  metafile: true,
  logLevel: 'silent',
});
if (result.warnings.length > 0) {
  for (const w of result.warnings) console.error(`bundle-cli: ${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`);
  process.exit(1);
}
const inputs = Object.keys(result.metafile.inputs);
// Every file a bundled module names relative to itself (worker entries) is in dist/src.
const text = result.outputFiles[0].text;
const relativeFiles = [...text.matchAll(/new URL\("([^"]+)",__quiverModuleUrl\("([^"]+)"\)\)/g)];
for (const [, spec, from] of relativeFiles) {
  if (!existsSync(join(dist, dirname(from), spec))) {
    console.error(`bundle-cli: ${from} names ${spec}, which is not in dist`);
    process.exit(1);
  }
}
// One copy of Arrow: its CommonJS and ES module builds side by side would break instanceof.
const arrowBuilds = new Set(inputs.filter((p) => p.includes('node_modules/apache-arrow/')).map((p) => p.endsWith('.mjs') ? 'esm' : 'cjs'));
if (arrowBuilds.size > 1) {
  console.error('bundle-cli: both builds of apache-arrow were bundled (a package requires it while ours imports it)');
  process.exit(1);
}
// The first line names this build (a hash of the rest): the code cache's key (bin/quiver.js).
const code = instrument(text);
// esbuild escapes non-ASCII characters except where an escape would change the value
// (String.raw templates: the report's browser script): bin/quiver.js reads an ASCII bundle as
// latin1 (a one-byte string, no UTF-8 decoding), any other as UTF-8.
const charset = code.every((byte) => byte < 0x80) ? 'ascii' : 'utf8';
const id = createHash('sha256').update(code).digest('hex').slice(0, 32);
// The light bundle's first line also lists the commands it serves (bin/quiver.js).
const served = light ? ` commands=help,version,${LIGHT.join(',')}` : '';
if (light) {
  // The point of it: no Arrow, no codec, no engine. A new static import that reaches them fails here.
  const heavy = inputs.filter((p) => /node_modules\/(apache-arrow|flatbuffers)\/|dist\/src\/(quiver|scan\/|format\/(codecs\/|chunk-reader|decode-pool))/.test(p));
  if (heavy.length > 0) {
    console.error(`bundle-cli: the light bundle reaches the engine (${heavy.slice(0, 5).join(', ')}): import it dynamically, or leave it out in leftOut()`);
    process.exit(1);
  }
}
await mkdir(dirname(outfile), { recursive: true });
await writeFile(`${outfile}.tmp`, Buffer.concat([Buffer.from(`// quiver-cli-bundle ${id} ${charset}${served}\n`), code]));
await rename(`${outfile}.tmp`, outfile);
const bytes = code.length;
console.log(`bundle-cli: ${relative(root, outfile)} (${(bytes / 1024).toFixed(0)} KiB, ${charset}, ${inputs.length} modules, ${relativeFiles.length} worker entries in dist/src) in ${((performance.now() - started) / 1000).toFixed(2)} s`);
}

await bundle(BUNDLE, false);
await bundle(LIGHT_BUNDLE, true);
