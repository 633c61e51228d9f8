import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Table as ArrowTable } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { importFiles } from '../../src/io/import.js';
import type { Table } from '../../src/table/table.js';
import type { QueryOptions } from '../../src/scan/query-types.js';

/**
 * Retention and rollup cases run on every store (local here, Ceph RGW and Azurite in
 * test/remote/lifecycle.test.ts): each takes a fresh store URL (or directory).
 */

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
/** The tests' "now": a fixed wall clock, moved forward by hand (no sleeps). */
export const NOW = Date.UTC(2026, 5, 15, 12);

export interface Clock { now: number }

export async function openAt(url: string, clock: Clock): Promise<Quiver> {
  return Quiver.open(url, { clock: () => clock.now, decodeThreads: 0, autoCompact: 0 });
}

export async function timesOf(t: Table): Promise<number[]> {
  const out: number[] = [];
  for await (const b of t.scan({ columns: [] })) for (const v of b.getChild('time')!.data[0]!.values as BigInt64Array) out.push(Number(v / 1_000_000n));
  return out.sort((a, b) => a - b);
}

/** Rows of an aggregate answer as plain objects (times as epoch ms, bigints as numbers). */
export function rowsOf(table: ArrowTable): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    for (const f of table.schema.fields) {
      const v = table.getChild(f.name)!.get(i);
      row[f.name] = typeof v === 'bigint' ? Number(v) : v;
    }
    out.push(row);
  }
  return out;
}

/** Raw and rollup answers equal: counts, min, max exactly (NaN = NaN), float sums and means to 1e-12 relative. */
export function assertSameAnswer(rollup: ArrowTable, raw: ArrowTable, what: string): void {
  assert.deepEqual(rollup.schema.fields.map((f) => `${f.name}:${f.type}`), raw.schema.fields.map((f) => `${f.name}:${f.type}`), `${what}: columns`);
  const a = rowsOf(rollup), b = rowsOf(raw);
  assert.equal(a.length, b.length, `${what}: rows`);
  assert.ok(b.length > 0, `${what}: the raw answer has rows`);
  for (let i = 0; i < a.length; i++) {
    for (const [k, v] of Object.entries(b[i]!)) {
      const w = a[i]![k];
      const loose = /^(sum|mean)_/.test(k) && typeof v === 'number' && typeof w === 'number' && Number.isFinite(v);
      if (loose) assert.ok(Math.abs((w as number) - (v as number)) <= 1e-12 * Math.max(1, Math.abs(v as number)), `${what}: row ${i} ${k}: rollup ${w}, raw ${v}`);
      else assert.ok(Object.is(w, v) || (w === 0 && v === 0) || (w instanceof Date && v instanceof Date && +w === +v) || String(w) === String(v), `${what}: row ${i} ${k}: rollup ${String(w)}, raw ${String(v)}`);
    }
  }
}

/** Retention: visibility by the wall clock, a future point, drops by commit, vacuum frees files, import skips. */
export async function retentionCase(url: string, list: (prefix: string) => Promise<string[]>): Promise<void> {
  const clock = { now: NOW };
  const db = await openAt(url, clock);
  const t = await db.createTable('ret', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }], retention: '30d' });
  assert.equal(t.options.retention, 30 * DAY);
  const old = NOW - 40 * DAY, edge = NOW - 30 * DAY, recent = NOW - DAY, future = NOW + 3650 * DAY;
  await t.append([{ time: old, host: 'a', v: 1 }, { time: edge - 1, host: 'a', v: 2 }, { time: edge, host: 'a', v: 3 }, { time: recent, host: 'b', v: 4 }, { time: future, host: 'b', v: 5 }]);
  await t.flush();
  // The future-dated point does not make the others expire: the cutoff is now − 30 d.
  assert.deepEqual(await timesOf(t), [edge, recent, future]);
  const count = await t.query({ agg: { '*': 'count', v: ['sum', 'max'] } });
  assert.equal(Number(count.getChild('count')!.get(0)), 3);
  assert.equal(count.getChild('sum_v')!.get(0), 12);
  // The flush dropped the chunk wholly older than the cutoff (partition of `old`) by a commit.
  const versions = await t.versions();
  assert.equal(versions.at(-1)!.operation, 'retention');
  assert.ok(t.currentManifest.chunks.every((c) => BigInt(c.timeMax) >= BigInt(edge) * 1_000_000n));
  const filesBefore = (await list('ret/chunks/')).length;
  // Time passes: the edge row vanishes at once, no commit needed.
  clock.now += DAY;
  assert.deepEqual(await timesOf(t), [recent, future]);
  const vac = await t.vacuum({ olderThanMs: 0 });
  assert.ok(vac.retentionDropped.length >= 1, 'vacuum dropped the newly expired chunk');
  const filesAfter = (await list('ret/chunks/')).length;
  assert.ok(filesAfter < filesBefore, `vacuum freed files (${filesBefore} → ${filesAfter})`);
  assert.equal(filesAfter, t.currentManifest.chunks.length);
  assert.deepEqual(await timesOf(t), [recent, future]);

  // Import: rows older than the retention are skipped and counted; the others land exactly.
  const dir = mkdtempSync(join(tmpdir(), 'quiver-ret-'));
  try {
    const csv = join(dir, 'in.csv');
    const lines = ['time,host,v'];
    for (let i = 0; i < 10; i++) lines.push(`${new Date(clock.now - (i * 5 + 1) * DAY).toISOString()},h${i},${i}.5`);
    writeFileSync(csv, lines.join('\n') + '\n');
    const summary = await importFiles(db, [csv], { table: 'imp', tags: ['host'], retention: '30d' });
    assert.equal(summary.expiredRows, 4, 'days 31, 36, 41, 46 are past 30 d');
    assert.equal(summary.rows, 6);
    const imp = await db.table('imp');
    assert.equal(imp.options.retention, 30 * DAY);
    assert.deepEqual((await timesOf(imp)).length, 6);
    const lineage = imp.currentManifest.chunks.flatMap((c) => c.lineage);
    assert.ok(lineage.every((l) => l.rowStart < 6), JSON.stringify(lineage));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await db.close();
}

/** Random rows over `days` days for hosts × regions, with nulls and NaN. */
export function randomRows(seed: number, start: number, days: number, perDay: number): Record<string, unknown>[] {
  let s = seed >>> 0;
  const rand = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
  const rows: Record<string, unknown>[] = [];
  for (let d = 0; d < days; d++) {
    for (let i = 0; i < perDay; i++) {
      const r = rand();
      const v = r < 0.05 ? null : r < 0.07 ? NaN : Math.round(rand() * 10000) / 100;
      rows.push({ time: start + d * DAY + Math.floor(rand() * DAY), host: `h${Math.floor(rand() * 4)}`, region: rand() < 0.5 ? 'eu' : 'us', v, n: rand() < 0.1 ? null : BigInt(Math.floor(rand() * 1000) - 500) });
    }
  }
  return rows;
}

/** Queries compared between rollup and raw. */
export function comparedQueries(from: number, to: number): QueryOptions[] {
  return [
    { every: '1h', by: ['host', 'region'], agg: { '*': 'count', v: ['count', 'sum', 'mean', 'min', 'max'], n: ['sum', 'mean', 'min', 'max'] } },
    { every: '1d', by: ['host'], agg: { v: ['mean', 'max', 'min'], n: 'sum' } },
    { every: '3h', agg: { v: ['count', 'mean'], '*': 'count' }, from, to },
    { every: '1w', by: ['region'], agg: { v: ['sum', 'max'] }, where: { host: ['h1', 'h2'] } },
    { every: '1mo', agg: { n: ['mean', 'min'] } },
  ];
}

/** Rollups: maintained across appends and compaction, equal to raw, explain, own retention. */
export async function rollupCase(url: string): Promise<void> {
  const clock = { now: NOW };
  const db = await openAt(url, clock);
  const cpu = await db.createTable('cpu', { tags: ['host', 'region'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }], retention: '20d' });
  const start = NOW - 15 * DAY - (NOW % DAY);
  const rows = randomRows(7, start, 6, 300);
  await cpu.append(rows.slice(0, 900) as never);
  await cpu.flush();
  const rollup = await db.createRollup('cpu_1h', { source: 'cpu', every: '1h', by: ['host', 'region'], agg: { v: ['count', 'sum', 'mean', 'min', 'max'], n: ['sum', 'mean', 'min', 'max'] } });
  assert.deepEqual(cpu.currentManifest.rollups, ['cpu_1h']);
  assert.ok((await rollup.describe()).rows > 0, 'filled at creation');
  // Appends (late data into old partitions too) and a compaction: the rollup follows.
  await cpu.append(rows.slice(900, 1400) as never);
  await cpu.flush();
  await cpu.append(rows.slice(1400) as never);
  await cpu.append(randomRows(9, start, 2, 50) as never); // late rows into the first partitions
  await cpu.flush();
  await cpu.compact({ smallRows: 1_000_000 });
  const from = start + 3 * HOUR, to = start + 4 * DAY;
  for (const q of comparedQueries(from, to)) {
    const explain = await cpu.explainQuery(q);
    assert.equal(explain.answeredFrom, 'cpu_1h', `${JSON.stringify(q)} is answered from the rollup (${explain.rollupSkipped ?? ''})`);
    assertSameAnswer(await cpu.query(q), await cpu.query({ ...q, rollups: false }), JSON.stringify(q));
  }
  const rawPlan = await cpu.explainQuery({ ...comparedQueries(from, to)[1]!, rollups: false });
  assert.equal(rawPlan.answeredFrom, undefined);
  // Not covered: a bound off the hour, a stddev, a tag the rollup keeps, a field filter.
  const off = await cpu.explainQuery({ every: '1h', agg: { v: 'max' }, from: from + 60_000 });
  assert.match(off.rollupSkipped ?? '', /from is not on a 1h bucket bound/);
  assert.match((await cpu.explainQuery({ every: '1h', agg: { v: 'stddev' } })).rollupSkipped ?? '', /stddev cannot be derived/);
  assert.match((await cpu.explainQuery({ every: '30m', agg: { v: 'max' } })).rollupSkipped ?? '', /not made of whole 1h buckets/);

  // Retention: raw keeps 20 days, the rollup (no retention) keeps its buckets after the raw rows expire.
  const before = await cpu.query({ every: '1d', agg: { v: ['mean', 'max'], '*': 'count' } });
  clock.now += 10 * DAY; // the first partitions of raw expire
  await cpu.append([{ time: clock.now - HOUR, host: 'h0', region: 'eu', v: 1, n: 1n }] as never);
  await cpu.flush(); // drops the expired raw chunks; the rollup catches up with the new partition only
  const rawNow = await cpu.query({ every: '1d', agg: { v: ['mean', 'max'], '*': 'count' }, rollups: false });
  const fromRollup = await cpu.query({ every: '1d', agg: { v: ['mean', 'max'], '*': 'count' } });
  assert.ok(rawNow.numRows < before.numRows + 1, 'raw lost expired days');
  assert.equal(fromRollup.numRows, before.numRows + 1, 'the rollup kept every day, plus the new one');
  assertSameAnswer(new (before.constructor as typeof ArrowTable)(fromRollup.batches).slice(0, before.numRows), before, 'rollup after raw expiry');
  // The rollup's own retention is independent: 12 days drops its older buckets, not the raw rows.
  const r2 = await db.createRollup('cpu_1d', { source: 'cpu', every: '1d', by: ['region'], agg: { v: ['max'] }, retention: '12d' });
  const rawRows = (await cpu.describe()).rows;
  const r2times = await timesOf(r2);
  assert.ok(r2times.every((x) => x >= clock.now - 12 * DAY), 'rollup retention hides its own old buckets');
  assert.equal((await cpu.describe()).rows, rawRows);
  assert.deepEqual((await db.tables()).sort(), ['cpu', 'cpu_1d', 'cpu_1h']);
  await db.dropRollup('cpu_1d');
  assert.deepEqual((await db.table('cpu')).currentManifest.rollups, ['cpu_1h']);
  await db.close();
}
