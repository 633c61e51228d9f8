import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** A DuckDB database file (or :memory:) for the benchmarks' peer figures. */
export async function duckdb(path = ':memory:'): Promise<{ conn: DuckDBConnection; rows(sql: string): Promise<unknown[][]>; close(): void }> {
  const instance = await DuckDBInstance.create(path);
  const conn = await instance.connect();
  return {
    conn,
    async rows(sql: string) { return (await conn.runAndReadAll(sql)).getRows() as unknown[][]; },
    close() { conn.closeSync(); instance.closeSync(); },
  };
}

/** Median of numbers. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export function fmt(n: number, digits = 2): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
