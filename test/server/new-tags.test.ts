import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import { Quiver } from '../../src/quiver.js';
import { post, queryCsv, startTestServer } from './helpers.js';

setLogger({ error: () => {}, warn: () => {} });

// A measurement's tag set grows (Telegraf adds tags, InfluxDB takes them): the server adds the
// tag to the table (one alter) on the first point carrying it; earlier points read it as null.

const T = 1_767_225_600_000_000_000n;

test('@influxdata/influxdb-client writes points whose tag sets grow; every point reads back exactly, earlier ones with the null tag', async () => {
  const s = await startTestServer({ databases: ['metrics'] });
  try {
    const influx = new InfluxDB({ url: s.url, token: 'x' });
    const write = async (points: Point[]) => {
      const api = influx.getWriteApi('o', 'metrics', 'ns', { maxRetries: 0 });
      api.writePoints(points);
      await api.close();
    };
    await write([0, 1].map((i) => new Point('cpu').tag('host', 'h1').floatField('usage', i + 0.5).timestamp(`${T + BigInt(i)}`)));
    await write([2, 3].map((i) => new Point('cpu').tag('host', 'h1').tag('region', i === 2 ? 'eu' : '').floatField('usage', i + 0.5).timestamp(`${T + BigInt(i)}`)));
    await write([new Point('cpu').tag('host', 'h2').tag('rack', 'r,7').tag('region', 'us').floatField('usage', 4.5).timestamp(`${T + 4n}`)]);
    // The same series and time as the first point, now without a region: it is that point (policy last).
    await write([new Point('cpu').tag('host', 'h1').floatField('usage', 9.25).timestamp(`${T}`)]);
    const rows = await queryCsv(s.url, { table: 'cpu' });
    assert.deepEqual(rows, [
      'time,host,region,rack,usage',
      '2026-01-01T00:00:00Z,h1,,,9.25',
      '2026-01-01T00:00:00.000000001Z,h1,,,1.5',
      '2026-01-01T00:00:00.000000003Z,h1,,,3.5', // the client leaves out a tag with an empty value: the null tag
      '2026-01-01T00:00:00.000000002Z,h1,eu,,2.5',
      '2026-01-01T00:00:00.000000004Z,h2,us,"r,7",4.5',
    ]);
    assert.deepEqual(await queryCsv(s.url, { table: 'cpu', where: 'region=\\N', columns: 'usage' }), ['time,usage', '2026-01-01T00:00:00Z,9.25', '2026-01-01T00:00:00.000000001Z,1.5', '2026-01-01T00:00:00.000000003Z,3.5']);
    await s.server.close();
    // Two alters, each adding the tags of the write that first carried them.
    const db = await Quiver.open(s.store);
    const alters = (await (await db.table('cpu')).versions()).filter((v) => v.operation === 'alter');
    assert.deepEqual(alters.map((v) => v.summary), ['added tag region', 'added tag rack']);
    await db.close();
  } finally {
    await s.stop();
  }
});

test('serve: writes adding the same tag at once make one alter and every point is kept', async () => {
  const s = await startTestServer({ databases: ['db'] });
  try {
    assert.equal((await post(`${s.url}/write?db=db`, 'm,host=a v=0 0\n')).status, 204);
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => post(`${s.url}/write?db=db`, `m,host=a,zone=z${i} v=${i + 1} ${i + 1}\n`)));
    assert.deepEqual(answers.map((a) => a.status), [204, 204, 204, 204, 204, 204], answers.map((a) => a.text).join('\n'));
    const rows = await queryCsv(s.url, { table: 'm', columns: 'zone,v' });
    assert.deepEqual(rows.slice(1).map((r) => r.split(',').slice(1).join(',')).sort(), [',0', 'z0,1', 'z1,2', 'z2,3', 'z3,4', 'z4,5', 'z5,6']);
    const db = await Quiver.open(s.store);
    assert.equal((await (await db.table('m')).versions()).filter((v) => v.operation === 'alter').length, 1);
    await db.close();
  } finally {
    await s.stop();
  }
});
