/**
 * Round-trip property test (issue 12): seeded tables over every column type (generate.ts)
 * written through every path (paths.ts) and compared value by value with what a scan returns.
 * What the code cannot take exactly yet is listed in capabilities.ts.
 *
 *   npm test -- roundtrip                                   ROUNDTRIP_CASES_DEFAULT cases per path
 *   QUIVER_ROUNDTRIP_CASES=2000 npm test -- roundtrip       a longer run
 *   QUIVER_ROUNDTRIP_SEED=1234 npm test -- roundtrip        case 1234 (and the next CASES-1)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boundaryTable, generate, Rand, TIME_UNITS, type GenTable } from './generate.js';
import { difference, expected, PATHS, restrict, scanned, write } from './paths.js';

const ROUNDTRIP_CASES_DEFAULT = 12;
const seedEnv = process.env.QUIVER_ROUNDTRIP_SEED;
const casesEnv = process.env.QUIVER_ROUNDTRIP_CASES;
const FIRST_SEED = seedEnv !== undefined ? Number(seedEnv) : 1;
const CASES = casesEnv !== undefined ? Number(casesEnv) : seedEnv !== undefined ? 1 : ROUNDTRIP_CASES_DEFAULT;
const ROWS_MAX = Number(process.env.QUIVER_ROUNDTRIP_ROWS ?? 3000);
assert.ok(Number.isSafeInteger(FIRST_SEED) && Number.isSafeInteger(CASES) && CASES > 0, 'QUIVER_ROUNDTRIP_SEED and QUIVER_ROUNDTRIP_CASES must be integers');

/** Writes `table` through `path` and compares the scan with it; errors name the case. */
async function roundTrip(path: (typeof PATHS)[number], source: GenTable, r: Rand, label: string): Promise<void> {
  const table = restrict(path, source);
  if (table.time.length === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'quiver-roundtrip-'));
  let how = path as string;
  try {
    const written = await write(path, table, r, dir);
    how = written.how;
    const diff = difference(table, expected(path, table, written.unit), await scanned(written, table));
    await written.db.close();
    if (diff !== null) throw new Error(diff);
  } catch (error) {
    const e = error as Error;
    e.message = `${label}, ${how}, unit ${table.unit}, ${table.time.length} rows, `
      + `tags [${table.tags.map((t) => t.name)}], fields [${table.fields.map((f) => f.name)}]: ${e.message}`;
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const path of PATHS) {
  test(`round trip through ${path}: every boundary value (NaN patterns, ±0, ±Infinity, subnormals, 64-bit extremes, each unit's first and last time, hostile strings)`, async () => {
    for (const unit of TIME_UNITS) {
      for (let k = 0; k < 3; k++) await roundTrip(path, boundaryTable(unit), new Rand(k * 101 + PATHS.indexOf(path)), `boundary table, choice seed ${k}`);
    }
  });

  test(`round trip through ${path}: ${CASES} generated tables from seed ${FIRST_SEED} come back value for value`, async () => {
    for (let seed = FIRST_SEED; seed < FIRST_SEED + CASES; seed++) {
      // The path's own choices (batch sizes, codecs, CLI or library) from a seed of their own.
      await roundTrip(path, generate(seed, { rowsMax: ROWS_MAX }), new Rand(seed * 31 + PATHS.indexOf(path)), `seed ${seed} (QUIVER_ROUNDTRIP_SEED=${seed} npm test -- roundtrip)`);
    }
  });
}
