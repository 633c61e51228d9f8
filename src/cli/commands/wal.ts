import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command, CommandContext } from '../context.js';
import { UsageError } from '../../errors.js';
import { describeRecovery, WriteAheadLog, type WalRecoveryReport } from '../../table/wal.js';
import { scanWal } from '../../table/wal-scan.js';

/** The .wal files named by PATHs (a log file, or a directory of them). */
function logFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new UsageError(`${path}: no such file or directory`);
    }
    if (!isDir) { out.push(path); continue; }
    const logs = readdirSync(path).filter((n) => n.endsWith('.wal')).sort().map((n) => join(path, n));
    if (logs.length === 0) throw new UsageError(`${path} holds no write-ahead log (*.wal)`);
    out.push(...logs);
  }
  return out;
}

/**
 * The table's walMarks entry for a log, when a store was named (--store / QUIVER_STORE) and
 * holds the table the log belongs to (`<table>.wal`): frames at or below it were committed.
 */
function markOf(ctx: CommandContext, path: string): (id: string) => Promise<number> {
  return async (id) => {
    if (!ctx.flags.storeGiven) return 0;
    const table = basename(path, '.wal').replaceAll('%2F', '/');
    const db = await ctx.open();
    if (!(await db.hasTable(table))) return 0;
    return (await db.table(table)).currentManifest.walMarks?.[id] ?? 0;
  };
}

interface LogCheck { path: string; status: 'ok' | 'torn' | 'damaged'; frames: number; seqs?: [number, number]; offset?: number; frame?: number; detail?: string }

function checkLog(path: string): LogCheck {
  const scan = scanWal(readFileSync(path), path);
  const seqs: [number, number] | undefined = scan.frames.length ? [scan.frames[0]!.seq, scan.frames[scan.frames.length - 1]!.seq] : undefined;
  const base = { path, frames: scan.frames.length, ...(seqs ? { seqs } : {}) };
  const first = scan.damage[0];
  if (!first) return { ...base, status: 'ok' };
  const detail = `${first.reason}${scan.torn ? '' : `; ${scan.frames.filter((f) => f.offset > first.start).length} intact frame(s) follow`}`;
  return { ...base, status: scan.torn ? 'torn' : 'damaged', offset: first.start, frame: first.frame, detail };
}

export const walCommand: Command = {
  usage: `Usage: quiver wal check PATH…
       quiver wal salvage PATH… [--dry-run]

PATH is a log file (<table>.wal) or a directory of them (the wal directory given to
Quiver.open). No process may be using the logs.

  check     each log: ok, a torn tail (a last write cut short by a crash: cut off on the next
            open), or damaged (a bad frame with intact frames after it: opening the table
            fails until the log is salvaged). Exit 1 when a log is damaged.
  salvage   keeps every intact frame of each log and cuts a torn tail; a damaged log's file is
            kept beside it as <table>.wal.damaged-<time>. Prints the byte ranges lost and the
            sequence numbers of the frames around them. With --store (or QUIVER_STORE), ranges
            whose frames the table had already committed are marked as losing no row.
  --dry-run     report what salvage would do, change nothing`,
  options: { 'dry-run': { type: 'boolean' } },
  async run(ctx, values, positionals) {
    const [action, ...paths] = positionals;
    if (action !== 'check' && action !== 'salvage') throw new UsageError(`wal takes 'check' or 'salvage', then PATH…${action ? `, got ${JSON.stringify(action)}` : ''}`);
    if (paths.length === 0) throw new UsageError(`wal ${action} needs a log file or a directory of them`);
    if (action === 'check' && values['dry-run'] !== undefined) throw new UsageError('--dry-run applies to wal salvage (check changes nothing)');
    const files = logFiles(paths);
    if (action === 'check') {
      const checks = files.map(checkLog);
      ctx.emit(checks, () => checks.map((c) => {
        const frames = `${c.frames} frame(s)${c.seqs ? ` (seq ${c.seqs[0]}–${c.seqs[1]})` : ''}`;
        if (c.status === 'ok') return `ok    ${c.path}: ${frames}`;
        if (c.status === 'torn') return `torn  ${c.path}: ${frames}; a torn last write from byte ${c.offset} (frame ${c.frame}) is cut off on the next open: ${c.detail}`;
        return `BAD   ${c.path}: damaged at byte ${c.offset} (frame ${c.frame}): ${c.detail}; run 'quiver wal salvage ${c.path}'`;
      }).join('\n'));
      return checks.some((c) => c.status === 'damaged') ? 1 : 0;
    }
    const dryRun = values['dry-run'] === true;
    const results: { path: string; id: string; report?: WalRecoveryReport }[] = [];
    for (const path of files) results.push({ path, ...(await WriteAheadLog.salvage(path, { mark: markOf(ctx, path), dryRun })) });
    ctx.emit({ dryRun, logs: results }, () => results.map((r) => (r.report
      ? `${dryRun ? '(dry run) ' : ''}${describeRecovery(r.report)}`
      : `ok    ${r.path}: intact, nothing to salvage`)).join('\n'));
    return 0;
  },
};
