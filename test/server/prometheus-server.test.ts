/**
 * A real Prometheus against Quiver's server. scripts/test.mjs starts two Prometheus servers
 * (scripts/prometheus.sh) before the tests run, pointed at the port this test's Quiver server
 * listens on:
 *   writer  scrapes Quiver's /metrics every 2 s and remote-writes everything into Quiver;
 *   reader  has no local data and answers queries by remote read from Quiver.
 * The test waits (polling with a deadline) until, for every metric the writer holds, Quiver
 * holds exactly the same samples up to a time T; then asks the reader for the same metrics at
 * T and expects the writer's answer, served from Quiver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';

const WRITER = process.env.PROMETHEUS_WRITER_URL;
const READER = process.env.PROMETHEUS_READER_URL;
const PORT = process.env.QUIVER_PROM_TARGET_PORT;
const TOKEN = process.env.QUIVER_PROM_TOKEN;
const DEADLINE_MS = 90_000;

/** One series as `name{labels}` → sorted [ms, value text] pairs. */
type Samples = Map<string, [number, string][]>;

function seriesKey(labels: Record<string, string>): string {
  return Object.entries(labels).filter(([k]) => k !== '__name__').sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
}

/** Prometheus' text for a value (Go's strconv 'f' -1 and its NaN/±Inf spellings), from a JSON number or Quiver's "NaN"/"Infinity". */
function promText(v: number | string): string {
  if (v === 'NaN') return 'NaN';
  if (v === 'Infinity') return '+Inf';
  if (v === '-Infinity') return '-Inf';
  return String(Number(v));
}

/** Every request has a deadline: a stuck server fails the test with the URL, never hangs it. */
const REQUEST_TIMEOUT_MS = 30_000;
const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  .catch((error: Error) => { throw new Error(`${url}: ${error.message}`); });

async function json(url: string): Promise<unknown> {
  const res = await get(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** A range query `{__name__="m"}[1h]` at `t` (ms): the raw samples of (t - 1h, t]. */
async function promSamples(base: string, metric: string, t: number): Promise<Samples> {
  const url = `${base}/api/v1/query?query=${encodeURIComponent(`{__name__="${metric}"}[1h]`)}&time=${(t / 1000).toFixed(3)}`;
  const body = await json(url) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  const out: Samples = new Map();
  for (const r of body.data.result) out.set(seriesKey(r.metric), r.values.map(([ts, v]) => [Math.round(ts * 1000), promText(v)]));
  return out;
}

/** The same from Quiver's query endpoint (rows of the metric's table up to t). */
async function quiverSamples(base: string, metric: string, t: number): Promise<Samples> {
  const url = `${base}/api/v1/query?table=${encodeURIComponent(metric)}&format=json&to=${t + 1}`;
  const res = await get(url, { Authorization: `Bearer ${TOKEN}` });
  const out: Samples = new Map();
  if (res.status === 404) return out;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${await res.text()}`);
  for (const row of await res.json() as Record<string, string | number | null>[]) {
    const { time, value, ...tags } = row;
    const labels = Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== null)) as Record<string, string>;
    const key = seriesKey(labels);
    if (!out.has(key)) out.set(key, []);
    out.get(key)!.push([Date.parse(String(time)), promText(value as number | string)]);
  }
  for (const list of out.values()) list.sort((a, b) => a[0] - b[0]);
  return out;
}

function diff(a: Samples, b: Samples): string | undefined {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const k of keys) {
    const x = JSON.stringify(a.get(k) ?? null), y = JSON.stringify(b.get(k) ?? null);
    if (x !== y) return `series {${k}}: ${x.slice(0, 300)} vs ${y.slice(0, 300)}`;
  }
  return undefined;
}

/** Polls `check` (undefined = done, else why not yet) until it passes or the deadline passes. */
async function pollUntil(what: string, check: () => Promise<string | undefined>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  let why: string | undefined = 'never checked';
  while (Date.now() < deadline) {
    why = await check();
    if (why === undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.fail(`${what} within ${DEADLINE_MS / 1000} s: ${why}`);
}

test('real Prometheus: scrapes Quiver, remote-writes into it (same samples as its own TSDB), and reads them back by remote read', async (t) => {
  assert.ok(WRITER && READER && PORT && TOKEN, 'the Prometheus servers are not running: run this test through npm test '
    + '(scripts/test.mjs starts them with scripts/prometheus.sh; Debian package prometheus, installed by CI: apt-get install prometheus)');
  const root = mkdtempSync(join(tmpdir(), 'quiver-prom-real-'));
  const started = performance.now();
  /** The server's warnings and errors (refused requests), shown when a wait fails. */
  const problems: Record<string, unknown>[] = [];
  const server = await Quiver.serve({ store: join(root, 'store'), wal: join(root, 'wal'), listen: `127.0.0.1:${PORT}`, token: TOKEN, flushAgeMs: 1000, decodeThreads: 0,
    log: (entry) => { if (entry.level !== 'info') problems.push(entry); } });
  try {
    // Scrapes that succeed: up == 1 for the quiver job, written into Quiver.
    await pollUntil('Quiver holding successful scrapes of itself', async () => {
      const up = await quiverSamples(server.url, 'up', Date.now());
      const ones = [...up.values()].flat().filter(([, v]) => v === '1').length;
      if (ones >= 3) return undefined;
      const targets = await json(`${WRITER}/api/v1/targets`) as { data: { activeTargets: { health: string; lastError: string }[] } };
      return `${ones} samples of up == 1 so far; Prometheus' target: ${JSON.stringify(targets.data.activeTargets.map((x) => [x.health, x.lastError]))}; `
        + `the server's warnings and errors (last 5 of ${problems.length}): ${JSON.stringify(problems.slice(-5))}; `
        + `Quiver's up samples: ${JSON.stringify([...up.values()].map((l) => [l.length, l.at(-1)]))}; `
        + `Prometheus' remote write: ${(await (await get(`${WRITER}/metrics`)).text()).split('\n').filter((l) => /^prometheus_remote_storage_(samples_total|samples_failed_total|samples_retried_total|samples_pending|shards |highest_timestamp_in_seconds|queue_highest_sent_timestamp_seconds)/.test(l)).join('; ')}`;
    });
    t.diagnostic(`scrapes arrived after ${Math.round(performance.now() - started)} ms`);
    const T = Date.now() - 2000;
    const names = (await json(`${WRITER}/api/v1/label/__name__/values`) as { data: string[] }).data;
    assert.ok(names.includes('up') && names.includes('quiver_http_requests_total') && names.length > 20, `metrics in Prometheus: ${names.join(', ')}`);
    const expected = new Map<string, Samples>();
    for (const name of names) expected.set(name, await promSamples(WRITER, name, T));
    const total = [...expected.values()].reduce((n, s) => n + [...s.values()].reduce((m, l) => m + l.length, 0), 0);

    // Every sample Prometheus has up to T reaches Quiver, and nothing else.
    await pollUntil('Quiver holding every sample Prometheus has up to T', async () => {
      for (const name of names) {
        const why = diff(expected.get(name)!, await quiverSamples(server.url, name, T));
        if (why) return `${name}: Prometheus vs Quiver: ${why}`;
      }
      return undefined;
    });

    t.diagnostic(`${total} samples of ${names.length} metrics in Quiver after ${Math.round(performance.now() - started)} ms`);
    // The reader Prometheus has no data of its own: its answers come from Quiver by remote read.
    assert.equal((await json(`${READER}/api/v1/label/__name__/values`) as { data: string[] }).data.length, 0, 'the reader holds no local samples');
    for (const name of names) {
      const why = diff(expected.get(name)!, await promSamples(READER, name, T));
      assert.equal(why, undefined, `${name}: writer vs reader (remote read): ${why}`);
    }
    // PromQL with a regex matcher, evaluated by the reader over remote-read samples.
    const q = `count_over_time(up{job=~"qu.*"}[1h])`;
    const counts = (await json(`${READER}/api/v1/query?query=${encodeURIComponent(q)}&time=${(T / 1000).toFixed(3)}`) as { data: { result: { value: [number, string] }[] } }).data.result;
    assert.deepEqual(counts.map((r) => Number(r.value[1])), [...expected.get('up')!.values()].map((l) => l.length));
    assert.ok(total > 100, `compared ${total} samples`);
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
});
