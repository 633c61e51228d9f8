import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Table as ArrowTable } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import type { Table } from '../../src/table/table.js';

const T0 = Date.UTC(2026, 0, 1);
const quiverModule = new URL('../../src/quiver.js', import.meta.url).href;

function tmp() {
  const root = mkdtempSync(join(tmpdir(), 'quiver-ryw-'));
  return { root, store: join(root, 'store'), wal: join(root, 'wal'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Rows of an Arrow table as plain objects (bigints as strings, times as numbers of ms). */
function rows(t: ArrowTable): Record<string, unknown>[] {
  return t.toArray().map((r) => Object.fromEntries(Object.entries(r.toJSON() as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'bigint' ? String(v) : v])));
}

async function scanned(table: Table, options: Parameters<Table['scan']>[0] = {}): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const b of table.scan(options)) for (const r of b.toArray()) out.push(Object.fromEntries(Object.entries(r.toJSON() as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'bigint' ? String(v) : v])));
  return out;
}

async function cpuTable(db: Quiver): Promise<Table> {
  return db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'usage', type: 'float64' }, { name: 'n', type: 'int64' }] });
}

test('read-your-writes: unflushed rows are seen by scan, query, aggregates, latest and explain; not at an explicit version', async () => {
  const db = await Quiver.open('memory://ryw-1');
  try {
    const cpu = await cpuTable(db);
    await cpu.append([{ time: T0, host: 'a', usage: 1, n: 10n }, { time: T0 + 2000, host: 'b', usage: 2, n: 20n }]);
    await cpu.flush();
    const flushedVersion = cpu.version;
    // Unflushed: one row inside a's committed time span (merged in series order), new host c, a new field.
    await cpu.append([{ time: T0 + 1000, host: 'a', usage: 3, n: 30n }, { time: T0 + 500, host: 'c', usage: 4, n: 40n, extra: 'x' }]);
    assert.equal(cpu.pendingRows, 2);

    const all = await scanned(cpu);
    assert.deepEqual(all.map((r) => [r['host'], r['time'], r['usage']]), [['a', T0, 1], ['a', T0 + 1000, 3], ['b', T0 + 2000, 2], ['c', T0 + 500, 4]]);
    assert.deepEqual(all.map((r) => r['extra']), [null, null, null, 'x'], 'a field only buffered rows have is scanned too');
    // Filters apply to the buffered rows as to chunks: time range, where, projection, limit.
    assert.deepEqual((await scanned(cpu, { from: T0 + 500, to: T0 + 1500, where: { host: ['a', 'c'] }, columns: ['n'] })).map((r) => [r['time'], r['n']]), [[T0 + 1000, '30'], [T0 + 500, '40']]);
    assert.deepEqual((await scanned(cpu, { where: { host: 'c' } })).length, 1);
    assert.equal((await scanned(cpu, { limit: 2 })).length, 2);
    assert.equal((await cpu.query({ where: { host: { ne: 'b' } } })).numRows, 3);

    // Aggregates (the count from statistics too) and latest.
    const agg = rows(await cpu.query({ by: ['host'], agg: { '*': 'count', usage: ['sum', 'max'], n: ['min', 'max'] } }));
    assert.deepEqual(agg.map((r) => [r['host'], r['count'], r['sum_usage'], r['max_usage'], r['min_n'], r['max_n']]), [['a', '2', 4, 3, '10', '30'], ['b', '1', 2, 2, '20', '20'], ['c', '1', 4, 4, '40', '40']]);
    const total = rows(await cpu.query({ every: '1d', agg: { '*': 'count', n: 'sum' } }));
    assert.deepEqual(total.map((r) => [r['count'], r['sum_n']]), [['4', '100']]);
    const latest = rows(await cpu.query({ latest: true }));
    assert.deepEqual(latest.map((r) => [r['host'], r['time'], r['usage']]), [['a', T0 + 1000, 3], ['b', T0 + 2000, 2], ['c', T0 + 500, 4]]);
    const plan = await cpu.explain();
    assert.equal(plan.chunksTotal, 2, 'the committed chunk and the unflushed rows');
    assert.ok(plan.chunks.some((c) => c.key.includes('(unflushed)')));

    // Time travel reads the version as committed: no unflushed rows.
    assert.equal((await scanned(cpu, { version: flushedVersion })).length, 2);
    assert.equal((await cpu.query({ version: flushedVersion, agg: { '*': 'count' } })).getChild('count')!.get(0), 2n);

    // After the flush: the same rows, each once.
    await cpu.flush();
    assert.equal(cpu.pendingRows, 0);
    assert.deepEqual(await scanned(cpu), all);
    assert.equal((await cpu.explain()).chunksTotal, 2);
  } finally {
    await db.close();
  }
});

test('read-your-writes: an append during a scan neither blocks nor changes it; rows of a flush in progress are seen exactly once', async () => {
  const db = await Quiver.open('memory://ryw-2');
  try {
    const cpu = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'int64' }], pageRows: 16 });
    const batch = (start: number, n: number) => Array.from({ length: n }, (_, i) => ({ time: T0 + (start + i) * 1000, host: `h${(start + i) % 5}`, v: BigInt(start + i) }));
    await cpu.append(batch(0, 200));
    await cpu.flush();
    await cpu.append(batch(200, 300));
    const seen: bigint[] = [];
    let appended = false;
    for await (const b of cpu.scan({ order: 'any' })) {
      if (!appended) { await cpu.append(batch(500, 100)); appended = true; }
      for (const v of b.getChild('v')!) seen.push(v as bigint);
    }
    assert.equal(seen.length, 500, 'the scan reads the buffer as it was when it started');
    assert.deepEqual([...new Set(seen)].length, 500);
    assert.equal((await scanned(cpu)).length, 600, 'the next scan sees the later append');

    // A flush takes the rows out of the buffer before its commit lands: a scan meanwhile still sees them, once.
    const flushing = cpu.flush();
    const during = await scanned(cpu);
    await cpu.append(batch(600, 10)); // waits for nothing: it joins the buffer the flush left
    await flushing;
    assert.equal(during.length, 600);
    assert.equal(new Set(during.map((r) => r['v'])).size, 600);
    assert.equal((await scanned(cpu)).length, 610);
    await cpu.flush();
    assert.equal((await scanned(cpu)).length, 610);
  } finally {
    await db.close();
  }
});

test('read-your-writes: rows replayed from the write-ahead log are visible at once, before any flush', async () => {
  const d = tmp();
  try {
    const script = `import { Quiver } from ${JSON.stringify(quiverModule)};
      const db = await Quiver.open(${JSON.stringify(d.store)}, { wal: ${JSON.stringify(d.wal)} });
      const t = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'int64' }] });
      await t.flush();
      await t.append(Array.from({ length: 40 }, (_, i) => ({ time: ${T0} + i * 1000, host: 'h' + (i % 3), v: BigInt(i) })));
      process.kill(process.pid, 'SIGKILL');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    const db = await Quiver.open(d.store, { wal: d.wal });
    const cpu = await db.table('cpu');
    assert.equal(cpu.pendingRows, 40, 'replayed into the buffer, not flushed');
    const got = await scanned(cpu, { order: 'any' });
    assert.deepEqual(got.map((x) => Number(x['v'])).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
    assert.equal((await cpu.query({ agg: { v: 'sum' } })).getChild('sum_v')!.get(0), 780n);
    await db.close();
  } finally {
    d.cleanup();
  }
});

/** Runs a script in a fresh node process; returns its stderr and exit code. */
function child(body: string): { stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { Quiver } from ${JSON.stringify(quiverModule)};\n${body}`], { encoding: 'utf8' });
  return { stderr: r.stderr, status: r.status };
}

test('read-your-writes: a process that ends without close() flushes its unflushed rows; process.exit() warns on stderr instead', async () => {
  const d = tmp();
  try {
    const open = `const db = await Quiver.open(${JSON.stringify(d.store)});`;
    const create = `const t = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'int64' }] }); await t.flush();`;
    const append = (from: number) => `await t.append(Array.from({ length: 25 }, (_, i) => ({ time: ${T0} + (${from} + i) * 1000, host: 'h', v: BigInt(${from} + i) })));`;
    // The script simply ends (its event loop runs dry): beforeExit flushes.
    const ended = child(`${open}\n${create}\n${append(0)}`);
    assert.equal(ended.status, 0, ended.stderr);
    assert.equal(ended.stderr, '', 'a flush that worked says nothing');
    // process.exit() skips beforeExit: the rows are lost, and stderr says so.
    const exited = child(`${open}\nconst t = await db.table('cpu');\n${append(25)}\nprocess.exit(0);`);
    assert.equal(exited.status, 0);
    assert.match(exited.stderr, /quiver: warning: 25 row\(s\) appended to table cpu were never flushed and are lost/);
    const db = await Quiver.open(d.store);
    const got = await scanned(await db.table('cpu'));
    assert.deepEqual(got.map((x) => Number(x['v'])), Array.from({ length: 25 }, (_, i) => i));
    await db.close();
  } finally {
    d.cleanup();
  }
});
