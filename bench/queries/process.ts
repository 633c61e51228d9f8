/**
 * Fresh-process measurements for the query benchmark: a command's whole-process wall time,
 * its time to the first byte of output, its CPU time (GNU time's user + system, 10 ms
 * resolution: a median of several runs; less distorted by a loaded machine than wall times)
 * and its peak resident set (GNU time's %M, which is
 * the child's own high-water mark: /usr/bin/time forks a small process that execs the
 * command, so the benchmark's own large heap does not show).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { median } from '../duckdb.js';

export interface ProcessRun {
  /** Spawn to exit, ms. */
  ms: number;
  /** Spawn to the first byte on stdout, ms (the exit time when nothing was printed). */
  firstByteMs: number;
  /** Peak RSS in MB, when /usr/bin/time is there to tell. */
  rssMb: number | null;
  /** User + system CPU time, ms, when /usr/bin/time is there to tell. */
  cpuMs: number | null;
  stdout: string;
}

const TIME = '/usr/bin/time';
const hasTime = existsSync(TIME);

/** Runs `command args` once; rejects when it exits non-zero. */
export function runProcess(command: string, args: readonly string[], keepOutput = false): Promise<ProcessRun> {
  const [cmd, argv] = hasTime ? [TIME, ['-f', 'QUIVER_BENCH_RSS_KB %M %U %S', command, ...args]] : [command, [...args]];
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let firstByteMs: number | null = null;
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      firstByteMs ??= performance.now() - start;
      if (keepOutput || out.length < 4) out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err.slice(0, 500)}`));
      const rss = /QUIVER_BENCH_RSS_KB (\d+) ([\d.]+) ([\d.]+)/.exec(err);
      resolve({ ms, firstByteMs: firstByteMs ?? ms, rssMb: rss ? Number(rss[1]) / 1024 : null, cpuMs: rss ? (Number(rss[2]) + Number(rss[3])) * 1000 : null, stdout: Buffer.concat(out).toString('utf8') });
    });
  });
}

/**
 * Runs each command `runs` times, round-robin (so a noisy neighbour slows them alike), and
 * returns the median of each measurement per command.
 */
export async function medianRuns(commands: readonly { command: string; args: readonly string[] }[], runs: number): Promise<{ ms: number; firstByteMs: number; rssMb: number | null; cpuMs: number | null }[]> {
  const all: ProcessRun[][] = commands.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let c = 0; c < commands.length; c++) all[c]!.push(await runProcess(commands[c]!.command, commands[c]!.args));
  }
  return all.map((list) => ({
    ms: median(list.map((x) => x.ms)),
    firstByteMs: median(list.map((x) => x.firstByteMs)),
    rssMb: list[0]!.rssMb === null ? null : median(list.map((x) => x.rssMb!)),
    cpuMs: list[0]!.cpuMs === null ? null : median(list.map((x) => x.cpuMs!)),
  }));
}
