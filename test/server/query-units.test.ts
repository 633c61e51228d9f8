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
import { gzipSync } from 'node:zlib';

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

test('query: a POST body is decoded whole (a character split across 16 KiB gunzip outputs stays one character); invalid UTF-8 is a 400', async () => {
  const s = await startTestServer();
  try {
    const lines = 'cpu,host=\u00e9t\u00e9 v=1 1767225600000000000\ncpu,host=ete v=2 1767225600000000000';
    assert.equal((await fetch(`${s.url}/api/v2/write?bucket=b`, { method: 'POST', body: lines })).status, 204);
    // The é of the wanted tag value starts at byte 16,383 of the body: gunzip hands out
    // 16 KiB pieces, so its two bytes arrive in two chunks.
    const head = '{"table":"cpu","db":"d","where":["host=';
    const pad = 'a'.repeat(16_383 - Buffer.byteLength(head) - 1);
    const body = `${head}${pad}|\u00e9t\u00e9"]}`;
    assert.equal(Buffer.from(body).indexOf(Buffer.from('\u00e9')), 16_383);
    const res = await fetch(`${s.url}/api/v1/query`, { method: 'POST', body: gzipSync(body), headers: { 'Content-Encoding': 'gzip', Accept: 'text/csv' } });
    assert.equal(res.status, 200);
    assert.deepEqual((await res.text()).trimEnd().split('\n'), ['time,host,v', '2026-01-01T00:00:00Z,\u00e9t\u00e9,1']);
    const bad = await fetch(`${s.url}/api/v1/query`, { method: 'POST', body: Buffer.concat([Buffer.from('{"table":"cpu","where":["host=\u00e9'), Buffer.from([0xff]), Buffer.from('"]}')]) });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /query body is not JSON \(UTF-8\)/);
  } finally {
    await s.stop();
  }
});
