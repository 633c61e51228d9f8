#!/usr/bin/env node
// npm's `prepare` step for quiver: the TypeScript build and the CLI bundle (`npm run build:ts`).
// `npm ci --dry-run` / `npm install --dry-run` run lifecycle scripts too (npm_config_dry_run=true)
// but install nothing, so there is no `tsc` to run: nothing is built then.
import { spawnSync } from 'node:child_process';

if (process.env.npm_config_dry_run === 'true') {
  process.stderr.write('quiver: dry run, nothing installed: the TypeScript build is skipped\n');
  process.exit(0);
}
const npm = process.env.npm_execpath;
const result = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build:ts'], { stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build:ts'], { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(result.status ?? 1);
