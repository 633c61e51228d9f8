import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { post, queryCsv, queryRows, startTestServer } from './helpers.js';

// Several writers, many batches, flushes by age landing between and during writes, queries
// running meanwhile: every acknowledged point is readable from its ack on, and comes back
// exactly once with its exact values (after the flushes, and after a restart).

const WRITERS = 4;
const BATCHES = 25;
const LINES = 200;
const T0 = 1_767_225_600_000_000_000n;

/** The line of point `id` and the CSV row it must come back as (time,w,k,f,i,s). */
function point(id: number): { line: string; row: string } {
  const w = `w${id % WRITERS}`;
  const k = `k${id % 7}`;
  // Floats that need all 17 digits, integers beyond 2^53, strings with the escapes.
  const f = (id * 0.1 + 1 / 3) * (id % 2 ? -1 : 1);
  const i = 2n ** 60n + BigInt(id) * 1_000_003n;
  const s = `p${id} "q" \\ ,=`;
  const time = T0 + BigInt(id) * 1_000_000_000n + BigInt(id % 997);
  const iso = new Date(Number(time / 1_000_000n)).toISOString().replace('Z', '');
  const frac = String(time % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  const shown = `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
  return {
    line: `acked,w=${w},k=${k} f=${f},i=${i}i,s="${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}" ${time}`,
    row: `${shown},${w},${k},${f},${i},"${s.replaceAll('"', '""')}"`,
  };
}

test('concurrent writers and queries with flushes in between: every acknowledged point visible from its ack, exactly once, values exact', async () => {
  const s = await startTestServer({ flushAgeMs: 20 });
  let restarted: Awaited<ReturnType<typeof startTestServer>> | undefined;
  try {
    const acked: number[] = [];
    let writing = true;
    const writer = async (w: number) => {
      for (let b = 0; b < BATCHES; b++) {
        const ids = Array.from({ length: LINES }, (_, i) => (b * LINES + i) * WRITERS + w);
        const r = await post(`${s.url}/api/v2/write?bucket=b&precision=ns`, ids.map((id) => point(id).line).join('\n'));
        assert.equal(r.status, 204, r.text);
        acked.push(...ids);
      }
    };
    let queries = 0;
    const querier = async () => {
      while (writing) {
        const before = acked.length;
        if (before === 0) { await new Promise((r) => setImmediate(r)); continue; }
        const rows = await queryRows(s.url, { table: 'acked', agg: 'count:f' });
        const count = Number(rows[0]?.count_f ?? 0);
        assert.ok(count >= before, `a query counted ${count} points after ${before} were acknowledged`);
        queries++;
      }
    };
    const readers = [querier(), querier()];
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    writing = false;
    await Promise.all(readers);
    assert.ok(queries > 0);
    assert.ok(s.logs.filter((l) => l.event === 'flush').length >= 2, 'flushes ran while writing');

    const expected = acked.sort((a, b) => a - b).map((id) => point(id).row);
    const check = async (url: string) => {
      const lines = await queryCsv(url, { table: 'acked', columns: 'w,k,f,i,s' });
      assert.equal(lines[0], 'time,w,k,f,i,s');
      // Rows come series by series: order them by id (the time) to compare.
      const rows = lines.slice(1).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.equal(rows.length, expected.length, 'every acknowledged point once');
      assert.deepEqual(rows, [...expected].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    };
    await check(s.url);
    // After the flush on close, from chunks only, in a new server.
    await s.server.close();
    const db = await Quiver.open(s.store);
    try {
      assert.equal((await db.table('acked')).pendingRows, 0);
    } finally {
      await db.close();
    }
    restarted = await startTestServer({ store: s.store });
    await check(restarted.url);
  } finally {
    await restarted?.stop();
    await s.stop().catch(() => {});
  }
});

test('a line refused part way leaves nothing behind; a new field takes the type of the first line naming it, later lines of another type are refused', async () => {
  const s = await startTestServer();
  try {
    const body = [
      'm,t=a v=1,w=2 1',
      'm,t=b v=3,w=4,x=oops 2', // refused after v and w were read
      'm,t=c v=5 3', // must not inherit b's w
      'm,t=d v=6,n="s" 4', // n: a new field, utf8 (first line naming it)
      'm,t=e v=7,n=8i 5', // n at another type: refused
      'm,t=f v=9,n="u" 6',
    ].join('\n');
    const r = await post(`${s.url}/api/v2/write?bucket=b`, body);
    assert.equal(r.status, 400, r.text);
    const j = JSON.parse(r.text);
    assert.deepEqual(j.data.map((d: { line_number: number }) => d.line_number), [2, 5]);
    assert.match(j.data[1].error_message, /field "n" is utf8 in table m, got int64/);
    assert.deepEqual(await queryCsv(s.url, { table: 'm' }), [
      'time,t,v,w,n',
      '1970-01-01T00:00:00.000000001Z,a,1,2,',
      '1970-01-01T00:00:00.000000003Z,c,5,,',
      '1970-01-01T00:00:00.000000004Z,d,6,,s',
      '1970-01-01T00:00:00.000000006Z,f,9,,u',
    ]);
  } finally {
    await s.stop();
  }
});
