// CSV import of the field types beyond the five plain ones (docs/types.md): --schema names any
// of them (in any spelling field-types accepts), cells parse exactly, and a quoted empty cell
// of a binary column is empty bytes while an unquoted one is null (as "" and null in utf8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { importFiles } from '../../src/io/import.js';
import { UsageError } from '../../src/errors.js';
import { fieldTypeInfo, formatValue, valueAt } from '../../src/format/field-types.js';
import { rejection } from './helpers.js';

test('CSV --schema takes every field type; binary "" is empty bytes, an empty cell null', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-csv-types-'));
  try {
    const file = join(dir, 't.csv');
    writeFileSync(file, [
      'time,d,x,b,t',
      '2026-01-01T00:00:00Z,2026-02-03,12.345,"",12:30:00.000001',
      '2026-01-01T00:00:01Z,-0044-03-15,-0.001,,00:00:00',
      '2026-01-01T00:00:02Z,,99999999.999,AP8=,23:59:59.999999',
    ].join('\n'));
    const db = await Quiver.open(new MemoryChunkManager());
    await importFiles(db, [file], { table: 't', schema: { d: 'date', x: 'decimal(11,3)', b: 'binary', t: 'time(us)' } });
    const table = await db.table('t');
    assert.deepEqual(table.schema.fields.map((f) => [f.name, f.type]), [['d', 'date32'], ['x', 'decimal(11,3)'], ['b', 'binary'], ['t', 'time(us)']]);
    const cells: (string | null)[][] = [];
    for (const batch of (await table.query({})).batches) {
      for (let i = 0; i < batch.numRows; i++) {
        cells.push(table.schema.fields.map((f) => {
          const data = batch.getChild(f.name)!.data[0]!;
          const info = fieldTypeInfo(f.type);
          return data.getValid(i) ? formatValue(info, valueAt(info, data, i)) : null;
        }));
      }
    }
    assert.deepEqual(cells, [
      ['2026-02-03', '12.345', '', '12:30:00.000001'],
      ['-0044-03-15', '-0.001', null, '00:00:00'],
      [null, '99999999.999', 'AP8=', '23:59:59.999999'],
    ]);
    // A type that is none is a usage error naming the column and the types.
    const bad = await rejection(importFiles(await Quiver.open(new MemoryChunkManager()), [file], { table: 't', schema: { d: 'date33' } }));
    assert.ok(bad instanceof UsageError, String(bad));
    assert.match(bad.message, /^--schema d:date33: the type must be a field type \(float64, .*decimal\(P,S\)\) or string$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
