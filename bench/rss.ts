import { readFileSync } from 'node:fs';

/**
 * This process's peak resident set in MB. Linux's getrusage maxRSS carries over the parent's
 * peak through fork+exec (a bench parent that generated a 1 GB CSV would show in every
 * child), so read the new address space's own high-water mark, VmHWM, where there is one.
 */
export function peakRssMb(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS / 1024;
}
