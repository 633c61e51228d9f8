/** What the fuzzer's parent (fuzz.test.ts) and its child processes (child.ts) tell each other. */

/**
 * Iterations [from, to) of one target. A child stops early at `until` (epoch ms), or once
 * `budgetMs` have passed since its setup ended and it has run at least `minCases` cases.
 */
export interface ChildArgs { target: string; seed: number; from: number; to: number; until?: number; budgetMs?: number; minCases?: number }

export type CaseOutcome =
  | { kind: 'ok' }
  | { kind: 'typed'; name: string }
  | { kind: 'fail'; reason: string };

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'start'; iteration: number; description: string }
  | { type: 'done'; iteration: number; outcome: CaseOutcome }
  | { type: 'end'; next: number };

/** The seed of one case: the run's seed mixed with the target and the iteration (so any case runs alone). */
export function caseSeed(seed: number, target: string, iteration: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const c of `${target}#${iteration}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}
