import { tableFromIPC } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm/node';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Quiver } from '../../src/quiver.js';
import type { Table } from '../../src/table/table.js';
import type { TimeUnit } from '../../src/format/types.js';

/** Tables with every field type and their expected Parquet contents, read back by DuckDB. */
export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;
export const U64_MAX = 2n ** 64n - 1n;
export const DAY = 86_400_000n;
export const START_MS = BigInt(Date.UTC(2026, 0, 1));

export interface Expected { time: bigint; host: string; dc: string | null; f: number | null; i: bigint | null; u: bigint | null; b: boolean | null; s: string | null }

/** Rows over three days, every field type with nulls, NaN, ±0, ±Infinity and the int64/uint64 extremes. */
export function makeRows(unit: TimeUnit, n: number): Expected[] {
  const perMs = { s: 0n, ms: 1n, us: 1_000n, ns: 1_000_000n }[unit];
  const rows: Expected[] = [];
  const specials = [NaN, -0, 0, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, 0.1 + 0.2];
  const ints = [I64_MIN, I64_MAX, 0n, -1n, 1n];
  const uints = [U64_MAX, 0n, 2n ** 63n, 1n];
  for (let k = 0; k < n; k++) {
    const ms = START_MS + (BigInt(k) * 3n * DAY) / BigInt(n);
    const time = unit === 's' ? ms / 1000n : ms * perMs + (perMs > 1n ? BigInt(k % 997) : 0n);
    rows.push({
      time,
      host: `host_${k % 5}`,
      dc: k % 7 === 3 ? null : `dc-${k % 2}`,
      f: k % 11 === 0 ? null : k < specials.length * 3 ? specials[k % specials.length]! : k / 7 - 40,
      i: k % 13 === 0 ? null : k < 40 ? ints[k % ints.length]! : BigInt(k) * 1_000_003n - 7n,
      u: k % 17 === 0 ? null : k < 40 ? uints[k % uints.length]! : BigInt(k) * 99n,
      b: k % 3 === 0 ? null : k % 2 === 0,
      s: k % 5 === 0 ? null : k % 9 === 0 ? `q"uote,\n ✓ ${k}` : `s${k}`,
    });
  }
  return rows;
}

export async function makeTable(db: Quiver, name: string, unit: TimeUnit, rows: Expected[], flushes = 3): Promise<Table> {
  const table = await db.createTable(name, {
    timeUnit: unit, tags: ['host', 'dc'],
    fields: [{ name: 'f', type: 'float64' }, { name: 'i', type: 'int64' }, { name: 'u', type: 'uint64' }, { name: 'b', type: 'bool' }, { name: 's', type: 'utf8' }],
  });
  // Several flushes: partitions hold several chunks with their own tag dictionaries.
  const per = Math.ceil(rows.length / flushes);
  for (let at = 0; at < rows.length; at += per) {
    await table.append(rows.slice(at, at + per).map((r) => ({ ...r, time: toNs(r.time, unit) })));
    await table.flush();
  }
  return table;
}

export function toNs(t: bigint, unit: TimeUnit): bigint {
  return t * { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n }[unit];
}

export function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The time column's raw integers as arrow-rs (parquet-wasm) reads them. */
export function timesOf(file: Uint8Array): bigint[] {
  const table = tableFromIPC(parquetWasm.readParquet(file).intoIPCStream());
  const out: bigint[] = [];
  for (const data of table.getChild('time')!.data) out.push(...(data.values as BigInt64Array).subarray(0, data.length));
  return out.sort(cmp);
}

export async function duck(): Promise<DuckDBConnection> {
  return (await DuckDBInstance.create(':memory:')).connect();
}

export const EPOCH = { s: '(epoch_ms(time) // 1000)', ms: 'epoch_ms(time)', us: 'epoch_us(time)', ns: 'epoch_ns(time)' } as const;

/** The file as DuckDB reads it, as exact strings per cell (doubles by their bits). */
export async function readBack(conn: DuckDBConnection, file: string, unit: TimeUnit): Promise<string[]> {
  const reader = await conn.runAndReadAll(`SELECT ${EPOCH[unit]}::VARCHAR AS t, host, dc, f, i::VARCHAR AS i, u::VARCHAR AS u, b, s FROM read_parquet('${file}')`);
  return reader.getRowObjects().map((r) => cells(String(r.t), r.host as string, r.dc as string | null, r.f as number | null, r.i as string | null, r.u as string | null, r.b as boolean | null, r.s as string | null)).sort();
}

export function bitsOf(f: number | null): string {
  if (f === null) return 'null';
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, f);
  return v.getBigUint64(0).toString(16);
}

export function cells(t: string, host: string, dc: string | null, f: number | null, i: string | null, u: string | null, b: boolean | null, s: string | null): string {
  return JSON.stringify([t, host, dc, bitsOf(f), i, u, b, s]);
}

/** What a scan returns: a missing tag value is the null tag (distinct from ''), null in every output. */
export function expectedCells(rows: Expected[]): string[] {
  return rows.map((r) => cells(r.time.toString(), r.host, r.dc, r.f, r.i === null ? null : r.i.toString(), r.u === null ? null : r.u.toString(), r.b, r.s)).sort();
}

export async function kv(conn: DuckDBConnection, file: string): Promise<Map<string, string>> {
  const rows = (await conn.runAndReadAll(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${file}')`)).getRowObjects();
  return new Map(rows.map((r) => [r.k as string, r.v as string]));
}

