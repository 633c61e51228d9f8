/**
 * The rejects file of an import with `maxErrors`: one CSV row per skipped input row (file,
 * line, reason, and the row byte for byte as one cell). Created at the first skipped row;
 * its folder is checked before the import starts.
 */
import { accessSync, constants, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import type { RejectedRow } from './formats/registry.js';

export class RejectsFile {
  private stream: WriteStream | undefined;
  /** A write that failed (disk full, the folder removed): fails the import at the next row or at the end. */
  failure: Error | undefined;

  constructor(readonly path: string) {}

  write(r: RejectedRow): void {
    if (this.failure) throw this.failure;
    if (!this.stream) {
      this.stream = createWriteStream(this.path);
      // Never an unhandled 'error': it becomes this.failure.
      this.stream.on('error', (error: NodeJS.ErrnoException) => { this.failure ??= new InputError(`${this.path}: cannot write the rejects file: ${error.code ?? error.message}`, this.path); });
      this.stream.write('file,line,reason,row\n');
    }
    // The row as it is in the file, byte for byte (quoted as one CSV cell).
    this.stream.write(Buffer.concat([Buffer.from(`${csvCell(r.source)},${r.line},${csvCell(r.reason)},`), csvBytesCell(r.bytes), Buffer.from('\n')]));
  }

  /** Flushes and closes the file (if one was created); idempotent. */
  async close(): Promise<void> {
    const r = this.stream;
    this.stream = undefined;
    if (!r) return;
    await new Promise<void>((done) => { if (r.destroyed) done(); else r.end(done); r.once('error', () => done()); });
  }
}

/**
 * The rejects file must be creatable before the import starts: its folder exists and is
 * writable and the path is not a folder (a UsageError naming what is wrong otherwise).
 */
export function checkRejectsPath(path: string): void {
  const folder = dirname(path);
  let stat;
  try { stat = statSync(folder); } catch {
    throw new UsageError(`--rejects ${path}: the folder ${folder} does not exist (it is not created; make it first or name another file)`);
  }
  if (!stat.isDirectory()) throw new UsageError(`--rejects ${path}: ${folder} is not a folder`);
  try { accessSync(folder, constants.W_OK); } catch { throw new UsageError(`--rejects ${path}: the folder ${folder} is not writable`); }
  let target;
  try { target = statSync(path); } catch { return; }
  if (target.isDirectory()) throw new UsageError(`--rejects ${path} is a folder; name a file`);
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Bytes as one CSV cell: quoted (doubling quotes) when they hold a quote, comma or line end; never decoded. */
function csvBytesCell(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!b.some((c) => c === 0x22 || c === 0x2c || c === 0x0d || c === 0x0a)) return b;
  const out: number[] = [0x22];
  for (const c of b) { out.push(c); if (c === 0x22) out.push(0x22); }
  out.push(0x22);
  return Buffer.from(out);
}
