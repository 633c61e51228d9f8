import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignLanes, planPageRuns, type Range } from '../../src/format/page-runs.js';

/** A column of `n` adjacent pages of the given lengths, starting at `offset`. */
function column(offset: number, lengths: number[]): Range[] {
  const out: Range[] = [];
  for (const length of lengths) { out.push({ offset, length }); offset += length; }
  return out;
}

test('planPageRuns: one range per run of consecutive missing pages, per column, in column then page order', () => {
  const a = column(4, [10, 20, 30, 40, 50]);
  const b = column(154, [5, 5, 5, 5, 5]);
  const pages = [0, 1, 2, 3, 4];
  const missing = [
    [true, true, false, true, true], // a: pages 0-1, then 3-4 (page 2 came from the cache)
    [true, true, true, true, true], // b: all five in one range
  ];
  const { ranges, runs } = planPageRuns([a, b], pages, missing);
  assert.deepEqual(runs, [
    { ci: 0, first: 0, last: 1, range: 0 },
    { ci: 0, first: 3, last: 4, range: 1 },
    { ci: 1, first: 0, last: 4, range: 2 },
  ]);
  assert.deepEqual(ranges, [
    { offset: 4, length: 30 },
    { offset: 64, length: 90 },
    { offset: 154, length: 25 },
  ]);
});

test('planPageRuns: a gap in the page numbers splits a run even when every page is missing', () => {
  const a = column(4, [10, 10, 10, 10, 10, 10]);
  const { ranges, runs } = planPageRuns([a], [1, 2, 4, 5], [[true, true, true, true]]);
  assert.deepEqual(runs, [{ ci: 0, first: 0, last: 1, range: 0 }, { ci: 0, first: 2, last: 3, range: 1 }]);
  assert.deepEqual(ranges, [{ offset: 14, length: 20 }, { offset: 44, length: 20 }]);
});

test('planPageRuns: nothing missing, nothing read; no pages, no runs', () => {
  const a = column(4, [10, 10]);
  assert.deepEqual(planPageRuns([a], [0, 1], [[false, false]]), { ranges: [], runs: [] });
  assert.deepEqual(planPageRuns([a], [], [[]]), { ranges: [], runs: [] });
  assert.deepEqual(planPageRuns([], [0], []), { ranges: [], runs: [] });
});

test('planPageRuns: a single missing page between cached ones is its own range', () => {
  const a = column(100, [7, 8, 9]);
  const { ranges, runs } = planPageRuns([a], [0, 1, 2], [[false, true, false]]);
  assert.deepEqual(runs, [{ ci: 0, first: 1, last: 1, range: 0 }]);
  assert.deepEqual(ranges, [{ offset: 107, length: 8 }]);
});

test('planPageRuns: a page the footer lacks is a broken invariant, not a silent short range', () => {
  assert.throws(() => planPageRuns([column(4, [10])], [0, 1], [[true, true]]), /assertion failed/);
});

test('assignLanes: largest column first, each to the least loaded lane; lane 0 (this thread) keeps its columns', () => {
  // Two workers + this thread: 90 → lane 0, 80 → lane 1, 70 → lane 2, 10 → lane 2 (70 < 80 < 90)
  const eligible = [{ ci: 3, bytes: 10 }, { ci: 0, bytes: 90 }, { ci: 1, bytes: 80 }, { ci: 2, bytes: 70 }];
  assert.deepEqual([...assignLanes(eligible, 2)].sort(), [1, 2, 3]);
  // The caller's list is not reordered.
  assert.deepEqual(eligible.map((e) => e.ci), [3, 0, 1, 2]);
});

test('assignLanes: equal loads go to the first lane, so with one worker this thread takes the largest', () => {
  assert.deepEqual([...assignLanes([{ ci: 0, bytes: 5 }, { ci: 1, bytes: 5 }], 1)], [1]);
  assert.deepEqual([...assignLanes([{ ci: 0, bytes: 100 }, { ci: 1, bytes: 30 }, { ci: 2, bytes: 30 }, { ci: 3, bytes: 30 }], 1)], [1, 2, 3]);
});

test('assignLanes: no workers or nothing eligible, nothing pooled', () => {
  assert.equal(assignLanes([{ ci: 0, bytes: 1 << 20 }], 0).size, 0);
  assert.equal(assignLanes([], 4).size, 0);
  // One column and many workers: this thread takes it (no copy to a worker for nothing).
  assert.equal(assignLanes([{ ci: 0, bytes: 1 << 20 }], 4).size, 0);
});
