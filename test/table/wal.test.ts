import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { fieldTypeInfo, formatValue, valueAt } from '../../src/format/field-types.js';
import { WriteAheadLog } from '../../src/table/wal.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import type { ByteRange, ChunkManager, ListOptions, PutOptions } from '../../src/chunk-manager/chunk-manager.js';
import { QuiverError, SchemaError, StoreError } from '../../src/errors.js';

const T0 = Date.UTC(2026, 0, 1);
const quiverModule = new URL('../../src/quiver.js', import.meta.url).href;

function dirs() {
  const root = mkdtempSync(join(tmpdir(), 'quiver-wal-'));
  return { root, store: join(root, 'store'), wal: join(root, 'wal'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Runs `body` in a fresh node process that dies with SIGKILL right after (no flush, no close). */
function runAndKill(body: string): void {
  const script = `import { Quiver } from ${JSON.stringify(quiverModule)};\n${body}\nprocess.kill(process.pid, 'SIGKILL');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', `child did not reach its kill: ${r.stderr}`);
}

const values = async (db: Quiver, metric: string) => (await db.readPoints(metric, T0, T0 + 86_400_000)).map((p) => p.value);

test('WAL: points a killed process wrote (never flushed) are replayed on the next open, exactly once', async () => {
  const d = dirs();
  try {
    runAndKill(`
      const db = await Quiver.open(${JSON.stringify(d.store)}, { wal: ${JSON.stringify(d.wal)} });
      for (let i = 0; i < 50; i++) await db.writePoint('cpu', ${T0} + i * 1000, i, { host: 'h' + (i % 3) });
    `);
    const bare = await Quiver.open(d.store);
    assert.deepEqual(await values(bare, 'cpu'), [], 'nothing reached the store: without the log these points are lost');
    await bare.close();

    const db = await Quiver.open(d.store, { wal: d.wal });
    const got = (await values(db, 'cpu')).sort((a, b) => a! - b!);
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
    await db.close();
    // readPoints flushed them: a third open replays nothing and reads each point once.
    const again = await Quiver.open(d.store, { wal: d.wal });
    assert.equal((await values(again, 'cpu')).length, 50);
    await again.close();
  } finally {
    d.cleanup();
  }
});

test('WAL: a crash after the commit but before the log was trimmed does not double rows', async () => {
  const d = dirs();
  try {
    const db = await Quiver.open(d.store, { wal: d.wal });
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    await t.append([{ time: T0, host: 'a', v: 1 }, { time: T0 + 1, host: 'b', v: 2 }]);
    const logPath = join(d.wal, 'm.wal');
    const beforeFlush = readFileSync(logPath);
    await t.flush();
    assert.ok(statSync(logPath).size < beforeFlush.length, 'the flush trimmed the log');
    await db.close();
    writeFileSync(logPath, beforeFlush); // as if the process died between commit and trim
    const db2 = await Quiver.open(d.store, { wal: d.wal });
    const t2 = await db2.table('m');
    assert.equal(t2.pendingRows, 0, 'the manifest marks those frames committed');
    assert.equal((await t2.query({})).numRows, 2);
    await db2.close();
  } finally {
    d.cleanup();
  }
});

test('WAL: a torn last frame is cut off; earlier appends survive', async () => {
  const d = dirs();
  try {
    runAndKill(`
      const db = await Quiver.open(${JSON.stringify(d.store)}, { wal: ${JSON.stringify(d.wal)} });
      const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
      for (let i = 0; i < 3; i++) await t.append([{ time: ${T0} + i, host: 'a', v: i }]);
    `);
    const logPath = join(d.wal, 'm.wal');
    truncateSync(logPath, statSync(logPath).size - 5);
    const db = await Quiver.open(d.store, { wal: d.wal });
    const t = await db.table('m');
    assert.equal(t.pendingRows, 2);
    await t.flush();
    assert.deepEqual(Array.from((await t.query({})).getChild('v')!.toArray() as Float64Array), [0, 1]);
    await db.close();
  } finally {
    d.cleanup();
  }
});

test('WAL: invalid rows are refused before they are logged; a dropped table\'s rows never come back', async () => {
  const d = dirs();
  try {
    const db = await Quiver.open(d.store, { wal: d.wal });
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    await assert.rejects(t.append([{ host: 'a', v: 1 }]), SchemaError);
    await t.append([{ time: T0, host: 'a', v: 1 }]);
    await db.dropTable('m');
    assert.deepEqual(readdirSync(d.wal).filter((f) => f.startsWith('m.')), [], 'the log went with the table');
    await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    await db.close();
    const db2 = await Quiver.open(d.store, { wal: d.wal });
    assert.equal((await db2.table('m')).pendingRows, 0);
    await db2.close();
  } finally {
    d.cleanup();
  }
});

test('WAL: a file that is not a log is a clear error', async () => {
  const d = dirs();
  try {
    const db = await Quiver.open(d.store);
    await db.createTable('m', { tags: ['host'] });
    await db.close();
    rmSync(d.wal, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(d.wal);
    writeFileSync(join(d.wal, 'm.wal'), 'this is not a write-ahead log at all');
    const db2 = await Quiver.open(d.store, { wal: d.wal });
    await assert.rejects(db2.table('m'), (e: unknown) => e instanceof QuiverError && /m\.wal is not a Quiver write-ahead log/.test((e as Error).message));
  } finally {
    d.cleanup();
  }
});

/** Fails the first `failures` puts of chunk files; runs `beforePut` before each chunk put. */
class FlakyPuts implements ChunkManager {
  beforePut?: () => Promise<void>;
  constructor(private readonly inner: ChunkManager, private failures: number) {}
  get url() { return this.inner.url; }
  get(key: string) { return this.inner.get(key); }
  getRange(key: string, offset: number, length: number) { return this.inner.getRange(key, offset, length); }
  getRanges(key: string, ranges: readonly ByteRange[]) { return this.inner.getRanges(key, ranges); }
  size(key: string) { return this.inner.size(key); }
  exists(key: string) { return this.inner.exists(key); }
  async put(key: string, bytes: Uint8Array, options?: PutOptions) {
    if (key.endsWith('.qvr') && this.beforePut) { const hook = this.beforePut; this.beforePut = undefined; await hook(); }
    if (key.endsWith('.qvr') && this.failures > 0) { this.failures--; throw new StoreError(this.url, key, 'put', 'injected failure', 503); }
    return this.inner.put(key, bytes, options);
  }
  list(prefix: string, options?: ListOptions) { return this.inner.list(prefix, options); }
  delete(keys: readonly string[]) { return this.inner.delete(keys); }
  close() { return this.inner.close(); }
}

test('a failed flush keeps its rows for the next one; rows appended during a flush are kept', async () => {
  const store = new FlakyPuts(new MemoryChunkManager(), 1);
  const db = await Quiver.open(store);
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  await t.append([{ time: T0, host: 'a', v: 1 }, { time: T0 + 1, host: 'a', v: 2 }]);
  await assert.rejects(t.flush(), /injected failure/);
  assert.equal(t.pendingRows, 2, 'the rows went back into the buffer');
  // This append lands after the flush drained the buffer and before it commits.
  store.beforePut = () => t.append([{ time: T0 + 2, host: 'b', v: 3 }]);
  await t.flush();
  assert.equal(t.pendingRows, 1, 'the row appended mid-flush waits for the next flush');
  await t.flush();
  assert.deepEqual(Array.from((await t.query({})).getChild('v')!.toArray() as Float64Array).sort(), [1, 2, 3]);
});

test('readPoints sees unflushed points (filtered by time and tags) without flushing them into chunks', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  await db.writePoint('ticks', T0, 1, { symbol: 'A' });
  await db.writePoint('ticks', T0 + 1000, 2, { symbol: 'B' });
  await db.writePoint('ticks', T0 + 2000, 3, { symbol: 'A' });
  await db.flush();
  await db.writePoint('ticks', T0 + 3000, 4, { symbol: 'A' });
  await db.writePoint('ticks', T0 + 86_400_000 * 2, 5, { symbol: 'A' });
  const table = await db.table('ticks');
  const chunks = (await table.chunks()).length;
  const points = await db.readPoints('ticks', T0 + 1, T0 + 86_400_000, { symbol: 'A' });
  assert.deepEqual(points.map((p) => [p.value, p.tags['symbol'], p.time]), [[3, 'A', BigInt(T0 + 2000) * 1_000_000n], [4, 'A', BigInt(T0 + 3000) * 1_000_000n]]);
  assert.equal((await table.chunks()).length, chunks, 'reading flushed nothing');
  assert.equal(table.pendingRows, 2);
});

test('WAL: concurrent appends share writes (group commit); a flush between them trims only what it committed', async () => {
  const d = dirs();
  try {
    const db = await Quiver.open(d.store, { wal: d.wal });
    const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
    const appends = (from: number) => Array.from({ length: 20 }, (_, i) => t.append([{ time: T0 + from + i, host: `h${i % 3}`, v: from + i }]));
    const first = appends(0);
    await Promise.all([...first, t.flush()]);
    const second = appends(100);
    const flushing = t.flush();
    const third = appends(200);
    await Promise.all([...second, flushing, ...third]);
    await t.detachWal(); // "crash": whatever was not flushed is only in the log
    const committed = (await t.query({ version: t.version })).numRows; // an explicit version: committed rows only (a plain query also reads the unflushed ones)
    const db2 = await Quiver.open(d.store, { wal: d.wal });
    const t2 = await db2.table('m');
    assert.equal(committed + t2.pendingRows, 60, `committed ${committed} + replayed ${t2.pendingRows}`);
    await t2.flush();
    const values = Array.from((await t2.query({})).getChild('v')!.toArray() as Float64Array).sort((a, b) => a - b);
    assert.deepEqual(values, [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => 100 + i), ...Array.from({ length: 20 }, (_, i) => 200 + i)]);
    await db2.close();
  } finally {
    d.cleanup();
  }
});

test('WriteAheadLog: an append racing a trim is written once', async () => {
  const d = dirs();
  try {
    const batch = (v: number) => {
      const t = tableFromArrays({ v: Float64Array.of(v) });
      return t.batches[0]!;
    };
    const { wal } = await WriteAheadLog.open(d.wal, 't', () => 0);
    await wal.append(batch(1));
    const trim = wal.committed(0); // rewrite queued; nothing committed, so frame 1 stays
    const racing = wal.append(batch(2)); // pushed before the rewrite runs
    await Promise.all([trim, racing]);
    await wal.close();
    const { pending } = await WriteAheadLog.open(d.wal, 't', () => 0);
    assert.deepEqual(pending.map((b) => b.getChild('v')!.get(0)), [1, 2]);
    const { pending: after } = await WriteAheadLog.open(d.wal, 't', () => 1);
    assert.deepEqual(after.map((b) => b.getChild('v')!.get(0)), [2], 'frames at or below the mark are skipped');
  } finally {
    d.cleanup();
  }
});

test('WAL: appends of the field types beyond the plain five (decimal, binary, date, time) are replayed exactly', async () => {
  const d = dirs();
  try {
    runAndKill(`
      const db = await Quiver.open(${JSON.stringify(d.store)}, { wal: ${JSON.stringify(d.wal)} });
      const t = await db.createTable('m', { timeUnit: 'ms', fields: [{ name: 'x', type: 'decimal(40,6)' }, { name: 'b', type: 'binary' }, { name: 'd', type: 'date32' }, { name: 't', type: 'time(ns)' }] });
      await t.append([
        { time: ${T0}, x: '-1234567890123456789012345678901234.567891', b: new Uint8Array([0, 255]), d: '-0044-03-15', t: '23:59:59.999999999' },
        { time: ${T0 + 1000}, b: new Uint8Array(0) },
      ]);
    `);
    const db = await Quiver.open(d.store, { wal: d.wal });
    const t = await db.table('m');
    await t.flush(); // the replayed rows are buffered: scans read committed chunks
    const rows: (string | null)[][] = [];
    for (const batch of (await t.query({})).batches) {
      for (let i = 0; i < batch.numRows; i++) {
        rows.push(t.schema.fields.map((f) => {
          const data = batch.getChild(f.name)!.data[0]!;
          const info = fieldTypeInfo(f.type);
          return data.getValid(i) ? formatValue(info, valueAt(info, data, i)) : null;
        }));
      }
    }
    assert.deepEqual(rows, [['-1234567890123456789012345678901234.567891', 'AP8=', '-0044-03-15', '23:59:59.999999999'], [null, '', null, null]]);
    await db.close();
  } finally {
    d.cleanup();
  }
});
