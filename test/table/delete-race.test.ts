import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';

// Deletes, compactions and appends racing from several processes on one table. Every appender
// prints the version that committed each batch of rows; every deleter the version and
// predicate of each delete. A row survives exactly when no delete of a later version matches
// it: the table must hold each surviving row exactly once, and nothing else.
const quiverModule = new URL('../../src/quiver.js', import.meta.url).href;
const errorsModule = new URL('../../src/errors.js', import.meta.url).href;
const T0 = Date.UTC(2026, 4, 1);
const HOUR = 3_600_000;
const HOSTS = ['h0', 'h1', 'h2', 'h3'];

interface Written { version: number; rows: [number, number, string][] }
interface Deleted { version: number; from: number; to: number; host: string | null }

function child(body: string, seed: number, onFirstLine?: () => void): Promise<string[]> {
  const script = `
    import { Quiver } from ${JSON.stringify(quiverModule)};
    import { ConflictError } from ${JSON.stringify(errorsModule)};
    let seed = Number(process.argv[1]);
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const compact = async (t) => { try { await t.compact({ smallRows: 200 }); } catch (e) { if (!(e instanceof ConflictError)) throw e; } };
    ${body}
  `;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stdout.on('data', (d) => {
    out += String(d);
    if (onFirstLine && out.includes('\n')) { onFirstLine(); onFirstLine = undefined; }
  });
  proc.stderr.on('data', (d) => { err += String(d); });
  return once(proc, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`child exited with ${code}: ${err}`);
    return out.trim().split('\n').filter(Boolean);
  });
}

test('racing deletes, compactions and appends from several processes keep every surviving row exactly once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-delete-race-'));
  try {
    const store = join(dir, 'store');
    const db = await Quiver.open(store);
    await db.createTable('race', { tags: ['host'], fields: [{ name: 'id', type: 'int64' }], partition: 'hour', timeUnit: 'ms' });
    const appender = (w: number, onFirstBatch: () => void) => child(`
      const db = await Quiver.open(${JSON.stringify(store)}, { autoCompact: 0 });
      const t = await db.table('race');
      for (let b = 0; b < 12; b++) {
        const rows = [];
        for (let i = 0; i < 40; i++) rows.push([${T0} + Math.floor(random() * 4 * ${HOUR}), ${w} * 1_000_000 + b * 1000 + i, ${JSON.stringify(HOSTS)}[Math.floor(random() * 4)]]);
        await t.append(rows.map(([time, id, host]) => ({ time, host, id: BigInt(id) })));
        await t.flush();
        console.log(JSON.stringify({ version: t.version, rows }));
        if (b % 4 === 3) await compact(t);
      }
      await db.close();
    `, w * 7919, onFirstBatch);
    const deleter = (seed: number) => child(`
      const db = await Quiver.open(${JSON.stringify(store)}, { autoCompact: 0 });
      const t = await db.table('race');
      for (let d = 0; d < 6; d++) {
        const from = ${T0} + Math.floor(random() * 4 * ${HOUR});
        const to = from + Math.floor((0.1 + random()) * ${HOUR});
        const host = random() < 0.3 ? null : ${JSON.stringify(HOSTS)}[Math.floor(random() * 4)];
        const r = await t.delete({ from, to, ...(host ? { where: { host } } : {}) });
        console.log(JSON.stringify({ version: r.version, from, to, host }));
        await compact(t);
      }
      await db.close();
    `, seed);
    // The deleters start once every appender has committed its first batch: their deletes then
    // come after those rows (whatever the scheduler does with the rest), so some rows are
    // deleted in every run and the check below always has both kinds.
    const firstBatches = [1, 2, 3].map(() => {
      let committed!: () => void;
      return { done: new Promise<void>((resolve) => { committed = resolve; }), committed: () => committed() };
    });
    const appenders = firstBatches.map((b, i) => appender(i + 1, b.committed));
    await Promise.all(firstBatches.map((b, i) => Promise.race([b.done, appenders[i]])));
    const outputs = await Promise.all([...appenders, deleter(101), deleter(202)].map((p) => p.then((lines) => ({ lines }))));
    const written: Written[] = outputs.slice(0, 3).flatMap((o) => o.lines.map((l) => JSON.parse(l) as Written));
    const deleted: Deleted[] = outputs.slice(3).flatMap((o) => o.lines.map((l) => JSON.parse(l) as Deleted));
    assert.equal(written.length, 36);
    assert.equal(deleted.length, 12);
    assert.equal(new Set([...written.map((w) => w.version), ...deleted.map((d) => d.version)]).size, 48, 'each commit has its own version');
    const expected: number[] = [];
    for (const w of written) {
      for (const [time, id, host] of w.rows) {
        const gone = deleted.some((d) => d.version > w.version && time >= d.from && time < d.to && (d.host === null || d.host === host));
        if (!gone) expected.push(id);
      }
    }
    expected.sort((a, b) => a - b);
    assert.ok(expected.length > 100 && expected.length < 36 * 40, `some rows survive, some are deleted (${expected.length})`);
    const t = await db.table('race');
    const ids = async () => {
      const q = await t.query({ columns: ['id'] });
      const col = q.getChild('id')!;
      return Array.from({ length: q.numRows }, (_, i) => Number(col.get(i))).sort((a, b) => a - b);
    };
    assert.deepEqual(await ids(), expected, 'every surviving row exactly once');
    const count = await t.query({ agg: { id: 'count' } });
    assert.equal(Number(count.getChild('count_id')!.get(0)), expected.length, 'count from statistics and decoding agrees');
    await t.compact({ smallRows: 1_000_000 });
    assert.deepEqual(await ids(), expected, 'after a last compaction');
    assert.equal(t.currentManifest.chunks.reduce((s, c) => s + c.rows, 0), expected.length, 'the chunks hold exactly the surviving rows');
    assert.deepEqual(t.currentManifest.deletes ?? [], []);
    assert.deepEqual((await t.verify()).filter((c) => !c.ok), []);
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
