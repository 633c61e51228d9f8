/**
 * `latest` reads time windows newest first and skips pages whose groups newer windows found
 * (src/scan/query-latest-windows.ts). Its answers must be those of the plain two-phase plan
 * (a table offering only `scan`) bit for bit, on several days of chunks and pages, with
 * nulls, NaN (with payloads), -0, duplicates under each policy, deletes, retention and
 * unflushed rows; and it must actually skip pages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import type { DuplicatePolicy, ScanOptions } from '../../src/core/types.js';
import type { PageSummarizer, QueryableTable, QueryOptions } from '../../src/scan/query-types.js';
import { runQuery } from '../../src/scan/query.js';
import type { Table } from '../../src/table/table.js';
import { rng, seedFromEnv } from './query-fixture.test.js';
import { exactRows } from './exact-rows.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const NOW = T0 + 6 * DAY;

/** The same table offering only `scan`: runLatest takes its plain two-phase plan. */
function plain(table: Table): QueryableTable {
  return { schema: table.schema, scan: (o: ScanOptions) => table.scan(o) };
}

/** The table, counting the pages its summarizers skip. */
function counting(table: Table): { target: QueryableTable; skipped: () => number } {
  let skipped = 0;
  return {
    target: {
      schema: table.schema,
      scan: (o: ScanOptions) => table.scan(o),
      scanWithSummaries: (o: ScanOptions, summarize: PageSummarizer) => table.scanWithSummaries(o, (footer, pages) => {
        const rest = summarize(footer, pages);
        if (o.columns?.length !== 1) skipped += pages.length - rest.length; // the probe (time only) answers every page
        return rest;
      }),
    },
    skipped: () => skipped,
  };
}

const NAN_PAYLOAD = new Float64Array(new BigUint64Array([0xfff8000000000123n]).buffer)[0]!;
const NAN_SIGNAL = new Float64Array(new BigUint64Array([0x7ff0000000000001n]).buffer)[0]!;

/** Rows of a day: hosts h0…h7 in two dcs, some series ending early, nulls, NaN, -0, repeated points. */
function dayRows(day: number, random: () => number, hosts: number): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (let h = 0; h < hosts; h++) {
    // Some series stop before the last day: their latest point is in an older window.
    if (day >= 3 && h % 3 === 2) continue;
    const n = 40 + Math.floor(random() * 60);
    for (let i = 0; i < n; i++) {
      const time = T0 + day * DAY + Math.floor((i * DAY) / n);
      const r = random();
      const v = r < 0.08 ? null : r < 0.12 ? NAN_PAYLOAD : r < 0.14 ? NAN_SIGNAL : r < 0.17 ? -0 : Math.round(random() * 1e4) / 100;
      rows.push({ time, host: `h${h}`, dc: h % 2 ? 'east' : null, v, n: random() < 0.1 ? null : BigInt(Math.floor(random() * 1e6) - 5e5), s: random() < 0.2 ? null : `s${h}` });
      // A repeated point with other values (folded under last/first, kept under keep).
      if (random() < 0.05) rows.push({ time, host: `h${h}`, dc: h % 2 ? 'east' : null, v: random() < 0.5 ? null : -0, n: 7n, s: null });
    }
  }
  return rows;
}

async function build(policy: DuplicatePolicy, seed: number): Promise<{ db: Quiver; table: Table }> {
  const random = rng(seed);
  const db = await Quiver.open(new MemoryChunkManager(`latest-pruned-${policy}-${seed}`), { clock: () => NOW });
  const table = await db.createTable('m', {
    timeUnit: 'ms', tags: ['host', 'dc'], duplicates: policy, pageRows: 25, partition: 'day', retention: '5d',
    fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }, { name: 's', type: 'utf8' }],
  });
  for (let day = 0; day < 6; day++) {
    await table.append(dayRows(day, random, 8) as never);
    await table.flush();
  }
  // Late data into an older day, and the same points again (a second commit sharing points).
  await table.append(dayRows(3, rng(seed + 1), 4) as never);
  await table.flush();
  await table.delete({ from: T0 + 5 * DAY + DAY / 2, where: { host: 'h1' } });
  await table.delete({ from: T0 + 2 * DAY, to: T0 + 3 * DAY, where: { host: 'h4' } });
  // Unflushed rows: this process sees them.
  await table.append([{ time: T0 + 5 * DAY + DAY - 1, host: 'h0', dc: null, v: 1.5, n: 1n, s: 'late' }, { time: T0 + 3 * DAY + 5, host: 'h2', dc: null, v: null, n: null, s: null }] as never);
  return { db, table };
}

const QUERIES: QueryOptions[] = [
  { latest: true },
  { latest: true, by: ['host'] },
  { latest: true, by: ['dc'] },
  { latest: true, columns: ['v'] },
  { latest: true, columns: ['host'] },
  { latest: true, where: { host: ['h2', 'h5', 'h7'] } },
  { latest: true, from: T0 + DAY + 3600_000, to: T0 + 4 * DAY + 7, by: ['host'] },
  { latest: true, by: ['host'], filter: { field: 'v', op: '<', value: 50 } },
  { latest: true, limit: 3 },
  { latest: true, from: T0 + 10 * DAY },
];

for (const policy of ['last', 'first', 'keep'] as const) {
  test(`latest by newest windows equals the plain plan bit for bit (duplicates ${policy})`, async () => {
    const seed = seedFromEnv(`latest-pruned-${policy}`);
    const { db, table } = await build(policy, seed);
    try {
      assert.ok((await table.chunks()).length >= 6, 'several chunks over several days');
      let skippedTotal = 0;
      for (const q of QUERIES) {
        const { target, skipped } = counting(table);
        const got = exactRows(await runQuery(target, q));
        const expected = exactRows(await runQuery(plain(table), q));
        assert.deepEqual(got, expected, `${JSON.stringify(q, (_, v) => (typeof v === 'bigint' ? String(v) : v))} (seed ${seed})`);
        skippedTotal += skipped();
        // The library path (table.query) takes the windows too.
        assert.deepEqual(exactRows(await table.query(q)), expected, `table.query ${JSON.stringify(q)}`);
      }
      assert.ok(skippedTotal > 0, 'older windows skip pages of groups found in newer ones');
    } finally {
      await db.close();
    }
  });
}

test('latest by windows: a group whose newest rows are deleted or expired takes its older rows', async () => {
  const db = await Quiver.open(new MemoryChunkManager('latest-pruned-edge'), { clock: () => NOW });
  try {
    const t = await db.createTable('m', { timeUnit: 'ms', tags: ['host'], pageRows: 4, partition: 'day', fields: [{ name: 'v', type: 'float64' }] });
    const rows = (day: number, v: number) => Array.from({ length: 10 }, (_, i) => ({ time: T0 + day * DAY + i * 1000, host: i % 2 ? 'a' : 'b', v: v + i }));
    for (const day of [0, 1, 2]) { await t.append(rows(day, day * 100)); await t.flush(); }
    await t.delete({ from: T0 + 2 * DAY, where: { host: 'a' } });
    const expected = exactRows(await runQuery(plain(t), { latest: true }));
    assert.deepEqual(exactRows(await t.query({ latest: true })), expected);
    const got = (await t.query({ latest: true })).toArray().map((r) => [r.host, r.v]);
    assert.deepEqual(got, [['a', 109], ['b', 208]], 'a from day 1 (its day-2 rows deleted), b from day 2');
    assert.equal((await t.query({ latest: true, from: T0 + 5 * DAY })).numRows, 0, 'no row: the empty result');
    const empty = await t.query({ latest: true, where: { host: 'zz' } });
    assert.deepEqual(empty.schema.fields.map((f) => f.name), ['time', 'host', 'v'], 'typed columns without rows');
  } finally {
    await db.close();
  }
});

test('latest returns float values bit for bit (NaN payloads, -0), through both plans', async () => {
  const db = await Quiver.open(new MemoryChunkManager('latest-nan-bits'));
  try {
    const t = await db.createTable('m', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    const values = [NAN_PAYLOAD, NAN_SIGNAL, -0, 2.5];
    await t.append(values.map((v, i) => ({ time: T0 + 1000, host: `h${i}`, v })));
    await t.flush();
    const bits = (x: number) => new BigUint64Array(new Float64Array([x]).buffer)[0]!;
    for (const target of [t, plain(t)]) {
      const out = await runQuery(target, { latest: true });
      const got = out.getChild('v')!.data[0]!.values as Float64Array;
      assert.deepEqual([...new BigUint64Array(got.buffer, got.byteOffset, got.length)], values.map(bits));
    }
  } finally {
    await db.close();
  }
});

test('latest without --by on a table of several tags reads no field page of an older window when it finds no new series there', async () => {
  const db = await Quiver.open(new MemoryChunkManager('latest-pruned-multitag'));
  try {
    // Pages of 20 rows straddle two hosts (30 rows a host a day), so their tag statistics allow
    // (host, dc, rack) combinations that do not exist: the page statistics alone skip nothing.
    const t = await db.createTable('m', { timeUnit: 'ms', tags: ['host', 'dc', 'rack'], pageRows: 20, partition: 'day', fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }] });
    const hosts = Array.from({ length: 6 }, (_, h) => ({ host: `h${h}`, dc: h % 2 ? 'east' : 'west', rack: `r${h % 3}` }));
    for (let day = 0; day < 4; day++) {
      // h5 stops after day 1: its latest row is in an older window.
      await t.append(hosts.filter((h) => day < 2 || h.host !== 'h5').flatMap((h, k) => Array.from({ length: 30 }, (_, i) => ({ ...h, time: T0 + day * DAY + i * 60_000, v: day * 1000 + k * 30 + i, n: BigInt(i) }))));
      await t.flush();
    }
    for (const q of [{ latest: true }, { latest: true, columns: ['v'] }, { latest: true, where: { dc: 'east' } }, { latest: true, filter: { field: 'v', op: '<', value: 2000 } }] as QueryOptions[]) {
      let fieldPages = 0;
      const target: QueryableTable = {
        schema: t.schema,
        scan: (o: ScanOptions) => t.scan(o),
        scanWithSummaries: (o: ScanOptions, summarize: PageSummarizer) => t.scanWithSummaries(o, (footer, pages) => {
          const rest = summarize(footer, pages);
          if (o.columns?.includes('n') || (q.columns && o.columns?.includes('v') && !q.filter)) fieldPages += rest.length;
          return rest;
        }),
      };
      const expected = exactRows(await runQuery(plain(t), q));
      assert.deepEqual(exactRows(await runQuery(target, q)), expected, JSON.stringify(q));
      // Older windows read field pages only for h5's last row (day 1): at most its pages there.
      assert.ok(fieldPages <= 3, `${JSON.stringify(q)}: ${fieldPages} pages of older windows read with their fields`);
    }
    const rows = (await t.query({ latest: true })).toArray().map((r) => [r.host, Number(r.v)]);
    assert.deepEqual(rows, [['h0', 3029], ['h1', 3059], ['h2', 3089], ['h3', 3119], ['h4', 3149], ['h5', 1179]]);
  } finally {
    await db.close();
  }
});
