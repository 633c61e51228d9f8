/**
 * Big aggregations split by time across query threads (src/scan/query-pieces.ts) answer bit
 * for bit what one thread does: seeded random data over several days (one partition a day,
 * several chunks each) with NaN, nulls, ±Inf, -0, huge and tiny values, a null tag, hosts
 * missing on some days and a field null on a whole host. Checked two ways: pieces split
 * between two engines in this thread and merged (deterministic), and through real query
 * threads (which pieces they take depends on timing; they must take some).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import type { Row } from '../../src/core/types.js';
import type { QueryOptions } from '../../src/scan/query-types.js';
import { AggregationEngine, consumeQuery } from '../../src/scan/query.js';
import { planQuery } from '../../src/scan/query-plan.js';
import { mergeablePlan, pieceOptions, planPieces, PARALLEL_QUERY_VALUES_MIN } from '../../src/scan/query-pieces.js';
import { defaultQueryThreads } from '../../src/query-threads.js';
import { rng } from '../format/helpers.js';
import { exactRows } from './exact-rows.js';

const SEED = Number(process.env.QUIVER_TEST_SEED ?? 20261204);
const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const DAYS = 6;
const HOSTS = ['h0', 'h1', 'h2', 'h3', 'h4', null];
const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1e300, -1e300, 5e-324, 0.1, 1e-12];

function rows(seed: number): Row[] {
  const random = rng(seed);
  const out: Row[] = [];
  for (let d = 0; d < DAYS; d++) {
    for (const host of HOSTS) {
      if (host === 'h3' && d % 2 === 1) continue; // missing on some days: empty (group, bucket) slots
      for (let i = 0; i < 2000; i++) {
        const r = random();
        const pick = () => {
          const x = random();
          if (x < 0.05) return null;
          if (x < 0.12) return SPECIAL[Math.floor(random() * SPECIAL.length)]!;
          return (random() - 0.5) * 10 ** Math.floor(random() * 12 - 4);
        };
        out.push({
          time: T0 + d * DAY + i * 43_000 + Math.floor(random() * 1000), host, region: r < 0.5 ? 'eu' : 'us',
          a: pick(), b: host === 'h2' ? null : pick(), c: r < 0.3 ? null : Math.round(random() * 100) / 10,
        });
      }
    }
  }
  return out;
}

const QUERIES: QueryOptions[] = [
  { every: '1h', by: ['host'], agg: { a: ['count', 'sum', 'mean', 'min', 'max', 'spread'], b: ['sum', 'mean', 'min', 'max'], '*': ['count'] } },
  { every: '1d', by: ['region', 'host'], agg: { a: ['mean', 'max'], c: ['sum', 'min'] } },
  { every: '6h', agg: { a: ['sum', 'count'], b: ['min', 'max'], c: ['mean'] }, fill: 'null' },
  { every: '3h', by: ['host'], agg: { a: ['mean'], c: ['mean', 'count'] }, fill: 'previous', where: { region: 'eu' } },
  { every: '1h', by: ['host'], agg: { a: ['sum', 'max'] }, from: T0 + DAY / 2 + 7_000, to: T0 + 4 * DAY + 3_600_000 * 5 },
  { every: '2h', by: ['host', 'region'], agg: { b: ['mean', 'min'] }, where: { host: ['h1', null, 'h3'] }, fill: 'linear' },
];

async function withStore(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-pieces-'));
  try {
    const db = await Quiver.open(dir, { decodeThreads: 0, queryThreads: 0 });
    const t = await db.createTable('m', {
      tags: ['host', 'region'], pageRows: 512, rowsPerChunkMax: 4096,
      fields: [{ name: 'a', type: 'float64' }, { name: 'b', type: 'float64' }, { name: 'c', type: 'float64' }],
    });
    await t.append(rows(SEED));
    await t.flush();
    await db.close();
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(`pieces read by two engines and merged equal one engine, bit for bit (seed ${SEED})`, async () => {
  await withStore(async (dir) => {
    const db = await Quiver.open(dir, { decodeThreads: 0, decodedCacheBytes: 0, queryThreads: 0 });
    const table = await db.table('m');
    const manifest = table.currentManifest;
    for (const options of QUERIES) {
      const plan = planQuery(table.schema, options);
      assert.ok(mergeablePlan(plan, options), JSON.stringify(options));
      const pieces = planPieces(manifest.chunks, plan);
      assert.ok(pieces.length >= 4, `${pieces.length} pieces for ${JSON.stringify(options)}`);
      // This thread's engine takes pieces 0, 2, 4…; another engine the others, merged at the end.
      const main = new AggregationEngine(plan);
      const other = new AggregationEngine(plan);
      for (const [i, piece] of pieces.entries()) {
        const o = { ...pieceOptions(options, piece, table.schema.timeUnit), version: manifest.version };
        await consumeQuery(table, o, plan, i % 2 === 0 ? main : other);
      }
      main.mergeState(structuredClone(other.exportState()));
      assert.deepEqual(exactRows(main.finish()), exactRows(await table.query(options)), JSON.stringify(options));
    }
    await db.close();
  });
});

test('pieces are cut only where no chunk and no time bucket spans the cut', async () => {
  await withStore(async (dir) => {
    const db = await Quiver.open(dir, { queryThreads: 0 });
    const table = await db.table('m');
    const chunks = table.currentManifest.chunks;
    const piecesOf = (every: string) => {
      const plan = planQuery(table.schema, { every, agg: { a: 'sum' } });
      const pieces = planPieces(chunks, plan);
      // Every chunk inside one piece; the bucket of a piece's last time ends at or before the next piece's first.
      const span = pieces.map(() => ({ min: null as bigint | null, max: null as bigint | null }));
      for (const c of chunks) {
        const inside = pieces.flatMap((p, i) => ((p.from === null || BigInt(c.timeMin) >= p.from) && (p.to === null || BigInt(c.timeMax) < p.to) ? [i] : []));
        assert.equal(inside.length, 1, `chunk ${c.key} in ${inside.length} pieces (every ${every})`);
        const s = span[inside[0]!]!;
        if (s.min === null || BigInt(c.timeMin) < s.min) s.min = BigInt(c.timeMin);
        if (s.max === null || BigInt(c.timeMax) > s.max) s.max = BigInt(c.timeMax);
      }
      for (let i = 1; i < pieces.length; i++) assert.ok(plan.bucketer!.locate(span[i - 1]!.max!).end <= span[i]!.min!, `a ${every} bucket spans pieces ${i - 1} and ${i}`);
      assert.equal(pieces.reduce((n, p) => n + p.rows, 0), chunks.reduce((n, c) => n + c.rows, 0));
      return pieces;
    };
    assert.ok(chunks.length > DAYS, `${chunks.length} chunks`);
    assert.equal(piecesOf('1h').length, DAYS); // a day's chunks overlap in time: one piece a day
    const twoDays = piecesOf('2d').length;
    assert.ok(twoDays === DAYS / 2 || twoDays === DAYS / 2 + 1, `${twoDays} pieces of 2-day buckets`); // as the buckets fall on the days
    assert.ok(piecesOf('5d').length <= 2);
    assert.equal(piecesOf('30d').length, 1);
    // Plans whose state is not count/sum/min/max stay on one thread.
    for (const agg of [{ a: 'stddev' }, { a: 'first' }, { a: 'p90' }]) {
      const o: QueryOptions = { every: '1h', agg: agg as QueryOptions['agg'] };
      assert.equal(mergeablePlan(planQuery(table.schema, o), o), false, JSON.stringify(agg));
    }
    assert.equal(mergeablePlan(planQuery(table.schema, { agg: { a: 'sum' } }), { agg: { a: 'sum' } }), false, 'no time buckets: one slot for all pieces');
    const past: QueryOptions = { every: '1h', agg: { a: 'sum' }, version: 1 };
    assert.equal(mergeablePlan(planQuery(table.schema, past), past), false, 'time travel reads its own version on one thread');
    await db.close();
  });
});

test('query threads read pieces of big aggregations, results bit for bit those of one thread', async () => {
  await withStore(async (dir) => {
    const serial = await Quiver.open(dir, { decodeThreads: 0, decodedCacheBytes: 0, queryThreads: 0 });
    const parallel = await Quiver.open(dir, { decodeThreads: 0, decodedCacheBytes: 0, queryThreads: 1 });
    const threads = parallel.queryThreads!;
    await threads.whenReady();
    const st = await serial.table('m'), pt = await parallel.table('m');
    const rowsTotal = st.currentManifest.chunks.reduce((n, c) => n + c.rows, 0);
    assert.ok(rowsTotal * 3 < PARALLEL_QUERY_VALUES_MIN, 'this data is below the size that splits by default');
    // So the test forces the split: the same queries over more fields would be needed otherwise.
    threads.valuesMin = 0;
    for (let round = 0; round < 3; round++) {
      for (const options of QUERIES) assert.deepEqual(exactRows(await pt.query(options)), exactRows(await st.query(options)), JSON.stringify(options));
    }
    assert.ok(threads.piecesRead > 0, 'the query thread read pieces');
    await serial.close();
    await parallel.close();
  });
});

test('pieces of a query larger than the decoded-page cache admit no page, though each piece would fit', async () => {
  await withStore(async (dir) => {
    const options = QUERIES[0]!;
    const probe = await Quiver.open(dir, { queryThreads: 0, decodedCacheBytes: 0 });
    const manifest = (await probe.table('m')).currentManifest;
    const plan = planQuery((await probe.table('m')).schema, options);
    await probe.close();
    const bytesOf = (chunks: typeof manifest.chunks) => chunks.reduce((n, c) => n + plan.scanColumns.reduce((m, col) => m + (c.columns[col]?.rawBytes ?? 0), 0), 0);
    const pieces = planPieces(manifest.chunks, plan);
    const inPiece = (p: (typeof pieces)[number]) => manifest.chunks.filter((c) => (p.from === null || BigInt(c.timeMin) >= p.from) && (p.to === null || BigInt(c.timeMax) < p.to));
    const whole = bytesOf(manifest.chunks), pieceMax = Math.max(...pieces.map((p) => bytesOf(inPiece(p))));
    assert.ok(pieces.length >= 4 && pieceMax * 2 < whole, `${pieces.length} pieces, ${pieceMax} of ${whole} bytes at most in one`);
    const cacheBytes = Math.round((pieceMax * 1.5 + whole) / 2);
    for (const wholePlan of [true, false]) {
      const db = await Quiver.open(dir, { decodeThreads: 0, queryThreads: 0, decodedCacheBytes: cacheBytes });
      const table = await db.table('m');
      const engine = new AggregationEngine(plan);
      for (const piece of pieces) {
        const o = { ...pieceOptions(options, piece, table.schema.timeUnit), version: manifest.version };
        // runQuery's pieces share the whole query's plan; a piece planned alone is the control.
        await consumeQuery(table, o, wholePlan ? plan : planQuery(table.schema, o), engine);
      }
      const cache = db.decodedCache!;
      if (wholePlan) assert.deepEqual({ size: cache.size, evictions: cache.evictions }, { size: 0, evictions: 0 }, 'the whole query decides: no page admitted');
      else assert.ok(cache.size > 0 && cache.evictions > 0, `pieces planned alone fill the cache and evict each other (${cache.size} pages, ${cache.evictions} evictions)`);
      if (wholePlan) assert.deepEqual(exactRows(engine.finish()), exactRows(await table.query(options)));
      await db.close();
    }
  });
});

test('the default query pools of a process share their workers; each pool counts its pieces and closes alone', async () => {
  await withStore(async (dir) => {
    const a = await Quiver.open(dir, { decodeThreads: 0, decodedCacheBytes: 0 });
    const b = await Quiver.open(dir, { decodeThreads: 0 });
    const own = await Quiver.open(dir, { decodeThreads: 0, queryThreads: 1 });
    try {
      if (defaultQueryThreads() === 0) {
        assert.equal(a.queryThreads, undefined, 'no default pool on one core');
        return;
      }
      const pa = a.queryThreads!, pb = b.queryThreads!, po = own.queryThreads!;
      assert.ok(pa.sharesWorkersWith(pb), 'default pools share workers');
      assert.ok(!pa.sharesWorkersWith(po), 'a pool sized explicitly has its own');
      await pa.whenReady();
      assert.equal(pb.readyCount(), pa.readyCount(), 'ready for one is ready for the other');
      // Each pool's pieces, through the shared workers, counted apart.
      const table = await b.table('m');
      const options = QUERIES[0]!;
      const plan = planQuery(table.schema, options);
      const pieces = planPieces(table.currentManifest.chunks, plan);
      const requests = pieces.map((p) => ({ ...pieceOptions(options, p, table.schema.timeUnit), version: table.currentManifest.version }));
      const runAll = async (pool: typeof pa) => {
        const engine = new AggregationEngine(plan);
        const states = await pool.run({ url: `file://${dir}`, table: 'm', pieces: requests, counter: new Int32Array(new SharedArrayBuffer(4)) });
        assert.equal(states.length, pieces.length, 'the worker read every piece (none was taken here)');
        for (const { state } of states.sort((x, y) => x.piece - y.piece)) engine.mergeState(state);
        return exactRows(engine.finish());
      };
      const expected = exactRows(await (await own.table('m')).query(options));
      assert.deepEqual(await runAll(pb), expected);
      assert.equal(pb.piecesRead, pieces.length);
      assert.equal(pa.piecesRead, 0, 'pieces of b are not counted for a');
      // Closing a leaves b's workers running (and a's store in them closed).
      await a.close();
      assert.ok(pb.readyCount() > 0);
      assert.deepEqual(await runAll(pb), expected);
      await assert.rejects(pa.run({ url: `file://${dir}`, table: 'm', pieces: requests, counter: new Int32Array(new SharedArrayBuffer(4)) }), /closed/);
      // The last default pool closed ends the workers: a new Quiver starts new ones.
      await b.close();
      assert.equal(pb.readyCount(), 0);
      const c = await Quiver.open(dir, { decodeThreads: 0 });
      assert.ok(!c.queryThreads!.sharesWorkersWith(pb));
      await c.close();
    } finally {
      await a.close();
      await b.close();
      await own.close();
    }
  });
});
