/**
 * The query endpoint on tables whose time unit is s, ms or us, at the ends of their ranges:
 * every time the server prints is a bound it accepts back, with the rows it names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { queryCsv, startTestServer } from './helpers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The first and last time of each unit, as Quiver prints them. */
const ENDS: Record<'s' | 'ms' | 'us', [string, string]> = {
  s: ['-292277022657-01-27T08:29:52Z', '+292277026596-12-04T15:30:07Z'],
  ms: ['-292275055-05-16T16:47:04.192Z', '+292278994-08-17T07:12:55.807Z'],
  us: ['-290308-12-21T19:59:05.224192Z', '+294247-01-10T04:00:54.775807Z'],
};

test('query: from and to beyond the ns range select the rows of s, ms and us tables (both bounds given)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-query-units-'));
  const store = join(dir, 'store');
  try {
    const db = await Quiver.open(store);
    for (const [unit, [first, last]] of Object.entries(ENDS)) {
      const t = await db.createTable(`t_${unit}`, { timeUnit: unit as 's', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
      await t.append([{ time: first, host: 'a', v: 1 }, { time: '1970-01-01T00:00:00Z', host: 'b', v: -0 }, { time: last, host: 'c', v: 3 }]);
    }
    await db.close();
    const s = await startTestServer({ store });
    try {
      for (const [unit, [first, last]] of Object.entries(ENDS)) {
        const table = `t_${unit}`;
        assert.deepEqual(await queryCsv(s.url, { table, db: 'd' }), ['time,host,v', `${first},a,1`, '1970-01-01T00:00:00Z,b,-0', `${last},c,3`], unit);
        assert.deepEqual(await queryCsv(s.url, { table, db: 'd', from: first, to: '1970-01-01T00:00:00Z' }), ['time,host,v', `${first},a,1`], unit);
        assert.deepEqual(await queryCsv(s.url, { table, db: 'd', from: '1970-01-01T00:00:00Z', to: last }), ['time,host,v', '1970-01-01T00:00:00Z,b,-0'], unit);
        assert.deepEqual(await queryCsv(s.url, { table, db: 'd', from: first, to: last, agg: 'count' }), ['time,count', `${first},2`], unit);
        const empty = await fetch(`${s.url}/api/v1/query?table=${table}&db=d&from=${encodeURIComponent(last)}&to=${encodeURIComponent(first)}`);
        assert.equal(empty.status, 400);
        assert.match(await empty.text(), /is not before --to .*the range \[from, to\) is empty/);
      }
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
