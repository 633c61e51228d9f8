/**
 * The aggregate registry's promise (issue 14): a new aggregate is one file (its descriptor)
 * and one registration line, and then works everywhere: the library's query on the page
 * statistics path and on the decoded path, the CLI's --agg and its help text. The two toy
 * aggregates live in their own files, as a user's would: midrange (built-in statistics,
 * answered from page footers) and nonzero (a state of its own, always decoded).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { LocalChunkManager } from '../../src/chunk-manager/local.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import { registerAggregate, unregisterAggregate } from '../../src/scan/aggregates/index.js';
import { runQuery } from '../../src/scan/query.js';
import type { QueryOptions } from '../../src/scan/query-types.js';
import type { Table } from '../../src/table/table.js';
import type { Row } from '../../src/core/types.js';
import { UsageError } from '../../src/errors.js';
import { runCli } from '../cli/in-process.js';
import { rng } from '../../bench/rng.js';
import { midrange } from './toy-midrange.js';
import { nonzero } from './toy-nonzero.js';

registerAggregate(midrange);
registerAggregate(nonzero);

const dir = mkdtempSync(join(tmpdir(), 'quiver-agg-registry-'));
after(() => { unregisterAggregate('midrange'); unregisterAggregate('nonzero'); rmSync(dir, { recursive: true, force: true }); });

const T0 = Date.UTC(2026, 4, 4);
const DAY = 86_400_000;
const HOSTS = ['h0', 'h1', 'h2', 'h3'];

interface Point { time: number; host: string; v: number | null; z: number | null }

function generate(): Point[] {
  const random = rng(14);
  const points: Point[] = [];
  for (const host of HOSTS) {
    for (let m = 0; m < 2 * 24 * 60; m += 3) {
      const r = random();
      // h3 holds NaN on its first day only; no v is zero (a ±0 min/max is order-dependent).
      const v = r < 0.04 ? null : host === 'h3' && m < 24 * 60 && r < 0.06 ? NaN : Math.round((random() - 0.5) * 1e5) / 100 || 0.5;
      const z = random() < 0.05 ? null : random() < 0.5 ? 0 : Math.round(random() * 100);
      points.push({ time: T0 + m * 60_000, host, v, z });
    }
  }
  return points;
}

/** Expected rows per (host, day), DuckDB's NaN policy: max is NaN with any NaN, min skips NaN unless all are. */
function expected(points: Point[]): { host: string; day: number; midrange: number | null; nonzero: bigint }[] {
  const out = [];
  for (const host of HOSTS) {
    for (let day = 0; day < 2; day++) {
      const ps = points.filter((p) => p.host === host && Math.floor((p.time - T0) / DAY) === day);
      const vs = ps.map((p) => p.v).filter((v): v is number => v !== null);
      const finite = vs.filter((v) => !Number.isNaN(v));
      const max = vs.some(Number.isNaN) ? NaN : Math.max(...finite);
      const min = finite.length ? Math.min(...finite) : NaN;
      const nz = ps.filter((p) => p.z !== null && p.z !== 0).length;
      out.push({ host, day, midrange: vs.length ? (min + max) / 2 : null, nonzero: BigInt(nz) });
    }
  }
  return out;
}

async function setup(name: string) {
  const counting = new CountingChunkManager(new LocalChunkManager(dir));
  const db = await Quiver.open(counting, { decodedCacheBytes: 0, decodeThreads: 0 });
  const t = await db.createTable(name, { tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'z', type: 'float64' }], pageRows: 64 });
  const points = generate();
  await t.append(points as unknown as Row[]);
  await t.flush();
  await t.explain({}); // footers read once: only column bytes are compared below
  return { db, counting, t, points };
}

const decodedOnly = (t: Table) => ({ schema: t.schema, scan: (o: Parameters<Table['scan']>[0]) => t.scan(o) });
const chunkBytes = (c: CountingChunkManager) => [...c.stats().keysRead].filter(([k]) => k.endsWith('.qvr')).reduce((s, [, b]) => s + b, 0);

test('a registered toy aggregate answers through the library, from page statistics and decoded alike', async () => {
  const { db, counting, t, points } = await setup('stats');
  const want = expected(points);
  const options: QueryOptions = { every: '1d', by: ['host'], agg: { v: 'midrange' } };
  counting.reset();
  const fromStats = await t.query(options);
  const statsBytes = chunkBytes(counting);
  counting.reset();
  const decoded = await runQuery(decodedOnly(t), options);
  const decodedBytes = chunkBytes(counting);
  assert.ok(statsBytes * 2 < decodedBytes, `midrange from statistics read ${statsBytes} bytes, decoded ${decodedBytes}`);
  for (const result of [fromStats, decoded]) {
    const rows = result.toArray().map((r) => r.toJSON() as Record<string, unknown>);
    assert.equal(rows.length, want.length);
    rows.forEach((row, i) => {
      assert.equal(row['host'], want[i]!.host);
      assert.ok(Object.is(row['midrange_v'], want[i]!.midrange), `${want[i]!.host} day ${want[i]!.day}: ${String(row['midrange_v'])} vs ${String(want[i]!.midrange)}`);
    });
  }
  assert.ok(want.some((w) => Number.isNaN(w.midrange)), 'the data holds a NaN group');
  await db.close();
});

test('a toy aggregate with its own state is fed every batch (decoded), beside built-ins and with fill', async () => {
  const { db, counting, t, points } = await setup('state');
  const want = expected(points);
  counting.reset();
  const result = await t.query({ every: '1d', by: ['host'], agg: { z: ['nonzero', 'count'], v: 'midrange' } });
  const bytes = chunkBytes(counting);
  counting.reset();
  await runQuery(decodedOnly(t), { every: '1d', by: ['host'], agg: { z: ['nonzero', 'count'], v: 'midrange' } });
  assert.equal(bytes, chunkBytes(counting), 'a stateful aggregate decodes every page');
  const rows = result.toArray().map((r) => r.toJSON() as Record<string, unknown>);
  assert.deepEqual(rows.map((r) => r['nonzero_z']), want.map((w) => w.nonzero));
  assert.equal(String(result.schema.fields.find((f) => f.name === 'nonzero_z')!.type), 'Int64');
  // An empty bucket filled with null takes the descriptor's empty value (0 for this count).
  const filled = await t.query({ from: T0, to: T0 + 3 * DAY, every: '1d', by: ['host'], agg: { z: 'nonzero' }, fill: 'null' });
  assert.deepEqual(filled.toArray().filter((r) => r.host === 'h0').map((r) => r['nonzero_z']), [want[0]!.nonzero, want[1]!.nonzero, 0n]);
  // Rows ('*') are only for aggregates that say they take them.
  await assert.rejects(t.query({ agg: { '*': 'nonzero' } }), /'\*' only takes count, got "nonzero"/);
  await db.close();
});

test('the CLI lists and runs a registered aggregate (same registry)', async () => {
  const { db, points } = await setup('cli');
  await db.close();
  const want = expected(points);
  const help = await runCli(dir, 'query', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /Functions: count sum .* spread midrange nonzero/);
  const csv = join(dir, 'out.csv');
  const { code, out } = await runCli(dir, 'query', 'cli', '--agg', 'midrange:v,nonzero:z', '--every', '1d', '--by', 'host', '--out', csv);
  assert.equal(code, 0, out);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.deepEqual(lines[0]!.split(','), ['time', 'host', 'midrange_v', 'nonzero_z']);
  assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(1)), want.map((w) => [w.host, String(w.midrange), String(w.nonzero)]));
  const bad = await runCli(dir, 'query', 'cli', '--agg', 'midrang:v');
  assert.equal(bad.code, 2);
  assert.match(bad.out, /unknown aggregation "midrang"; expected count .* midrange nonzero/);
});

test('registration refuses a duplicate id and a fromStats claim that page statistics cannot honour', () => {
  assert.throws(() => registerAggregate(midrange), (e: Error) => e instanceof UsageError && /midrange is already registered/.test(e.message));
  assert.throws(() => registerAggregate({ ...nonzero, id: 'nonzero2', fromStats: true }), /fromStats needs only page statistics/);
  assert.throws(() => registerAggregate({ ...midrange, id: 'Bad-Id' }), /expected lower-case letters/);
});
