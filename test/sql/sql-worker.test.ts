import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const QUIVER = new URL('../../src/quiver.js', import.meta.url).href;

/**
 * Runs `body` (an ES module with `db`, a store holding table m of 3 rows) in a fresh node process,
 * given as text (`node --input-type=module -e`): Quiver's worker threads must not inherit that option.
 */
function inProcess(body: string) {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-sql-worker-'));
  const script = `
    import { Quiver } from ${JSON.stringify(QUIVER)};
    const db = await Quiver.open(${JSON.stringify(join(dir, 'store'))});
    const m = await db.createTable('m', { tags: ['host'], fields: [{ name: 'f', type: 'float64' }] });
    await m.append([{ time: 1n, host: 'a', f: 1 }, { time: 2n, host: 'b', f: 2 }, { time: 3n, host: 'a', f: 3 }]);
    await m.flush();
    ${body}
    await db.close();`;
  try {
    return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 300_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('sql: a process running many queries ends cleanly (the DuckDB worker is never torn down while DuckDB runs)', () => {
  // Terminating the worker right after its last message aborted the process now and then
  // ("terminate called after throwing an instance of 'Napi::Error'", SIGABRT).
  const r = inProcess(`
    let rows = 0;
    for (let i = 0; i < 30; i++) rows += (await db.sql(i % 2 ? 'SELECT * FROM m' : 'SELECT host, sum(f) FROM m GROUP BY host')).numRows;
    console.log(rows);`);
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /terminate called/);
  assert.equal(r.stdout.trim(), String(15 * 3 + 15 * 2));
});

test('sql: a consumer that stops early ends the query at once, whether DuckDB produces rows or waits on a Quiver scan', () => {
  // A result of 10^10 rows the consumer leaves after one batch: the worker must stop (it posts at
  // most a few chunks ahead of the consumer, and cancel interrupts DuckDB), not compute them all.
  const r = inProcess(`
    const t0 = Date.now();
    for await (const b of db.sqlBatches('SELECT range AS x FROM range(10000000000)')) { console.log('first', b.numRows > 0); break; }
    for await (const b of db.sqlBatches('SELECT * FROM m, range(10000000000)')) { console.log('scan', b.numRows > 0); break; }
    console.log('after', (await db.sql('SELECT count(*) AS n FROM m')).getChild('n').get(0));
    console.log('seconds', Math.round((Date.now() - t0) / 1000));`);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 3), ['first true', 'scan true', 'after 3n']);
  // Computing 10^10 rows takes minutes; a stopped query takes well under a minute even on a loaded machine.
  assert.ok(Number(lines[3]!.split(' ')[1]) < 60, lines[3]);
});
