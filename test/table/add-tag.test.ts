import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Quiver } from '../../src/quiver.js';
import { SchemaError } from '../../src/errors.js';
import type { Table } from '../../src/table/table.js';
import { plain, scanRows } from './alter-helpers.js';

/**
 * Adding a tag (alter { addTag }): chunks written before it read the tag as null everywhere
 * (scan, pruning, query, latest, statistics, duplicates, deletes, compaction, export, verify),
 * on the local store and the in-memory one.
 */
const T0 = Date.UTC(2026, 0, 1);

const STORES: [string, () => { url: string; cleanup: () => void }][] = [
  ['local', () => { const root = mkdtempSync(join(tmpdir(), 'quiver-addtag-')); return { url: root, cleanup: () => rmSync(root, { recursive: true, force: true }) }; }],
  ['memory', () => ({ url: `memory://addtag-${process.pid}-${Math.random().toString(36).slice(2)}`, cleanup: () => {} })],
];

/** cpu(host; v float64) with two old chunks, then region added, then rows with and without region. */
async function grown(db: Quiver, name = 'cpu'): Promise<{ cpu: Table; before: number }> {
  const cpu = await db.createTable(name, { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  await cpu.append([{ time: T0, host: 'a', v: 1 }, { time: T0 + 2000, host: 'a', v: 2 }, { time: T0 + 1000, host: 'b', v: 3 }]);
  await cpu.flush();
  await cpu.append([{ time: T0 + 3000, host: 'a', v: 4 }]);
  await cpu.flush();
  const before = cpu.version;
  const { schema } = await cpu.alter({ addTag: 'region' });
  assert.deepEqual(schema.tags, ['host', 'region']);
  // New rows: the same series with a region (a new series), and one still without (the old series).
  await cpu.append([
    { time: T0 + 1000, host: 'a', region: 'eu', v: 10 },
    { time: T0 + 4000, host: 'a', region: null, v: 5 },
    { time: T0 + 500, host: 'b', region: 'us', v: 11 },
  ]);
  await cpu.flush();
  return { cpu, before };
}

const ALL = [
  { time: T0, host: 'a', region: null, v: 1 },
  { time: T0 + 2000, host: 'a', region: null, v: 2 },
  { time: T0 + 3000, host: 'a', region: null, v: 4 },
  { time: T0 + 4000, host: 'a', region: null, v: 5 },
  { time: T0 + 1000, host: 'a', region: 'eu', v: 10 },
  { time: T0 + 1000, host: 'b', region: null, v: 3 },
  { time: T0 + 500, host: 'b', region: 'us', v: 11 },
];

for (const [kind, open] of STORES) {
  test(`addTag (${kind}): old chunks read the new tag as null in scans, filters, queries and latest; earlier versions have no such tag`, async () => {
    const s = open();
    try {
      const db = await Quiver.open(s.url);
      const { cpu, before } = await grown(db);
      assert.deepEqual(await scanRows(cpu), ALL);
      // Pruning by entry: region=eu skips every chunk written before the tag.
      const eu = await cpu.explain({ where: { region: 'eu' } });
      assert.equal(eu.chunksTotal - eu.chunksPruned, 1, JSON.stringify(eu));
      assert.deepEqual(await scanRows(cpu, { where: { region: 'eu' } }), [{ time: T0 + 1000, host: 'a', region: 'eu', v: 10 }]);
      assert.deepEqual(await scanRows(cpu, { where: { region: null } }), ALL.filter((r) => r.region === null));
      assert.deepEqual(await scanRows(cpu, { where: { region: { ne: 'eu' } } }), ALL.filter((r) => r.region !== 'eu'));
      assert.deepEqual(await scanRows(cpu, { where: { region: { prefix: 'u' } } }), [{ time: T0 + 500, host: 'b', region: 'us', v: 11 }]);
      assert.deepEqual(await scanRows(cpu, { columns: ['region'] }), ALL.map((r) => ({ time: r.time, region: r.region })));
      assert.deepEqual(await scanRows(cpu, { order: 'any' }).then((r) => r.length), ALL.length);
      // Grouped by the new tag: from statistics and from decoded pages alike.
      const byRegion = plain(await cpu.query({ by: ['region'], agg: { v: ['count', 'sum', 'max'] } }));
      assert.deepEqual(byRegion.map((r) => [r['region'], r['count_v'], r['sum_v'], r['max_v']]), [['eu', 1n, 10, 10], ['us', 1n, 11, 11], [null, 5n, 15, 5]]);
      const latest = plain(await cpu.query({ latest: true }));
      assert.deepEqual(latest.map((r) => [r['host'], r['region'], r['v']]), [['a', 'eu', 10], ['a', null, 5], ['b', 'us', 11], ['b', null, 3]]);
      // Time travel: the version before the add has no region at all.
      assert.deepEqual((await cpu.schemaAt(before)).tags, ['host']);
      assert.deepEqual(await scanRows(cpu, { version: before }), [
        { time: T0, host: 'a', v: 1 }, { time: T0 + 2000, host: 'a', v: 2 }, { time: T0 + 1000, host: 'b', v: 3 }, { time: T0 + 3000, host: 'a', v: 4 },
      ]);
      // The manifest entries of old chunks say they hold only the null tag.
      const old = (await cpu.chunks()).filter((c) => (c.schemaRevision ?? 0) === 1 && c.columns['region']?.bytes === 0);
      assert.equal(old.length, 2);
      for (const c of old) { assert.deepEqual(c.tagValues['region'], [null]); assert.equal(c.columns['region']!.nullCount, c.rows); }
      assert.deepEqual((await cpu.verify()).filter((c) => !c.ok), []);
      await db.close();
    } finally { s.cleanup(); }
  });

  test(`addTag (${kind}): duplicates fold across old and new chunks by the null tag; deletes by the tag; compaction writes the column`, async () => {
    const s = open();
    try {
      const db = await Quiver.open(s.url);
      const { cpu } = await grown(db);
      // A point re-sent without region after the add is the old series' point (policy last): it replaces it.
      await cpu.append([{ time: T0 + 2000, host: 'a', v: 22 }]);
      await cpu.flush();
      const expected = ALL.map((r) => (r.time === T0 + 2000 ? { ...r, v: 22 } : r));
      assert.deepEqual(await scanRows(cpu), expected);
      // Delete the null-region rows of host b, then region=us: old chunks are affected by the first only.
      await cpu.delete({ where: { host: 'b', region: null } });
      await cpu.delete({ where: { region: 'us' } });
      const left = expected.filter((r) => r.host !== 'b');
      assert.deepEqual(await scanRows(cpu), left);
      const result = await cpu.compact();
      assert.ok(result.chunksAfter < result.chunksBefore, JSON.stringify(result));
      assert.deepEqual(await scanRows(cpu), left);
      for (const c of await cpu.chunks()) assert.ok(c.columns['region'] !== undefined, `chunk ${c.key} lists region`);
      assert.deepEqual((await cpu.verify()).filter((c) => !c.ok), []);
      await db.close();
    } finally { s.cleanup(); }
  });
}

test('addTag: a name that is a column is refused with a SchemaError and nothing is committed', async () => {
  const db = await Quiver.open(`memory://addtag-refused-${process.pid}`);
  const cpu = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  await cpu.append([{ time: T0, host: 'a', v: 1 }]);
  await cpu.flush();
  const version = cpu.version;
  await assert.rejects(cpu.alter({ addTag: 'v' }), (e: Error) => e instanceof SchemaError && /a field v exists/.test(e.message));
  await assert.rejects(cpu.alter({ addTag: 'time' }), (e: Error) => e instanceof SchemaError && /time column/.test(e.message));
  await assert.rejects(cpu.alter({ addTag: 'host' }), (e: Error) => e instanceof SchemaError && /has that tag/.test(e.message));
  assert.equal((await db.table('cpu')).version, version);
  // A dropped field's name can become a tag: its old values never come back.
  await cpu.alter({ dropField: 'v', addTag: 'v' });
  await cpu.append([{ time: T0 + 1, host: 'a', v: 'x' }]);
  await cpu.flush();
  assert.deepEqual(await scanRows(cpu), [{ time: T0, host: 'a', v: null }, { time: T0 + 1, host: 'a', v: 'x' }]);
  await db.close();
});

test('addTag: rows logged in the WAL after the add (never flushed, process killed) replay with the tag; earlier rows read null', async () => {
  const root = mkdtempSync(join(tmpdir(), 'quiver-addtag-wal-'));
  try {
    const store = join(root, 'store'), wal = join(root, 'wal');
    const quiver = new URL('../../src/quiver.js', import.meta.url).href;
    const script = `import { Quiver } from ${JSON.stringify(quiver)};
      const db = await Quiver.open(${JSON.stringify(store)}, { wal: ${JSON.stringify(wal)} });
      const t = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
      await t.append([{ time: ${T0}, host: 'a', v: 1 }]);
      await t.alter({ addTag: 'region' });
      await t.append([{ time: ${T0 + 1}, host: 'a', region: 'eu', v: 2 }, { time: ${T0 + 2}, host: 'a', v: 3 }]);
      process.kill(process.pid, 'SIGKILL');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    const db = await Quiver.open(store, { wal });
    const cpu = await db.table('cpu');
    assert.deepEqual(await scanRows(cpu), [{ time: T0, host: 'a', region: null, v: 1 }, { time: T0 + 2, host: 'a', region: null, v: 3 }, { time: T0 + 1, host: 'a', region: 'eu', v: 2 }]);
    await db.close();
  } finally { rmSync(root, { recursive: true, force: true }); }
});

test('addTag: retention hides old rows written before and after the add', async () => {
  const db = await Quiver.open(`memory://addtag-life-${process.pid}`, { autoCompact: 0 });
  const DAY = 86_400_000, now = Date.now();
  const cpu = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }], retention: '30d' });
  await cpu.append([{ time: now - 40 * DAY, host: 'a', v: 1 }, { time: now - 2 * DAY, host: 'a', v: 2 }, { time: now - 2 * DAY + 1000, host: 'b', v: 3 }]);
  await cpu.flush();
  await cpu.alter({ addTag: 'region' });
  await cpu.append([{ time: now - 41 * DAY, host: 'a', region: 'eu', v: 9 }, { time: now - DAY, host: 'a', region: 'eu', v: 4 }]);
  await cpu.flush();
  assert.deepEqual((await scanRows(cpu)).map((r) => [r['region'], r['v']]).sort((x, y) => Number(x[1]) - Number(y[1])), [[null, 2], [null, 3], ['eu', 4]]);
  await db.close();
});
