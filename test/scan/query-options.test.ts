/**
 * The typed query API (issue 16): a QueryOptions (or ScanOptions) variable is what
 * table.query() takes, and an option key it does not know is a type error (the
 * `@ts-expect-error` lines fail `tsc`, which `npm test` runs, if it ever compiles) and a
 * UsageError at run time naming the key and the valid ones — `evry: '1h'` used to return one
 * ungrouped row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { runQuery } from '../../src/scan/query.js';
import type { QueryOptions, ScanOptions } from '../../src/index.js';
import { UsageError } from '../../src/errors.js';

const T0 = Date.UTC(2026, 6, 1);

async function setup() {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  await t.append(Array.from({ length: 240 }, (_, i) => ({ time: T0 + i * 60_000, host: i % 2 ? 'a' : 'b', v: i })));
  await t.flush();
  return { db, t };
}

const unknownKey = (key: string, what: string) => (e: Error) =>
  e instanceof UsageError && e.message.includes(`${what}: unknown option ${JSON.stringify(key)}`) && /options: from, to, where, columns, limit, signal, version, order/.test(e.message);

test('QueryOptions and ScanOptions variables are what query() takes', async () => {
  const { db, t } = await setup();
  const hourly: QueryOptions = { every: '1h', by: ['host'], agg: { v: ['max', 'p90'] } };
  assert.equal((await t.query(hourly)).numRows, 8);
  const range: ScanOptions = { from: T0, to: T0 + 3_600_000, columns: ['v'] };
  assert.equal((await t.query(range)).numRows, 60);
  const built: QueryOptions = { ...range, agg: Object.fromEntries([['v', 'count']]) };
  assert.equal((await t.query(built)).numRows, 1);
  await db.close();
});

test('an unknown option key is a type error and a UsageError naming it and the valid keys', async () => {
  const { db, t } = await setup();
  // @ts-expect-error evry is not an option
  await assert.rejects(t.query({ evry: '1h', agg: { v: 'max' } }), (e: Error) => unknownKey('evry', 'query')(e) && /every, timeZone, by, agg, fill, latest, filter/.test(e.message));
  // @ts-expect-error a plain query (a scan) checks its keys too
  await assert.rejects(t.query({ colums: ['v'] }), unknownKey('colums', 'query'));
  // @ts-expect-error scans take only scan options
  await assert.rejects(async () => { for await (const _ of t.scan({ wher: { host: 'a' } })) { /* unreachable */ } }, unknownKey('wher', 'scan'));
  // @ts-expect-error explain plans a scan
  await assert.rejects(t.explain({ form: T0 }), unknownKey('form', 'scan'));
  // A query option given to a scan is refused, not ignored.
  const query: QueryOptions = { every: '1h' };
  await assert.rejects(async () => { for await (const _ of t.scan(query)) { /* unreachable */ } }, unknownKey('every', 'scan'));
  // runQuery (the engine under table.query) checks them as well.
  await assert.rejects(runQuery(t, { agg: { v: 'max' }, bye: ['host'] } as QueryOptions), unknownKey('bye', 'query'));
  // Keys that are known but undefined are fine (what option builders produce).
  assert.equal((await t.query({ agg: { v: 'max' }, every: undefined, by: undefined })).numRows, 1);
  await db.close();
});
