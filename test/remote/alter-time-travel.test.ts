import { test } from 'node:test';
import assert from 'node:assert/strict';
import { azUrl, s3Url } from './urls.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { versionAsOf } from '../../src/table/versions.js';
import { ALTERED_ROWS, alterScenario, scanRows, UNALTERED_ROWS } from '../table/alter-helpers.js';
import { runCli } from '../cli/in-process.js';

// Schema evolution, time travel and read-your-writes on real object stores: Ceph RGW (S3) and
// Azurite (Azure), started by `npm test`; the local store alongside for the same answers.
const T0 = Date.UTC(2026, 0, 1);


for (const [name, url] of [['local', () => ''], ['s3', () => s3Url('alter')], ['azure', () => azUrl('alter')]] as const) {
  test(`${name}: alter, time travel (--version, --as-of, inspect --versions) and read-your-writes`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-ryw-remote-'));
    const store = url() || join(dir, 'store');
    try {
      const db = await Quiver.open(store);
      const { cpu, before, alterVersion } = await alterScenario(db, 'cpu');
      assert.deepEqual(await scanRows(cpu), ALTERED_ROWS);
      assert.deepEqual(await scanRows(cpu, { version: before }), UNALTERED_ROWS);
      assert.ok((await cpu.verify()).every((c) => c.ok));
      const versions = await cpu.versions();
      assert.deepEqual(versions.map((v) => v.operation), ['create', 'append', 'alter', 'append']);
      assert.equal(versions[2]!.summary, 'dropped field s; renamed field a to usage; widened field n from int64 to float64');
      assert.equal(await versionAsOf(cpu.store, 'cpu', Date.parse(versions[2]!.committedAt)), alterVersion);
      await assert.rejects(versionAsOf(cpu.store, 'cpu', Date.UTC(2000, 0, 1)), /earliest retained is version 1/);
      // Read-your-writes: unflushed rows are in scans and queries, not in an explicit version.
      await cpu.append([{ time: T0 + 3000, host: 'c', usage: 8, n: 1 }]);
      assert.equal((await scanRows(cpu)).length, ALTERED_ROWS.length + 1);
      assert.equal((await cpu.query({ agg: { '*': 'count' } })).getChild('count')!.get(0), BigInt(ALTERED_ROWS.length + 1));
      assert.equal((await scanRows(cpu, { version: cpu.version })).length, ALTERED_ROWS.length);
      await db.close();

      // The CLI reads the same versions of the same store.
      const out = join(dir, 'old.csv');
      const old = await runCli(store, 'scan', 'cpu', '--version', String(before), '--out', out);
      assert.equal(old.code, 0, old.out);
      assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n')[0], 'time,host,a,n,s');
      const asOf = join(dir, 'as-of.csv');
      const r = await runCli(store, 'scan', 'cpu', '--as-of', versions[2]!.committedAt, '--out', asOf);
      assert.equal(r.code, 0, r.out);
      assert.equal(readFileSync(asOf, 'utf8').trim().split('\n').length, 1 + UNALTERED_ROWS.length, 'as of the alter: its rows, before the next append');
      const listed = await runCli(store, 'inspect', 'cpu', '--versions', '--json');
      assert.equal(listed.code, 0, listed.out);
      assert.deepEqual((JSON.parse(listed.out) as { versions: { operation: string }[] }).versions.map((v) => v.operation), ['create', 'append', 'alter', 'append', 'append']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
