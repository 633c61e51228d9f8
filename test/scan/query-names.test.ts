/**
 * Names are data (issue 14, brief): columns called `constructor`, `__proto__`, `toString`
 * group, aggregate, filter and prune like any other, and aggregation spellings like
 * `constructor` are unknown names, not Object.prototype members.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { runQuery } from '../../src/scan/query.js';
import { chunkMayMatch, compileTagFilter, type ScanPlanInput } from '../../src/scan/plan.js';
import { mergeGroups } from '../../src/scan/scan.js';
import type { ChunkEntry, Row } from '../../src/core/types.js';
import type { Table } from '../../src/table/table.js';
import { UsageError } from '../../src/errors.js';
import type { Table as ArrowTable } from 'apache-arrow';

const T0 = Date.UTC(2026, 5, 1);
const PROTO = ['a', 'b', 'c'];
const TOSTR = ['x', 'y'];

function rows(): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < 600; i++) {
    const row: Row = Object.create(null) as Row;
    row['time'] = T0 + i * 30_000;
    row['__proto__'] = PROTO[i % 3]!;
    row['toString'] = TOSTR[(i >> 2) % 2]!;
    row['constructor'] = i % 17 === 0 ? null : ((i * 37) % 101) / 4 - 10;
    row['valueOf'] = BigInt(i * 3);
    out.push(row);
  }
  return out;
}

async function setup() {
  const db = await Quiver.open(new MemoryChunkManager(), { decodedCacheBytes: 0 });
  const t = await db.createTable('odd', { tags: ['__proto__', 'toString'], fields: [{ name: 'constructor', type: 'float64' }, { name: 'valueOf', type: 'int64' }], pageRows: 32 });
  await t.append(rows());
  await t.flush();
  return { db, t };
}

const decodedOnly = (t: Table) => ({ schema: t.schema, scan: (o: Parameters<Table['scan']>[0]) => t.scan(o) });
/** Rows from the columns, in null-prototype objects (an Arrow row's toJSON() would assign `__proto__`). */
function plain(table: ArrowTable): Record<string, unknown>[] {
  const out = Array.from({ length: table.numRows }, () => Object.create(null) as Record<string, unknown>);
  for (const field of table.schema.fields) {
    const column = table.getChild(field.name)!;
    for (let r = 0; r < table.numRows; r++) out[r]![field.name] = column.get(r);
  }
  return out;
}

test('group by a tag named __proto__, aggregate a field named constructor: both paths, exact answers', async () => {
  const { db, t } = await setup();
  const data = rows();
  const agg = Object.create(null) as Record<string, string[]>;
  agg['constructor'] = ['max', 'sum', 'count', 'min'];
  agg['valueOf'] = ['sum'];
  for (const run of [(o: Parameters<Table['query']>[0]) => t.query(o), (o: Parameters<typeof runQuery>[1]) => runQuery(decodedOnly(t), o)]) {
    const out = plain(await run({ by: ['__proto__'], agg }));
    assert.deepEqual(out.map((r) => r['__proto__']), PROTO);
    for (const [i, v] of PROTO.entries()) {
      const mine = data.filter((r) => r['__proto__'] === v);
      const vals = mine.map((r) => r['constructor'] as number | null).filter((x): x is number => x !== null);
      assert.equal(out[i]!['max_constructor'], Math.max(...vals));
      assert.equal(out[i]!['min_constructor'], Math.min(...vals));
      assert.equal(out[i]!['count_constructor'], BigInt(vals.length));
      assert.ok(Math.abs((out[i]!['sum_constructor'] as number) - vals.reduce((s, x) => s + x, 0)) < 1e-9);
      assert.equal(out[i]!['sum_valueOf'], mine.reduce((s, r) => s + (r['valueOf'] as bigint), 0n));
    }
  }
  // Two odd tags, a where on one, a filter on the odd field, buckets; and latest per __proto__.
  const where = Object.create(null) as Record<string, string>;
  where['__proto__'] = 'b';
  const grouped = plain(await t.query({ by: ['toString', '__proto__'], where, filter: { field: 'constructor', op: '>', value: 0 }, agg: { valueOf: 'count' } }));
  const expected = TOSTR.map((s) => data.filter((r) => r['toString'] === s && r['__proto__'] === 'b' && (r['constructor'] as number | null) !== null && (r['constructor'] as number) > 0).length);
  assert.deepEqual(grouped.map((r) => [r['toString'], r['__proto__'], r['count_valueOf']]), TOSTR.map((s, i) => [s, 'b', BigInt(expected[i]!)]));
  const latest = plain(await t.query({ latest: true, by: ['__proto__'], columns: ['constructor'] }));
  assert.deepEqual(latest.map((r) => r['__proto__']), PROTO);
  await db.close();
});

test('aggregation names that are Object.prototype members are unknown names', async () => {
  const { db, t } = await setup();
  for (const spec of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
    await assert.rejects(t.query({ agg: { constructor: spec } }), (e: Error) => e instanceof UsageError && e.message.includes(`unknown aggregation ${JSON.stringify(spec)}`), spec);
  }
  await db.close();
});

test('chunk pruning and merge grouping read only a manifest entry\'s own tag keys', () => {
  // An entry built as a plain object (a manifest made by hand or by another tool): the tag
  // `constructor` has too many values to be listed, so no own key holds it.
  const entry = (key: string, timeMin: number, timeMax: number): ChunkEntry => ({
    key, partition: 'p', rows: 1, bytes: 1, rawBytes: 1, timeMin: String(timeMin), timeMax: String(timeMax),
    tagValues: {}, columns: {}, lineage: [], createdAt: '',
  });
  const input: ScanPlanInput = { filters: [compileTagFilter('constructor', 'x')], columns: ['time'], tags: ['constructor'], order: 'series' };
  assert.equal(chunkMayMatch(entry('a', 0, 10), input), true);
  const groups = mergeGroups([entry('a', 0, 10), entry('b', 5, 15), entry('c', 20, 30)], ['toString', '__proto__', 'constructor']);
  assert.deepEqual(groups.map((g) => g.map((e) => e.key)), [['a', 'b'], ['c']]);
});
