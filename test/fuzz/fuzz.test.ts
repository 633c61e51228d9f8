/**
 * Mutation fuzzing of every reader of untrusted bytes (issue 13). Each case mutates a valid
 * input (bit flips, byte changes, interesting values, length fields set huge or negative,
 * truncations, insertions, deletions, duplicated regions, random files; token-level edits for
 * text and JSON) and reads it through Quiver's real entry point. It must end, within a time
 * limit, in a typed error the target accepts or in correct data: never a crash (process death,
 * untyped error), never a hang, never a silent change. Cases run in a child process that is
 * killed on a case's time limit and restarted after the case that killed or hung it.
 *
 *   QUIVER_FUZZ_SEED=N          the run's seed (default: random, printed)
 *   QUIVER_FUZZ_TARGETS=a,b     targets to run (default FUZZ_TARGETS in targets.ts; all: ALL)
 *   QUIVER_FUZZ_ITERATIONS=N    cases per target (default: the target's own, 40–150, or fewer
 *                               when they take more than 1.5 s: DEFAULT_BUDGET)
 *   QUIVER_FUZZ_SECONDS=S       run each target for S seconds instead (long runs)
 *   QUIVER_FUZZ_CASE=I          run only iteration I (reproduce a printed failure)
 *   QUIVER_FUZZ_CASE_MS=MS      time limit of one case (default 10000)
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { test } from 'node:test';
import { caseSeed, type CaseOutcome, type ChildArgs, type ChildMessage } from './protocol.js';
import { ALL_TARGETS, FUZZ_TARGETS, type Target } from './targets.js';
import { RUNNER_SELF_TEST } from './self-test.js';

const env = process.env;
const seed = env['QUIVER_FUZZ_SEED'] !== undefined ? Number(env['QUIVER_FUZZ_SEED']) : Math.floor(Math.random() * 2 ** 31);
const onlyCase = env['QUIVER_FUZZ_CASE'] !== undefined ? Number(env['QUIVER_FUZZ_CASE']) : undefined;
const seconds = env['QUIVER_FUZZ_SECONDS'] !== undefined ? Number(env['QUIVER_FUZZ_SECONDS']) : undefined;
const caseMs = Number(env['QUIVER_FUZZ_CASE_MS'] ?? 10_000);
/**
 * The default run (no QUIVER_FUZZ_ITERATIONS or _SECONDS) gives each target its `iterations`
 * cases or this much time after its setup, whichever ends first, but at least `minCases`.
 */
const DEFAULT_BUDGET = { ms: 1500, minCases: 15 };
/** Time limit of a child's start: loading modules and making the seed inputs. */
const SETUP_MS = 120_000;
/** A target stops after this many failures (each hang costs a time limit). */
const FAILURES_MAX = Number(env['QUIVER_FUZZ_FAILURES_MAX'] ?? 25);
const names = env['QUIVER_FUZZ_TARGETS'] === 'ALL' ? ALL_TARGETS.map((t) => t.name)
  : env['QUIVER_FUZZ_TARGETS'] ? env['QUIVER_FUZZ_TARGETS'].split(',') : FUZZ_TARGETS;
for (const n of [...names, ...FUZZ_TARGETS]) assert.ok(ALL_TARGETS.some((t) => t.name === n), `no fuzz target ${n}`);

interface Failure { iteration: number; description: string; reason: string }
interface Summary { cases: number; ok: number; typed: Map<string, number>; failures: Failure[]; restarts: number }

/** Runs iterations [from, to) of a target in child processes, one restart after each case that kills or hangs one. */
async function fuzzTarget(target: Target, from: number, to: number, until?: number, limitMs = caseMs, budget?: { ms: number; minCases: number }): Promise<Summary> {
  const summary: Summary = { cases: 0, ok: 0, typed: new Map(), failures: [], restarts: 0 };
  let next = from;
  // A child that ends by itself has run its cases (or its budget); one that was killed or died
  // is replaced, from the case after the one that killed it.
  let ended = false;
  while (!ended && next < to && summary.failures.length < FAILURES_MAX && (until === undefined || Date.now() < until)) {
    next = await new Promise<number>((resolve, reject) => {
      const args: ChildArgs = { target: target.name, seed, from: next, to, ...(until !== undefined ? { until } : {}), ...(budget ? { budgetMs: budget.ms, minCases: budget.minCases } : {}) };
      const child = fork(new URL('./child.js', import.meta.url), [JSON.stringify(args)], {
        execArgv: ['--max-old-space-size=1024'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced',
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
      let running: { iteration: number; description: string } | undefined;
      let timer: NodeJS.Timeout | undefined;
      let resume = next;
      let hung = false;
      const arm = (ms = limitMs) => {
        clearTimeout(timer);
        timer = setTimeout(() => { hung = true; child.kill('SIGKILL'); }, ms);
      };
      arm(SETUP_MS); // the setup (loading modules, making the seed inputs), too, must end
      child.on('message', (m: ChildMessage) => {
        if (m.type === 'ready') clearTimeout(timer);
        else if (m.type === 'start') { running = { iteration: m.iteration, description: m.description }; arm(); }
        else if (m.type === 'done') {
          clearTimeout(timer);
          record(summary, m.iteration, running?.iteration === m.iteration ? running.description : '?', m.outcome);
          running = undefined;
          resume = m.iteration + 1;
        } else if (m.type === 'end') { resume = m.next; ended = true; }
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (running) {
          const reason = hung ? `hang: no result within ${limitMs} ms` : `crash: the process died (${signal ?? `exit code ${code}`}) ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
          record(summary, running.iteration, running.description, { kind: 'fail', reason });
          resume = running.iteration + 1;
          summary.restarts++;
        } else if (code !== 0) {
          // Died outside a case (setup, or right after reporting a failure): the setup must work.
          if (resume === next) { reject(new Error(`fuzz target ${target.name}: child exited (${signal ?? code}) before any case${hung ? ' (setup hung)' : ''}: ${stderr}`)); return; }
          summary.restarts++;
        }
        resolve(resume);
      });
    });
  }
  return summary;
}

function record(summary: Summary, iteration: number, description: string, outcome: CaseOutcome): void {
  summary.cases++;
  if (outcome.kind === 'ok') summary.ok++;
  else if (outcome.kind === 'typed') summary.typed.set(outcome.name, (summary.typed.get(outcome.name) ?? 0) + 1);
  else summary.failures.push({ iteration, description, reason: outcome.reason });
}

console.log(`# fuzz: seed ${seed} (rerun with QUIVER_FUZZ_SEED=${seed}); targets ${names.join(', ')}`);

for (const name of names) {
  const target = ALL_TARGETS.find((t) => t.name === name)!;
  test(`fuzz ${name}: every mutation ends in ${target.acceptable.join('/')} or correct data`, { timeout: 3_600_000 }, async () => {
    const started = Date.now();
    const summary = onlyCase !== undefined ? await fuzzTarget(target, onlyCase, onlyCase + 1)
      : seconds !== undefined ? await fuzzTarget(target, 0, Number.MAX_SAFE_INTEGER, started + seconds * 1000)
      : env['QUIVER_FUZZ_ITERATIONS'] !== undefined ? await fuzzTarget(target, 0, Number(env['QUIVER_FUZZ_ITERATIONS']))
      // The default run: the target's cases, cut short on a loaded machine (CI stays fast).
      : await fuzzTarget(target, 0, target.iterations, undefined, caseMs, DEFAULT_BUDGET);
    const typed = [...summary.typed].map(([n, c]) => `${n} ${c}`).join(', ');
    console.log(`# fuzz ${name}: ${summary.cases} cases in ${((Date.now() - started) / 1000).toFixed(1)} s: ${summary.ok} read correctly, typed errors: ${typed || 'none'}; ${summary.failures.length} failure(s)`);
    const lines = summary.failures.map((f) => `  seed ${seed} target ${name} iteration ${f.iteration} (case seed ${caseSeed(seed, name, f.iteration)}): ${f.description}\n    → ${f.reason}\n    rerun: QUIVER_FUZZ_SEED=${seed} QUIVER_FUZZ_TARGETS=${name} QUIVER_FUZZ_CASE=${f.iteration} npm test -- fuzz`);
    assert.equal(summary.failures.length, 0, `fuzz ${name}: ${summary.failures.length} failing case(s)${summary.failures.length >= FAILURES_MAX ? ' (stopped at QUIVER_FUZZ_FAILURES_MAX)' : ''}:\n${lines.join('\n')}`);
    assert.ok(summary.cases > 0, 'no case ran');
  });
}

test('the fuzz runner reports hangs, crashes, untyped errors, silent changes and stray rejections, and goes on after each', async () => {
  const summary = await fuzzTarget(RUNNER_SELF_TEST, 0, RUNNER_SELF_TEST.iterations, undefined, 1000);
  const reasons = new Map(summary.failures.map((f) => [f.iteration, f.reason]));
  assert.deepEqual([...reasons.keys()].sort(), [1, 2, 3, 4, 6], JSON.stringify(summary.failures));
  assert.match(reasons.get(1)!, /^hang: no result within 1000 ms/);
  assert.match(reasons.get(2)!, /^crash: the process died \(SIGKILL\)/);
  assert.match(reasons.get(3)!, /^untyped error TypeError: untyped/);
  assert.match(reasons.get(4)!, /^silent change: changed/);
  assert.match(reasons.get(6)!, /^uncaught RangeError: stray/);
  assert.equal(summary.cases, 8);
  assert.deepEqual([...summary.typed], [['CorruptChunkError', 1]]);
  assert.equal(summary.ok, 2);
  assert.equal(summary.restarts, 3);
});
