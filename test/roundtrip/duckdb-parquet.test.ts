/**
 * Parquet written by another writer than ours: the round-trip generator's tables loaded into
 * DuckDB through its appender, written by `COPY … TO (FORMAT parquet, COMPRESSION c,
 * PARQUET_VERSION v)` in every codec DuckDB writes and both page versions, imported by
 * Quiver and compared value by value (bits for floats) with what DuckDB reads back.
 *
 *   QUIVER_ROUNDTRIP_CASES / QUIVER_ROUNDTRIP_SEED as in roundtrip.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DuckDBInstance, DuckDBTimestampMillisecondsValue, DuckDBTimestampNanosecondsValue, DuckDBTimestampSecondsValue, DuckDBTimestampValue,
  type DuckDBAppender,
} from '@duckdb/node-api';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles } from '../../src/io/import.js';
import type { TimeUnit } from '../../src/format/types.js';
import { INT64_MAX, INT64_MIN } from './capabilities.js';
import { duckString, duckStringBytes, generate, type GenTable, type Value } from './generate.js';
import { difference, expected, scanned } from './paths.js';

const DUCKDB_CASES_DEFAULT = 2;
const seedEnv = process.env.QUIVER_ROUNDTRIP_SEED;
const FIRST_SEED = seedEnv !== undefined ? Number(seedEnv) : 1;
const CASES = process.env.QUIVER_ROUNDTRIP_CASES !== undefined ? Math.max(1, Math.ceil(Number(process.env.QUIVER_ROUNDTRIP_CASES) / 10))
  : seedEnv !== undefined ? 1 : DUCKDB_CASES_DEFAULT;

/** Every codec DuckDB's Parquet writer takes (lz4 is LZ4_RAW in the file). */
const CODECS = ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4', 'brotli'];
const VERSIONS = ['V1', 'V2'];

const TIME_TYPE: Record<TimeUnit, [string, (a: DuckDBAppender, t: bigint) => void, string]> = {
  s: ['TIMESTAMP_S', (a, t) => a.appendTimestampSeconds(new DuckDBTimestampSecondsValue(t)), 'epoch_ms(time) // 1000'],
  ms: ['TIMESTAMP_MS', (a, t) => a.appendTimestampMilliseconds(new DuckDBTimestampMillisecondsValue(t)), 'epoch_ms(time)'],
  us: ['TIMESTAMP', (a, t) => a.appendTimestamp(new DuckDBTimestampValue(t)), 'epoch_us(time)'],
  ns: ['TIMESTAMP_NS', (a, t) => a.appendTimestampNanoseconds(new DuckDBTimestampNanosecondsValue(t)), 'epoch_ns(time)'],
};

const NS_PER: Record<TimeUnit, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };

/**
 * DuckDB reads int64 max and min(+1) as ±infinity timestamps, and holds timestamps as int64
 * microseconds (whatever the unit): rows outside that stay out of this test.
 */
function withoutDuckInfinities(table: GenTable): GenTable {
  const inDuck = (t: bigint) => { const us = (t * NS_PER[table.unit]) / 1000n; return t !== INT64_MAX && t > INT64_MIN + 1n && us < INT64_MAX && us > INT64_MIN + 1n; };
  const keep = table.time.map((t, i) => (inDuck(t) ? i : -1)).filter((i) => i >= 0);
  return {
    ...table,
    time: keep.map((i) => table.time[i]!),
    tags: table.tags.map((t) => ({ name: t.name, values: keep.map((i) => t.values[i]!) })),
    fields: table.fields.map((f) => ({ ...f, values: keep.map((i) => f.values[i]!) })),
  };
}

/** The table without the fields DuckDB cannot write as their own type (ColumnKind.duck null), values it leaves out null. */
function duckFields(table: GenTable): GenTable {
  return {
    ...table,
    fields: table.fields.filter((f) => f.kind.duck !== null)
      .map((f) => ({ ...f, values: f.values.map((v) => (v === null || !f.kind.duck!.fits || f.kind.duck!.fits(v) ? v : null)) })),
  };
}

const quote = (name: string) => `"${name}"`;

test(`Parquet written by DuckDB (${CODECS.join(', ')}; page versions ${VERSIONS.join(', ')}) imports with the values DuckDB reads back: ${CASES} generated tables from seed ${FIRST_SEED}`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-roundtrip-duckdb-'));
  const instance = await DuckDBInstance.create(':memory:');
  const duck = await instance.connect();
  try {
    for (let seed = FIRST_SEED; seed < FIRST_SEED + CASES; seed++) {
      const table = duckFields(withoutDuckInfinities(generate(seed, { rowsMax: 3000 })));
      if (table.time.length === 0) continue;
      const [timeType, appendTime, timeExpr] = TIME_TYPE[table.unit];
      const columns = [...table.tags.map((t) => `${quote(t.name)} VARCHAR`), ...table.fields.map((f) => `${quote(f.name)} ${f.kind.duck!.type}`)];
      await duck.run(`CREATE OR REPLACE TABLE g (time ${timeType}${columns.map((c) => `, ${c}`).join('')})`);
      const appender = await duck.createAppender('g');
      for (let i = 0; i < table.time.length; i++) {
        appendTime(appender, table.time[i]!);
        for (const t of table.tags) appender.appendVarchar(t.values[i]!);
        for (const f of table.fields) { const v = f.values[i]!; if (v === null) appender.appendNull(); else f.kind.duck!.append(appender, v); }
        appender.endRow();
      }
      appender.closeSync();
      for (const codec of CODECS) {
        for (const version of VERSIONS) {
          const label = `seed ${seed} (QUIVER_ROUNDTRIP_SEED=${seed} npm test -- roundtrip/duckdb), unit ${table.unit}, ${table.time.length} rows, COMPRESSION ${codec}, PARQUET_VERSION ${version}`;
          const file = join(dir, `${seed}-${codec}-${version}.parquet`);
          const rowGroup = 1 + (seed % 3) * 700;
          await duck.run(`COPY g TO '${file}' (FORMAT parquet, COMPRESSION ${codec}, PARQUET_VERSION ${version}, ROW_GROUP_SIZE ${rowGroup})`);
          // What DuckDB reads back, as a generated table (the reference).
          const selects = [...table.tags.map((t) => duckStringBytes(quote(t.name))), ...table.fields.map((f) => f.kind.duck!.select?.(quote(f.name)) ?? quote(f.name))];
          const reader = await duck.runAndReadAll(`SELECT ${timeExpr} AS time${selects.map((e) => `, ${e}`).join('')} FROM read_parquet('${file}')`);
          const rows = reader.getRows();
          const reference: GenTable = {
            ...table,
            time: rows.map((r) => BigInt(r[0] as bigint)),
            tags: table.tags.map((t, k) => ({ name: t.name, values: rows.map((r) => (r[1 + k] === null ? null : duckString(r[1 + k]))) })),
            fields: table.fields.map((f, k) => ({ ...f, values: rows.map((r): Value | null => { const x = r[1 + table.tags.length + k]; return x === null ? null : f.kind.duck!.value(x); }) })),
          };
          const db = await Quiver.open(new MemoryChunkManager());
          try {
            await importFiles(db, [file], { table: 't', tags: table.tags.map((t) => t.name), timeUnit: table.unit, duplicates: 'keep' }); // repeated times come back
            const written = { db, table: await db.table('t'), unit: table.unit, how: label };
            const diff = difference(reference, expected('parquet', reference, table.unit), await scanned(written, reference));
            assert.equal(diff, null, `${label}: ${diff}`);
          } catch (error) {
            if (!(error as Error).message.startsWith(label)) (error as Error).message = `${label}: ${(error as Error).message}`;
            throw error;
          } finally {
            await db.close();
          }
        }
      }
    }
  } finally {
    duck.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
});
