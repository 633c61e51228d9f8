/**
 * Output conventions of `scan` and `query` through the real binary: --json is one JSON
 * document, 64-bit integers print with all their digits as numbers, --tz prints local times
 * with their offsets, the table format shows the first rows and counts the rest, --filter
 * and the --where operators select what they say, --explain prints text or JSON.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { TABLE_ROWS_SHOWN } from '../../src/cli/commands/scan.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');
const T0 = Date.UTC(2026, 2, 29, 0, 0); // Berlin leaves CET for CEST at 01:00Z this day
const ROWS = 250;
const BIG = 2n ** 53n;

interface Row { time: number; host: string | null; dc: string; v: number; n: bigint }
const rows: Row[] = Array.from({ length: ROWS }, (_, i) => ({
  time: T0 + i * 60_000,
  host: i % 10 === 9 ? null : `h${i % 3}`,
  dc: i % 2 ? 'eu-1' : '~us',
  v: i * 1.5,
  n: BIG + BigInt(i) - 100n,
}));

let dir: string;
let store: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quiver-conventions-'));
  store = join(dir, 'store');
  const db = await Quiver.open(store);
  const t = await db.createTable('t', { tags: ['host', 'dc'], fields: [{ name: 'v', type: 'float64' }, { name: 'n', type: 'int64' }] });
  await t.append(rows.map((r) => ({ ...r })));
  await db.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

function quiver(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--store', store], { env: { ...process.env, QUIVER_STORE: '', TZ: 'UTC' }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') };
}

/** JSON lines → objects, keeping integers beyond 2^53 exact (as their digits). */
function parseExact(text: string): Record<string, unknown> {
  return JSON.parse(text.replace(/"n":(-?\d+)/g, '"n":"$1"')) as Record<string, unknown>;
}

test('--json is one JSON document with the rows --format jsonl prints as lines; 64-bit integers keep every digit', () => {
  const doc = quiver('scan', 't', '--json', '--order', 'any');
  assert.equal(doc.code, 0, doc.err);
  const lines = quiver('scan', 't', '--format', 'jsonl', '--order', 'any');
  assert.equal(lines.code, 0, lines.err);
  const parsed = JSON.parse(doc.out.replace(/"n":(-?\d+)/g, '"n":"$1"')) as Record<string, unknown>[];
  assert.ok(Array.isArray(parsed));
  assert.deepEqual(parsed, lines.out.trimEnd().split('\n').map(parseExact));
  const byTime = new Map(parsed.map((r) => [r.time as string, r]));
  for (const r of rows) {
    const got = byTime.get(new Date(r.time).toISOString().replace('.000Z', 'Z'))!;
    assert.equal(got.n, r.n.toString(), 'int64 printed with all its digits');
    assert.equal(got.host, r.host);
    assert.equal(got.v, r.v);
  }
  // Every n is a JSON number (none quoted), above and below 2^53 alike.
  assert.equal((lines.out.match(/"n":"/g) ?? []).length, 0);
  assert.equal((lines.out.match(/"n":\d+/g) ?? []).length, ROWS);
});

test('--tz prints local times with their offsets, across a DST change and before standard time', () => {
  const csv = quiver('scan', 't', '--where', 'host=h0', '--format', 'csv', '--tz', 'Europe/Berlin', '--limit', '100');
  assert.equal(csv.code, 0, csv.err);
  const times = csv.out.trimEnd().split('\n').slice(1).map((l) => l.split(',')[0]);
  assert.ok(times.includes('2026-03-29T01:57:00+01:00'), 'CET before 01:00Z');
  assert.ok(times.includes('2026-03-29T03:00:00+02:00'), 'CEST from 01:00Z (02:00 local does not exist)');
  assert.ok(!times.some((t) => t!.startsWith('2026-03-29T02:')), 'no 02:xx local time on that day');
  const utc = quiver('scan', 't', '--where', 'host=h0', '--where', 'dc=\\~us', '--format', 'csv', '--tz', 'UTC', '--limit', '1');
  assert.equal(utc.out.split('\n')[1]!.split(',')[0], '2026-03-29T00:00:00Z');
  const q = quiver('query', 't', '--agg', 'count', '--every', '1d', '--tz', 'America/New_York', '--format', 'csv');
  assert.equal(q.code, 0, q.err);
  // 00:00Z–04:09Z is 20:00–00:09 in New York (EDT): 240 rows on the 28th, 10 on the 29th.
  assert.deepEqual(q.out.trimEnd().split('\n'), ['time,count', '2026-03-28T00:00:00-04:00,240', '2026-03-29T00:00:00-04:00,10']);
});

test('--tz: local mean time offsets keep their seconds (Berlin 1850 is +00:53:28)', async () => {
  const db = await Quiver.open(store);
  const old = await db.createTable('old', { tags: [], fields: [{ name: 'v', type: 'float64' }], timeUnit: 's' });
  await old.append([{ time: '1850-01-01T00:00:00Z', v: 1 }]);
  await db.close();
  const r = quiver('scan', 'old', '--format', 'csv', '--tz', 'Europe/Berlin');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.split('\n')[1], '1850-01-01T00:53:28+00:53:28,1');
});

test(`the table format shows ${TABLE_ROWS_SHOWN} rows and counts the rest, unless --limit or --out`, () => {
  const shown = quiver('scan', 't');
  assert.equal(shown.code, 0, shown.err);
  const lines = shown.out.trimEnd().split('\n');
  assert.equal(lines.length, 1 + TABLE_ROWS_SHOWN + 1);
  assert.equal(lines.at(-1), `(${ROWS - TABLE_ROWS_SHOWN} more rows not shown: --limit N or --out FILE for more)`);
  const limited = quiver('scan', 't', '--limit', '180');
  assert.equal(limited.out.trimEnd().split('\n').length, 1 + 180);
  const out = join(dir, 'all.txt');
  assert.equal(quiver('scan', 't', '--format', 'table', '--out', out).code, 0);
  assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 1 + ROWS);
  const csv = quiver('scan', 't', '--format', 'csv');
  assert.equal(csv.out.trimEnd().split('\n').length, 1 + ROWS, 'csv is never capped');
});

test('--filter keeps the rows whose fields satisfy every predicate (int64 compared exactly); --limit counts kept rows', () => {
  const r = quiver('scan', 't', '--filter', 'v>=90', '--filter', `n<${BIG + 50n}`, '--format', 'jsonl', '--order', 'any');
  assert.equal(r.code, 0, r.err);
  const got = r.out.trimEnd().split('\n').map(parseExact).map((x) => x.v).sort((a, b) => (a as number) - (b as number));
  const want = rows.filter((x) => x.v >= 90 && x.n < BIG + 50n).map((x) => x.v);
  assert.ok(want.length > 0);
  assert.deepEqual(got, want);
  const limited = quiver('scan', 't', '--filter', 'v>300', '--limit', '7', '--format', 'csv', '--columns', 'v');
  assert.equal(limited.code, 0, limited.err);
  const vs = limited.out.trimEnd().split('\n').slice(1);
  assert.equal(vs.length, 7);
  for (const line of vs) assert.ok(Number(line.split(',')[1]) > 300, line);
  assert.equal(limited.out.split('\n')[0], 'time,v', 'the predicate column is read but not printed');
  const q = quiver('query', 't', '--agg', 'count', '--filter', 'v<30', '--format', 'csv');
  assert.equal(q.out.trimEnd().split('\n')[1]!.split(',').at(-1), String(rows.filter((x) => x.v < 30).length));
});

test('--where operators: != (keeps the null tag), ^= prefix, =~ regex, \\~ a literal ~', () => {
  const count = (...where: string[]) => {
    const r = quiver('query', 't', '--agg', 'count', '--format', 'csv', ...where.flatMap((w) => ['--where', w]));
    assert.equal(r.code, 0, r.err);
    return Number(r.out.trimEnd().split('\n')[1]?.split(',').at(-1) ?? 0);
  };
  assert.equal(count('host!=h0'), rows.filter((r) => r.host !== 'h0').length);
  assert.equal(count('host!=h0|\\N'), rows.filter((r) => r.host !== 'h0' && r.host !== null).length);
  assert.equal(count('dc^=eu'), rows.filter((r) => r.dc.startsWith('eu')).length);
  assert.equal(count('host=~^h[12]$'), rows.filter((r) => r.host !== null && /^h[12]$/.test(r.host)).length);
  assert.equal(count('dc=\\~us'), rows.filter((r) => r.dc === '~us').length);
  assert.equal(count('dc=\\~us', 'host!=h1', 'host^=h'), rows.filter((r) => r.dc === '~us' && r.host !== 'h1' && r.host !== null).length);
});

test('--explain prints text, or one JSON document with --json / --format json', () => {
  const text = quiver('scan', 't', '--explain', '--where', 'host=h1');
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^chunks {2}1 of 1 to read/);
  const json = JSON.parse(quiver('scan', 't', '--explain', '--json').out) as { chunksTotal: number; pagesFromStatistics: number; bytesToRead: number; chunks: unknown[] };
  assert.equal(json.chunksTotal, 1);
  assert.equal(json.pagesFromStatistics, 0);
  assert.ok(json.bytesToRead > 0);
  // count is answered from the page's row count: nothing to read; a filter needs the page.
  const fromStats = JSON.parse(quiver('query', 't', '--agg', 'count', '--explain', '--format', 'json').out) as typeof json;
  assert.equal(fromStats.pagesFromStatistics, 1);
  assert.equal(fromStats.bytesToRead, 0);
  const filtered = JSON.parse(quiver('query', 't', '--agg', 'count', '--filter', 'v>3', '--explain', '--json').out) as typeof json;
  assert.equal(filtered.pagesFromStatistics, 0);
  assert.ok(filtered.bytesToRead > 0 && filtered.bytesToRead < json.bytesToRead, 'the query reads only v, the scan every column');
  assert.match(quiver('query', 't', '--agg', 'count', '--explain').out, /1 of them answered from their statistics \(not read\)/);
});

test('--json of tables and inspect: the shared keys (timeMin/timeMax ISO, timeMinNs/timeMaxNs exact numbers, ratio a number)', () => {
  const exactNs = (text: string) => JSON.parse(text.replace(/"(time(?:Min|Max)Ns)": (\d+)/g, '"$1": "$2"'));
  const first = BigInt(T0) * 1_000_000n;
  const last = BigInt(T0 + (ROWS - 1) * 60_000) * 1_000_000n;
  const tables = exactNs(quiver('tables', '--json').out) as Record<string, unknown>[];
  const t = tables.find((x) => x.table === 't')!;
  assert.equal(t.timeMin, '2026-03-29T00:00:00Z');
  assert.equal(t.timeMinNs, first.toString());
  assert.equal(t.timeMaxNs, last.toString());
  assert.equal(typeof t.ratio, 'number');
  assert.equal(t.ratio, (t.rawBytes as number) / (t.bytes as number));
  const store = exactNs(quiver('inspect', '--json').out) as { tables: Record<string, unknown>[] };
  const s = store.tables.find((x) => x.table === 't')!;
  for (const key of ['rows', 'chunks', 'bytes', 'rawBytes', 'ratio', 'timeMin', 'timeMax', 'timeMinNs', 'timeMaxNs']) assert.deepEqual(s[key], t[key], key);
  const table = exactNs(quiver('inspect', 't', '--json').out) as { table: Record<string, unknown>; chunks: Record<string, unknown>[] };
  assert.equal(table.table.timeMaxNs, last.toString());
  assert.equal(table.chunks[0]!.timeMinNs, first.toString());
  assert.equal(typeof table.chunks[0]!.ratio, 'number');
  const chunk = exactNs(quiver('inspect', 't', table.chunks[0]!.key as string, '--json').out) as Record<string, unknown> & { columns: Record<string, unknown>[] };
  assert.equal(chunk.rows, ROWS);
  assert.equal(chunk.timeMax, table.table.timeMax);
  for (const c of chunk.columns) assert.equal(typeof c.ratio, 'number', String(c.column));
});

test('--json of the other commands writes numbers as rows do: -0 stays -0, NaN a string, 64-bit integers every digit', async () => {
  const { toJson } = await import('../../src/cli/json.js');
  assert.equal(toJson({ z: -0, n: NaN, i: -Infinity, b: 2n ** 64n + 1n, f: 0.1 }), '{\n  "z": -0,\n  "n": "NaN",\n  "i": "-Infinity",\n  "b": 18446744073709551617,\n  "f": 0.1\n}');
});
