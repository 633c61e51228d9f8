/**
 * Library rows whose strings hold a lone UTF-16 surrogate: UTF-8 has no encoding for one (an
 * encoder writes U+FFFD instead), so a tag or utf8 field value holding one is refused naming
 * the row, the column and the index, and nothing of the append is stored. Paired surrogates
 * (characters beyond U+FFFF) are stored and come back unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { SchemaError } from '../../src/errors.js';

test('append refuses a tag or utf8 value with a lone surrogate (it would be stored as U+FFFD); paired ones round-trip', async () => {
  const db = await Quiver.open(new MemoryChunkManager());
  const t = await db.createTable('t', { tags: ['host'], fields: [{ name: 's', type: 'utf8' }] });
  await assert.rejects(t.append([{ time: 0, host: 'ok', s: 'x' }, { time: 1, host: 'a\ud800', s: 'x' }]),
    (e: Error) => e instanceof SchemaError && /row 1: tag host: "a\\ud800" holds a lone UTF-16 surrogate at index 1, which UTF-8 cannot store/.test(e.message));
  await assert.rejects(t.append([{ time: 2, host: 'b', s: 'y\udc00z' }]),
    (e: Error) => e instanceof SchemaError && /row 0: column s is utf8: "y\\udc00z" holds a lone UTF-16 surrogate at index 1/.test(e.message));
  await assert.rejects(t.append([{ time: 3, host: 'c', s: 'end\ud83d' }]), /lone UTF-16 surrogate at index 3/);
  await t.append([{ time: 4, host: '\ud83d\ude00', s: 'z\ud83d\ude00' }]);
  const rows: unknown[] = [];
  for await (const b of t.scan()) for (const r of b.toArray()) rows.push({ host: r.host, s: r.s });
  assert.deepEqual(rows, [{ host: '\ud83d\ude00', s: 'z\ud83d\ude00' }]);
  await db.close();
});
