import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { ConflictError } from '../../src/errors.js';
import { azUrl, s3Url } from './urls.js';

/**
 * A bulk writer that adds tags (`table.writer({ addTags })`, what an import naming new tags
 * uses) adds them in the commit that adds its rows: before the commit nothing is visible, an
 * abort or a failure adds no tag, and an alter landing meanwhile fails the commit with
 * nothing committed and its chunk files deleted. On the local store, the in-memory one, and
 * real S3 (Ceph RGW) and Azure (Azurite) servers started by `npm test`.
 */
const T0 = Date.UTC(2026, 0, 1);
const rowsOf = async (db: Quiver, name: string) => {
  const out: string[] = [];
  for await (const b of (await db.table(name)).scan({})) for (const r of b.toArray()) out.push(`${r.host}|${r.dc}|${r.v}`);
  return out.sort();
};

const STORES = [
  ['local', (dir: string) => join(dir, 'store')],
  ['memory', () => `memory://staged-${process.pid}-${Math.random().toString(36).slice(2)}`],
  ['s3', () => s3Url(`staged-${Math.random().toString(36).slice(2)}`)],
  ['azure', () => azUrl(`staged-${Math.random().toString(36).slice(2)}`)],
] as const;

for (const [name, url] of STORES) {
  test(`${name}: a writer adding tags commits them with its rows; abort and a concurrent alter add nothing`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-staged-tags-'));
    const store = url(dir);
    try {
      const db = await Quiver.open(store);
      const cpu = await db.createTable('cpu', { timeUnit: 'ms', tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
      await cpu.append([{ time: T0, host: 'a', v: 1 }]);
      await cpu.flush();
      const base = cpu.version;

      // Aborted: no tag, no version, no chunk file left.
      const chunksBefore = (await cpu.store.list('cpu/chunks/')).length;
      let w = cpu.writer({ addTags: ['dc'], bufferBytesMax: 1 });
      assert.deepEqual(w.schema.tags, ['host', 'dc']);
      await w.append([{ time: T0 + 1000, host: 'a', dc: 'x', v: 2 }]);
      await w.abort();
      assert.deepEqual(cpu.schema.tags, ['host']);
      assert.equal((await cpu.versions()).at(-1)!.version, base);
      assert.equal((await cpu.store.list('cpu/chunks/')).length, chunksBefore);

      // Another handle alters the table while the writer works: its commit fails, nothing lands.
      w = cpu.writer({ addTags: ['dc'], bufferBytesMax: 1 });
      await w.append([{ time: T0 + 1000, host: 'a', dc: 'x', v: 2 }]);
      const other = await Quiver.open(store);
      await (await other.table('cpu')).alter({ addTag: 'zone' });
      await other.close();
      await assert.rejects(w.commit(), (e: unknown) => e instanceof ConflictError && /another alter of the table landed/.test((e as Error).message));
      await cpu.refresh();
      assert.deepEqual(cpu.schema.tags, ['host', 'zone']);
      assert.equal((await cpu.store.list('cpu/chunks/')).length, chunksBefore);
      assert.deepEqual(await rowsOf(db, 'cpu'), ['a|undefined|1']);

      // Committed: the tag and the rows in one version; the earlier row reads the tag as null.
      w = cpu.writer({ addTags: ['dc'] });
      await w.append([{ time: T0 + 1000, host: 'a', dc: 'x', v: 2 }, { time: T0 + 2000, host: 'b', dc: null, v: 3 }]);
      const committed = await w.commit();
      assert.equal(committed.version, cpu.version);
      assert.deepEqual(cpu.schema.tags, ['host', 'zone', 'dc']);
      const versions = await cpu.versions();
      assert.equal(versions.at(-1)!.operation, 'import');
      assert.equal(versions.at(-2)!.operation, 'alter', 'the other handle\'s alter, then the import: no version of its own for dc');
      assert.deepEqual(await rowsOf(db, 'cpu'), ['a|null|1', 'a|x|2', 'b|null|3']);
      assert.ok((await cpu.verify()).every((c) => c.ok));
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
