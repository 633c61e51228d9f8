import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromIPC } from 'apache-arrow';
import { post, queryRows, startTestServer } from './helpers.js';

const LINES = Array.from({ length: 120 }, (_, i) => `cpu,host=h${i % 3} usage=${i % 10}.25,n=${i}i ${1_767_225_600_000_000_000n + BigInt(i) * 60_000_000_000n}`).join('\n');

test('query: JSON, JSON lines, CSV and Arrow by Accept or format=; GET query string or POST JSON body with the CLI\'s options', async () => {
  const s = await startTestServer();
  try {
    assert.equal((await post(`${s.url}/api/v2/write?bucket=b`, LINES)).status, 204);
    // Scan with a time range, tag filter, field filter, projection, limit.
    const rows = await queryRows(s.url, { table: 'cpu', from: '2026-01-01T00:30:00Z', to: '2026-01-01T01:00:00Z', where: 'host=h1', filter: 'n>40', columns: 'n', limit: '3' });
    assert.deepEqual(rows, [{ time: '2026-01-01T00:43:00Z', host: undefined, n: 43 }, { time: '2026-01-01T00:46:00Z', n: 46 }, { time: '2026-01-01T00:49:00Z', n: 49 }].map(({ time, n }) => ({ time, n })));
    // Aggregation, POST JSON with arrays.
    const res = await fetch(`${s.url}/api/v1/query`, { method: 'POST', body: JSON.stringify({ table: 'cpu', agg: ['count', 'max:n'], every: '1h', by: ['host'], where: ['host=h0|h2'] }) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await res.json(), [
      { host: 'h0', time: '2026-01-01T00:00:00Z', count: 20, max_n: 57 }, { host: 'h0', time: '2026-01-01T01:00:00Z', count: 20, max_n: 117 },
      { host: 'h2', time: '2026-01-01T00:00:00Z', count: 20, max_n: 59 }, { host: 'h2', time: '2026-01-01T01:00:00Z', count: 20, max_n: 119 },
    ]);
    const csv = await fetch(`${s.url}/api/v1/query?table=cpu&limit=2`, { headers: { Accept: 'text/csv' } });
    assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.equal(await csv.text(), 'time,host,usage,n\n2026-01-01T00:00:00Z,h0,0.25,0\n2026-01-01T00:03:00Z,h0,3.25,3\n');
    const jsonl = await fetch(`${s.url}/api/v1/query?table=cpu&limit=2&format=jsonl`);
    assert.equal((await jsonl.text()).trimEnd().split('\n').length, 2);
    const arrow = await fetch(`${s.url}/api/v1/query?table=cpu`, { headers: { Accept: 'application/vnd.apache.arrow.stream, */*;q=0.1' } });
    assert.equal(arrow.headers.get('content-type'), 'application/vnd.apache.arrow.stream');
    const t = tableFromIPC(new Uint8Array(await arrow.arrayBuffer()));
    assert.equal(t.numRows, 120);
    assert.deepEqual(t.schema.fields.map((f) => f.name), ['time', 'host', 'usage', 'n']);
    assert.equal(t.getChild('n')!.get(119), 119n);
    // latest, and the empty result of a range with nothing in it (Arrow keeps the schema).
    assert.equal((await queryRows(s.url, { table: 'cpu', latest: 'true' })).length, 3);
    const empty = await fetch(`${s.url}/api/v1/query?table=cpu&from=2030-01-01T00:00:00Z&format=arrow`);
    assert.equal(tableFromIPC(new Uint8Array(await empty.arrayBuffer())).schema.fields.length, 4);
  } finally {
    await s.stop();
  }
});

test('query errors: 400 naming the bad option, 404 for an unknown table, 406 for an Accept it cannot serve', async () => {
  const s = await startTestServer();
  try {
    assert.equal((await post(`${s.url}/api/v2/write?bucket=b`, LINES)).status, 204);
    const cases: [string, number, RegExp][] = [
      ['table=cpu&bogus=1', 400, /unknown query option "bogus"/],
      ['', 400, /missing table option/],
      ['table=nope', 404, /no table named "nope"/],
      ['table=../x', 400, /table name "..\/x" is not allowed/],
      ['table=cpu&from=yesterday', 400, /--from expects ISO-8601 or epoch milliseconds/],
      ['table=cpu&agg=max:usage&order=any', 400, /--order does not apply to query/],
      ['table=cpu&filter=nofield>1', 400, /nofield/],
      ['table=cpu&format=xml', 400, /format must be one of json, jsonl, csv, arrow/],
      ['table=cpu&limit=1&limit=2', 400, /limit is given 2 times/],
    ];
    for (const [q, status, pattern] of cases) {
      const r = await fetch(`${s.url}/api/v1/query?${q}`);
      assert.equal(r.status, status, q);
      assert.match(((await r.json()) as { message: string }).message, pattern, q);
    }
    const notJson = await fetch(`${s.url}/api/v1/query`, { method: 'POST', body: '{nope' });
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { message: string }).message, /query body is not JSON/);
    const xml = await fetch(`${s.url}/api/v1/query?table=cpu`, { headers: { Accept: 'application/xml' } });
    assert.equal(xml.status, 406);
  } finally {
    await s.stop();
  }
});

test('a client that goes away mid-answer stops the scan; the server goes on serving', async () => {
  const s = await startTestServer();
  try {
    const many = Array.from({ length: 60_000 }, (_, i) => `big,h=h${i % 50} v=${i}i ${i}`).join('\n');
    assert.equal((await post(`${s.url}/api/v2/write?bucket=b`, many)).status, 204);
    const controller = new AbortController();
    const res = await fetch(`${s.url}/api/v1/query?table=big&format=csv`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.closed.catch(() => undefined);
    // The next request is served; its log shows the aborted one first.
    assert.equal((await queryRows(s.url, { table: 'big', agg: 'count' }))[0]!.count, 60_000);
  } finally {
    await s.stop();
  }
});

test('/metrics: points, WAL, flushes, commits, store requests and query latency in the exposition format', async () => {
  const s = await startTestServer();
  try {
    assert.equal((await post(`${s.url}/api/v2/write?bucket=b`, LINES)).status, 204);
    await queryRows(s.url, { table: 'cpu', agg: 'count' });
    const text = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(text, /^# TYPE quiver_points_written_total counter$/m);
    assert.match(text, /^quiver_points_written_total 120$/m);
    assert.match(text, /^quiver_wal_fsync_duration_seconds_count [1-9]\d*$/m);
    assert.match(text, /^quiver_flushes_total\{reason="query"\} 1$/m);
    assert.match(text, /^quiver_commits_total\{operation="append"\} 1$/m);
    assert.match(text, /^quiver_store_requests_total\{op="put"\} [1-9]\d*$/m);
    assert.match(text, /^quiver_store_errors_total\{op="get"\} 0$/m);
    assert.match(text, /^quiver_query_duration_seconds_bucket\{kind="query",le="\+Inf"\} 1$/m);
    assert.match(text, /^quiver_http_requests_total\{route="\/api\/v2\/write",method="POST",status="204"\} 1$/m);
    assert.match(text, /^quiver_decoded_cache_hit_ratio /m);
    assert.match(text, /^quiver_wal_bytes \d+$/m);
    // Every sample line is name{labels} value.
    for (const line of text.trimEnd().split('\n')) if (!line.startsWith('#')) assert.match(line, /^[a-z_]+(\{[^}]*\})? (-?[\d.e+-]+|NaN|\+Inf)$/, line);
    const log = s.logs.find((l) => l.path === '/api/v2/write')!;
    assert.deepEqual(Object.keys(log).sort(), ['level', 'method', 'ms', 'path', 'points', 'status', 'time']);
    assert.equal(log.points, 120);
  } finally {
    await s.stop();
  }
});
