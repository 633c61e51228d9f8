/**
 * The fuzzer's worker process: runs the cases of one target and reports each to the parent
 * (fuzz.test.ts) over IPC, 'start' before and 'done' after, so a case that kills this process
 * or never ends is known by its iteration. The parent kills it on a case's time limit.
 *
 * argv[2]: JSON ChildArgs (protocol.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuiverError } from '../../src/errors.js';
import { rng } from '../../bench/rng.js';
import { mutate, TEXT_OPERATORS, type Mutation } from './mutate.js';
import { caseSeed, type CaseOutcome, type ChildArgs, type ChildMessage } from './protocol.js';

const send = (m: ChildMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as ChildArgs;
  // The runner's self-test loads none of the readers (its process starts faster).
  const target = args.target === 'runner-self-test' ? (await import('./self-test.js')).RUNNER_SELF_TEST
    : (await import('./targets.js')).ALL_TARGETS.find((t) => t.name === args.target);
  if (!target) throw new Error(`no fuzz target ${args.target}`);
  const dir = mkdtempSync(join(tmpdir(), `quiver-fuzz-${target.name}-`));
  let current = -1;
  // An exception outside the awaited chain of a case (a stray callback, an unhandled
  // rejection) is a failure of the running case: report it, then die.
  const die = async (error: unknown) => {
    await send({ type: 'done', iteration: current, outcome: { kind: 'fail', reason: `uncaught ${describe(error)}` } });
    process.exit(3);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  try {
    const harness = await target.setup(dir);
    // Plain copies: a Buffer's slice() is a view, so mutating one would damage the seed input.
    const inputs = harness.inputs.map((b) => new Uint8Array(b));
    await send({ type: 'ready' });
    const extra = [...(target.text ? TEXT_OPERATORS : []), ...(target.operators ?? [])];
    const budgetEnd = args.budgetMs !== undefined ? Date.now() + args.budgetMs : Infinity;
    const more = (i: number) => (args.until === undefined || Date.now() < args.until) && (Date.now() < budgetEnd || i < args.from + (args.minCases ?? 0));
    let i = args.from;
    for (; i < args.to && more(i); i++) {
      current = i;
      const random = rng(caseSeed(args.seed, target.name, i));
      const input = Math.floor(random() * inputs.length);
      // Iteration 0 of every run is the unmutated input: it must read back exactly.
      const mutation: Mutation = i === 0
        ? { bytes: inputs[input]!, description: 'unmutated', firstTouched: inputs[input]!.length }
        : mutate(inputs[input]!, random, extra);
      await send({ type: 'start', iteration: i, description: `input ${input}: ${mutation.description}` });
      const caseDir = join(dir, `case-${i}`);
      mkdirSync(caseDir);
      let outcome: CaseOutcome;
      try {
        const silent = await harness.check(input, mutation, caseDir, i);
        outcome = silent === undefined ? { kind: 'ok' } : { kind: 'fail', reason: `silent change: ${silent}` };
      } catch (error) {
        outcome = error instanceof QuiverError && target.acceptable.includes(error.name)
          ? { kind: 'typed', name: error.name }
          : { kind: 'fail', reason: `${error instanceof QuiverError ? 'unexpected error type ' : 'untyped error '}${describe(error)}` };
        if (i === 0) outcome = { kind: 'fail', reason: `the unmutated input failed: ${describe(error)}` };
      }
      rmSync(caseDir, { recursive: true, force: true });
      await send({ type: 'done', iteration: i, outcome });
    }
    await send({ type: 'end', next: i });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const frame = error.stack?.split('\n').find((l) => l.trim().startsWith('at '))?.trim() ?? '';
  return `${error.name}: ${error.message.slice(0, 300)}${frame ? ` (${frame})` : ''}`;
}

main().then(() => process.exit(0), (error) => { console.error(error); process.exit(2); });
