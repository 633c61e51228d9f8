import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { SchemaError, UsageError } from '../../src/errors.js';
import { encodeManifest, manifestKey } from '../../src/table/manifest.js';
import type { Table } from '../../src/table/table.js';
import { ALTERED_ROWS, alterScenario, plain, scanRows, UNALTERED_ROWS } from './alter-helpers.js';

const T0 = Date.UTC(2026, 0, 1);

function tmp() {
  const root = mkdtempSync(join(tmpdir(), 'quiver-alter-'));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

test('alter: drop, rename and widen read old chunks through the new schema; new chunks use it; earlier versions read as they were', async () => {
  const d = tmp();
  try {
    const db = await Quiver.open(d.root);
    const { cpu, before } = await alterScenario(db, 'cpu');
    const rows = await scanRows(cpu);
    assert.deepEqual(rows, ALTERED_ROWS);
    assert.deepEqual(cpu.schema.fields.map((f) => `${f.name}:${f.type}`), ['usage:float64', 'n:float64', 's:int64']);
    // The version before the alter reads as it was: a, n as int64, s as utf8.
    assert.deepEqual(await scanRows(cpu, { version: before }), UNALTERED_ROWS);
    // Aggregates from statistics and from decoded pages agree.
    const stats = plain(await cpu.query({ by: ['host'], agg: { n: ['sum', 'min', 'max', 'count'], usage: 'max' } }));
    const decoded = plain(await cpu.query({ by: ['host'], agg: { n: ['sum', 'min', 'max', 'count'], usage: 'max' }, filter: { field: 'n', op: 'isNotNull' } }));
    assert.deepEqual(stats, decoded);
    assert.deepEqual(stats.map((r) => [r['host'], r['sum_n'], r['max_usage']]), [['a', 30.25, 3.5], ['b', 0, 4.5]]);
    assert.ok((await cpu.explainQuery({ agg: { n: 'max' } })).pagesFromStatistics > 0, 'widened pages still answer from their (converted) statistics');
    assert.ok((await cpu.verify()).every((c) => c.ok), 'verify reads old chunks through the alter');
    // Compaction merges old and new chunks in the new schema; nothing changes for readers.
    await cpu.compact({ smallRows: 1_000_000 });
    assert.equal((await cpu.chunks()).length, 1);
    const bySeries = (r: Record<string, unknown>[]) => [...r].sort((x, y) => String(x['host']).localeCompare(String(y['host'])) || Number(x['time']) - Number(y['time']));
    assert.deepEqual(await scanRows(cpu), bySeries(rows), 'one chunk: series then time');
    assert.ok((await cpu.verify()).every((c) => c.ok));
    await db.close();
    // Another process sees the same.
    const again = await Quiver.open(d.root);
    assert.deepEqual(await scanRows(await again.table('cpu')), bySeries(rows));
    await again.close();
  } finally {
    d.cleanup();
  }
});

test('alter: widening is refused when statistics show a value beyond ±2^53, and other impossible alters say why; nothing is committed', async () => {
  const db = await Quiver.open('memory://alter-refuse');
  try {
    const t = await db.createTable('m', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'big', type: 'int64' }, { name: 'u', type: 'uint64' }, { name: 'x', type: 'float64' }] });
    await t.append([{ time: T0, host: 'h', big: 2n ** 53n + 1n, u: 2n ** 53n, x: 1 }]);
    await t.flush();
    const version = t.version;
    await assert.rejects(t.alter({ widen: { field: 'big', to: 'float64' } }), (e: Error) => e instanceof SchemaError && /beyond ±2\^53/.test(e.message) && /9007199254740993/.test(e.message));
    await assert.rejects(t.alter({ widen: { field: 'x', to: 'int64' } }), /int64 → float64 and uint64 → float64/);
    await assert.rejects(t.alter({ widen: { field: 'x', to: 'float64' } }), /already float64/);
    await assert.rejects(t.alter({ dropField: 'host' }), /host is a tag/);
    await assert.rejects(t.alter({ renameField: { from: 'time', to: 't' } }), /time column/);
    await assert.rejects(t.alter({ renameField: { from: 'x', to: 'u' } }), /a field u exists/);
    await assert.rejects(t.alter({ renameField: { from: 'x', to: 'host' } }), /host is a tag/);
    await assert.rejects(t.alter({ dropField: 'nope' }), /no such field/);
    await assert.rejects(t.alter({}), UsageError);
    await assert.rejects(t.alter({ drop: 'x' } as never), /unknown option "drop"/);
    assert.equal(t.version, version);
    // Exactly 2^53 is exact: uint64 widens.
    await t.alter({ widen: { field: 'u', to: 'float64' } });
    assert.deepEqual((await scanRows(t)).map((r) => r['u']), [2 ** 53]);
    // Dropping and renaming in one alter: the freed name is taken by the rename.
    await t.alter({ dropField: 'big', renameField: { from: 'x', to: 'big' } });
    assert.deepEqual((await scanRows(t)).map((r) => [r['big'], r['u']]), [[1, 2 ** 53]]);
  } finally {
    await db.close();
  }
});

test('alter: rows buffered before an alter (this process or another writer) are read and committed through it', async () => {
  const d = tmp();
  try {
    const a = await Quiver.open(d.root);
    const ta = await a.createTable('m', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'int64' }] });
    await ta.append([{ time: T0, host: 'h', v: 1n }]);
    await ta.flush();
    // A second writer buffers rows in the old schema.
    const b = await Quiver.open(d.root);
    const tb = await b.table('m');
    await tb.append([{ time: T0 + 1000, host: 'h', v: 2n }]);
    // This process buffers too, then alters: its own rows are flushed first.
    await ta.append([{ time: T0 + 2000, host: 'h', v: 3n }]);
    await ta.alter({ renameField: { from: 'v', to: 'value' }, widen: { field: 'value', to: 'float64' } });
    assert.deepEqual((await scanRows(ta)).map((r) => r['value']), [1, 3]);
    // The other writer's scan reads its unflushed rows through the alter, then its flush commits them.
    await tb.refresh();
    assert.deepEqual((await scanRows(tb)).map((r) => r['value']), [1, 2, 3]);
    await tb.flush();
    await ta.refresh();
    assert.deepEqual((await scanRows(ta)).map((r) => [r['time'], r['value']]), [[T0, 1], [T0 + 1000, 2], [T0 + 2000, 3]]);
    assert.ok((await ta.verify()).every((c) => c.ok), JSON.stringify(await ta.verify()));
    // Appends after the alter use the new schema; the old name is a new, empty field.
    await tb.append([{ time: T0 + 3000, host: 'h', value: 4.5, v: 'again' }]);
    await tb.flush();
    await ta.refresh();
    assert.deepEqual((await scanRows(ta)).map((r) => [r['value'], r['v']]), [[1, null], [2, null], [3, null], [4.5, 'again']]);
    await a.close();
    await b.close();
  } finally {
    d.cleanup();
  }
});

export type { Table };

test('versions: operations other features commit (their own manifest members and options) show generically in the change summary', async () => {
  const db = await Quiver.open('memory://versions-generic');
  try {
    const t = await db.createTable('m', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'int64' }] });
    await t.append([{ time: T0, host: 'h', v: 1n }]);
    await t.flush();
    // A commit as a later feature would write it: its operation, a member of its own, an option.
    const m = t.currentManifest;
    const next = { ...m, version: m.version + 1, parent: m.version, operation: 'delete', committedAt: new Date().toISOString(), options: { ...m.options, retention: 86_400_000 }, deletes: [{ version: m.version + 1, where: { host: 'h' } }] };
    await t.store.put(manifestKey('m', next.version), encodeManifest(next), { ifAbsent: true });
    const versions = await t.versions();
    const last = versions.at(-1)!;
    assert.equal(last.operation, 'delete');
    assert.equal(last.summary, 'option retention: (none) → 86400000; deletes: +1 {"version":3,"where":{"host":"h"}}');
    assert.deepEqual(last.change, { chunks: 0, rows: 0, bytes: 0, chunksAdded: 0, chunksRemoved: 0 });
  } finally {
    await db.close();
  }
});
