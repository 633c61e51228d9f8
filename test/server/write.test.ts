import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { request } from 'node:http';
import { post, queryCsv, queryRows, startTestServer } from './helpers.js';

test('v2 write: every field type exactly, fields added by later writes, 204', async () => {
  const s = await startTestServer();
  try {
    const body = [
      'cpu,host=a,region=eu f=1.5,i=9223372036854775807i,u=18446744073709551615u,s="q\\"u\\\\o,te = x",b=t 1700000000123456789',
      'cpu,host=b f=0.1,i=-9223372036854775808i,u=0u,s="",b=FALSE 1700000000123456790',
    ].join('\n');
    const r = await post(`${s.url}/api/v2/write?org=o&bucket=b&precision=ns`, body);
    assert.equal(r.status, 204, r.text);
    const r2 = await post(`${s.url}/api/v2/write?bucket=b`, 'cpu,host=c f=2,extra=3i 1700000000123456791\n');
    assert.equal(r2.status, 204, r2.text);
    assert.deepEqual(await queryCsv(s.url, { table: 'cpu' }), [
      'time,host,region,f,i,u,s,b,extra',
      '2023-11-14T22:13:20.123456789Z,a,eu,1.5,9223372036854775807,18446744073709551615,"q""u\\o,te = x",true,',
      '2023-11-14T22:13:20.12345679Z,b,,0.1,-9223372036854775808,0,"",false,', // "" is the empty string, nothing is null
      '2023-11-14T22:13:20.123456791Z,c,,2,,,,,3',
    ]);
  } finally {
    await s.stop();
  }
});

test('partial writes: bad lines listed with line numbers in a 400, the valid lines written (v1, v2, v3 bodies)', async () => {
  const s = await startTestServer();
  try {
    const body = 'm,t=a v=1 1\nm,t=b v=oops 2\n\n# comment\nm,t=c v=3 3\nm v=4 99999999999999999999\nm,t=d v=5i 5\n';
    const v2 = await post(`${s.url}/api/v2/write?bucket=b`, body);
    assert.equal(v2.status, 400);
    const j2 = JSON.parse(v2.text);
    assert.equal(j2.code, 'invalid');
    assert.equal(j2.line, 2);
    assert.match(j2.message, /partial write: 2 of 5 points written; 3 lines refused; first: line 2: field "v": invalid value "oops"/);
    assert.deepEqual(j2.data.map((d: { line_number: number }) => d.line_number), [2, 6, 7]);
    assert.match(j2.data[1].error_message, /timestamp 99999999999999999999 is out of range/);
    assert.match(j2.data[2].error_message, /field "v" is float64 in table m, got int64/);
    assert.equal(j2.data[0].original_line, 'm,t=b v=oops 2');
    assert.deepEqual((await queryRows(s.url, { table: 'm' })).map((r) => r.t), ['a', 'c']);

    const v1 = await post(`${s.url}/write?db=x`, 'm,t=e v=6 6\nm,t=f v=\n');
    assert.equal(v1.status, 400);
    const j1 = JSON.parse(v1.text);
    assert.match(j1.error, /partial write: 1 of 2 points written; 1 line refused; first: line 2: field "v" has no value/);
    assert.equal(j1.data[0].line_number, 2);

    const v3 = await post(`${s.url}/api/v3/write_lp?db=x&precision=nanosecond`, 'm,t=g v=7 7\nm,t=h,v=1 v=8 8\n');
    assert.equal(v3.status, 400);
    const j3 = JSON.parse(v3.text);
    assert.equal(j3.error, 'partial write of line protocol occurred');
    assert.deepEqual(j3.data.map((d: { line_number: number }) => d.line_number), [2]);
    // A new tag is added to the table (new-tags.ts), unless a field has its name.
    assert.match(j3.data[0].error_message, /tag "v" is not a tag of table m and could not be added \(its tags: t; v is a field of it\)/);
    // All or nothing when asked.
    const strict = await post(`${s.url}/api/v3/write_lp?db=x&accept_partial=false`, 'm,t=i v=9 9\nm,t=j v=x 10\n');
    assert.equal(strict.status, 400);
    assert.equal(JSON.parse(strict.text).error, 'parsing failed for write_lp endpoint');
    assert.deepEqual((await queryRows(s.url, { table: 'm' })).map((r) => r.t), ['a', 'c', 'e', 'g']);
  } finally {
    await s.stop();
  }
});

test('precision: each API\'s names, wrong ones refused, the server\'s time at the precision when a line has none', async () => {
  const s = await startTestServer();
  try {
    for (const [path, p, unit] of [['/write?db=d', 'h', 3_600_000_000_000n], ['/write?db=d', 'm', 60_000_000_000n], ['/write?db=d', 'u', 1000n], ['/write?db=d', 'n', 1n],
      ['/api/v2/write?bucket=b', 's', 1_000_000_000n], ['/api/v2/write?bucket=b', 'us', 1000n], ['/api/v3/write_lp?db=d', 'millisecond', 1_000_000n], ['/api/v3/write_lp?db=d', 'second', 1_000_000_000n]] as const) {
      const r = await post(`${s.url}${path}&precision=${p}`, `p${p},api=${path.length} v=1 2\n`);
      assert.equal(r.status, 204, `${path} ${p}: ${r.text}`);
      const [, row] = await queryCsv(s.url, { table: `p${p}`, where: `api=${path.length}` });
      const ns = BigInt(Date.parse(row!.split(',')[0]!)) * 1_000_000n; // exact for these times (ms multiples or less)
      assert.equal(row!.split(',')[0]!.length > 0, true);
      if (unit >= 1_000_000n) assert.equal(ns, 2n * unit, `${path} ${p}`);
    }
    for (const [path, p] of [['/write?db=d', 'ns2'], ['/api/v2/write?bucket=b', 'h'], ['/api/v2/write?bucket=b', 'n'], ['/api/v3/write_lp?db=d', 'minute']] as const) {
      const r = await post(`${s.url}${path}&precision=${p}`, 'x v=1 1\n');
      assert.equal(r.status, 400);
      assert.match(JSON.parse(r.text).message, new RegExp(`invalid precision "${p}": expected one of`));
    }
    const before = BigInt(Date.now()) * 1_000_000n;
    assert.equal((await post(`${s.url}/api/v2/write?bucket=b&precision=s`, 'now v=1\nnow v=2\n')).status, 204);
    const after = BigInt(Date.now()) * 1_000_000n;
    const rows = await queryCsv(s.url, { table: 'now' });
    // One time per request: both lines are one point (series and time), and as in InfluxDB the
    // later write of a point wins (the table's duplicate policy, last).
    assert.equal(rows.length, 2, rows.join('\n'));
    assert.equal(rows[1]!.split(',').at(-1), '2');
    const times = rows.slice(1).map((r) => r.split(',')[0]!);
    const t = BigInt(Date.parse(times[0]!)) * 1_000_000n;
    assert.equal(t % 1_000_000_000n, 0n);
    assert.ok(t >= before - 1_000_000_000n && t <= after, `${t} not in [${before}, ${after}]`);
  } finally {
    await s.stop();
  }
});

test('bodies: gzip decoded, bad gzip 400, unknown encoding 415, oversize 413 (declared, streamed, or after decompression) with nothing written', async () => {
  const s = await startTestServer({ bodyBytesMax: 64 * 1024 });
  try {
    const lines = Array.from({ length: 500 }, (_, i) => `g,k=${i % 7} v=${i}i ${i}`).join('\n');
    const ok = await post(`${s.url}/api/v2/write?bucket=b`, gzipSync(lines), { 'Content-Encoding': 'gzip' });
    assert.equal(ok.status, 204, ok.text);
    assert.equal((await queryRows(s.url, { table: 'g', agg: 'count' }))[0]!.count, 500);
    const bad = await post(`${s.url}/api/v2/write?bucket=b`, Buffer.from('not gzip at all'), { 'Content-Encoding': 'gzip' });
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.text).message, /gzip body does not decompress/);
    const br = await post(`${s.url}/api/v2/write?bucket=b`, 'g v=1i 1', { 'Content-Encoding': 'br' });
    assert.equal(br.status, 415);
    const big = `${Array.from({ length: 4000 }, (_, i) => `big v=${i}i ${i}`).join('\n')}\n`;
    assert.ok(big.length > 64 * 1024);
    const declared = await post(`${s.url}/api/v2/write?bucket=b`, big);
    assert.equal(declared.status, 413);
    assert.match(JSON.parse(declared.text).message, /exceeds the limit of 65536 bytes/);
    // Streamed without a length: refused when the limit is crossed.
    const streamed = await fetch(`${s.url}/api/v2/write?bucket=b`, {
      method: 'POST', duplex: 'half',
      body: new ReadableStream({ start(c) { for (let i = 0; i < big.length; i += 8192) c.enqueue(new TextEncoder().encode(big.slice(i, i + 8192))); c.close(); } }),
    } as RequestInit);
    assert.equal(streamed.status, 413);
    await streamed.text();
    const bomb = await post(`${s.url}/api/v2/write?bucket=b`, gzipSync(big), { 'Content-Encoding': 'gzip' });
    assert.equal(bomb.status, 413);
    assert.match(JSON.parse(bomb.text).message, /after decompression/);
    assert.equal((await fetch(`${s.url}/api/v1/query?table=big`)).status, 404);
  } finally {
    await s.stop();
  }
});

test('auth: 401 without or with a wrong token; Bearer, Token, Basic and v1 p= accepted; /health open', async () => {
  const s = await startTestServer({ token: 's3cret' });
  try {
    const url = `${s.url}/api/v2/write?bucket=b`;
    const none = await post(url, 'a v=1 1');
    assert.equal(none.status, 401);
    assert.match(JSON.parse(none.text).message, /authorization required/);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="quiver"');
    const wrong = await post(url, 'a v=1 1', { Authorization: 'Token nope' });
    assert.equal(wrong.status, 401);
    assert.match(JSON.parse(wrong.text).message, /wrong token/);
    assert.equal((await post(url, 'a v=1 1', { Authorization: 'Bearer s3cret' })).status, 204);
    assert.equal((await post(url, 'a v=2 2', { Authorization: 'Token s3cret' })).status, 204);
    assert.equal((await post(`${s.url}/write?db=d&u=me&p=s3cret`, 'a v=3 3')).status, 204);
    assert.equal((await post(`${s.url}/write?db=d`, 'a v=4 4', { Authorization: `Basic ${Buffer.from('me:s3cret').toString('base64')}` })).status, 204);
    assert.equal((await fetch(`${s.url}/api/v1/query?table=a`)).status, 401);
    assert.equal((await fetch(`${s.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${s.url}/health`)).status, 200);
    assert.equal((await queryRows(s.url, { table: 'a' }, { Authorization: 'Bearer s3cret' })).length, 4);
  } finally {
    await s.stop();
  }
});

test('databases: a missing db / bucket is 400; with an allowed list, others are 404', async () => {
  const s = await startTestServer({ databases: ['telegraf'] });
  try {
    for (const path of ['/write', '/api/v2/write', '/api/v3/write_lp']) {
      const r = await post(`${s.url}${path}`, 'a v=1 1');
      assert.equal(r.status, 400, path);
      assert.match(JSON.parse(r.text).message, /missing (db|bucket) parameter/);
    }
    for (const path of ['/write?db=other', '/api/v2/write?bucket=other', '/api/v3/write_lp?db=other']) {
      const r = await post(`${s.url}${path}`, 'a v=1 1');
      assert.equal(r.status, 404, path);
      assert.match(JSON.parse(r.text).message, /database not found: "other" \(this server accepts "telegraf"\)/);
    }
    assert.equal((await post(`${s.url}/write?db=telegraf`, 'a v=1 1')).status, 204);
    assert.equal((await fetch(`${s.url}/api/v1/query?table=a&db=other`)).status, 404);
    assert.equal((await fetch(`${s.url}/nowhere`)).status, 404);
    assert.equal((await fetch(`${s.url}/api/v2/write?bucket=telegraf`)).status, 405);
  } finally {
    await s.stop();
  }
});

test('backpressure: when bodies being parsed and unflushed points reach the memory budget, writes get 429 with Retry-After', async () => {
  const s = await startTestServer({ memoryBytes: 1024 * 1024, flushAgeMs: 3_600_000 });
  try {
    const lines = (from: number, n: number) => `${Array.from({ length: n }, (_, i) => `bp,h=h${i % 10} v=${from + i}i ${from + i}`).join('\n')}\n`;
    // A request declaring 900 KB holds its share of the budget while its body is still arriving.
    const first = lines(0, 40_000).slice(0, 900 * 1024);
    const cut = first.lastIndexOf('\n') + 1;
    const body = first.slice(0, cut);
    const req = request(`${s.url}/api/v2/write?bucket=b`, { method: 'POST', headers: { 'Content-Length': Buffer.byteLength(body) } });
    const answer = new Promise<number>((resolve, reject) => { req.on('response', (res) => { res.resume(); resolve(res.statusCode!); }); req.on('error', reject); });
    req.write(body.slice(0, 1000));
    // Wait until the server has the request (its log line is written at the end: poll its metric instead).
    for (;;) {
      const m = await (await fetch(`${s.url}/metrics`)).text();
      const held = Number(/^quiver_buffered_bytes (\d+)/m.exec(m)?.[1]);
      if (held >= 900 * 1024) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const second = lines(100_000, 2000);
    const r = await post(`${s.url}/api/v2/write?bucket=b`, second);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '1');
    assert.match(JSON.parse(r.text).message, /memory budget \(1048576 bytes\)/);
    req.end(body.slice(1000));
    assert.equal(await answer, 204);
    // The retry goes through once the budget has room; nothing of the refused request was written.
    const count = Number((await queryRows(s.url, { table: 'bp', agg: 'count' }))[0]!.count);
    assert.equal(count, body.split('\n').length - 1);
    assert.equal((await post(`${s.url}/api/v2/write?bucket=b`, second)).status, 204);
    assert.equal((await queryRows(s.url, { table: 'bp', agg: 'count' }))[0]!.count, count + 2000);
  } finally {
    await s.stop();
  }
});

test('names a table cannot take are the line\'s error; the measurement\'s other lines are written', async () => {
  const s = await startTestServer();
  try {
    const r = await post(`${s.url}/api/v2/write?bucket=b`, 'n,h=a v=1 1\nn,h=b time=2 2\nn,time=x v=3 3\nn,h=c h=4 4\nbad/name v=5 5\n.hidden v=6 6\nn,h=d v=7 7\n');
    assert.equal(r.status, 400);
    const data = JSON.parse(r.text).data as { line_number: number; error_message: string }[];
    assert.deepEqual(data.map((d) => d.line_number), [2, 3, 4, 5, 6]);
    assert.match(data[0]!.error_message, /field key "time" is the time column's name/);
    assert.match(data[1]!.error_message, /tag key "time" is the time column's name/);
    assert.match(data[2]!.error_message, /field "h" is a tag of table n/);
    assert.match(data[3]!.error_message, /measurement "bad\/name": table name "bad\/name" is not allowed/);
    assert.match(data[4]!.error_message, /measurement ".hidden"/);
    assert.deepEqual((await queryRows(s.url, { table: 'n' })).map((row) => [row.h, row.v]), [['a', 1], ['d', 7]]);
  } finally {
    await s.stop();
  }
});

test('a body that fails after a window of points was written says how many were written; exactly those are in the table', async () => {
  const s = await startTestServer({ bodyBytesMax: 1024 * 1024 });
  try {
    const big = `${Array.from({ length: 60_000 }, (_, i) => `win,h=h${i % 3} v=${i}i ${i}`).join('\n')}\n`;
    assert.ok(big.length > 1024 * 1024);
    const encoded = new TextEncoder().encode(big);
    const res = await fetch(`${s.url}/api/v2/write?bucket=b`, {
      method: 'POST', duplex: 'half',
      body: new ReadableStream({ start(c) { for (let i = 0; i < encoded.length; i += 16384) c.enqueue(encoded.slice(i, i + 16384)); c.close(); } }),
    } as RequestInit);
    assert.equal(res.status, 413);
    const message = ((await res.json()) as { message: string }).message;
    const m = /exceeds the limit of 1048576 bytes .*; (\d+) points of the lines before were written \(durable\) before this error/.exec(message);
    assert.ok(m, message);
    const written = Number(m[1]);
    assert.ok(written >= 20_000 && written < 60_000, message); // whole windows of at least 20,000 points
    assert.equal((await queryRows(s.url, { table: 'win', agg: 'count' }))[0]!.count, written);
  } finally {
    await s.stop();
  }
});
