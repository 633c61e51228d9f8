/**
 * Focused regression tests for failures the round-trip property test found (each failed
 * before its fix; the seed that found it is named).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Dictionary, Field, Int32, makeData, RecordBatch, Schema, Struct, Timestamp, TimeUnit, Utf8, vectorFromArray, type Vector,
} from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import type { Table } from '../../src/table/table.js';
import { runCli } from '../cli/in-process.js';

test('a table without tags is one series: scans return it in time order across overlapping chunks (roundtrip seed 29)', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('t', { timeUnit: 's', fields: [{ name: 'x', type: 'int64' }] });
  // Two flushes: two chunks whose time ranges overlap.
  await t.append([{ time: 10n * 1_000_000_000n, x: 1n }, { time: 30n * 1_000_000_000n, x: 3n }]);
  await t.flush();
  await t.append([{ time: 20n * 1_000_000_000n, x: 2n }, { time: 5n * 1_000_000_000n, x: 0n }]);
  await t.flush();
  const times: bigint[] = [];
  const xs: bigint[] = [];
  for await (const b of t.scan({})) {
    times.push(...(b.getChild('time')!.data[0]!.values as BigInt64Array));
    xs.push(...(b.getChild('x')!.data[0]!.values as BigInt64Array));
  }
  assert.deepEqual(times, [5n, 10n, 20n, 30n]);
  assert.deepEqual(xs, [0n, 1n, 2n, 3n]);
  await db.close();
});

/** Every string of a scan, decoded from its bytes (Vector.get would drop a leading U+FEFF). */
async function scannedStrings(t: Table, column: string): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for await (const b of t.scan({})) {
    const data = b.getChild(column)!.data[0]!;
    for (let i = 0; i < b.numRows; i++) {
      if (!data.getValid(i)) { out.push(null); continue; }
      const source = data.dictionary ? data.dictionary.data[0]! : data;
      const k = data.dictionary ? (data.values as Int32Array)[i]! : i;
      const offsets = source.valueOffsets as Int32Array;
      out.push(Buffer.from((source.values as Uint8Array).subarray(offsets[k]!, offsets[k + 1]!)).toString('utf8'));
    }
  }
  return out;
}

test('a string that begins with U+FEFF keeps it in tags and fields, through rows, RecordBatches, CSV and CLI output (roundtrip seeds 3, 14)', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('t', { tags: ['host'], fields: [{ name: 'note', type: 'utf8' }] });
  await t.append([{ time: 1n, host: '\ufeffa', note: '\ufeffb' }, { time: 2n, host: 'a', note: 'b' }]);
  const host = makeData({ type: new Dictionary(new Utf8(), new Int32()), length: 1, nullCount: 0, data: new Int32Array([0]), dictionary: vectorFromArray(['\ufeffc'], new Utf8()) as Vector<Utf8> });
  const note = vectorFromArray(['\ufeffd'], new Utf8()).data[0]!;
  const time = makeData({ type: new Timestamp(TimeUnit.NANOSECOND, null), length: 1, nullCount: 0, data: new BigInt64Array([3n]) as never });
  const fields = [new Field('time', time.type, false), new Field('host', host.type, true), new Field('note', note.type, true)];
  await t.append(new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 1, nullCount: 0, children: [time, host, note] })));
  await t.flush();
  // Series sort by tag in code-point order: "a" < "\ufeffa" < "\ufeffc".
  assert.deepEqual(await scannedStrings(t, 'host'), ['a', '\ufeffa', '\ufeffc']);
  assert.deepEqual(await scannedStrings(t, 'note'), ['b', '\ufeffb', '\ufeffd']);
  await db.close();

  const dir = mkdtempSync(join(tmpdir(), 'quiver-bom-'));
  try {
    // The file's own BOM goes; the fields' stay.
    const file = join(dir, 'in.csv');
    writeFileSync(file, '\ufefftime,host,note\n2026-01-01T00:00:00Z,\ufeffh,\ufeffn\n2026-01-01T00:00:01Z,h,"\ufeff"\n');
    const store = join(dir, 'store');
    assert.equal((await runCli(store, 'import', file, '--table', 'c', '--tags', 'host', '--schema', 'note:utf8')).code, 0);
    const c = await (await Quiver.open(store)).table('c');
    assert.deepEqual(await scannedStrings(c, 'host'), ['h', '\ufeffh']);
    assert.deepEqual(await scannedStrings(c, 'note'), ['\ufeff', '\ufeffn']);
    const csv = join(dir, 'out.csv');
    assert.equal((await runCli(store, 'scan', 'c', '--format', 'csv', '--out', csv)).code, 0);
    assert.deepEqual(readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((line) => line.split(',').slice(1)), [['h', '\ufeff'], ['\ufeffh', '\ufeffn']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a chunk that overlaps a merged group\'s span, not its chunks, and shares a series with it is merged too (roundtrip seeds 5208, 5516)', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('t', { tags: ['host'], partition: 'none', fields: [{ name: 'x', type: 'int64' }] });
  // Three flushes, three chunks: A [1, 10] host t; X [5, 6] host s; B [8, 9] hosts s and t.
  // B merges with A (overlap, t); X overlaps neither B nor shares a host with A, but the
  // group A+B spans [1, 10] and holds host s at 8, after X's 5 and 6.
  const chunks: [string, bigint][][] = [[['t', 1n], ['t', 10n]], [['s', 5n], ['s', 6n]], [['s', 8n], ['t', 9n]]];
  for (const rows of chunks) {
    await t.append(rows.map(([host, time]) => ({ time, host, x: time })));
    await t.flush();
  }
  const seen: string[] = [];
  for await (const b of t.scan({})) {
    const times = b.getChild('time')!.data[0]!.values as BigInt64Array;
    for (let i = 0; i < b.numRows; i++) seen.push(`${String(b.getChild('host')!.get(i))}@${times[i]}`);
  }
  assert.deepEqual(seen, ['s@5', 's@6', 's@8', 't@1', 't@9', 't@10']);
  await db.close();
});
