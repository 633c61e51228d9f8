/**
 * Time buckets: fixed widths and calendar days/weeks/months in time zones across DST
 * changes, checked against DuckDB's time_bucket (ICU time zones) on the same rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TableSchema } from '../../src/core/types.js';
import { runQuery } from '../../src/scan/query.js';
import { makeBucketer, parseEvery } from '../../src/scan/bucket.js';
import { localToUtcMs, zoneOffsetMs } from '../../src/scan/bucket-zone.js';
import { UsageError } from '../../src/errors.js';
import { close, duckRows, duckWith, FakeTable, tableRows, type TestRow } from './query-fixture.test.js';

const schema: TableSchema = { time: 'time', timeUnit: 'ns', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] };

// Every 37 minutes around the 2026 DST changes: US spring forward Mar 8, Europe Mar 29,
// Europe fall back Oct 25, US Nov 1.
const rows: TestRow[] = [];
for (const [start, end] of [[Date.UTC(2026, 1, 20), Date.UTC(2026, 3, 6)], [Date.UTC(2026, 9, 15), Date.UTC(2026, 10, 10)]] as const) {
  let i = 0;
  for (let t = start; t < end; t += 37 * 60_000, i++) {
    rows.push({ time: BigInt(t) * 1_000_000n, host: i % 3 ? 'a' : 'b', v: (i * 7919) % 1000 / 10 });
  }
}
const table = new FakeTable(schema, rows, { chunks: 4, batchRowsMax: 300 });

const cases: { every: string; interval: string; zone: string }[] = [
  { every: '1d', interval: '1 day', zone: 'Europe/Paris' },
  { every: '1d', interval: '1 day', zone: 'America/New_York' },
  { every: '2d', interval: '2 days', zone: 'Europe/Paris' },
  { every: '1w', interval: '1 week', zone: 'America/New_York' },
  { every: '1mo', interval: '1 month', zone: 'Europe/Paris' },
  { every: '1mo', interval: '1 month', zone: 'America/New_York' },
  { every: '3mo', interval: '3 months', zone: 'Europe/Paris' },
  { every: '1d', interval: '1 day', zone: 'UTC' },
  { every: '1w', interval: '1 week', zone: 'UTC' },
  { every: '7m', interval: '7 minutes', zone: 'UTC' },
  { every: '90s', interval: '90 seconds', zone: 'UTC' },
  { every: '5h', interval: '5 hours', zone: 'UTC' },
];

test('calendar and fixed buckets match DuckDB time_bucket in Europe/Paris, America/New_York and UTC across DST', async () => {
  const duck = await duckWith(schema, rows);
  try {
    for (const c of cases) {
      const got = tableRows(await runQuery(table, { every: c.every, timeZone: c.zone, by: ['host'], agg: { v: ['count', 'sum', 'first'] } }));
      const bucket = c.zone === 'UTC'
        ? `time_bucket(INTERVAL '${c.interval}', ts)`
        : `time_bucket(INTERVAL '${c.interval}', ts::TIMESTAMPTZ, '${c.zone}')`;
      const expected = await duckRows(duck.conn, `
        SELECT epoch_us(${bucket}) * 1000 AS time, host, count(v) AS count_v, sum(v) AS sum_v, arg_min(v, t) AS first_v
        FROM d GROUP BY ALL ORDER BY host, time`);
      assert.equal(got.length, expected.length, `${c.every} ${c.zone}: bucket count`);
      got.forEach((g, i) => {
        const e = expected[i]!;
        assert.equal(g.host, e.host, `${c.every} ${c.zone} row ${i} host`);
        assert.equal(g.time, BigInt(e.time as number), `${c.every} ${c.zone} row ${i} time ${new Date(Number(g.time as bigint / 1_000_000n)).toISOString()}`);
        close(g.count_v, e.count_v, `${c.every} ${c.zone} row ${i} count`, 0);
        close(g.sum_v, e.sum_v, `${c.every} ${c.zone} row ${i} sum`);
        close(g.first_v, e.first_v, `${c.every} ${c.zone} row ${i} first`, 0);
      });
    }
  } finally {
    duck.close();
  }
});

test('local days last 23 and 25 hours on DST changes', () => {
  const paris = makeBucketer('1d', 'ms', 'Europe/Paris');
  const spring = paris.locate(BigInt(Date.UTC(2026, 2, 29, 12)));
  assert.equal(spring.start, BigInt(Date.UTC(2026, 2, 28, 23)));
  assert.equal(spring.end - spring.start, 23n * 3_600_000n);
  const fall = paris.locate(BigInt(Date.UTC(2026, 9, 25, 12)));
  assert.equal(fall.end - fall.start, 25n * 3_600_000n);
  const ny = makeBucketer('1mo', 's', 'America/New_York');
  const march = ny.locate(BigInt(Date.UTC(2026, 2, 15) / 1000));
  assert.equal(march.start, BigInt(Date.UTC(2026, 2, 1, 5) / 1000)); // EST
  assert.equal(march.end, BigInt(Date.UTC(2026, 3, 1, 4) / 1000)); // EDT
});

test('zone offsets and local-to-UTC conversion, including the gap and the overlap', () => {
  assert.equal(zoneOffsetMs('Europe/Paris', Date.UTC(2026, 0, 1)), 3_600_000);
  assert.equal(zoneOffsetMs('Europe/Paris', Date.UTC(2026, 6, 1)), 7_200_000);
  assert.equal(zoneOffsetMs('Asia/Kolkata', Date.UTC(2026, 6, 1)), 19_800_000);
  // 02:30 does not exist in Paris on 2026-03-29: read with the winter offset (ICU lenient).
  assert.equal(localToUtcMs('Europe/Paris', Date.UTC(2026, 2, 29, 2, 30)), Date.UTC(2026, 2, 29, 1, 30));
  // 02:30 happens twice on 2026-10-25: the earlier instant.
  assert.equal(localToUtcMs('Europe/Paris', Date.UTC(2026, 9, 25, 2, 30)), Date.UTC(2026, 9, 25, 0, 30));
});

test('every is parsed strictly and must fit the table unit', () => {
  assert.deepEqual(parseEvery('10s'), { count: 10, unit: 's' });
  assert.deepEqual(parseEvery('1mo'), { count: 1, unit: 'mo' });
  for (const bad of ['', '1', 'h', '0h', '1.5h', '1y', '-1h', '1 hour']) assert.throws(() => parseEvery(bad), UsageError, bad);
  assert.throws(() => makeBucketer('500ms', 's'), /not a whole number/);
  assert.throws(() => makeBucketer('1d', 'ms', 'Mars/Olympus'), /unknown IANA time zone/);
  // Fixed buckets are aligned on 2000-01-03 (a Monday): weeks start on Monday.
  const week = makeBucketer('1w', 'ms').locate(BigInt(Date.UTC(2026, 10, 26)));
  assert.equal(new Date(Number(week.start)).getUTCDay(), 1);
});

test('fill enumerates calendar days across DST: every bucket starts at local midnight', async () => {
  const from = Date.UTC(2026, 2, 25), to = Date.UTC(2026, 3, 2);
  const sparse = rows.filter((r, i) => i % 97 === 0 && r.time >= BigInt(from) * 1_000_000n && r.time < BigInt(to) * 1_000_000n);
  const got = tableRows(await runQuery(new FakeTable(schema, sparse), { from, to, every: '1d', timeZone: 'Europe/Paris', fill: 'null', agg: { v: 'count' } }));
  const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  const labels = got.map((r) => local.format(new Date(Number((r.time as bigint) / 1_000_000n))));
  // from = Mar 25 01:00 CET and to = Apr 2 02:00 CEST: the local days Mar 25 … Apr 2, one of 23 h.
  assert.deepEqual(labels, ['25/03/2026, 00:00', '26/03/2026, 00:00', '27/03/2026, 00:00', '28/03/2026, 00:00', '29/03/2026, 00:00',
    '30/03/2026, 00:00', '31/03/2026, 00:00', '01/04/2026, 00:00', '02/04/2026, 00:00']);
  assert.equal(got.reduce((a, r) => a + Number(r.count_v), 0), sparse.length);
});

test('a zone change at a second that is not a whole minute (Paris leaves +00:09:21 at 1911-03-10T23:50:39Z) bounds local days exactly', () => {
  // 23:50:38Z is 23:59:59 PMT, 23:50:39Z is 23:50:39 WET: March 10 lasts 24 h 9 min 21 s.
  assert.equal(zoneOffsetMs('Europe/Paris', Date.UTC(1911, 2, 10, 23, 50, 38)), 561_000);
  assert.equal(zoneOffsetMs('Europe/Paris', Date.UTC(1911, 2, 10, 23, 50, 39)), 0);
  assert.equal(zoneOffsetMs('Europe/Paris', Date.UTC(1911, 2, 10, 23, 50, 0)), 561_000);
  assert.equal(localToUtcMs('Europe/Paris', Date.UTC(1911, 2, 11)), Date.UTC(1911, 2, 11));
  const paris = makeBucketer('1d', 'ms', 'Europe/Paris');
  const late = paris.locate(BigInt(Date.UTC(1911, 2, 10, 23, 55))); // local 23:55 WET on March 10
  assert.equal(late.start, BigInt(Date.UTC(1911, 2, 9, 23, 50, 39)));
  assert.equal(late.end, BigInt(Date.UTC(1911, 2, 11)));
  const next = paris.locate(BigInt(Date.UTC(1911, 2, 11, 0, 5)));
  assert.equal(next.start, BigInt(Date.UTC(1911, 2, 11)));
});

test('a bucket that would start before the unit\'s first time is refused naming the query\'s every, for fixed, day and month buckets', () => {
  const first = -(2n ** 63n); // 1677-09-21T00:12:43.145224192Z in ns
  for (const [every, zone] of [['1h', 'UTC'], ['1d', 'UTC'], ['1d', 'Europe/Paris'], ['1mo', 'UTC'], ['3mo', 'America/New_York']] as const) {
    const bucketer = makeBucketer(every, 'ns', zone);
    assert.throws(() => bucketer.locate(first), (error: Error) => error instanceof UsageError &&
      error.message.startsWith(`query every ${every}: the bucket of time `) && error.message.includes('would start before the first time of unit ns'), every);
    // A time whose bucket starts inside the range is bucketed: start <= time < end.
    const later = first + 400n * 86_400_000_000_000n;
    const range = bucketer.locate(later);
    assert.ok(range.start <= later && later < range.end && range.start >= first, every);
  }
});
