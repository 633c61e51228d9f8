/**
 * Duplicate-policy cases run on every store (local, memory: test/table/duplicates.test.ts; S3
 * and Azure: test/remote/duplicates-remote.test.ts): the same CSV imported twice, statistics-
 * answered aggregates, compaction.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table as ArrowTable } from 'apache-arrow';
import type { Quiver } from '../../src/quiver.js';
import { importFiles } from '../../src/io/import.js';
import type { DuplicatePolicy } from '../../src/core/types.js';
import type { QueryOptions } from '../../src/scan/query-types.js';

export const T0 = Date.UTC(2026, 2, 1);
export const HOSTS = ['h0', 'h1', 'h2'];
export const TIMES = 100;

/** A CSV of HOSTS × TIMES points (one a second), fields a (float64, a null every 7th) and b (int64), values offset by `shift`. */
export function writeCsv(path: string, shift: number): string {
  const lines = ['time,host,a,b'];
  for (let i = 0; i < TIMES; i++) {
    for (const [h, host] of HOSTS.entries()) {
      const k = i * HOSTS.length + h;
      lines.push(`${new Date(T0 + i * 1000).toISOString()},${host},${k % 7 === 0 ? '' : (k + shift) / 4},${k * 3 + shift}`);
    }
  }
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** Every row as text, sorted (bigints and floats print exactly). */
export function rowsText(t: ArrowTable): string[] {
  const names = t.schema.fields.map((f) => f.name);
  const out: string[] = [];
  for (let i = 0; i < t.numRows; i++) out.push(names.map((n) => { const c = t.getChild(n)!; return c.isValid(i) ? String(c.get(i)) : 'null'; }).join('|'));
  return out.sort();
}

/** Statistics-friendly aggregates (no every: whole pages fold from their footers when allowed). */
export const STATS_QUERY: QueryOptions = { agg: { a: ['count', 'sum', 'min', 'max'], b: ['count', 'sum', 'min', 'max'] } };

/**
 * The same CSV imported twice (the second with other values) under `policy`: counts stay
 * (last/first) or double (keep), the import counts the rows and values met, the winners are
 * the second (last) or first import's values, statistics-answered aggregates agree with a
 * plain scan, and a compaction makes the duplicates physical without changing an answer.
 */
export async function importTwice(db: Quiver, dir: string, policy: DuplicatePolicy, table = `t_${policy}`): Promise<void> {
  const one = writeCsv(join(dir, `${table}-1.csv`), 0);
  const two = writeCsv(join(dir, `${table}-2.csv`), 1);
  const points = HOSTS.length * TIMES;
  const first = await importFiles(db, [one], { table, tags: ['host'], duplicates: policy, parallel: false });
  assert.equal(first.duplicateRows, 0);
  assert.equal(first.duplicates, 0);
  const second = await importFiles(db, [two], { table, append: true, parallel: false });
  assert.equal(second.duplicatePolicy, policy);
  assert.equal(second.duplicateRows, points, 'every row of the second import met one of the first');
  // Values: a null in the second file never meets... each non-null value meets the first's non-null one.
  const nullsA = Math.ceil(points / 7);
  assert.equal(second.duplicates, (points - nullsA) + points);
  const t = await db.table(table);
  const count = await t.query({ agg: { '*': 'count' } });
  assert.equal(Number(count.getChild('count')!.get(0)), policy === 'keep' ? 2 * points : points);
  const rows = rowsText(await t.query({}));
  assert.equal(rows.length, policy === 'keep' ? 2 * points : points);
  if (policy !== 'keep') {
    // Field by field: b from the winner; a from the winner where the file has one (null in both otherwise).
    const shift = policy === 'last' ? 1 : 0;
    const expected: string[] = [];
    for (let i = 0; i < TIMES; i++) {
      for (const [h, host] of HOSTS.entries()) {
        const k = i * HOSTS.length + h;
        expected.push(`${T0 + i * 1000}|${host}|${k % 7 === 0 ? 'null' : (k + shift) / 4}|${k * 3 + shift}`);
      }
    }
    assert.deepEqual(rows, expected.sort());
  }
  // Aggregates answered from statistics where allowed equal those of the decoded rows.
  const stats = await t.query(STATS_QUERY);
  const decoded = await t.query({ ...STATS_QUERY, filter: { field: 'b', op: '>=', value: -1 } });
  assert.deepEqual(rowsText(stats), rowsText(decoded));
  assert.equal(Number(stats.getChild('count_b')!.get(0)), policy === 'keep' ? 2 * points : points);
  const explained = await t.explainQuery(STATS_QUERY);
  if (policy !== 'keep') assert.equal(explained.pagesFromStatistics, 0, 'overlapping chunks are merged, never summed from statistics');
  const compacted = await t.compact();
  assert.ok(compacted.groups.length > 0, 'the overlapping chunks are compacted though they are not small');
  assert.equal(t.currentManifest.chunks.reduce((n, c) => n + c.rows, 0), policy === 'keep' ? 2 * points : points, 'duplicates folded for good');
  assert.deepEqual(rowsText(await t.query({})), rows);
  assert.deepEqual(rowsText(await t.query(STATS_QUERY)), rowsText(stats));
  if (policy !== 'keep') assert.ok((await t.explainQuery(STATS_QUERY)).pagesFromStatistics > 0, 'one chunk again: statistics answer');
}
