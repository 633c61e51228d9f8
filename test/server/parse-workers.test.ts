import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { Quiver } from '../../src/quiver.js';
import { QuiverError } from '../../src/errors.js';
import { ParsePool } from '../../src/server/parse-pool.js';
import { inlineParse, type BodyParse, type LineBodyOptions } from '../../src/server/line-body.js';
import { rng as random } from '../../bench/rng.js';
import { line } from './line-corpus.js';
import { post, startTestServer, type TestServer } from './helpers.js';

// Line-protocol bodies parsed in worker threads (parse-pool.ts) answer and store exactly what
// the main thread's parse does; a worker that dies fails only its requests; shutdown drains.

const T0 = 1_767_225_600_000_000_000n;

/** Every table of a store as text: schema, then its rows sorted (floats by their bits; times near now as "now"). */
async function storeText(store: string, now: bigint): Promise<string> {
  const db = await Quiver.open(store);
  try {
    const out: string[] = [];
    for (const name of (await db.tables()).sort()) {
      const table = await (await db.table(name)).query({});
      const fields = table.schema.fields;
      out.push(`table ${name}: ${fields.map((f) => `${f.name} ${f.type}`).join(', ')}`);
      const view = new DataView(new ArrayBuffer(8));
      // Times exactly (Arrow's get() answers milliseconds as a double).
      const times: bigint[] = [];
      for (const d of table.getChild('time')!.data) for (let i = 0; i < d.length; i++) times.push((d.values as BigInt64Array)[d.offset + i]!);
      const rows: string[] = [];
      for (let r = 0; r < table.numRows; r++) {
        const t = times[r]!;
        rows.push([t > now - 3_600_000_000_000n && t < now + 3_600_000_000_000n ? 'now' : `${t}`, ...fields.filter((f) => f.name !== 'time').map((f) => {
          const v = table.getChild(f.name)!.get(r) as unknown;
          if (typeof v === 'number') { view.setFloat64(0, v); return `${v}/${view.getBigUint64(0).toString(16)}`; }
          return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v);
        })].join(' | '));
      }
      out.push(...rows.sort());
    }
    return out.join('\n');
  } finally {
    await db.close();
  }
}

interface Body { path: string; body: Uint8Array; headers: Record<string, string> }

/** Seeded random bodies (valid and invalid lines, every endpoint and precision, some gzip) and one of several windows. */
function bodies(seed: number): Body[] {
  const r = random(seed);
  const paths = ['/write?db=d&precision=n', '/write?db=d&precision=u', '/write?db=d&precision=s', '/write?db=d&precision=h',
    '/api/v2/write?bucket=d', '/api/v2/write?bucket=d&precision=ms', '/api/v3/write_lp?db=d', '/api/v3/write_lp?db=d&precision=second',
    '/api/v3/write_lp?db=d&accept_partial=false'];
  const out: Body[] = [];
  for (let b = 0; b < 18; b++) {
    const lines = Array.from({ length: 200 + Math.floor(r() * 1500) }, () => line(r));
    // accept_partial=false writes only all-valid bodies: give it one now and then.
    const path = paths[b % paths.length]!;
    const text = path.includes('accept_partial') && b % 2 === 0 ? lines.map((_, i) => `strict,k=${i % 7} v=${i}i ${T0 + BigInt(i)}`).join('\n') : lines.join('\n');
    const gzip = b % 3 === 0;
    out.push({ path, body: gzip ? gzipSync(text) : Buffer.from(text), headers: gzip ? { 'Content-Encoding': 'gzip' } : {} });
  }
  // Several windows (20,000 points) and several worker messages (512 KiB), bad lines among them.
  const big: string[] = [];
  for (let i = 0; i < 45_000; i++) {
    big.push(i % 997 === 0 ? `big,host=h${i % 50} usage=oops ${T0 + BigInt(i)}` : `big,host=h${i % 50},dc=eu usage_user=${(i * 0.37) % 100},n=${i}i,ok=${i % 2 === 0} ${T0 + BigInt(i) * 10_000_000_000n}`);
  }
  out.push({ path: '/api/v2/write?bucket=d', body: Buffer.from(big.join('\n')), headers: {} });
  return out;
}

test('parse threads 0 and 2 answer random bodies (valid and invalid lines, gzip, every endpoint) identically and store the same rows', async () => {
  const seed = 20261204;
  console.log(`seed ${seed}`);
  const inline = await startTestServer({ parseThreads: 0 });
  const workers = await startTestServer({ parseThreads: 2, parseInlineBytesMax: 0 });
  try {
    assert.equal(inline.server.parsePool, undefined);
    const pool = workers.server.parsePool!;
    assert.equal(pool.readyCount, 2);
    const now = BigInt(Date.now()) * 1_000_000n;
    const sent = bodies(seed);
    let refused = 0;
    for (const [k, b] of sent.entries()) {
      const a = await post(`${inline.url}${b.path}`, b.body, b.headers);
      const w = await post(`${workers.url}${b.path}`, b.body, b.headers);
      assert.deepEqual({ status: w.status, text: w.text }, { status: a.status, text: a.text }, `body ${k} (${b.path})`);
      if (a.status === 400) refused++;
    }
    // Every body went to a worker, and the corpus has both outcomes.
    assert.equal(pool.jobs, sent.length);
    assert.ok(refused > 5 && refused < sent.length, `${refused} of ${sent.length} bodies had refused lines`);
    await inline.server.close();
    await workers.server.close();
    const expected = await storeText(inline.store, now);
    assert.ok(expected.split('\n').length > 40_000, 'the big body was stored');
    assert.equal(await storeText(workers.store, now), expected);
  } finally {
    await inline.stop();
    await workers.stop();
  }
});

/** Starts a POST whose body is sent in parts: `send(part)`, then `end()` resolves with the answer. */
function streamingPost(url: string): { send(part: string): void; end(): Promise<{ status: number; text: string }> } {
  let answer!: Promise<{ status: number; text: string }>;
  const req = request(url, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } });
  answer = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
  });
  return { send: (part) => { req.write(part); }, end: () => { req.end(); return answer; } };
}

function lines(table: string, from: number, n: number): string {
  const out: string[] = [];
  for (let i = from; i < from + n; i++) out.push(`${table},host=h${i % 10} v=${i}i,f=${i / 3} ${T0 + BigInt(i)}`);
  return `${out.join('\n')}\n`;
}

/** Resolves when `ready()` holds (checked on each turn of the event loop). */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
}

async function count(s: TestServer, table: string): Promise<number> {
  const res = await fetch(`${s.url}/api/v1/query?table=${table}&agg=count:v`);
  if (res.status === 404) return 0;
  const rows = await res.json() as { count_v: number }[];
  return Number(rows[0]?.count_v ?? 0);
}

test('a parse worker that dies fails only its request (500, nothing written); a new worker takes its place and the server keeps serving', async () => {
  const s = await startTestServer({ parseThreads: 1, parseInlineBytesMax: 0 });
  try {
    const pool = s.server.parsePool!;
    const write = streamingPost(`${s.url}/api/v2/write?bucket=d`);
    write.send(lines('crashed', 0, 1000));
    // The body is the worker's job from its first byte; kill the worker while it holds the job.
    await until(() => pool.jobs === 1);
    await pool.terminateOne();
    write.send(lines('crashed', 1000, 20_000));
    const answer = await write.end();
    assert.equal(answer.status, 500, answer.text);
    assert.match(answer.text, /line protocol parse worker stopped/);
    assert.equal(pool.crashes, 1);
    // Nothing of the failed body is in the table (it was never created).
    assert.equal(await count(s, 'crashed'), 0);
    // The replacement worker serves the next bodies.
    await pool.whenReady();
    assert.equal(pool.readyCount, 1);
    const next = await post(`${s.url}/api/v2/write?bucket=d`, lines('after', 0, 30_000));
    assert.equal(next.status, 204, next.text);
    assert.equal(pool.jobs, 2);
    assert.equal(await count(s, 'after'), 30_000);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /^quiver_parse_worker_crashes 1$/m);
    assert.match(metrics, /^quiver_parse_threads 1$/m);
  } finally {
    await s.stop();
  }
});

test('an error a parse worker throws that is not a line\'s reaches the pool as the inline parse throws it (class, message; no stack text); the worker goes on', async () => {
  // A number where the unit must be a bigint: the parser's `time * unit` throws a TypeError (a bug, not a line's error).
  const broken = { unitNs: 1 as unknown as bigint, now: 0n, windowPoints: Infinity } satisfies LineBodyOptions;
  const body = Buffer.from('m a=1 5\n');
  const outcome = async (parse: BodyParse) => {
    try {
      await parse.push(body);
      await parse.end();
      return undefined;
    } catch (error) {
      return error as Error;
    } finally {
      parse.close();
    }
  };
  const inline = await outcome(inlineParse(broken));
  assert.ok(inline instanceof TypeError, String(inline));
  const pool = new ParsePool(1);
  try {
    await pool.whenReady();
    const worker = await outcome(pool.open(broken)!);
    assert.ok(worker instanceof Error, String(worker));
    assert.equal(worker.name, inline.name);
    assert.equal(worker.message, inline.message);
    assert.equal(worker instanceof QuiverError, false);
    assert.doesNotMatch(worker.message, /\n\s+at /, 'a message, not a stack');
    const next = pool.open({ unitNs: 1n, now: 0n, windowPoints: Infinity })!;
    await next.push(body);
    const end = await next.end();
    assert.deepEqual([end.parsed, end.errors, end.windows[0]?.rows], [1, [], 1]);
    assert.equal(pool.jobs, 2);
  } finally {
    await pool.close();
  }
});

test('shutdown while bodies are in parse workers: every request is answered, and the acknowledged points are stored exactly once', async () => {
  const s = await startTestServer({ parseThreads: 1, parseInlineBytesMax: 0 });
  const store = s.store;
  let acknowledged = 0;
  try {
    const pool = s.server.parsePool!;
    const writes = Array.from({ length: 6 }, (_, w) => post(`${s.url}/api/v2/write?bucket=d`, lines('drain', w * 100_000, 25_000)).then((r) => {
      if (r.status === 204) acknowledged += 25_000;
      else assert.equal(r.status, 503, r.text); // refused at admission once closing: nothing written
      return r.status;
    }, () => 'connection closed'));
    await until(() => pool.jobs >= 1);
    await s.server.close();
    const statuses = await Promise.all(writes);
    assert.ok(statuses.includes(204), `statuses ${statuses.join(', ')}`);
    assert.ok(pool.jobs >= 1);
    const db = await Quiver.open(store);
    try {
      const table = await (await db.table('drain')).query({});
      assert.equal(table.numRows, acknowledged);
      const ids = new Set<bigint>();
      const v = table.getChild('v')!;
      for (let r = 0; r < table.numRows; r++) ids.add(v.get(r) as bigint);
      assert.equal(ids.size, acknowledged, 'no point twice');
    } finally {
      await db.close();
    }
  } finally {
    await s.stop();
  }
});
