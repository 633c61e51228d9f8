import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles } from '../../src/io/import.js';
import { parseSize } from '../../src/cli/commands/import.js';
import { UsageError } from '../../src/errors.js';

/** 140,000 rows of 4 hosts in one day: three CSV batches (65,536 rows each). */
function csv(): string {
  const lines = ['time,host,usage'];
  for (let s = 0; s < 35_000; s++) for (let h = 0; h < 4; h++) lines.push(`${new Date(Date.UTC(2026, 0, 1) + s * 2_000).toISOString()},host_${h},${(h * 7 + s) / 4}`);
  return lines.join('\n') + '\n';
}

test('import memory budget: a small budget spills the write buffer into more, smaller chunks; same rows; one commit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-memory-'));
  try {
    const file = join(dir, 'cpu.csv');
    writeFileSync(file, csv());
    const chunksWith = async (memoryBytes?: number) => {
      const db = await Quiver.open(new MemoryChunkManager());
      const summary = await importFiles(db, [file], { table: 'cpu', parallel: false, ...(memoryBytes ? { memoryBytes } : {}) });
      const t = await db.table('cpu');
      assert.equal(summary.rows, 140_000);
      assert.equal((await t.query({})).numRows, 140_000);
      assert.equal(t.version, 1, 'the table and all its chunks in one commit');
      return (await t.chunks()).map((c) => c.rows);
    };
    const roomy = await chunksWith();
    assert.deepEqual(roomy, [140_000]);
    // ~21 bytes per row: a 1 MiB budget (a third for the buffer) spills after every batch.
    const tight = await chunksWith(1024 * 1024);
    assert.equal(tight.length, 3, `expected a chunk per batch, got ${JSON.stringify(tight)}`);
    assert.equal(tight.reduce((s, n) => s + n, 0), 140_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--memory sizes parse with units and reject nonsense', () => {
  assert.equal(parseSize('256MiB', '--memory'), 256 * 1024 * 1024);
  assert.equal(parseSize('1GiB', '--memory'), 1024 ** 3);
  assert.equal(parseSize('300MB', '--memory'), 300_000_000);
  assert.equal(parseSize('1.5g', '--memory'), 1.5 * 1024 ** 3);
  for (const bad of ['', 'lots', '12XB', '10k', '-5MiB']) assert.throws(() => parseSize(bad, '--memory'), UsageError, bad);
});
