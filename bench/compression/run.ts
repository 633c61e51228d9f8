/**
 * Bytes per point and decode speed: Quiver (picked encodings; and with compression 'small',
 * which adds the rANS chains) vs Quiver zstd-only vs
 * DuckDB's table file vs DuckDB's Parquet export (ZSTD), on the cpu and ticks datasets, in
 * one run. Usage: npm run bench:compression [-- --hosts 100 --ticks 5000000]
 */
import { mkdtempSync, rmSync, statSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { openChunk } from '../../src/format/index.js';
import { storeSource } from '../../src/table/store-source.js';
import { CPU, CPU_FIELDS, CPU_TAGS, TICKS, cpuBatches, cpuHost, ticksBatches, writeCpuCsv } from '../datasets.js';
import { duckdb, fmt } from '../duckdb.js';
import type { ColumnWriteOptions } from '../../src/format/types.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : fallback; };
const hosts = arg('hosts', CPU.hosts);
const tickRows = arg('ticks', TICKS.rows);
const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-compression-'));

async function quiverTable(name: string, batches: Iterable<RecordBatch>, tags: string[], columns?: Record<string, ColumnWriteOptions>, compression: 'fast' | 'small' = 'fast') {
  const db = await Quiver.open(join(dir, name));
  const first = batches[Symbol.iterator]();
  const head = first.next().value as RecordBatch;
  const table = await db.createTable(name, {
    tags, timeUnit: 'ns', compression,
    ...(columns ? { columns } : {}),
  });
  const writer = table.writer();
  await writer.append(head);
  for (let r = first.next(); !r.done; r = first.next()) await writer.append(r.value);
  await writer.commit();
  const chunks = await table.chunks();
  const perColumn = new Map<string, number>();
  let total = 0;
  for (const c of chunks) {
    total += c.bytes;
    for (const [col, s] of Object.entries(c.columns)) perColumn.set(col, (perColumn.get(col) ?? 0) + s.bytes);
  }
  return { db, table, total, perColumn, rows: chunks.reduce((s, c) => s + c.rows, 0) };
}

/**
 * Decode speed of one column in two tables (values per second): every page of the column
 * across all chunks, one untimed pass each first (JIT warm-up, page cache), then nine
 * passes alternating between the tables, best of each — alternating, so a slow spell of
 * this noisy machine hits both sides alike.
 */
async function decodeRates(a: Awaited<ReturnType<typeof quiverTable>>, b: Awaited<ReturnType<typeof quiverTable>>, column: string): Promise<[number, number]> {
  const open = async (q: typeof a) => Promise.all((await q.table.chunks()).map((c) => openChunk(storeSource(q.db.store, c.key, c.bytes))));
  const pass = async (readers: Awaited<ReturnType<typeof open>>) => {
    let values = 0;
    const t0 = performance.now();
    for (const r of readers) values += (await r.readColumnPages(column)).reduce((s, p) => s + p.rows, 0);
    return values / ((performance.now() - t0) / 1000);
  };
  const ra = await open(a);
  const rb = await open(b);
  await pass(ra);
  await pass(rb);
  let bestA = 0;
  let bestB = 0;
  for (let rep = 0; rep < 9; rep++) {
    bestA = Math.max(bestA, await pass(ra));
    bestB = Math.max(bestB, await pass(rb));
  }
  return [bestA, bestB];
}

function ticksCsv(path: string): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string) => new Promise<void>((resolve) => (out.write(s) ? resolve() : out.once('drain', resolve)));
  return (async () => {
    await write('time,symbol,price,volume\n');
    for (const b of ticksBatches({ ...TICKS, rows: tickRows })) {
      const t = b.getChild('time')!.data[0]!.values as BigInt64Array;
      const sym = b.getChild('symbol')!.get(0);
      const p = b.getChild('price')!.data[0]!.values as Float64Array;
      const v = b.getChild('volume')!.data[0]!.values as BigInt64Array;
      const lines: string[] = [];
      for (let i = 0; i < b.numRows; i++) lines.push(`${t[i]},${sym},${p[i]},${v[i]}`);
      await write(lines.join('\n') + '\n');
    }
    await new Promise<void>((resolve) => out.end(resolve));
  })();
}

async function duckSizes(name: string, csv: string, create: string) {
  const file = join(dir, `${name}.duckdb`);
  const d = await duckdb(file);
  await d.conn.run(`CREATE TABLE t AS ${create.replace('$CSV', csv)}`);
  await d.conn.run('CHECKPOINT');
  // The export as DuckDB writes it (table order, i.e. as the rows arrived), and one sorted by
  // series then time (Quiver's order: the fairest comparison of the encodings themselves).
  const parquet = join(dir, `${name}.parquet`);
  await d.conn.run(`COPY t TO '${parquet}' (FORMAT parquet, COMPRESSION zstd)`);
  const sorted = join(dir, `${name}-sorted.parquet`);
  await d.conn.run(`COPY (SELECT * FROM t ORDER BY ALL) TO '${sorted}' (FORMAT parquet, COMPRESSION zstd)`);
  const perColumn = new Map((await d.rows(`SELECT path_in_schema, sum(total_compressed_size)::BIGINT FROM parquet_metadata('${sorted}') GROUP BY 1`)).map((r) => [String(r[0]), Number(r[1])]));
  d.close();
  return { table: statSync(file).size, parquet: statSync(parquet).size, parquetSorted: statSync(sorted).size, parquetColumns: perColumn };
}

function stepEntropy(): number {
  const counts = new Map<number, number>();
  let total = 0;
  for (let h = 0; h < hosts; h++) {
    for (const f of cpuHost({ ...CPU, hosts }, h).fields) {
      for (let i = 1; i < f.length; i++) {
        const d = Math.round((f[i]! - f[i - 1]!) * 100);
        counts.set(d, (counts.get(d) ?? 0) + 1);
        total++;
      }
    }
  }
  let bits = 0;
  for (const c of counts.values()) bits -= (c / total) * Math.log2(c / total);
  return bits;
}

const plainColumns = (names: string[]) => Object.fromEntries(names.map((n) => [n, { encoding: 'plain', codec: 'zstd' } as ColumnWriteOptions]));

async function main() {
  const cpuSpec = { ...CPU, hosts };
  console.log(`# compression: cpu ${hosts} hosts × 24 h @10 s, ticks ~${tickRows.toLocaleString('en-US')} rows`);
  const cpu = await quiverTable('cpu', cpuBatches(cpuSpec), [...CPU_TAGS]);
  const cpuSmall = await quiverTable('cpu_small', cpuBatches(cpuSpec), [...CPU_TAGS], undefined, 'small');
  const cpuPlain = await quiverTable('cpu_plain', cpuBatches(cpuSpec), [...CPU_TAGS], plainColumns(['time', ...CPU_FIELDS, ...CPU_TAGS]));
  const cpuCsv = join(dir, 'cpu.csv');
  await writeCpuCsv(cpuCsv, cpuSpec);
  const cpuDuck = await duckSizes('cpu', cpuCsv, `SELECT * FROM read_csv('$CSV')`);
  const ticks = await quiverTable('ticks', ticksBatches({ ...TICKS, rows: tickRows }), ['symbol']);
  const ticksSmall = await quiverTable('ticks_small', ticksBatches({ ...TICKS, rows: tickRows }), ['symbol'], undefined, 'small');
  const ticksPlain = await quiverTable('ticks_plain', ticksBatches({ ...TICKS, rows: tickRows }), ['symbol'], plainColumns(['time', 'symbol', 'price', 'volume']));
  const tCsv = join(dir, 'ticks.csv');
  await ticksCsv(tCsv);
  const ticksDuck = await duckSizes('ticks', tCsv, `SELECT epoch_ms(time) AS time, symbol, price, volume FROM read_csv('$CSV')`);

  const report = (name: string, q: typeof cpu, small: typeof cpu, plain: typeof cpu, duck: typeof cpuDuck, fields: string[]) => {
    const points = q.rows * fields.length;
    console.log(`\n## ${name}: ${q.rows.toLocaleString('en-US')} rows, ${points.toLocaleString('en-US')} points (a point = one field value with its share of time and tags)\n`);
    console.log('| column | Quiver bytes/row | Quiver small bytes/row | zstd-only bytes/row | Parquet+zstd (sorted) bytes/row |');
    console.log('|---|---:|---:|---:|---:|');
    for (const col of [...q.perColumn.keys()]) {
      const pq = duck.parquetColumns.get(col);
      console.log(`| ${col} | ${fmt(q.perColumn.get(col)! / q.rows, 3)} | ${fmt(small.perColumn.get(col)! / q.rows, 3)} | ${fmt(plain.perColumn.get(col)! / q.rows, 3)} | ${pq === undefined ? '-' : fmt(pq / q.rows, 3)} |`);
    }
    console.log('\n| store | bytes | bytes per point | vs Quiver |');
    console.log('|---|---:|---:|---:|');
    for (const [label, bytes] of [['Quiver', q.total], ["Quiver, compression: 'small' (rANS where smaller)", small.total], ['Quiver zstd-only (plain pages)', plain.total], ['DuckDB table file', duck.table], ['DuckDB Parquet export (ZSTD)', duck.parquet], ['DuckDB Parquet (ZSTD), sorted by series, time', duck.parquetSorted]] as const) {
      console.log(`| ${label} | ${bytes.toLocaleString('en-US')} | ${fmt(bytes / points, 3)} | ${fmt(bytes / q.total, 2)}× |`);
    }
  };
  report('cpu', cpu, cpuSmall, cpuPlain, cpuDuck, [...CPU_FIELDS]);
  const entropy = stepEntropy();
  console.log(`\nFloor: empirical entropy of the cpu steps ${fmt(entropy, 3)} bits = ${fmt(entropy / 8, 3)} bytes per point (timestamps and tags ≈ 0).`);
  report('ticks', ticks, ticksSmall, ticksPlain, ticksDuck, ['price', 'volume']);

  console.log('\n## decode speed (values/s, all pages of the column, best of 9 passes alternating with the zstd-only table, after a warm-up pass)\n');
  console.log('| column | Quiver | zstd-only | ratio |');
  console.log('|---|---:|---:|---:|');
  for (const [q, p, col] of [[cpu, cpuPlain, 'time'], [cpu, cpuPlain, 'usage_user'], [cpuSmall, cpuPlain, 'usage_user'], [cpu, cpuPlain, 'hostname'], [ticks, ticksPlain, 'time'], [ticks, ticksPlain, 'symbol'], [ticks, ticksPlain, 'price'], [ticksSmall, ticksPlain, 'price'], [ticks, ticksPlain, 'volume']] as const) {
    const [a, b] = await decodeRates(q, p, col);
    console.log(`| ${q.table.name}.${col} | ${fmt(a / 1e6, 1)} M | ${fmt(b / 1e6, 1)} M | ${fmt(a / b, 2)} |`);
  }
  rmSync(dir, { recursive: true, force: true });
}

await main();
