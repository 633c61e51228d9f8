import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Quiver } from '../../src/quiver.js';

// `quiver serve` as a child process: kill -9 loses no acknowledged point and doubles none;
// SIGTERM finishes, flushes and exits 0.
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');

interface Served { child: ChildProcess; url: string; logs: Record<string, unknown>[]; other: string[]; exited: Promise<[number | null, string | null]> }

async function serve(store: string, wal: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0', '--store', store, '--wal', wal, ...extra], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  const logs: Record<string, unknown>[] = [];
  const other: string[] = [];
  const lines = createInterface({ input: child.stderr! });
  const url = await new Promise<string>((resolveUrl, reject) => {
    lines.on('line', (line) => {
      if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
      else other.push(line);
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) resolveUrl(m[1]!);
    });
    void exited.then(([code]) => reject(new Error(`quiver serve exited with ${code} before listening: ${JSON.stringify(logs)}`)));
  });
  return { child, url, logs, other, exited };
}

function batch(writer: number, seq: number, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = (writer * 1_000_000 + seq) * 1000 + i;
    lines.push(`acked,w=w${writer} id=${id}i,v=${i / 7} ${1_767_225_600_000_000_000n + BigInt(id)}`);
  }
  return lines.join('\n');
}

test('kill -9 with acknowledged writes in the WAL and in flight: after a restart every acknowledged point is there exactly once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-serve-kill-'));
  const store = join(dir, 'store');
  const wal = join(dir, 'wal');
  try {
    let served = await serve(store, wal, ['--flush-age', '1h']);
    const acked = new Set<number>();
    const sent = new Set<number>();
    let stop = false;
    let flushedOnce = false;
    const writer = async (w: number) => {
      for (let seq = 0; !stop; seq++) {
        const body = batch(w, seq, 100);
        for (let i = 0; i < 100; i++) sent.add((w * 1_000_000 + seq) * 1000 + i);
        let status: number;
        try {
          status = (await fetch(`${served.url}/api/v2/write?bucket=b`, { method: 'POST', body })).status;
        } catch {
          return; // the server died under this request: not acknowledged
        }
        assert.equal(status, 204);
        for (let i = 0; i < 100; i++) acked.add((w * 1_000_000 + seq) * 1000 + i);
        if (acked.size >= 2000 && !flushedOnce) {
          // A query flushes what is buffered: some points end in chunks, later ones only in the WAL.
          flushedOnce = true;
          assert.equal((await fetch(`${served.url}/api/v1/query?table=acked&agg=count`)).status, 200);
        }
        if (acked.size >= 6000) { served.child.kill('SIGKILL'); stop = true; }
      }
    };
    await Promise.all([writer(1), writer(2), writer(3), writer(4)]);
    const [, signal] = await served.exited;
    assert.equal(signal, 'SIGKILL');
    assert.ok(acked.size >= 6000);

    served = await serve(store, wal, ['--flush-age', '1h']);
    const res = await fetch(`${served.url}/api/v1/query?table=acked&columns=id`, { headers: { Accept: 'text/csv' } });
    assert.equal(res.status, 200);
    const ids = (await res.text()).trimEnd().split('\n').slice(1).map((line) => Number(line.split(',')[1]));
    const seen = new Set<number>();
    for (const id of ids) {
      assert.ok(!seen.has(id), `point ${id} is there twice`);
      assert.ok(sent.has(id), `point ${id} was never sent`);
      seen.add(id);
    }
    for (const id of acked) assert.ok(seen.has(id), `acknowledged point ${id} is missing`);
    served.child.kill('SIGTERM');
    assert.deepEqual(await served.exited, [0, null]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM: in-flight writes finish, buffered points are flushed to chunks, exit code 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-serve-term-'));
  const store = join(dir, 'store');
  const wal = join(dir, 'wal');
  try {
    const served = await serve(store, wal, ['--flush-age', '1h']);
    const writes = Array.from({ length: 8 }, (_, w) => fetch(`${served.url}/write?db=d`, { method: 'POST', body: batch(w, 0, 500) }));
    const first = await writes[0]!;
    assert.equal(first.status, 204);
    served.child.kill('SIGTERM');
    const statuses = await Promise.all(writes.map(async (p) => { try { return (await p).status; } catch { return 'refused'; } }));
    assert.deepEqual(await served.exited, [0, null]);
    const acked = statuses.filter((s) => s === 204).length;
    assert.ok(acked >= 1);
    assert.ok(served.logs.some((l) => l.event === 'flush' && l.reason === 'close'), JSON.stringify(served.logs));
    // Without the WAL: the points are in chunks.
    const db = await Quiver.open(store);
    try {
      const t = await db.table('acked');
      assert.equal(t.pendingRows, 0);
      const rows = (await t.query({})).numRows;
      assert.ok(rows >= acked * 500 && rows <= 8 * 500, `${rows} rows for ${acked} acknowledged writes`);
      assert.equal(rows % 500, 0);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`quiver serve` from bin/quiver.js (the bundled CLI) parses bodies in its worker thread (--parse-threads 1)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-serve-workers-'));
  const store = join(dir, 'store');
  const wal = join(dir, 'wal');
  try {
    const served = await serve(store, wal, ['--parse-threads', '1'], { QUIVER_CLI_TRACE: '1' });
    try {
      // Over the 64 KiB a body must declare to go to a worker.
      const body = batch(1, 0, 1500);
      assert.ok(body.length > 64 * 1024);
      const res = await fetch(`${served.url}/write?db=d`, { method: 'POST', body });
      assert.equal(res.status, 204, await res.text());
      const metrics = await (await fetch(`${served.url}/metrics`)).text();
      assert.match(metrics, /^quiver_parse_threads 1$/m);
      assert.match(metrics, /^quiver_parse_worker_bodies 1$/m);
      const closed = once(served.child, 'close'); // stderr read to its end
      served.child.kill('SIGTERM');
      assert.deepEqual(await served.exited, [0, null]);
      await closed;
    } finally {
      if (served.child.exitCode === null) served.child.kill('SIGKILL');
    }
    // The run was the bundle's (it lists the bundled modules it initialised), the server's pool among them.
    assert.ok(served.other.some((l) => /^QUIVER_CLI_MODULE .*parse-pool/.test(l)), served.other.join('\n'));
    const db = await Quiver.open(store);
    try {
      assert.equal((await (await db.table('acked')).query({})).numRows, 1500);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
