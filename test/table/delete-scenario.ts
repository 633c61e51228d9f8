import assert from 'node:assert/strict';
import type { Table as ArrowTable } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import type { Table } from '../../src/table/table.js';

/**
 * The deletes scenario, run on a local directory, Ceph RGW (S3) and Azurite (Azure): a model
 * of the rows (JS objects) is kept beside the table, and after every step scans, aggregates
 * answered from page statistics and time travel are compared with it.
 */
export const DAY = 86_400_000;
export const T0 = Date.UTC(2026, 2, 1);
export const HOSTS = ['a', 'b', 'c', 'd'];

export interface ModelRow { time: number; host: string; region: string; v: number; n: bigint }

/** Rows of `day` (0-based from T0): every host every 10 minutes. */
export function dayRows(day: number, salt = 0): ModelRow[] {
  const out: ModelRow[] = [];
  for (let i = 0; i < 144; i++) {
    for (const [h, host] of HOSTS.entries()) {
      out.push({ time: T0 + day * DAY + i * 600_000, host, region: h < 2 ? 'eu' : 'us', v: ((i * 37 + h * 11 + salt) % 1000) / 8, n: BigInt(i * 4 + h + salt * 1000) });
    }
  }
  return out;
}

/** Every row as a sorted line (times are whole ms: get() is exact). */
export function lines(t: ArrowTable): string[] {
  const out: string[] = [];
  const [time, host, region, v, n] = ['time', 'host', 'region', 'v', 'n'].map((c) => t.getChild(c)!);
  for (let i = 0; i < t.numRows; i++) out.push(`${Number(time!.get(i))}|${host!.get(i)}|${region!.get(i)}|${v!.get(i)}|${n!.get(i)}`);
  return out.sort();
}

export function modelLines(rows: readonly ModelRow[]): string[] {
  return rows.map((r) => `${r.time}|${r.host}|${r.region}|${r.v}|${r.n}`).sort();
}

/** count, sum, min, max of v and n per host: what the query answers (from statistics where it can). */
export function modelStats(rows: readonly ModelRow[]): string[] {
  const by = new Map<string, ModelRow[]>();
  for (const r of rows) by.set(r.host, [...(by.get(r.host) ?? []), r]);
  return [...by].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([host, rs]) => {
    const vs = rs.map((r) => r.v), ns = rs.map((r) => r.n);
    let sum = 0; for (const v of vs) sum += v;
    return `${host}|${rs.length}|${sum}|${Math.min(...vs)}|${Math.max(...vs)}|${ns.reduce((a, b) => a + b, 0n)}`;
  });
}

export async function tableStats(t: Table, extra: { version?: number; from?: number; to?: number } = {}): Promise<string[]> {
  const q = await t.query({ ...extra, by: ['host'], agg: { v: ['count', 'sum', 'min', 'max'], n: 'sum' } });
  const out: string[] = [];
  const cols = ['host', 'count_v', 'sum_v', 'min_v', 'max_v', 'sum_n'].map((c) => q.getChild(c)!);
  for (let i = 0; i < q.numRows; i++) out.push(cols.map((c) => String(c.get(i))).join('|'));
  return out.sort();
}

const inRange = (r: ModelRow, from?: number, to?: number) => (from === undefined || r.time >= from) && (to === undefined || r.time < to);

/** Bytes of the table's chunk files in the store. */
async function chunkBytes(db: Quiver, name: string): Promise<{ keys: string[]; bytes: number }> {
  const keys = (await db.store.list(`${name}/chunks/`)).sort();
  let bytes = 0;
  for (const k of keys) bytes += await db.store.size(k);
  return { keys, bytes };
}

export async function deleteScenario(url: string): Promise<void> {
  const db = await Quiver.open(url, { autoCompact: 0 });
  try {
    const t = await db.createTable('del', { tags: ['host', 'region'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }], partition: 'day', pageRows: 64, timeUnit: 'ms' });
    let model: ModelRow[] = [];
    for (let day = 0; day < 3; day++) {
      const rows = dayRows(day);
      await t.append(rows.map((r) => ({ ...r })) as never);
      await t.flush();
      model.push(...rows);
    }
    const check = async (what: string) => {
      assert.deepEqual(lines(await t.query({})), modelLines(model), `${what}: scan`);
      assert.deepEqual(lines(await t.query({ order: 'any' })), modelLines(model), `${what}: scan in any order`);
      assert.deepEqual(await tableStats(t), modelStats(model), `${what}: aggregates`);
      const from = T0 + 5 * 3_600_000, to = T0 + DAY + 7 * 3_600_000;
      assert.deepEqual(await tableStats(t, { from, to }), modelStats(model.filter((r) => inRange(r, from, to))), `${what}: aggregates of a range`);
      const last = new Map<string, ModelRow>();
      for (const r of model) { const k = `${r.host}|${r.region}`; const seen = last.get(k); if (!seen || r.time >= seen.time) last.set(k, r); }
      assert.deepEqual(lines(await t.query({ latest: true })), modelLines([...last.values()]), `${what}: latest per series`);
      const count = await t.query({ agg: { '*': 'count' } });
      assert.equal(Number(count.getChild('count')!.get(0)), model.length, `${what}: count(*)`);
    };
    await check('before any delete');
    const original = [...model];
    const versionBefore = t.version;
    // Statistics answer most pages before the delete (the aggregates above must not lean on them after).
    assert.ok((await t.explainQuery({ by: ['host'], agg: { v: 'sum' } })).pagesFromStatistics > 0);

    // 1. A time range inside day 0: one chunk affected, none dropped.
    const r1 = await t.delete({ from: T0 + 6 * 3_600_000, to: T0 + 12 * 3_600_000 });
    assert.deepEqual({ dropped: r1.chunksDropped, affected: r1.chunksAffected, tombstone: r1.tombstone }, { dropped: 0, affected: 1, tombstone: true });
    assert.equal(r1.version, versionBefore + 1);
    model = model.filter((r) => !inRange(r, T0 + 6 * 3_600_000, T0 + 12 * 3_600_000));
    await check('after a time-range delete');
    // The affected chunk decodes; the others still answer from statistics (explain says which).
    const plan = await t.explainQuery({ by: ['host'], agg: { v: 'sum' } });
    const day0 = plan.chunks.filter((c) => c.key.includes('/2026-03-01/'));
    assert.equal(day0.length, 1);
    assert.equal(day0[0]!.pagesFromStatistics, 0, 'a chunk a tombstone may touch is decoded');
    assert.ok(plan.chunks.some((c) => c.pagesFromStatistics > 0), 'untouched chunks still answer from statistics');

    // 2. A tag: every chunk holds host b.
    const r2 = await t.delete({ where: { host: 'b' } });
    assert.deepEqual({ dropped: r2.chunksDropped, affected: r2.chunksAffected }, { dropped: 0, affected: 3 });
    model = model.filter((r) => r.host !== 'b');
    await check('after a tag delete');

    // 3. Both: day 1 before 06:00, hosts c and d (an IN list), and a != predicate on region that keeps us.
    const r3 = await t.delete({ from: T0 + DAY, to: T0 + DAY + 6 * 3_600_000, where: { host: ['c', 'd'], region: { ne: 'eu' } } });
    assert.equal(r3.chunksAffected, 1);
    model = model.filter((r) => !(inRange(r, T0 + DAY, T0 + DAY + 6 * 3_600_000) && (r.host === 'c' || r.host === 'd') && r.region !== 'eu'));
    await check('after a time and tag delete');

    // 4. Points written after a delete are visible: host b again on day 0, in the range deleted in 1.
    const again = dayRows(0, 7).filter((r) => r.host === 'b' && r.time < T0 + 9 * 3_600_000);
    await t.append(again.map((r) => ({ ...r })) as never);
    await t.flush();
    model.push(...again);
    await check('after re-writing deleted points');

    // 5. Time travel to before the first delete still shows every row.
    assert.deepEqual(lines(await t.query({ version: versionBefore })), modelLines(original));
    assert.deepEqual(await tableStats(t, { version: versionBefore }), modelStats(original));

    // 6. A whole partition (day 2, every series): its chunk leaves the manifest without a rewrite or a tombstone.
    const before6 = await chunkBytes(db, 'del');
    const deletesBefore6 = t.currentManifest.deletes?.length ?? 0;
    const r6 = await t.delete({ from: T0 + 2 * DAY, to: T0 + 3 * DAY });
    assert.deepEqual({ dropped: r6.chunksDropped, rows: r6.rowsDropped, partitions: r6.partitionsDropped, affected: r6.chunksAffected, tombstone: r6.tombstone },
      { dropped: 1, rows: 144 * 4 - 0, partitions: ['2026-03-03'], affected: 0, tombstone: false });
    assert.deepEqual((await chunkBytes(db, 'del')).keys, before6.keys, 'no chunk was written');
    assert.equal(t.currentManifest.deletes?.length ?? 0, deletesBefore6, 'no tombstone was added');
    assert.ok(!t.currentManifest.chunks.some((c) => c.partition === '2026-03-03'));
    model = model.filter((r) => !inRange(r, T0 + 2 * DAY, T0 + 3 * DAY));
    await check('after a partition drop');

    // 7. Compaction rewrites the affected chunks without the deleted rows; the tombstones go.
    const compacted = await t.compact();
    assert.ok(compacted.groups.length >= 2, JSON.stringify(compacted.groups));
    assert.deepEqual(t.currentManifest.deletes ?? [], [], 'no tombstone can match a live chunk any more');
    assert.equal(t.currentManifest.chunks.reduce((s, c) => s + c.rows, 0), model.length, 'the chunks hold exactly the surviving rows');
    await check('after compaction');
    assert.deepEqual(lines(await t.query({ version: versionBefore })), modelLines(original), 'time travel before the delete still reads the old chunks');

    // 8. Vacuum frees the replaced and dropped chunks once no retained version names them.
    const before8 = await chunkBytes(db, 'del');
    const vacuumed = await t.vacuum({ olderThanMs: 0 });
    const after8 = await chunkBytes(db, 'del');
    assert.ok(vacuumed.deletedChunks.length >= 3, JSON.stringify(vacuumed));
    assert.ok(after8.bytes < before8.bytes, `vacuum freed bytes (${before8.bytes} → ${after8.bytes})`);
    assert.deepEqual(after8.keys, t.currentManifest.chunks.map((c) => c.key).sort(), 'only the live chunks remain');
    await check('after vacuum');
    assert.deepEqual((await t.verify()).filter((c) => !c.ok), []);
  } finally {
    await db.close();
  }
}
