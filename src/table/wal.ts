/**
 * Write-ahead log for `Table.append()` (and so `writePoint`): rows acknowledged by append()
 * survive a crash before the flush that turns them into chunks.
 *
 * A WAL is a local file per table, `<dir>/<table>.wal` (object stores cannot append, and a
 * WAL's job is to make one writer's buffer durable, so it lives next to that writer); its
 * layout and how damage is told apart from a torn tail are in wal-scan.ts.
 *
 * Every append writes one frame and fdatasyncs before append() resolves (appends made while
 * a write is in flight share the next write and fdatasync: group commit; each frame records
 * the offset its write began at). Exactly once: the flush that commits the buffered rows
 * records `walMarks[logId] = last seq` in the same manifest version (put-if-absent, like
 * every commit), and only then drops frames ≤ that seq from the file. Replay on open skips
 * frames the latest manifest already marks committed, so a crash between the commit and the
 * truncation neither loses nor doubles rows. A torn tail (a crash mid-write; no append of
 * that write resolved) is cut off and reported. Any other damage stops the open with
 * WalCorruptError and leaves the file as it is, unless `recovery: 'salvage'` is asked for:
 * then the damaged file is kept beside the log (`<table>.wal.damaged-<time>`), every intact
 * frame is replayed and the lost byte ranges and frame seqs are reported.
 *
 * A write that fails (disk full) is cut off the file again before the next one, so a failed
 * append never leaves damage in front of later frames.
 *
 * One writer process per WAL file: two processes appending to one table must use different
 * WAL directories (each log has its own id, so their marks never collide).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { copyFile, link, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RecordBatch, Table as ArrowTable, tableFromIPC, tableToIPC } from 'apache-arrow';
import { QuiverError } from '../errors.js';
import { scanWal, walCorruptError, walFrame, walHeader, WAL_HEADER_BYTES, type WalScan } from './wal-scan.js';

export { WAL_FRAME_BYTES_MAX } from './wal-scan.js';

/** What to do with a damaged log on open: refuse it (the default) or keep its intact frames. */
export type WalRecovery = 'strict' | 'salvage';

/** A byte range of a log that was dropped, and the frames around it. */
export interface WalLostRange {
  start: number;
  end: number;
  /** Seq of the intact frame before the range (0: none) and after it (null: none). */
  afterSeq: number;
  beforeSeq: number | null;
  reason: string;
  /**
   * True when every frame the range can have held was already committed to the table (its
   * seqs are at or below the manifest's mark), so no row is lost; false when the range held
   * rows that are gone (a torn tail's rows were never acknowledged).
   */
  committed: boolean;
}

/** What was done to a log that was not intact. */
export interface WalRecoveryReport {
  path: string;
  /** torn-tail: an unacknowledged last write cut off; salvaged: damage dropped, intact frames kept. */
  kind: 'torn-tail' | 'salvaged';
  /** Where the damaged file was kept (salvage). */
  movedTo?: string;
  framesKept: number;
  rowsKept: number;
  lost: WalLostRange[];
}

/**
 * Process-wide hook on group-commit writes (the server's /metrics): seconds the fdatasync
 * took and bytes written by the group.
 */
export const walObserver: { onSync?: (seconds: number, bytes: number) => void } = {};

interface Frame {
  seq: number;
  payload: Uint8Array;
}

export class WriteAheadLog {
  private handle?: FileHandle;
  private frames: Frame[] = [];
  private nextSeq = 1;
  /** The pending group write and the frames waiting for it. */
  private group?: Promise<void>;
  private grouped: Frame[] = [];
  /** Last seq on disk; a rewrite keeps only frames up to it (later ones are in a pending group). */
  private writtenSeq = 0;
  /** Bytes of the file as last written and synced (where the next group write begins). */
  private fileBytes = 0;
  /** A failed write could not be cut off: the next write rewrites the file first. */
  private dirty = false;
  /** Serializes file operations (appends and rewrites). */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(readonly path: string, readonly id: string) {}

  /** The log file of `table` in `dir`. */
  static pathOf(dir: string, table: string): string {
    return join(dir, `${table.replaceAll('/', '%2F')}.wal`);
  }

  /**
   * Opens (or creates) the log of `table` in `dir` and returns the batches not yet committed,
   * i.e. with a seq above `committed(id)` (the table's `walMarks` entry for this log), and a
   * report when the file was not intact (a torn tail cut off, or damage salvaged).
   * `discard` starts a new, empty log whatever the file holds (a table just created).
   * A damaged log (not a torn tail) throws WalCorruptError unless `recovery` is 'salvage'.
   */
  static async open(dir: string, table: string, committed: (id: string) => number, options: { discard?: boolean; recovery?: WalRecovery } = {}): Promise<{ wal: WriteAheadLog; pending: RecordBatch[]; recovery?: WalRecoveryReport }> {
    mkdirSync(dir, { recursive: true });
    const path = WriteAheadLog.pathOf(dir, table);
    let bytes: Uint8Array | undefined;
    try {
      if (!options.discard) bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (!bytes || bytes.length === 0) {
      const wal = new WriteAheadLog(path, randomBytes(8).toString('hex'));
      await wal.rewrite();
      return { wal, pending: [] };
    }
    const scan = scanWal(bytes, path);
    const mark = committed(scan.id);
    const salvage = options.recovery === 'salvage';
    if (!scan.torn && !salvage) throw walCorruptError(scan);
    const wal = new WriteAheadLog(path, scan.id);
    const { pending, lost, rows } = wal.replay(scan, mark, salvage);
    const report = recoveryReport(scan, mark, lost, rows, wal.frames.length);
    if (report?.kind === 'salvaged') report.movedTo = await keepDamaged(path);
    // Keep only the uncommitted frames (and drop a torn tail or damage) before appending after them.
    await wal.rewrite();
    return { wal, pending, ...(report ? { recovery: report } : {}) };
  }

  /**
   * Repairs a log file in place, for `quiver wal salvage` (no process may have it open): a
   * torn tail is cut off; damage is dropped and every intact frame kept, the damaged file
   * kept beside it. Frames at or below `mark` (the table's walMarks entry for this log, when
   * known) count as committed. No report when the log is intact; `dryRun` only reports.
   */
  static async salvage(path: string, options: { mark?: (id: string) => number | Promise<number>; dryRun?: boolean } = {}): Promise<{ id: string; report?: WalRecoveryReport }> {
    const scan = scanWal(await readFile(path), path);
    const mark = (await options.mark?.(scan.id)) ?? 0;
    const wal = new WriteAheadLog(path, scan.id);
    const { lost, rows } = wal.replay(scan, mark, true);
    const report = recoveryReport(scan, mark, lost, rows, wal.frames.length);
    if (report && !options.dryRun) {
      if (report.kind === 'salvaged') report.movedTo = await keepDamaged(path);
      await wal.rewrite();
    }
    return { id: scan.id, ...(report ? { report } : {}) };
  }

  /** Takes the scanned frames above `mark` as this log's frames; returns their batches. */
  private replay(scan: WalScan, mark: number, salvage: boolean): { pending: RecordBatch[]; lost: WalLostRange[]; rows: number } {
    const pending: RecordBatch[] = [];
    const lost: WalLostRange[] = [];
    let lastSeq = mark;
    let rows = 0;
    for (const f of scan.frames) {
      // A torn tail is cut where it starts, even where frames of the same write follow.
      if (scan.torn && f.offset >= scan.validEnd) break;
      lastSeq = Math.max(lastSeq, f.seq);
      if (f.seq <= mark) continue;
      let batches: RecordBatch[];
      try {
        batches = tableFromIPC(f.payload).batches;
      } catch (error) {
        const reason = `frame ${f.index} (seq ${f.seq}) passed its checksum but is not Arrow IPC: ${(error as Error).message}`;
        if (!salvage) throw new QuiverError(`${this.path}: ${reason}`);
        lost.push({ start: f.offset, end: f.end, afterSeq: f.seq - 1, beforeSeq: f.seq + 1, reason, committed: false });
        continue;
      }
      pending.push(...batches);
      for (const b of batches) rows += b.numRows;
      this.frames.push({ seq: f.seq, payload: f.payload.slice() });
    }
    this.nextSeq = lastSeq + 1;
    this.writtenSeq = lastSeq;
    return { pending, lost, rows };
  }

  /** Seq of the last frame appended (0 when none): what a flush of everything marks committed. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** Appends one batch durably; resolves after fdatasync. */
  append(batch: RecordBatch): Promise<number> {
    const seq = this.nextSeq++;
    const frame = { seq, payload: tableToIPC(new ArrowTable([batch]), 'stream') };
    this.frames.push(frame);
    // Group commit: frames appended while a write is in flight go out together, with one
    // fdatasync for all of them.
    const group = this.group ??= this.serial(async () => {
      const frames = this.grouped;
      this.group = undefined;
      this.grouped = [];
      try {
        if (this.dirty) await this.rewrite();
        const start = this.fileBytes;
        const handle = await this.file();
        const encoded = frames.map((f) => walFrame(f.seq, start, f.payload));
        const bytes = encoded.length === 1 ? encoded[0]! : Buffer.concat(encoded);
        await handle.write(bytes, 0, bytes.length);
        const synced = performance.now();
        await handle.datasync();
        walObserver.onSync?.((performance.now() - synced) / 1000, bytes.length);
        this.fileBytes = start + bytes.length;
        this.writtenSeq = frames[frames.length - 1]!.seq;
      } catch (error) {
        // Those appends fail: their frames must not be rewritten later, and what reached
        // the file is cut off so no damage sits in front of the next write's frames.
        const failed = new Set(frames);
        this.frames = this.frames.filter((f) => !failed.has(f));
        await this.cutFailedWrite();
        throw error;
      }
    });
    this.grouped.push(frame);
    return group.then(() => seq);
  }

  /** Drops frames up to `seq` (committed by a flush); later appends stay. */
  committed(seq: number): Promise<void> {
    this.frames = this.frames.filter((f) => f.seq > seq);
    return this.serial(() => this.rewrite());
  }

  async close(): Promise<void> {
    await this.serial(async () => {
      await this.handle?.close();
      this.handle = undefined;
    });
  }

  /** Closes and deletes the log. */
  async destroy(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.tail.then(op, op);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async file(): Promise<FileHandle> {
    this.handle ??= await open(this.path, 'a');
    return this.handle;
  }

  private async cutFailedWrite(): Promise<void> {
    try {
      if (!this.handle) throw new Error('no handle');
      await this.handle.truncate(this.fileBytes);
      await this.handle.datasync();
    } catch {
      this.dirty = true;
      await this.handle?.close().catch(() => undefined);
      this.handle = undefined;
    }
  }

  /** Atomically replaces the file with the header and the frames kept in memory. */
  private async rewrite(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    const frames = this.frames.filter((f) => f.seq <= this.writtenSeq);
    this.fileBytes = await writeLog(this.path, this.id, frames);
    this.dirty = false;
  }
}

/**
 * Writes a whole v2 log atomically (temp file, fdatasync, rename, directory fsync); each
 * frame is its own write (the file was synced before it became visible). Returns its bytes.
 */
async function writeLog(path: string, id: string, frames: readonly Frame[]): Promise<number> {
  const parts: Uint8Array[] = [walHeader(id)];
  let at = WAL_HEADER_BYTES;
  for (const f of frames) {
    const frame = walFrame(f.seq, at, f.payload);
    parts.push(frame);
    at += frame.length;
  }
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'w');
  try {
    for (const p of parts) await handle.write(p, 0, p.length);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await syncDir(dirname(path));
  return at;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try { await handle.sync(); } finally { await handle.close(); }
}

/** Keeps the damaged file's bytes beside the log (a hard link, else a copy) before it is rewritten. */
async function keepDamaged(path: string): Promise<string> {
  const aside = join(dirname(path), `${basename(path)}.damaged-${new Date().toISOString().replaceAll(':', '-')}`);
  try {
    await link(path, aside);
  } catch {
    await copyFile(path, aside);
  }
  await syncDir(dirname(path));
  return aside;
}

/** The report of a scan that found damage (undefined for an intact log). */
function recoveryReport(scan: WalScan, mark: number, unreadable: WalLostRange[], rowsKept: number, framesKept: number): WalRecoveryReport | undefined {
  if (scan.damage.length === 0 && unreadable.length === 0) return undefined;
  const damage = scan.torn ? [{ ...scan.damage[0]!, end: scan.bytes, beforeSeq: null }] : scan.damage;
  const lost: WalLostRange[] = [
    ...damage.map((d) => ({ start: d.start, end: d.end, afterSeq: d.afterSeq, beforeSeq: d.beforeSeq, reason: d.reason, committed: d.beforeSeq !== null && d.beforeSeq - 1 <= mark })),
    ...unreadable,
  ].sort((a, b) => a.start - b.start);
  return { path: scan.path, kind: scan.torn && unreadable.length === 0 ? 'torn-tail' : 'salvaged', framesKept, rowsKept, lost };
}

/** One line per lost range, for warnings and the CLI. */
export function describeRecovery(report: WalRecoveryReport): string {
  const ranges = report.lost.map((l) => {
    const seqs = l.beforeSeq === null ? `frames after seq ${l.afterSeq}` : l.beforeSeq - l.afterSeq > 2 ? `frames seq ${l.afterSeq + 1}–${l.beforeSeq - 1}` : l.beforeSeq - l.afterSeq === 2 ? `frame seq ${l.afterSeq + 1}` : 'no whole frame';
    return `bytes ${l.start}–${l.end} (${seqs}${l.committed ? ', already committed to the table: no rows lost' : ''}): ${l.reason}`;
  });
  const what = report.kind === 'torn-tail'
    ? `cut off a torn last write (never acknowledged) from ${report.path}`
    : `salvaged ${report.path}${report.movedTo ? ` (damaged file kept as ${report.movedTo})` : ''}`;
  return `write-ahead log: ${what}; kept ${report.framesKept} frame(s), ${report.rowsKept} row(s); lost ${ranges.join('; ')}`;
}

