import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { collectReport, sizeHistogram } from '../../src/report/collect.js';
import { CHART_IDS } from '../../src/report/page-script.js';
import { runCli } from '../cli/in-process.js';
import { render, type Rendered } from './chromium.js';

// `quiver report`: the numbers it gathers, and the page drawn by a real headless Chromium.

const HOSTILE = '</script><script>document.title="pwned"</script>';
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

/** A table over three day partitions, created then written in three commits: four versions. */
async function sampleStore(dir: string): Promise<{ rowsPerDay: number[] }> {
  const db = await Quiver.open(dir, { autoCompact: 0 });
  const t = await db.createTable('cpu', { tags: ['host', 'region'], fields: [{ name: 'usage', type: 'float64' }, { name: 'note', type: 'utf8' }] });
  const rowsPerDay = [300, 120, 40];
  for (let day = 0; day < rowsPerDay.length; day++) {
    const rows = [];
    for (let i = 0; i < rowsPerDay[day]!; i++) {
      rows.push({ time: T0 + day * DAY_MS + i * 10_000, host: `h${i % 5}`, region: i % 2 ? 'eu' : HOSTILE, usage: (i % 97) / 4, note: i % 7 ? null : 'x' });
    }
    await t.append(rows);
    await t.flush();
  }
  await db.close();
  return { rowsPerDay };
}

function assertDrawn(page: Rendered, label: string): void {
  assert.deepEqual(page.console, [], `${label}: console messages`);
  assert.ok(page.status, `${label}: no status element in the DOM`);
  assert.deepEqual(page.status.errors, [], `${label}: page errors`);
  assert.equal(page.status.charts, CHART_IDS.length);
  assert.equal(page.status.drawn, CHART_IDS.length, page.status.text);
  assert.deepEqual(page.status.results.map((r) => r.id), CHART_IDS.map(([id]) => id));
}

test('report: six charts drawn in headless Chromium, each with data in its colours, no console message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-report-'));
  try {
    await sampleStore(join(dir, 'store'));
    const out = join(dir, 'cpu.html');
    const r = await runCli(join(dir, 'store'), 'report', 'cpu', '--out', out, '--json');
    assert.equal(r.code, 0, r.out);
    assert.deepEqual({ ...JSON.parse(r.out), bytes: 0 }, { table: 'cpu', out, bytes: 0, charts: 6, chunks: 3, partitions: 3, versions: 4 });
    const html = readFileSync(out, 'utf8');
    assert.ok(!/<script[^>]*\ssrc=|<link\b|<img\b|<iframe\b/i.test(html), 'the page loads nothing from elsewhere');
    assert.ok(html.includes(`content="default-src 'none'; script-src 'unsafe-inline'`), 'and its CSP forbids it');
    assert.ok(html.includes('Chart.js v4'), 'Chart.js inlined');
    assert.ok(!html.includes(HOSTILE), 'a tag value cannot close the data script');
    const page = render(out);
    assertDrawn(page, 'report');
    for (const c of page.status!.results) {
      assert.ok(c.points > 0, `${c.id}: has data`);
      assert.ok(c.width > 100 && c.height > 100, `${c.id}: canvas ${c.width}×${c.height}`);
      assert.ok(c.dataInk > 200, `${c.id}: ${c.dataInk} pixels in the data colours`);
    }
    assert.match(page.dom, /<title>Quiver report: cpu<\/title>/, 'the hostile tag value did not run (the title is unchanged)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report: the checks catch a page that does not draw (no Chart.js; a console error)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-report-'));
  try {
    await sampleStore(join(dir, 'store'));
    const out = join(dir, 'cpu.html');
    assert.equal((await runCli(join(dir, 'store'), 'report', 'cpu', '--out', out)).code, 0);
    const html = readFileSync(out, 'utf8');
    const start = html.indexOf('<script>/*!\n * Chart.js');
    assert.ok(start > 0);
    const broken = join(dir, 'broken.html');
    writeFileSync(broken, html.slice(0, start) + html.slice(html.indexOf('</script>', start) + '</script>'.length));
    const page = render(broken);
    assert.equal(page.status?.drawn, 0);
    assert.deepEqual(page.status?.errors, ['Chart.js did not load']);
    const noisy = join(dir, 'noisy.html');
    writeFileSync(noisy, html.replace('<body>', '<body><script>console.error("noise")</script>'));
    assert.ok(render(noisy).console.some((l) => l.includes('noise')), 'a console error is seen');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report data: partitions, bytes per column and encoding, ratios, tag cardinality, chunk sizes, versions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-report-'));
  try {
    const { rowsPerDay } = await sampleStore(dir);
    const db = await Quiver.open(dir);
    const data = await collectReport(db, 'cpu', { now: new Date(0) });
    const entries = await (await db.table('cpu')).chunks();
    assert.equal(data.generatedAt, '1970-01-01T00:00:00.000Z');
    assert.deepEqual(data.partitions.map((p) => [p.key, p.rows, p.timeMinMs]), rowsPerDay.map((n, d) => [new Date(T0 + d * DAY_MS).toISOString().slice(0, 10), n, T0 + d * DAY_MS]));
    assert.deepEqual(data.columns.map((c) => [c.name, c.role]), [['time', 'time'], ['host', 'tag'], ['region', 'tag'], ['usage', 'field'], ['note', 'field']]);
    for (const c of data.columns) {
      assert.equal(c.bytes, entries.reduce((s, e) => s + e.columns[c.name]!.bytes, 0), `${c.name}: stored bytes = the manifest's`);
      assert.equal(c.rawBytes, entries.reduce((s, e) => s + e.columns[c.name]!.rawBytes, 0), `${c.name}: raw bytes = the manifest's`);
      assert.equal(Object.values(c.byEncoding).reduce((s, b) => s + b, 0), c.bytes, `${c.name}: pages add up to the column`);
      assert.ok(Object.keys(c.byEncoding).length > 0);
    }
    assert.deepEqual(data.tags, [{ tag: 'host', distinct: 5, capped: false, hasNull: false }, { tag: 'region', distinct: 2, capped: false, hasNull: false }]);
    assert.equal(data.chunkSizes.reduce((s, b) => s + b.count, 0), 3);
    for (const e of entries) assert.ok(data.chunkSizes.some((b) => b.count > 0 && e.bytes >= b.lo && e.bytes < b.hi));
    assert.deepEqual(data.versions.map((v) => [v.version, v.operation, v.rows, v.chunks]), [[1, 'create', 0, 0], [2, 'append', 300, 1], [3, 'append', 420, 2], [4, 'append', 460, 3]]);
    assert.ok(data.versions.every((v, i, a) => Number.isFinite(v.committedAtMs) && (i === 0 || v.committedAtMs >= a[i - 1]!.committedAtMs)));
    // The per-tag count stops at its limit and says so.
    const capped = await collectReport(db, 'cpu', { distinctTagValuesMax: 3 });
    assert.deepEqual(capped.tags[0], { tag: 'host', distinct: 3, capped: true, hasNull: false });
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report of an empty table draws its (empty) charts without errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-report-'));
  try {
    const db = await Quiver.open(join(dir, 'store'));
    await db.createTable('empty', { tags: ['host'] });
    await db.close();
    const out = join(dir, 'empty.html');
    const r = await runCli(join(dir, 'store'), 'report', 'empty', '--out', out);
    assert.equal(r.code, 0, r.out);
    assertDrawn(render(out), 'empty table');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report CLI: --out is required, one table, a missing table is an error and writes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-report-'));
  try {
    const store = join(dir, 'store');
    await sampleStore(store);
    assert.equal((await runCli(store, 'report', 'cpu')).code, 2);
    assert.equal((await runCli(store, 'report', '--out', join(dir, 'x.html'))).code, 2);
    const missing = await runCli(store, 'report', 'nope', '--out', join(dir, 'nope.html'));
    assert.equal(missing.code, 1);
    assert.match(missing.out, /nope/);
    assert.throws(() => readFileSync(join(dir, 'nope.html')));
    const stdout = await runCli(store, 'report', 'cpu', '--out', '-');
    assert.equal(stdout.code, 0);
    assert.match(stdout.out, /^<!doctype html>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sizeHistogram: power-of-two bins from the smallest to the largest size, empty bins kept', () => {
  assert.deepEqual(sizeHistogram([]), []);
  assert.deepEqual(sizeHistogram([1000, 1023, 1024, 5000]), [
    { lo: 512, hi: 1024, count: 2 }, { lo: 1024, hi: 2048, count: 1 }, { lo: 2048, hi: 4096, count: 0 }, { lo: 4096, hi: 8192, count: 1 },
  ]);
  assert.deepEqual(sizeHistogram([0, 1, 2]), [{ lo: 0, hi: 2, count: 2 }, { lo: 2, hi: 4, count: 1 }]);
});
