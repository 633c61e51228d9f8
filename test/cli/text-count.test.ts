import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCount } from '../../src/cli/text.js';
import { rng } from '../format/helpers.js';

// formatCount replaces toLocaleString('en-US') on the start-up path of `quiver inspect` (no ICU
// data loaded): it must print exactly what toLocaleString prints.
test('formatCount prints counts exactly as toLocaleString(\'en-US\') does', () => {
  const random = rng(5);
  const values = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 99_999, 100_000, 864_000, 1_000_000, Number.MAX_SAFE_INTEGER, 1.5, 2 ** 60];
  for (let i = 0; i < 2000; i++) values.push(Math.floor(random() * 10 ** Math.floor(random() * 16)));
  for (const v of [...values, ...values.map((x) => -x)]) assert.equal(formatCount(v), v.toLocaleString('en-US'), String(v));
});
