/**
 * The structure rules of issue 14, checked on the sources (src/): the format imports nothing of
 * ours but errors and the native addon loader; table/ and scan/ do not import each other both
 * ways; no file over FILE_LINES_MAX lines without a reason at its top (a `Long file:` note).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const SRC = join(ROOT, 'src');
const FILE_LINES_MAX = 450;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Relative imports of a file, as paths under src/ ('format/chunk.ts'). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)) {
    const spec = (m[1] ?? m[2])!;
    out.push(relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts'));
  }
  return out;
}

const files = sources(SRC);
const folderOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path);

test('src/format imports nothing of ours but errors and the native addon loader', () => {
  const bad: string[] = [];
  for (const file of files) {
    const rel = relative(SRC, file);
    if (!rel.startsWith('format/')) continue;
    for (const target of imports(file)) {
      if (target.startsWith('format/') || target === 'errors.ts' || target.startsWith('native/')) continue;
      bad.push(`${rel} → ${target}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('the native addon loader and errors import nothing of ours (they sit below the format)', () => {
  const bad = files.map((f) => relative(SRC, f)).filter((rel) => rel.startsWith('native/') || rel === 'errors.ts')
    .flatMap((rel) => imports(join(SRC, rel)).filter((t) => !t.startsWith('native/') && t !== 'errors.ts').map((t) => `${rel} → ${t}`));
  assert.deepEqual(bad, []);
});

test('table/ and scan/ do not import each other both ways', () => {
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const rel = relative(SRC, file);
    for (const target of imports(file)) {
      const key = `${folderOf(rel)}→${folderOf(target)}`;
      if (!edges.has(key)) edges.set(key, []);
      edges.get(key)!.push(`${rel} → ${target}`);
    }
  }
  const down = edges.get('table→scan') ?? [];
  const up = edges.get('scan→table') ?? [];
  assert.ok(down.length === 0 || up.length === 0, `both ways:\n${[...down, ...up].join('\n')}`);
});

test(`no src file over ${FILE_LINES_MAX} lines without a reason at its top`, () => {
  const long = files.filter((f) => {
    const text = readFileSync(f, 'utf8');
    const lines = text.split('\n').length;
    return lines > FILE_LINES_MAX && !/Long file:/.test(text.split('\n').slice(0, 40).join('\n'));
  }).map((f) => `${relative(SRC, f)} (${readFileSync(f, 'utf8').split('\n').length} lines)`);
  assert.deepEqual(long, []);
});
