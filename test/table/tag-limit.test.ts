import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm/node';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles } from '../../src/io/import.js';
import { TAG_VALUE_BYTES_MAX } from '../../src/table/tag-values.js';
import { InputError } from '../../src/errors.js';

const T0 = Date.UTC(2026, 0, 1);
const LONG = 'x'.repeat(4_000_000);
const AT_LIMIT = 'y'.repeat(TAG_VALUE_BYTES_MAX);
/** 21,846 three-byte characters: 65,538 UTF-8 bytes in 21,846 UTF-16 units. */
const EUROS = '€'.repeat(21_846);

const tooLong = (where: RegExp, column: string, bytes: number) => (e: unknown) => {
  assert.ok(e instanceof InputError, String(e));
  assert.match(e.message, where);
  assert.ok(e.message.includes(`(column ${column}): expected a tag value of at most ${TAG_VALUE_BYTES_MAX} UTF-8 bytes (TAG_VALUE_BYTES_MAX; long text belongs in a field), got ${bytes} bytes`), e.message);
  assert.equal(e.column, column);
  return true;
};

test('a tag value over TAG_VALUE_BYTES_MAX in a CSV, Parquet or Arrow import is an InputError naming the file, line or row, and column; nothing is committed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-tag-limit-'));
  try {
    const db = await Quiver.open(new MemoryChunkManager());
    const csv = join(dir, 'long.csv');
    writeFileSync(csv, `time,host,v\n2026-01-01T00:00:00Z,${AT_LIMIT},1\n2026-01-01T00:00:01Z,"${LONG}",2\n`);
    await assert.rejects(importFiles(db, [csv], { table: 'c', tags: ['host'] }), tooLong(/long\.csv:3:2 \(column host\)/, 'host', LONG.length + 0));

    const rows = (host: string[]) => tableFromArrays({
      time: BigInt64Array.from(host, (_, i) => BigInt(T0 + i) * 1_000_000n),
      host,
      v: Float64Array.from(host, (_, i) => i),
    });
    const arrow = join(dir, 'long.arrow');
    writeFileSync(arrow, tableToIPC(rows(['a', AT_LIMIT, 'b', EUROS]), 'file'));
    await assert.rejects(importFiles(db, [arrow], { table: 'a', tags: ['host'] }), tooLong(/long\.arrow: row 4 \(column host\)/, 'host', 65_538));

    const parquet = join(dir, 'long.parquet');
    writeFileSync(parquet, parquetWasm.writeParquet(parquetWasm.Table.fromIPCStream(tableToIPC(rows(['a', 'b', LONG]), 'stream'))));
    await assert.rejects(importFiles(db, [parquet], { table: 'p', tags: ['host'] }), tooLong(/long\.parquet: row 3 \(column host\)/, 'host', LONG.length));

    assert.deepEqual(await db.tables(), [], 'no import left a table');
    // At the limit is fine.
    writeFileSync(csv, `time,host,v\n2026-01-01T00:00:00Z,${AT_LIMIT},1\n`);
    assert.equal((await importFiles(db, [csv], { table: 'ok', tags: ['host'] })).rows, 1);
    assert.equal((await (await db.table('ok')).query({})).getChild('host')!.get(0), AT_LIMIT);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tag value over TAG_VALUE_BYTES_MAX in a library append (rows or a batch) is an InputError naming the row and column; the buffer keeps nothing of it', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('m', { tags: ['host'], fields: [{ name: 'v', type: 'float64' }] });
  await assert.rejects(t.append([{ time: T0, host: 'a', v: 1 }, { time: T0 + 1, host: LONG, v: 2 }]), tooLong(/^append row 1 \(column host\)/, 'host', LONG.length));
  const batch = tableFromArrays({ time: BigInt64Array.of(BigInt(T0) * 1_000_000n, BigInt(T0 + 1) * 1_000_000n), host: [EUROS, 'b'], v: Float64Array.of(1, 2) }).batches[0]!;
  await assert.rejects(t.append(batch), tooLong(/^append row 0 \(column host\)/, 'host', 65_538));
  const writer = t.writer();
  await assert.rejects(writer.append([{ time: T0, host: LONG, v: 1 }]), tooLong(/^append row 0 \(column host\)/, 'host', LONG.length));
  await writer.abort();
  await t.append([{ time: T0 + 2, host: AT_LIMIT, v: 3 }]);
  await t.flush();
  const out = await t.query({});
  assert.deepEqual(Array.from(out.getChild('v')!.toArray() as Float64Array), [3]);
  assert.equal(out.getChild('host')!.get(0), AT_LIMIT);
});
