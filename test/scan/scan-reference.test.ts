import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { CountingChunkManager } from '../../src/chunk-manager/counting.js';
import type { PartitionBy, Row, ScanOptions, TagPredicate } from '../../src/core/types.js';
import { TAIL_READ_BYTES } from '../../src/format/index.js';
import { rng } from '../../bench/rng.js';

// Seeded randomized scans against a plain in-memory reference. QUIVER_SEED reruns a seed.
const SEED = Number(process.env.QUIVER_SEED ?? (Date.now() % 2 ** 31));
console.log(`scan-reference: seed ${SEED} (rerun with QUIVER_SEED=${SEED})`);

const random = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const T0 = Date.UTC(2026, 2, 28);
// '' and the null tag (a row without host) are hosts of their own.
const HOSTS = ['a', 'b', 'c', 'd', 'db-1', 'db-2', 'web', '', null];
const REGIONS = ['eu', 'us', 'ap'];

interface RefRow { t: number; host: string | null; region: string; x: number | null; n: bigint | null; s: string | null }

/** The reference semantics of `where`: null is a value of its own; prefix and regex never match it. */
function matches(value: string | null, p: TagPredicate): boolean {
  if (typeof p === 'string' || p === null) return value === p;
  if (Array.isArray(p)) return p.includes(value);
  if (p.eq !== undefined && value !== p.eq) return false;
  if (p.in !== undefined && !p.in.includes(value)) return false;
  if (p.ne !== undefined && value === p.ne) return false;
  if (p.notIn !== undefined && p.notIn.includes(value)) return false;
  if (p.prefix !== undefined && (value === null || !value.startsWith(p.prefix))) return false;
  if (p.regex !== undefined && (value === null || !new RegExp(p.regex).test(value))) return false;
  return true;
}

function randomPredicate(values: readonly (string | null)[]): TagPredicate {
  switch (Math.floor(random() * 6)) {
    case 0: return pick(values);
    case 1: return values.filter(() => random() < 0.4);
    case 2: return random() < 0.3 ? { in: values.filter(() => random() < 0.4) } : { ne: pick(values) };
    case 3: return { notIn: values.filter(() => random() < 0.3) };
    case 4: return { prefix: pick(['d', 'db', 'w', 'e', 'x']) };
    default: return { regex: pick(['^d', 'b-[12]$', '^(a|c)$', 'u']) };
  }
}

const key = (cells: unknown[]) => cells.map((c) => (typeof c === 'number' && Number.isNaN(c) ? 'NaN' : String(c))).join('|');

test(`random tables and scans agree with a reference (seed ${SEED})`, async () => {
  for (let round = 0; round < 4; round++) {
    const partition = pick<PartitionBy>(['hour', 'day', 'none']);
    const store = new MemoryChunkManager();
    const db = await Quiver.open(store);
    const table = await db.createTable('r', {
      tags: ['host', 'region'], fields: [{ name: 'x', type: 'float64' }, { name: 'n', type: 'int64' }, { name: 's', type: 'utf8' }],
      partition, rowsPerChunkMax: 20 + Math.floor(random() * 400), pageRows: 7 + Math.floor(random() * 300),
      // The reference keeps every row: two random rows may share series and time (seed
      // 1100275786), which the default policy 'last' folds (test/table/duplicates* test that).
      duplicates: 'keep',
    });
    const reference: RefRow[] = [];
    const rowsTotal = 500 + Math.floor(random() * 3000);
    while (reference.length < rowsTotal) {
      const batch: Row[] = [];
      const size = 1 + Math.floor(random() * 400);
      for (let i = 0; i < size; i++) {
        const r: RefRow = {
          t: T0 + Math.floor(random() * 3 * 86_400_000),
          host: pick(HOSTS), region: pick(REGIONS),
          x: random() < 0.1 ? null : Math.round(random() * 1e5) / 100,
          n: random() < 0.1 ? null : BigInt(Math.floor(random() * 2e6) - 1e6),
          s: random() < 0.2 ? null : pick(['', 'ok', 'warn', 'é']),
        };
        reference.push(r);
        // A null host is written as null or left out: both are the null tag.
        batch.push({ time: r.t, ...(r.host === null && random() < 0.5 ? {} : { host: r.host }), region: r.region, x: r.x, n: r.n, s: r.s });
      }
      await table.append(batch);
      if (random() < 0.3) await table.flush();
    }
    await table.flush();
    assert.equal((await table.describe()).rows, reference.length);
    for (let q = 0; q < 50; q++) {
      const options: ScanOptions = {};
      if (random() < 0.7) options.from = T0 + Math.floor(random() * 3 * 86_400_000);
      if (random() < 0.7) options.to = (typeof options.from === 'number' ? options.from : T0) + Math.floor(random() * 2 * 86_400_000);
      const where: Record<string, TagPredicate> = {};
      if (random() < 0.6) where.host = randomPredicate(HOSTS);
      if (random() < 0.3) where.region = randomPredicate(REGIONS);
      if (Object.keys(where).length) options.where = where;
      const projection = random() < 0.5 ? undefined : ['host', 'region', 'x', 'n', 's'].filter(() => random() < 0.5);
      if (projection) options.columns = projection;
      const cols = ['time', ...(projection ?? ['host', 'region', 'x', 'n', 's'])];
      const expected = reference
        .filter((r) => (options.from === undefined || r.t >= (options.from as number)) && (options.to === undefined || r.t < (options.to as number)))
        .filter((r) => Object.entries(where).every(([tag, p]) => matches(tag === 'host' ? r.host : r.region, p)))
        .map((r) => key(cols.map((c) => (c === 'time' ? BigInt(r.t) * 1_000_000n : r[c as keyof RefRow]))))
        .sort();
      const result = await table.query(options as ScanOptions & Record<string, unknown>);
      assert.deepEqual(result.schema.fields.map((f) => f.name), cols, 'projection and column order');
      const times = result.getChild('time')!;
      const got: string[] = [];
      for (let i = 0; i < result.numRows; i++) {
        got.push(key(cols.map((c) => {
          if (c === 'time') return BigInt(times.get(i) as number) * 1_000_000n; // ms float → exact ns for these ms times
          const v = result.getChild(c)!;
          return v.isValid(i) ? v.get(i) : null;
        })));
      }
      assert.deepEqual(got.sort(), expected, `round ${round} query ${q}: ${JSON.stringify(options)}`);
      if (random() < 0.3) {
        const limit = Math.floor(random() * 20);
        assert.equal((await table.query({ ...options, limit } as ScanOptions & Record<string, unknown>)).numRows, Math.min(limit, expected.length));
      }
    }
  }
});

test('pruning: a one-day, one-host scan opens only that day\'s chunk and reads a fraction of the table', async () => {
  const counting = new CountingChunkManager(new MemoryChunkManager());
  const db = await Quiver.open(counting);
  const table = await db.createTable('p', { tags: ['host'], pageRows: 256 });
  const rows: Row[] = [];
  // Random doubles: the value column dominates the chunk, far beyond the 64 KiB footer read.
  for (let d = 0; d < 3; d++) for (const host of HOSTS) for (let i = 0; i < 4000; i++) rows.push({ time: T0 + d * 86_400_000 + i * 20_000, host, v: random() });
  await table.append(rows);
  await table.flush();
  const chunks = await table.chunks();
  assert.equal(chunks.length, 3);
  const tableBytes = chunks.reduce((s, c) => s + c.bytes, 0);
  const day2 = chunks.find((c) => c.partition === '2026-03-29')!;
  const fresh = await (await Quiver.open(counting)).table('p');
  counting.reset();
  const options = { from: '2026-03-29T00:00:00Z', to: '2026-03-30T00:00:00Z', where: { host: 'db-1' }, columns: ['v'] };
  const result = await fresh.query(options);
  assert.equal(result.numRows, 4000);
  const stats = counting.stats();
  assert.deepEqual([...stats.keysRead.keys()].filter((k) => k.endsWith('.qvr')), [day2.key]);
  const plan = await fresh.explain(options);
  // Exactly one footer read (the 64 KiB tail) plus the selected pages of the needed columns.
  assert.ok(stats.bytesRead <= TAIL_READ_BYTES + plan.bytesToRead, `read ${stats.bytesRead} bytes, planned ${plan.bytesToRead} + tail`);
  assert.ok(plan.bytesToRead < day2.bytes / 3, `planned ${plan.bytesToRead} bytes of a ${day2.bytes}-byte chunk (table ${tableBytes})`);
  assert.equal(plan.chunksTotal, 3);
  assert.equal(plan.chunksPruned, 2);
  assert.ok(plan.pagesPruned > 0, 'pages of other hosts are skipped from their tag stats');
  // A repeated query reuses the opened footer: no second footer read of that chunk.
  counting.reset();
  await fresh.query(options);
  const again = counting.stats();
  assert.ok((again.keysRead.get(day2.key) ?? 0) < (stats.keysRead.get(day2.key) ?? 0), 'the footer is not read again');
  const none = await fresh.explain({ from: '2030-01-01T00:00:00Z' });
  assert.equal(none.chunksPruned, none.chunksTotal);
});
