import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Headless Chromium (Debian's package) for the report tests. Missing, it is an error saying
 * how to install it (`npm test` installs it itself as root: scripts/test-packages.sh), never a skip.
 */
export function chromium(): string {
  const named = process.env.QUIVER_CHROMIUM;
  if (named) {
    if (!existsSync(named)) throw new Error(`QUIVER_CHROMIUM=${named} does not exist`);
    return named;
  }
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin'])) {
    for (const name of ['chromium', 'chromium-browser']) if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error('the report tests need headless Chromium: as root run `apt-get update && apt-get install -y chromium` (Debian; `scripts/test-packages.sh install chromium` does it), or set QUIVER_CHROMIUM to a Chromium binary');
}

export interface PageStatus {
  charts: number;
  drawn: number;
  errors: string[];
  results: { id: string; points: number; width: number; height: number; ink: number; dataInk: number }[];
  text: string;
}

export interface Rendered {
  /** #quiver-report-status as the page's script left it, or undefined when absent. */
  status: PageStatus | undefined;
  /** Console messages and uncaught errors Chromium logged for the page. */
  console: string[];
  dom: string;
}

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'", '#39': "'" };
const unescape = (s: string) => s.replace(/&(quot|amp|lt|gt|apos|#39);/g, (_, e: string) => ENTITIES[e]!);

/** Loads `file` in headless Chromium (own profile dir: runs in parallel do not collide). */
export function render(file: string): Rendered {
  const profile = mkdtempSync(join(tmpdir(), 'quiver-chromium-'));
  try {
    const r = spawnSync(chromium(), [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions', `--user-data-dir=${profile}`,
      '--enable-logging=stderr', '--v=0', '--virtual-time-budget=10000', '--window-size=1200,1600', '--dump-dom', `file://${file}`,
    ], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`chromium exited with ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
    const consoleLines = r.stderr.split('\n').filter((l) => /:CONSOLE[:(]|Uncaught/.test(l));
    const m = /<output id="quiver-report-status"([^>]*)>([^<]*)<\/output>/.exec(r.stdout);
    let status: PageStatus | undefined;
    if (m) {
      const attr = (name: string) => unescape(new RegExp(`data-${name}="([^"]*)"`).exec(m[1]!)?.[1] ?? '');
      status = {
        charts: Number(attr('charts')), drawn: Number(attr('drawn')),
        errors: JSON.parse(attr('errors') || '[]') as string[], results: JSON.parse(attr('results') || '[]') as PageStatus['results'],
        text: unescape(m[2]!),
      };
    }
    return { status, console: consoleLines, dom: r.stdout };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
