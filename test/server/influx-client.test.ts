import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError, InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';

// The client logs every failed write to the console: the tests check the errors themselves.
setLogger({ error: () => {}, warn: () => {} });
import { queryCsv, startTestServer } from './helpers.js';

// The official InfluxDB JavaScript client writes into Quiver as into InfluxDB 2, with its token,
// batching, gzip and precision; the points come back exactly through Quiver's query endpoint.

test('@influxdata/influxdb-client writes every field type; the points read back exactly', async () => {
  const s = await startTestServer({ token: 'tok', databases: ['metrics'] });
  try {
    const influx = new InfluxDB({ url: s.url, token: 'tok' });
    const api = influx.getWriteApi('my-org', 'metrics', 'ns', { batchSize: 1000, gzipThreshold: 1000, maxRetries: 0 });
    api.useDefaultTags({ dc: 'eu 1' });
    for (let i = 0; i < 2500; i++) {
      api.writePoint(new Point('weather')
        .tag('station', `st,${i % 5}`)
        .floatField('temp', i / 3)
        .intField('count', -i)
        .uintField('big', '18446744073709551615')
        .stringField('note', `line "${i}"\\ end`)
        .booleanField('ok', i % 2 === 0)
        .timestamp(`${1_767_225_600_000_000_000n + BigInt(i)}`));
    }
    await api.close();
    const rows = await queryCsv(s.url, { table: 'weather', where: 'station=st,3', limit: '2' }, { Authorization: 'Bearer tok' });
    // The client sends fields sorted by name: the table's fields come in that order.
    assert.equal(rows[0], 'time,dc,station,big,count,note,ok,temp');
    assert.equal(rows[1], '2026-01-01T00:00:00.000000003Z,eu 1,"st,3",18446744073709551615,-3,"line ""3""\\ end",false,1');
    const count = await fetch(`${s.url}/api/v1/query?table=weather&agg=count`, { headers: { Authorization: 'Token tok' } });
    assert.deepEqual(await count.json(), [{ time: '2026-01-01T00:00:00Z', count: 2500 }]);
    // Exact floats: every temp i/3 comes back as the same double.
    const all = await fetch(`${s.url}/api/v1/query?table=weather&columns=temp,count&format=jsonl`, { headers: { Authorization: 'Token tok' } });
    const temps = (await all.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as { temp: number; count: number });
    assert.equal(temps.length, 2500);
    for (const r of temps) assert.ok(Object.is(r.temp, Math.abs(r.count) / 3), JSON.stringify(r));
  } finally {
    await s.stop();
  }
});

test('@influxdata/influxdb-client sees Quiver\'s errors: a bad line is a 400 naming it, a wrong token 401, an unknown bucket 404', async () => {
  const s = await startTestServer({ token: 'tok', databases: ['metrics'] });
  try {
    const write = async (token: string, bucket: string, record: string) => {
      const api = new InfluxDB({ url: s.url, token }).getWriteApi('o', bucket, 'ns', { maxRetries: 0 });
      api.writeRecord(record);
      try {
        await api.close();
        return undefined;
      } catch (error) {
        return error as HttpError;
      }
    };
    const bad = await write('tok', 'metrics', 'm v=1 1\nm v=bad 2');
    assert.ok(bad instanceof HttpError);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.message, /line 2: field "v": invalid value "bad"/);
    const unauthorized = await write('nope', 'metrics', 'm v=1 1');
    assert.ok(unauthorized instanceof HttpError);
    assert.equal(unauthorized.statusCode, 401);
    const unknown = await write('tok', 'other', 'm v=1 1');
    assert.ok(unknown instanceof HttpError);
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.message, /database not found: "other"/);
    assert.equal(await write('tok', 'metrics', 'm v=2 3'), undefined);
  } finally {
    await s.stop();
  }
});
