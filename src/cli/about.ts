import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAddon, nativeLoadError } from '../native/addon.js';

/** The package root: dist/src/cli/about.js → three folders up. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let version: string | undefined;

/** The version in the installed package.json (the one `npm pack` shipped). */
export function packageVersion(): string {
  if (version === undefined) {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
    version = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  }
  return version;
}

export interface NativeStatus {
  /** True when the N-API addon is loaded (mmap reads and the native decode kernels). */
  native: boolean;
  /** Why the JS twins are in use (absent when native). */
  reason?: string;
  /** Where the addon is (or was looked for). */
  path: string;
}

/** Whether the native addon or the pure-JS twins are in use, and why. */
export function nativeStatus(): NativeStatus {
  const path = join(PACKAGE_ROOT, 'native', 'build', 'Release', 'quiver_native.node');
  if (nativeAddon()) return { native: true, path };
  const error = nativeLoadError() ?? 'unknown';
  let reason = error.split('\n')[0]!;
  if (/Cannot find module/.test(error)) {
    reason = 'the addon is not built (its build failed or was skipped at install; `npm rebuild quiver` retries it, needs a C++ compiler and Python)';
  }
  return { native: false, reason, path };
}

/** One line for --debug: `native addon in use (PATH)` or `JS twins in use: REASON`. */
export function nativeStatusLine(): string {
  const s = nativeStatus();
  return s.native ? `native addon in use (${s.path})` : `JS twins in use, not the native addon: ${s.reason}`;
}
