import { test } from 'node:test';
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { retentionCase, rollupCase } from './lifecycle-cases.js';

// Retention and rollups on the local store (the same cases run on S3 and Azure in test/remote/lifecycle.test.ts).
function lister(dir: string) {
  return async (prefix: string) => {
    const out: string[] = [];
    const walk = (d: string) => { for (const e of readdirSync(d)) { const p = join(d, e); if (statSync(p).isDirectory()) walk(p); else out.push(relative(dir, p)); } };
    if (existsSync(join(dir, prefix))) walk(join(dir, prefix));
    return out.filter((k) => k.endsWith('.qvr'));
  };
}

test('local: retention by the wall clock, a future point, drops by commit, vacuum frees, import skips old rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-lc-'));
  try { await retentionCase(dir, lister(dir)); } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('local: rollups kept up to date, equal to raw, explained, with their own retention', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-lc-'));
  try { await rollupCase(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
});
