/**
 * Write-ahead log for `Table.append()` (and so `writePoint`): rows acknowledged by append()
 * survive a crash before the flush that turns them into chunks.
 *
 * A WAL is a local file per table, `<dir>/<table>.wal` (object stores cannot append, and a
 * WAL's job is to make one writer's buffer durable, so it lives next to that writer):
 *
 *   header  "QVRWAL1\n" (8 bytes) · log id (16 ASCII hex characters)
 *   frame*  u32 LE payload length · u32 LE CRC-32 of (seq bytes + payload) · u64 LE seq ·
 *           payload = one Arrow IPC stream (schema + one record batch)
 *
 * Every append writes one frame and fdatasyncs before append() resolves (appends made while
 * a write is in flight share the next write and fdatasync: group commit). Exactly once:
 * the flush that commits the buffered rows records `walMarks[logId] = last seq` in the same
 * manifest version (put-if-absent, like every commit), and only then drops frames ≤ that seq
 * from the file. Replay on open skips frames the latest manifest already marks committed, so
 * a crash between the commit and the truncation neither loses nor doubles rows. A torn
 * last frame (a crash mid-write; its append never resolved) fails its length or CRC and is cut off.
 *
 * One writer process per WAL file: two processes appending to one table must use different
 * WAL directories (each log has its own id, so their marks never collide).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordBatch, Table as ArrowTable, tableFromIPC, tableToIPC } from 'apache-arrow';
import { crc32 } from '../format/crc32.js';
import { QuiverError } from '../errors.js';

const MAGIC = 'QVRWAL1\n';
const HEADER_BYTES = 8 + 16;
const FRAME_HEADER_BYTES = 16;
/** Largest frame accepted on replay (a corrupt length must not allocate gigabytes). */
export const WAL_FRAME_BYTES_MAX = 1 << 30;

interface Frame {
  seq: number;
  /** seq bytes + payload, as written (so rewriting keeps the CRC). */
  bytes: Uint8Array;
}

function frameOf(seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length, true);
  view.setBigUint64(8, BigInt(seq), true);
  out.set(payload, FRAME_HEADER_BYTES);
  view.setUint32(4, crc32(out.subarray(8)), true);
  return out;
}

export class WriteAheadLog {
  private handle?: FileHandle;
  private frames: Frame[] = [];
  private nextSeq = 1;
  /** The pending group write and the frames waiting for it. */
  private group?: Promise<void>;
  private grouped: { seq: number; frame: Uint8Array }[] = [];
  /** Last seq on disk; a rewrite keeps only frames up to it (later ones are in a pending group). */
  private writtenSeq = 0;
  /** Serializes file operations (appends and rewrites). */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(readonly path: string, readonly id: string) {}

  /**
   * Opens (or creates) the log of `table` in `dir` and returns the batches not yet committed,
   * i.e. with a seq above `committed(id)` (the table's `walMarks` entry for this log).
   * `discard` starts a new, empty log whatever the file holds (a table just created).
   */
  static async open(dir: string, table: string, committed: (id: string) => number, options: { discard?: boolean } = {}): Promise<{ wal: WriteAheadLog; pending: RecordBatch[]; truncatedBytes: number }> {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${table.replaceAll('/', '%2F')}.wal`);
    let bytes: Uint8Array | undefined;
    try {
      if (!options.discard) bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (!bytes || bytes.length < HEADER_BYTES) {
      const wal = new WriteAheadLog(path, randomBytes(8).toString('hex'));
      await wal.rewrite();
      return { wal, pending: [], truncatedBytes: 0 };
    }
    const magic = new TextDecoder().decode(bytes.subarray(0, 8));
    const id = new TextDecoder().decode(bytes.subarray(8, HEADER_BYTES));
    if (magic !== MAGIC || !/^[0-9a-f]{16}$/.test(id)) throw new QuiverError(`${path} is not a Quiver write-ahead log (bad header)`);
    const wal = new WriteAheadLog(path, id);
    const mark = committed(id);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const pending: RecordBatch[] = [];
    let at = HEADER_BYTES;
    let lastSeq = mark;
    while (at + FRAME_HEADER_BYTES <= bytes.length) {
      const length = view.getUint32(at, true);
      if (length > WAL_FRAME_BYTES_MAX || at + FRAME_HEADER_BYTES + length > bytes.length) break;
      const body = bytes.subarray(at + 8, at + FRAME_HEADER_BYTES + length);
      if (crc32(body) !== view.getUint32(at + 4, true)) break;
      const seq = Number(view.getBigUint64(at + 8, true));
      at += FRAME_HEADER_BYTES + length;
      lastSeq = Math.max(lastSeq, seq);
      if (seq <= mark) continue;
      let batches: RecordBatch[];
      try {
        batches = tableFromIPC(body.subarray(8)).batches;
      } catch (error) {
        throw new QuiverError(`${path}: frame ${seq} passed its checksum but is not Arrow IPC: ${(error as Error).message}`);
      }
      pending.push(...batches);
      wal.frames.push({ seq, bytes: body.slice() });
    }
    wal.nextSeq = lastSeq + 1;
    wal.writtenSeq = lastSeq;
    const truncatedBytes = bytes.length - at;
    // Keep only the uncommitted frames (and drop a torn tail) before appending after them.
    await wal.rewrite();
    return { wal, pending, truncatedBytes };
  }

  /** Seq of the last frame appended (0 when none): what a flush of everything marks committed. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** Appends one batch durably; resolves after fdatasync. */
  append(batch: RecordBatch): Promise<number> {
    const seq = this.nextSeq++;
    const payload = tableToIPC(new ArrowTable([batch]), 'stream');
    const frame = frameOf(seq, payload);
    this.frames.push({ seq, bytes: frame.subarray(8) });
    // Group commit: frames appended while a write is in flight go out together, with one
    // fdatasync for all of them.
    const group = this.group ??= this.serial(async () => {
      const frames = this.grouped;
      this.group = undefined;
      this.grouped = [];
      const handle = await this.file();
      const bytes = frames.length === 1 ? frames[0]!.frame : Buffer.concat(frames.map((f) => f.frame));
      await handle.write(bytes, 0, bytes.length);
      await handle.datasync();
      this.writtenSeq = frames[frames.length - 1]!.seq;
    });
    this.grouped.push({ seq, frame });
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

  /** Atomically replaces the file with the header and the frames kept in memory. */
  private async rewrite(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    const parts: Uint8Array[] = [new TextEncoder().encode(MAGIC + this.id)];
    for (const f of this.frames) {
      if (f.seq > this.writtenSeq) break;
      const header = new Uint8Array(8);
      const view = new DataView(header.buffer);
      view.setUint32(0, f.bytes.length - 8, true);
      view.setUint32(4, crc32(f.bytes), true);
      parts.push(header, f.bytes);
    }
    const temp = `${this.path}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temp, 'w');
    try {
      for (const p of parts) await handle.write(p, 0, p.length);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.path);
    const dir = await open(join(this.path, '..'), 'r');
    try { await dir.sync(); } finally { await dir.close(); }
  }
}
