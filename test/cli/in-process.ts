import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

/** Runs the CLI in this process against `store`; stdout and stderr together in `out`. */
export async function runCli(store: string, ...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = new Writable({ write(chunk, _e, cb) { out += String(chunk); cb(); } });
  const code = await main([...args, '--store', store], { stdout: sink, stderr: sink });
  return { code, out };
}
