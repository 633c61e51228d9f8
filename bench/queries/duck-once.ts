/**
 * DuckDB's equivalent of one `quiver` command: a fresh process that opens its own database
 * file, runs one SQL statement and prints the rows (CSV-like, one line each), as the DuckDB
 * CLI would. Usage: `node duck-once.js FILE.duckdb SQL`.
 */
import { DuckDBInstance } from '@duckdb/node-api';

const [path, sql] = process.argv.slice(2);
if (!path || !sql) throw new Error('usage: duck-once.js FILE.duckdb SQL');
const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
const conn = await instance.connect();
await conn.run(`SET TimeZone = 'UTC'`);
const reader = await conn.runAndReadAll(sql);
const lines: string[] = [];
for (const row of reader.getRows()) lines.push(row.map((v) => String(v)).join(','));
process.stdout.write(lines.join('\n') + '\n');
conn.closeSync();
instance.closeSync();
