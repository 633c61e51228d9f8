/**
 * Queries hand each scanned batch's decode buffers back to the pool (src/format/buffer-pool.ts)
 * once aggregated; the results they return must keep no view of those buffers, so results held
 * across later queries and scans (which decode into the reused buffers) stay unchanged, for
 * every aggregate, group key and field type. Scans read ahead without decoding ahead on the
 * calling thread, and chunks chained by their recorded points read only the columns asked.
 */
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { RecordBatch, Table as ArrowTable } from 'apache-arrow';
import { Quiver, type QuiverOptions } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import { decodeBuffers, releaseBatch } from '../../src/format/buffer-pool.js';
import type { QueryOptions } from '../../src/scan/query-types.js';
import type { Table } from '../../src/table/table.js';
import type { Row } from '../../src/core/types.js';
import { rng } from '../format/helpers.js';
import { runCli } from '../cli/in-process.js';
import { exactRows } from './exact-rows.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const HOSTS = ['a', 'b', 'c', 'd', 'e'];

/** Two days of 5 hosts × 2 regions, every 10 s, in chunks of 2,048 rows and pages of 256. */
async function setup(options: QuiverOptions = {}): Promise<{ table: Table; store: CountingChunkManager }> {
  const store = new CountingChunkManager(new MemoryChunkManager());
  const writer = await Quiver.open(store);
  const t = await writer.createTable('m', {
    tags: ['host', 'region'],
    fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }, { name: 's', type: 'utf8' }, { name: 'b', type: 'bool' }],
    pageRows: 256, rowsPerChunkMax: 2048,
  });
  const random = rng(11);
  const rows: Row[] = [];
  for (let d = 0; d < 2; d++) for (const host of HOSTS) for (let i = 0; i < 3000; i++) {
    const r = random();
    rows.push({
      time: T0 + d * 86_400_000 + i * 10_000, host, region: host < 'c' ? 'eu' : 'us',
      v: r < 0.05 ? null : Math.round(random() * 1e4) / 100, n: BigInt(Math.floor(random() * 1e6) - 500_000),
      s: r > 0.9 ? null : `s${Math.floor(random() * 50)}`, b: random() < 0.5,
    });
  }
  await t.append(rows);
  await t.flush();
  const db = await Quiver.open(store, { decodeThreads: 0, decodedCacheBytes: 0, ...options });
  return { table: await db.table('m'), store };
}

/** Every cell by its exact bits (floats as their 64 bits, bigints as decimals). */
const dump = (t: ArrowTable): string => exactRows(t).join('\n');

const QUERIES: QueryOptions[] = [
  { every: '1h', by: ['host'], agg: { v: ['count', 'sum', 'mean', 'min', 'max', 'first', 'last', 'stddev', 'p90', 'spread', 'rate', 'derivative'] } },
  { every: '30m', by: ['region', 'host'], agg: { n: ['count', 'sum', 'min', 'max', 'first', 'last', 'mean'], '*': ['count'] } },
  { every: '2h', by: ['region'], agg: { s: ['first', 'last', 'count'], b: ['first', 'last', 'count'] } },
  { by: ['host'], agg: { v: ['max', 'last'], n: ['last'] }, from: T0 + HOUR, to: T0 + 30 * HOUR, where: { host: ['b', 'd'] } },
  { every: '1h', agg: { v: ['mean', 'p50'] }, filter: { field: 'v', op: '>', value: 40 }, fill: 'linear', from: T0, to: T0 + 48 * HOUR },
  { latest: true, by: ['host'] },
  { latest: true },
];

test('query results held across later queries and scans stay unchanged (their batches went back to the decode buffer pool)', async () => {
  const { table } = await setup();
  const held: { options: QueryOptions; result: ArrowTable; expected: string }[] = [];
  for (const options of QUERIES) {
    const result = await table.query(options);
    assert.ok(result.numRows > 0, `${JSON.stringify(options)} returns rows`);
    held.push({ options, result, expected: dump(result) });
  }
  const reusedBefore = decodeBuffers.reused;
  // Later work decodes into the buffers the queries gave back, overwriting them.
  for (let r = 0; r < 2; r++) {
    for (const options of QUERIES) await table.query(options);
    for await (const batch of table.scan({})) releaseBatch(batch);
  }
  assert.ok(decodeBuffers.reused > reusedBefore, 'the later reads reused buffers the queries gave back');
  for (const { options, result, expected } of held) assert.equal(dump(result), expected, `result of ${JSON.stringify(options)} unchanged`);
  // And the same queries answer the same after all that reuse.
  for (const { options, expected } of held) assert.equal(dump(await table.query(options)), expected, `${JSON.stringify(options)} again`);
});

test('aggregations and latest give their decode buffers back: repeating one allocates no new ones', async () => {
  const { table } = await setup();
  for (const options of [QUERIES[0]!, QUERIES[5]!, QUERIES[6]!]) {
    const expected = dump(await table.query(options));
    const allocated = decodeBuffers.allocated;
    for (let r = 0; r < 3; r++) assert.equal(dump(await table.query(options)), expected);
    assert.equal(decodeBuffers.allocated, allocated, `each repetition of ${JSON.stringify(options)} decoded into buffers the previous one gave back`);
  }
});

/** Lent buffers newly allocated by one full scan of `table` that releases each batch. */
async function allocatedByScan(table: Table, options: object = {}): Promise<{ allocated: number; batches: number }> {
  decodeBuffers.clear();
  const before = decodeBuffers.allocated;
  let batches = 0;
  for await (const batch of table.scan(options as never)) { batches++; releaseBatch(batch); }
  return { allocated: decodeBuffers.allocated - before, batches };
}

test('a scan reading ahead decodes on the calling thread only on each chunk\'s turn (buffers reused chunk after chunk)', async () => {
  const { table } = await setup();
  const { allocated, batches } = await allocatedByScan(table, { columns: ['v', 'n'] });
  assert.ok(batches >= 8, `${batches} batches`);
  // One chunk's columns (time, v, n) in flight at a time; the last, shorter chunk takes its own sizes.
  assert.ok(allocated <= 2 * 3, `${allocated} buffers allocated for ${batches} batches`);
});

test('a scan stopped early while reads are ahead ends them cleanly, and the next scan is whole', async () => {
  const { table } = await setup();
  const reference: number[] = [];
  for await (const batch of table.scan({ columns: ['v'] })) reference.push(batch.numRows);
  for (let stopAt = 0; stopAt < 3; stopAt++) {
    let k = 0;
    for await (const batch of table.scan({ columns: ['v'] })) { releaseBatch(batch); if (k++ === stopAt) break; }
  }
  const again: number[] = [];
  for await (const batch of table.scan({ columns: ['v'] })) again.push(batch.numRows);
  assert.deepEqual(again, reference);
});

test('chunks chained by their recorded points read only the columns asked (no tag for a merge order), in series order', async () => {
  const { table, store } = await setup();
  const read = async (options: object): Promise<{ bytes: number; batches: RecordBatch[] }> => {
    store.reset();
    const batches: RecordBatch[] = [];
    for await (const b of table.scan(options as never)) batches.push(b);
    return { bytes: store.stats().bytesRead, batches };
  };
  const explained = await table.explain({ columns: ['v'] });
  const { bytes, batches } = await read({ columns: ['v'] });
  // Footers are read once per reader (cached), so a second scan reads page bytes only.
  const second = await read({ columns: ['v'] });
  assert.equal(second.bytes, explained.bytesToRead, 'the scan reads exactly the bytes its plan names (time and v)');
  assert.ok(bytes >= second.bytes);
  const rows = batches.reduce((n, b) => n + b.numRows, 0);
  assert.equal(rows, 2 * HOSTS.length * 3000);
  // In series order: within each day's chunks (one unit: they overlap in time), host then time ascend.
  const ordered = await read({ columns: ['host', 'v'], order: 'series' });
  let previous = '';
  let time = -Infinity;
  let day = -1;
  for (const b of ordered.batches) {
    const hosts = b.getChild('host')!, times = b.getChild('time')!.data[0]!.values as BigInt64Array;
    for (let i = 0; i < b.numRows; i++) {
      const h = String(hosts.get(i));
      const t = Number(times[i]!) / 1e6;
      const d = Math.floor((t - T0) / 86_400_000);
      if (d !== day) { assert.ok(d > day, `day ${d} after ${day}`); day = d; previous = ''; time = -Infinity; }
      assert.ok(h > previous || (h === previous && t > time), `row ${i}: ${h}@${t} after ${previous}@${time}`);
      previous = h; time = t;
    }
  }
  assert.equal(ordered.batches.reduce((n, b) => n + b.numRows, 0), rows);
  assert.ok(ordered.batches.length >= 8, `${ordered.batches.length} batches: several chunks per day`);
});

test('the CLI\'s one-shot query and scan keep no decoded-page cache: their pages decode into the reusable buffer pool', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-release-cli-'));
  try {
    const db = await Quiver.open(dir);
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }], pageRows: 256 });
    await t.append(Array.from({ length: 4000 }, (_, i) => ({ time: T0 + i * 10_000, host: HOSTS[i % HOSTS.length]!, v: i / 4 })));
    await t.flush();
    await db.close();
    for (const args of [['query', 'm', '--agg', 'max:v', '--by', 'host'], ['scan', 'm', '--columns', 'v']]) {
      const lent = decodeBuffers.allocated + decodeBuffers.reused;
      const { code, out } = await runCli(dir, ...args, '--format', 'csv');
      assert.equal(code, 0, out);
      assert.ok(decodeBuffers.allocated + decodeBuffers.reused > lent, `quiver ${args.join(' ')} decoded into pooled buffers (no cache)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a chunk larger than a scan window is read and yielded window by window: same rows, bounded buffers, clean early stops', async () => {
  const store = new MemoryChunkManager();
  const writer = await Quiver.open(store);
  const t = await writer.createTable('big', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }], pageRows: 4096, rowsPerChunkMax: 1_000_000 });
  const perHost = 40_000;
  const rows: Row[] = [];
  for (const host of ['a', 'b', 'c', 'd']) for (let i = 0; i < perHost; i++) rows.push({ time: T0 + i * 1000, host, v: i / 8, n: BigInt(i) * 3n });
  await t.append(rows);
  await t.flush();
  const db = await Quiver.open(store, { decodeThreads: 0, decodedCacheBytes: 0 });
  const table = await db.table('big');
  assert.equal((await table.chunks()).length, 1, 'one chunk of 160,000 rows');
  const expected = rows.map((r) => `${r.host as string} ${r.time as number} ${r.v as number} ${r.n as bigint}`).join('\n');
  const text = (batches: readonly RecordBatch[]) => batches.flatMap((b) => {
    const host = b.getChild('host')!, time = b.getChild('time')!.data[0]!.values as BigInt64Array, v = b.getChild('v')!, n = b.getChild('n')!;
    return Array.from({ length: b.numRows }, (_, i) => `${String(host.get(i))} ${Number(time[i]! / 1_000_000n)} ${v.get(i) as number} ${n.get(i) as bigint}`);
  }).join('\n');
  for (const order of ['any', 'series'] as const) {
    decodeBuffers.clear();
    const allocated = decodeBuffers.allocated;
    const batches: RecordBatch[] = [];
    for await (const b of table.scan({ order })) batches.push(b);
    assert.ok(batches.length >= 3, `${batches.length} batches: the chunk is read in windows`);
    assert.equal(text(batches), expected, `order ${order}: every row once, in series then time order`);
    for (const b of batches) releaseBatch(b);
    // Released window by window, a scan decodes into the same few buffers (4 columns a window).
    for await (const b of table.scan({ order })) releaseBatch(b);
    assert.ok(decodeBuffers.allocated - allocated <= 3 * 4 * batches.length, 'held batches take their own buffers');
    const before = decodeBuffers.allocated;
    for await (const b of table.scan({ order })) releaseBatch(b);
    assert.equal(decodeBuffers.allocated, before, 'a scan releasing each window allocates nothing new');
  }
  // A time range and a tag filter inside the chunk, across windows.
  const from = T0 + 10_000_000, to = T0 + 35_000_000;
  const filtered: RecordBatch[] = [];
  for await (const b of table.scan({ from, to, where: { host: ['b', 'd'] } })) filtered.push(b);
  assert.equal(text(filtered), rows.filter((r) => (r.host === 'b' || r.host === 'd') && (r.time as number) >= from && (r.time as number) < to)
    .map((r) => `${r.host as string} ${r.time as number} ${r.v as number} ${r.n as bigint}`).join('\n'));
  // Stopping after the first window, then scanning again: whole and unchanged.
  for await (const b of table.scan({})) { releaseBatch(b); break; }
  const again: RecordBatch[] = [];
  for await (const b of table.scan({})) again.push(b);
  assert.equal(text(again), expected);
  assert.equal((await table.query({ agg: { n: 'sum', '*': 'count' } })).getChild('count')!.get(0), BigInt(rows.length));
});
