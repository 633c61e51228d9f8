import { assert } from '../errors.js';

/**
 * Element k of a list whose bounds the caller has checked (an invariant, asserted: a
 * failure is a bug, never bad input). Hot per-value loops index with `!` instead, bounded
 * by the loop itself (an assert per value costs there); files that do say so at the top.
 */
export function at<T>(list: ArrayLike<T>, k: number): T {
  const item = list[k];
  assert(item !== undefined, `index ${k} within ${list.length}`);
  return item;
}
