import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type, type RecordBatch, type Table as ArrowTable, type Timestamp } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { QuiverError } from '../../src/errors.js';
import { CPU_DEFAULTS, CPU_FIELDS, CPU_TAGS, cpuBatches, type CpuOptions } from '../../bench/queries/cpu-data.js';
import { runCli } from '../cli/in-process.js';

const HOUR = 3_600_000;
const CPU: CpuOptions = { ...CPU_DEFAULTS, hosts: 16, interval_ms: 60_000 };
const NS_PER = [1_000_000_000n, 1_000_000n, 1_000n, 1n];

type Cell = bigint | number | string | boolean | null;

/** Rows as plain records; timestamps as epoch nanoseconds, integers as bigint. */
function rowsOf(source: ArrowTable | RecordBatch[]): Record<string, Cell>[] {
  const batches = Array.isArray(source) ? source : source.batches;
  const out: Record<string, Cell>[] = [];
  for (const batch of batches) {
    const fields = batch.schema.fields;
    for (let i = 0; i < batch.numRows; i++) {
      const row: Record<string, Cell> = {};
      fields.forEach((f, j) => {
        const col = batch.getChildAt(j)!;
        if (!col.isValid(i)) { row[f.name] = null; return; }
        if (f.type.typeId === Type.Timestamp) row[f.name] = (col.data[0]!.values as BigInt64Array)[i]! * NS_PER[(f.type as Timestamp).unit]!;
        else if (f.type.typeId === Type.Int) row[f.name] = BigInt(col.get(i) as bigint);
        else row[f.name] = col.get(i) as Cell;
      });
      out.push(row);
    }
  }
  return out;
}

/** Exact equality, except columns named in `close` (means and sums: summation order differs) to 1e-12 relative. */
function assertSame(name: string, got: Record<string, Cell | undefined>[], want: Record<string, Cell | undefined>[], close: string[] = []): void {
  assert.equal(got.length, want.length, `${name}: row count`);
  assert.ok(want.length > 0, `${name}: no rows to compare`);
  for (let i = 0; i < want.length; i++) {
    for (const [col, w] of Object.entries(want[i]!)) {
      const g = got[i]![col];
      if (close.includes(col) && typeof w === 'number' && typeof g === 'number') {
        assert.ok(Math.abs(g - w) <= 1e-12 * Math.max(1, Math.abs(w)), `${name} row ${i} ${col}: ${g} vs ${w}`);
      } else {
        assert.deepEqual(g, w, `${name} row ${i} ${col}`);
      }
    }
  }
}

test('the bench queries Q1–Q5 in SQL give the answers of quiver query, with time range and tags pushed into the scan', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-sql-'));
  const store = join(dir, 'store');
  const db = await Quiver.open(store);
  try {
    const cpu = await db.createTable('cpu', { tags: [...CPU_TAGS], fields: CPU_FIELDS.map((name) => ({ name, type: 'float64' as const })) });
    for (const batch of cpuBatches(CPU)) await cpu.append(batch);
    await cpu.flush();
    const t0 = CPU.start_ms;
    const iso = (ms: number) => new Date(ms).toISOString();
    const hosts8 = Array.from({ length: 8 }, (_, i) => `host_${i * 2}`);
    const one = 'host_7';

    // Q1: max(usage_user) per host per hour, 8 hosts, 12 h.
    const q1 = await cpu.query({ from: t0, to: t0 + 12 * HOUR, where: { hostname: hosts8 }, every: '1h', by: ['hostname'], agg: { usage_user: 'max' } });
    const s1 = await db.sql(`SELECT epoch_ns(time_bucket(INTERVAL '1 hour', time::TIMESTAMP)) AS time, hostname, max(usage_user) AS max_usage_user
      FROM cpu(from_time := '${iso(t0)}', to_time := '${iso(t0 + 12 * HOUR)}', hostname := '${hosts8.join('|')}')
      GROUP BY ALL ORDER BY hostname, time`);
    assertSame('Q1', rowsOf(s1).map((r) => ({ ...r, time: r.time })), rowsOf(q1).map((r) => ({ time: r.time, hostname: r.hostname, max_usage_user: r.max_usage_user })));

    // Q2: the last point of every host.
    const q2 = await cpu.query({ latest: true, by: ['hostname'] });
    const s2 = await db.sql(`SELECT epoch_ns(max(time)) AS time, hostname, ${CPU_FIELDS.map((f) => `arg_max(${f}, time) AS ${f}`).join(', ')} FROM cpu GROUP BY hostname ORDER BY hostname`);
    assertSame('Q2', rowsOf(s2), rowsOf(q2).sort((a, b) => String(a.hostname).localeCompare(String(b.hostname))).map((r) => ({ time: r.time, hostname: r.hostname, ...Object.fromEntries(CPU_FIELDS.map((f) => [f, r[f]!])) })));

    // Q3: all ten fields of one host for one hour (a scan), both with pushdown and with a plain WHERE.
    const q3: RecordBatch[] = [];
    for await (const b of cpu.scan({ from: t0 + HOUR, to: t0 + 2 * HOUR, where: { hostname: one }, columns: [...CPU_FIELDS] })) q3.push(b);
    const want3 = rowsOf(q3);
    const s3 = await db.sql(`SELECT epoch_ns(time) AS time, ${CPU_FIELDS.join(', ')} FROM cpu(from_time := '${iso(t0 + HOUR)}', to_time := '${iso(t0 + 2 * HOUR)}', hostname := '${one}') ORDER BY time`);
    assertSame('Q3', rowsOf(s3), want3);
    const s3where = await db.sql(`SELECT epoch_ns(time) AS time, ${CPU_FIELDS.join(', ')} FROM cpu WHERE hostname = '${one}' AND time >= '${iso(t0 + HOUR).slice(0, 19)}' AND time < '${iso(t0 + 2 * HOUR).slice(0, 19)}' ORDER BY time`);
    assertSame('Q3 (WHERE)', rowsOf(s3where), want3);

    // Q4: mean of the ten fields per host per hour over 24 h.
    const q4 = await cpu.query({ from: t0, to: t0 + 24 * HOUR, every: '1h', by: ['hostname'], agg: Object.fromEntries(CPU_FIELDS.map((f) => [f, 'mean'])) });
    const s4 = await db.sql(`SELECT epoch_ns(time_bucket(INTERVAL '1 hour', time::TIMESTAMP)) AS time, hostname, ${CPU_FIELDS.map((f) => `avg(${f}) AS mean_${f}`).join(', ')}
      FROM cpu(from_time := '${iso(t0)}', to_time := '${iso(t0 + 24 * HOUR)}') GROUP BY ALL ORDER BY hostname, time`);
    assertSame('Q4', rowsOf(s4), rowsOf(q4).map((r) => ({ time: r.time, hostname: r.hostname, ...Object.fromEntries(CPU_FIELDS.map((f) => [`mean_${f}`, r[`mean_${f}`]!])) })), CPU_FIELDS.map((f) => `mean_${f}`));

    // Q5: count and sum over the whole table.
    const q5 = await cpu.query({ agg: { '*': 'count', usage_user: 'sum' } });
    const s5 = await db.sql('SELECT count(*) AS count, sum(usage_user) AS sum_usage_user FROM cpu');
    assertSame('Q5', rowsOf(s5), rowsOf(q5).map((r) => ({ count: BigInt(r.count as bigint), sum_usage_user: r.sum_usage_user })), ['sum_usage_user']);
    assert.equal(rowsOf(s5)[0]!.count, BigInt(CPU.hosts * 24 * 60));
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sql: every field type and the time unit come through exactly; errors name the problem; the CLI prints the formats', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-sql-'));
  const store = join(dir, 'store');
  const db = await Quiver.open(store);
  try {
    const t = await db.createTable('m', { timeUnit: 'us', tags: ['host'], fields: [{ name: 'f', type: 'float64' }, { name: 'i', type: 'int64' }, { name: 'u', type: 'uint64' }, { name: 'b', type: 'bool' }, { name: 's', type: 'utf8' }] });
    const rows = [
      { time: 1_767_225_600_000_001_000n, host: 'a', f: -0, i: -(2n ** 63n), u: 2n ** 64n - 1n, b: true, s: 'é,"x"' },
      { time: 1_767_225_600_000_002_000n, host: 'b', f: NaN, i: 2n ** 63n - 1n, u: 0n, b: false, s: null },
      { time: 1_767_225_600_000_003_000n, host: 'a', f: null, i: null, u: null, b: null, s: '' },
    ];
    await t.append(rows);
    await t.flush();
    const r = rowsOf(await db.sql('SELECT epoch_us(time) AS us, time, host, f, i, u, b, s FROM m ORDER BY time'));
    assert.deepEqual(r.map((x) => x.us), [1_767_225_600_000_001n, 1_767_225_600_000_002n, 1_767_225_600_000_003n]);
    assert.deepEqual(r.map((x) => x.time), rows.map((x) => x.time));
    assert.ok(Object.is(r[0]!.f, -0));
    assert.ok(Number.isNaN(r[1]!.f));
    assert.equal(r[2]!.f, null);
    assert.deepEqual(r.map((x) => x.i), [-(2n ** 63n), 2n ** 63n - 1n, null]);
    assert.deepEqual(r.map((x) => x.u), [2n ** 64n - 1n, 0n, null]);
    assert.deepEqual(r.map((x) => x.b), [true, false, null]);
    assert.deepEqual(r.map((x) => x.s), ['é,"x"', null, '']);
    const empty = await db.sql("SELECT host FROM m WHERE host = 'zzz'");
    assert.equal(empty.numRows, 0);
    assert.deepEqual(empty.schema.fields.map((f) => f.name), ['host']);
    await assert.rejects(db.sql('SELECT * FROM nope'), (e: Error) => e instanceof QuiverError && /nope/.test(e.message));
    await assert.rejects(db.sql("SELECT * FROM m(from_time := 'not a time')"), (e: Error) => e instanceof QuiverError && /not a time/.test(e.message));
  } finally {
    await db.close();
  }
  try {
    const file = join(dir, 'out.csv');
    const csv = await runCli(store, 'sql', 'SELECT host, count(*) AS n FROM m GROUP BY host ORDER BY host', '--out', file);
    assert.equal(csv.code, 0, csv.out);
    assert.equal(readFileSync(file, 'utf8'), 'host,n\na,2\nb,1\n');
    const bad = await runCli(store, 'sql', 'SELEC 1');
    assert.equal(bad.code, 1);
    assert.match(bad.out, /syntax error/i);
    assert.equal((await runCli(store, 'sql')).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
