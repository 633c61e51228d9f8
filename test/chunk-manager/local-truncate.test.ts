import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const quiverModule = new URL('../../src/quiver.js', import.meta.url).href;
const localModule = new URL('../../src/chunk-manager/local.js', import.meta.url).href;
const addonModule = new URL('../../src/native/addon.js', import.meta.url).href;

/** Runs `body` (an ES module) in a fresh node; a SIGBUS there kills only the child. */
function child(body: string): { signal: NodeJS.Signals | null; status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', body], { encoding: 'utf8', timeout: 120_000 });
  return { signal: r.signal, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a chunk file truncated under a running scan is a StoreError, not a SIGBUS that kills the process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-truncate-'));
  try {
    const r = child(`
      import { readdirSync, statSync, truncateSync } from 'node:fs';
      import { join } from 'node:path';
      import { Quiver } from ${JSON.stringify(quiverModule)};
      const store = ${JSON.stringify(join(dir, 'store'))};
      const T0 = Date.UTC(2026, 0, 1);
      const db = await Quiver.open(store, { decodedCacheBytes: 0, decodeThreads: 0 });
      const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'a', type: 'float64' }, { name: 'b', type: 'float64' }], rowsPerChunkMax: 12000, partition: 'none' });
      const rows = [];
      for (let i = 0; i < 120000; i++) rows.push({ time: T0 + i * 1000, host: 'h' + (i % 50), a: Math.sin(i) * 1000, b: Math.cos(i * 7) * 1e6 });
      await t.append(rows);
      await t.flush();
      const chunks = [];
      const walk = (d) => { for (const n of readdirSync(d)) { const p = join(d, n); if (statSync(p).isDirectory()) walk(p); else if (p.endsWith('.qvr')) chunks.push(p); } };
      walk(store);
      const scanAll = async (onFirst) => {
        let n = 0;
        for await (const batch of t.scan({ order: 'any' })) { if (n === 0) onFirst?.(); n += batch.numRows; }
        return n;
      };
      const out = { chunks: chunks.length, sizes: chunks.map((c) => statSync(c).size), first: await scanAll() };
      // Every chunk is mapped now; truncate them all once a second scan has its first batch
      // (it reads a few chunks ahead, not all ten).
      try {
        await scanAll(() => { for (const c of chunks) truncateSync(c, 64); });
        out.second = 'no error';
      } catch (e) { out.second = e.name + ': ' + e.message; }
      // And a scan started after the truncation, in the same process.
      try { await scanAll(); out.third = 'no error'; } catch (e) { out.third = e.name + ': ' + e.message; }
      console.log(JSON.stringify(out));
    `);
    assert.equal(r.signal, null, `the process died of ${r.signal}: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { chunks: number; sizes: number[]; first: number; second: string; third: string };
    assert.equal(out.chunks, 10);
    assert.ok(out.sizes.every((s) => s > 64 * 1024), `chunks span many pages: ${out.sizes}`);
    assert.equal(out.first, 120000);
    // Each read checks the file first (local.ts mapped): a chunk that shrank since it was mapped is mapped again and the range refused by its size.
    assert.match(out.second, /^StoreError: getRange .*\.qvr on file:.* failed: range \d+\+\d+ outside object of 64 bytes/);
    assert.match(out.third, /^(StoreError|CorruptChunkError): .*\.qvr/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LocalChunkManager: a read of a mapped file that shrank is refused by its new size; a copy the shrink overtakes fails with ETRUNC', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-truncate-'));
  try {
    const r = child(`
      import { truncateSync } from 'node:fs';
      import { join } from 'node:path';
      import { LocalChunkManager } from ${JSON.stringify(localModule)};
      const cm = new LocalChunkManager(${JSON.stringify(dir)});
      if (!cm.usesMmap) throw new Error('the native addon did not load');
      const bytes = new Uint8Array(1 << 20).map((_, i) => i * 7);
      await cm.put('t/c.qvr', bytes);
      const out = { before: Array.from(await cm.getRange('t/c.qvr', 500000, 4)) };
      truncateSync(join(${JSON.stringify(dir)}, 't', 'c.qvr'), 100);
      for (const step of ['mapped', 'remapped']) {
        try { await cm.getRange('t/c.qvr', 500000, 4096); out[step] = 'no error'; } catch (e) { out[step] = e.name + ': ' + e.message; }
      }
      // The same through getRangesInto (reads into reused memory: native copyRangeInto).
      await cm.put('t/d.qvr', bytes);
      const into = new Uint8Array(4100);
      await cm.getRangesInto('t/d.qvr', [{ offset: 0, length: 4 }, { offset: 500000, length: 4096 }], into);
      out.intoBefore = Array.from(into.subarray(4, 8));
      truncateSync(join(${JSON.stringify(dir)}, 't', 'd.qvr'), 100);
      try { await cm.getRangesInto('t/d.qvr', [{ offset: 0, length: 4 }, { offset: 500000, length: 4096 }], into); out.into = 'no error'; } catch (e) { out.into = e.name + ': ' + e.message; }
      out.head = Array.from(await cm.getRange('t/c.qvr', 0, 4));
      // A file that shrinks between the check and the copy (another process truncating it
      // then): the addon's copy catches the SIGBUS.
      const { nativeAddon } = await import(${JSON.stringify(addonModule)});
      const addon = nativeAddon();
      await cm.put('t/e.qvr', bytes);
      const mapped = addon.mapFile(join(${JSON.stringify(dir)}, 't', 'e.qvr'), 'random');
      truncateSync(join(${JSON.stringify(dir)}, 't', 'e.qvr'), 100);
      try { addon.copyRange(mapped.map, 500000, 4096); out.guard = 'no error'; } catch (e) { out.guard = e.code + ': ' + e.message; }
      const dest = new Uint8Array(4096);
      try { addon.copyRangeInto(mapped.map, 500000, 4096, dest); out.guardInto = 'no error'; } catch (e) { out.guardInto = e.code + ': ' + e.message; }
      console.log(JSON.stringify(out));
    `);
    assert.equal(r.signal, null, `the process died of ${r.signal}: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(out.before, [500000 * 7 & 0xff, 500001 * 7 & 0xff, 500002 * 7 & 0xff, 500003 * 7 & 0xff]);
    assert.match(out.mapped as string, /^StoreError: getRange t\/c\.qvr .*range 500000\+4096 outside object of 100 bytes/);
    assert.match(out.remapped as string, /^StoreError: getRange t\/c\.qvr .*range 500000\+4096 outside object of 100 bytes/);
    assert.deepEqual(out.head, [0, 7, 14, 21]);
    assert.deepEqual(out.intoBefore, out.before);
    assert.match(out.into as string, /^StoreError: .*t\/d\.qvr .*500000\+4096 outside object of 100 bytes/);
    assert.match(out.guard as string, /^ETRUNC: /);
    assert.match(out.guardInto as string, /^ETRUNC: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
