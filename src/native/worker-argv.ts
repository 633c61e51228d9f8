/**
 * The Node options Quiver's worker threads start with: the process's own, less those that only
 * apply to a main script given as text. A worker inherits `process.execArgv`, and under
 * `node --input-type=module -e '…'` (or `--print`) that option makes every file-backed worker
 * fail to load (ERR_INPUT_TYPE_NOT_ALLOWED).
 */
export function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--input-type') { i++; continue; }
    if (a.startsWith('--input-type=')) continue;
    out.push(a);
  }
  return out;
}
