import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as parquetWasm from 'parquet-wasm/node';
import { tableFromIPC, type Timestamp } from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { exportTable } from '../../src/export/export.js';
import { fieldTypeInfo, formatValue, valueAt } from '../../src/format/field-types.js';

test('Parquet export of the field types: values exact, a timestamp field keeps its own zone, the time column is UTC', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-export-types-'));
  const db = await Quiver.open(new MemoryChunkManager());
  try {
    const fields = [
      { name: 'paris', type: 'timestamp(ms,Europe/Paris)' }, { name: 'd', type: 'date32' }, { name: 'x', type: 'decimal(12,3)' },
      { name: 'w', type: 'decimal(40,6)' }, { name: 'b', type: 'binary' }, { name: 't', type: 'time(us)' },
    ] as const;
    const t = await db.createTable('m', { timeUnit: 'ms', fields: fields.map((f) => ({ ...f })) });
    const values = {
      paris: '2026-06-01T10:00:00.001Z', d: '2026-02-03', x: '-12.345', w: '1234567890123456789012345678901234.567891', b: new Uint8Array([1, 2, 255]), t: '12:30:00.000001',
    };
    await t.append([{ time: 1_767_225_600_000_000_000n, ...values }]);
    await t.flush();
    const file = join(dir, 'm.parquet');
    await exportTable(t, file, {});
    const back = tableFromIPC(parquetWasm.readParquet(readFileSync(file)).intoIPCStream());
    assert.equal((back.schema.fields.find((f) => f.name === 'time')!.type as Timestamp).timezone, 'UTC');
    assert.equal((back.schema.fields.find((f) => f.name === 'paris')!.type as Timestamp).timezone, 'Europe/Paris');
    for (const f of fields) {
      const info = fieldTypeInfo(f.type);
      const data = back.getChild(f.name)!.data[0]!;
      const v = valueAt(info, data, 0);
      assert.equal(formatValue(info, v), f.name === 'b' ? 'AQL/' : values[f.name as Exclude<keyof typeof values, 'b'>], f.name);
    }
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
