import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';

test('sql: the field types beyond the plain five reach DuckDB exactly, as its own types (docs/types.md)', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  try {
    const t = await db.createTable('m', {
      timeUnit: 'ms',
      fields: [
        { name: 'd', type: 'date32' }, { name: 'x', type: 'decimal(12,3)' }, { name: 'b', type: 'binary' }, { name: 't', type: 'time(us)' },
        { name: 'tn', type: 'time(ns)' }, { name: 'du', type: 'duration(ms)' }, { name: 'ts', type: 'timestamp(ms)' }, { name: 'tz', type: 'timestamp(us,UTC)' },
        { name: 'd64', type: 'date64' }, { name: 'w', type: 'decimal(40,6)' },
      ],
    });
    await t.append([
      {
        time: 1_767_225_600_000_000_000n, d: '-0044-03-15', x: '-999999999.999', b: new Uint8Array([0, 255, 16]), t: '23:59:59.999999', tn: '00:00:00.000000001',
        du: 9_007_199_254_740_993n, ts: '2026-01-01T00:00:00.123Z', tz: '1969-12-31T23:59:59.999999Z', d64: '2026-01-01T10:20:30.405Z', w: '-1234567890123456789012345678901234.567891',
      },
      { time: 1_767_225_601_000_000_000n },
    ]);
    await t.flush();
    const result = await db.sql(`SELECT d::VARCHAR AS d, x::VARCHAR AS x, hex(b) AS b, t::VARCHAR AS t, tn::VARCHAR AS tn, du, epoch_ms(ts) AS ts,
      epoch_us(tz) AS tz, epoch_ms(d64) AS d64, w,
      typeof(d) || ' ' || typeof(x) || ' ' || typeof(b) || ' ' || typeof(t) || ' ' || typeof(tn) || ' ' || typeof(du) || ' ' || typeof(ts) || ' ' || typeof(tz) || ' ' || typeof(d64) || ' ' || typeof(w) AS types
      FROM m ORDER BY time`);
    const rows = result.toArray().map((r) => ({ ...r.toJSON() }));
    assert.deepEqual(rows[0], {
      d: '0045-03-15 (BC)', x: '-999999999.999', b: '00FF10', t: '23:59:59.999999', tn: '00:00:00.000000001', du: 9_007_199_254_740_993n, ts: 1_767_225_600_123n,
      tz: -1n, d64: 1_767_262_830_405n, w: '-1234567890123456789012345678901234.567891',
      types: 'DATE DECIMAL(12,3) BLOB TIME TIME_NS BIGINT TIMESTAMP_MS TIMESTAMP WITH TIME ZONE TIMESTAMP_MS VARCHAR',
    });
    assert.deepEqual(Object.entries(rows[1]!).filter(([k]) => k !== 'types').map(([, v]) => v), [null, null, null, null, null, null, null, null, null, null]);
    // Exact arithmetic in DuckDB over the exact values.
    const sum = await db.sql('SELECT (sum(x) * 1000)::BIGINT AS s FROM m');
    assert.equal(sum.toArray()[0]!.toJSON().s, -999_999_999_999n);
  } finally {
    await db.close();
  }
});
