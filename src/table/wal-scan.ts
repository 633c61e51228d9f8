/**
 * Reading a write-ahead log file (wal.ts) back: its frames, and what is wrong with it.
 *
 *   header  "QVRWAL2\n" (8 bytes) · log id (16 ASCII hex characters)
 *   frame*  0  u32 LE payload length
 *           4  u32 LE CRC-32 of bytes 8 .. end of payload
 *           8  u64 LE seq (1, 2, 3, … per log; a failed write may leave a gap)
 *           16 u64 LE group offset: where the write that carried this frame began in the file
 *           24 payload = one Arrow IPC stream (schema + one record batch)
 *
 * (Version 1 logs, "QVRWAL1\n", had 16-byte frame headers without the group offset; they are
 * still read, and rewritten as version 2 on open.)
 *
 * A frame that fails its length or CRC is either a **torn tail** or **corruption**:
 *
 * - Torn tail: the process or machine died during the last write, which was never
 *   fdatasync'd, so no append in it was acknowledged. A killed process leaves a prefix of
 *   the write (the file ends inside a frame); a power loss may also persist the file's new
 *   size but not all of its pages, which then read as zeros, so valid frames may even follow
 *   a bad one, but only frames of that same write. Damage is a torn tail when (1) it lies in
 *   the last write: no valid frame follows it, or every valid frame after it came with one
 *   write that began at or before the damage (each v2 frame records the offset its write
 *   began at; the next write starts only after the last one's fdatasync), and (2) it looks
 *   unwritten, not changed: the file ends inside the frame (and the bytes to the end do not
 *   make the frame whole under another length, which a flipped length bit would), or a page
 *   of it reads as zeros; and (3) the damaged frame's header, as far as the file holds it,
 *   is one a torn write leaves (its seq follows, its group offset is its own or its write's;
 *   zeros where unwritten): a file also cut short after a shifted or overwritten header is
 *   corruption. A torn tail is cut off and reported.
 * - Corruption: anything else, e.g. a flipped byte in an acknowledged frame, last or not.
 *   Cutting there would drop acknowledged rows, so open stops with WalCorruptError (the file
 *   untouched) until the log is salvaged: every intact frame kept, the damaged file moved
 *   aside, the lost byte ranges and frame seqs reported. (A flipped byte inside a page of
 *   zeros of the last write's frames would pass for a torn tail: two faults at once.)
 *
 * After a bad frame the scan looks for the next valid one at every later byte; a candidate
 * must have a length inside the file, a plausible seq and group offset, and a matching CRC.
 */
import { crc32 } from '../format/crc32.js';
import { QuiverError, WalCorruptError } from '../errors.js';

export const WAL_MAGIC_V1 = 'QVRWAL1\n';
export const WAL_MAGIC = 'QVRWAL2\n';
export const WAL_HEADER_BYTES = 8 + 16;
const FRAME_HEADER_BYTES_V1 = 16;
export const WAL_FRAME_HEADER_BYTES = 24;
/** Largest frame accepted on replay (a corrupt length must not allocate gigabytes). */
export const WAL_FRAME_BYTES_MAX = 1 << 30;
/**
 * How far a frame's seq may lie above the last good one: to be taken for a v1 frame when
 * looking past damage (v1 frames have no group offset to check instead), and for the header
 * of a torn frame.
 */
const SEQ_GAP_MAX = 2 ** 32;
/**
 * Bytes of CRC computed while looking for valid frames past damage, per byte of the file:
 * hostile bytes full of plausible headers must not make the scan quadratic. When it runs
 * out, the rest of the file counts as damaged (corruption, never a silent cut).
 */
const RESYNC_CRC_BYTES_PER_FILE_BYTE = 16;

export interface WalFrame {
  /** 1-based position in the file. */
  index: number;
  seq: number;
  /** Byte offset of the frame header in the file. */
  offset: number;
  /** Byte offset just past the frame. */
  end: number;
  /** The Arrow IPC stream (a view of the file's bytes). */
  payload: Uint8Array;
}

/** Bytes between valid frames that are not a valid frame. */
export interface WalDamage {
  /** First and one-past-last damaged byte. */
  start: number;
  end: number;
  /** 1-based position the first damaged frame would have in the file. */
  frame: number;
  /** Seq of the valid frame before the damage (0 when none) and after it (null when none). */
  afterSeq: number;
  beforeSeq: number | null;
  /** What was wrong at `start`. */
  reason: string;
}

export interface WalScan {
  path: string;
  id: string;
  version: 1 | 2;
  bytes: number;
  /** Every valid frame, in file order. */
  frames: WalFrame[];
  /** Damaged ranges (including a torn tail, which is last). */
  damage: WalDamage[];
  /** True when all damage is a torn tail (cut off silently but logged); false when it is corruption. */
  torn: boolean;
  /** Where the log is cut when torn (the bytes length when undamaged). */
  validEnd: number;
}

/** The typed error for a scan whose damage is not a torn tail. */
export function walCorruptError(scan: WalScan): WalCorruptError {
  const first = scan.damage[0]!;
  const kept = scan.frames.filter((f) => f.offset > first.start).length;
  return new WalCorruptError(scan.path, first.start, first.frame,
    `${first.reason}; ${kept} intact frame(s) follow, so this is not a torn tail. The file is left as it is: `
    + `salvage it with Quiver.open(…, { wal, walRecovery: 'salvage' }) or 'quiver wal salvage ${scan.path}' `
    + '(keeps every intact frame, moves the damaged file aside, reports what was lost)');
}

/** Parses a whole log file; a bad header is a QuiverError (nothing in it can be trusted). */
export function scanWal(bytes: Uint8Array, path: string): WalScan {
  if (bytes.length < WAL_HEADER_BYTES) throw new QuiverError(`${path} is not a Quiver write-ahead log (${bytes.length} bytes, shorter than its ${WAL_HEADER_BYTES}-byte header)`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  const id = new TextDecoder().decode(bytes.subarray(8, WAL_HEADER_BYTES));
  const version = magic === WAL_MAGIC ? 2 : magic === WAL_MAGIC_V1 ? 1 : 0;
  if (version === 0 || !/^[0-9a-f]{16}$/.test(id)) throw new QuiverError(`${path} is not a Quiver write-ahead log (bad header)`);
  const headerBytes = version === 2 ? WAL_FRAME_HEADER_BYTES : FRAME_HEADER_BYTES_V1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let crcBudget = RESYNC_CRC_BYTES_PER_FILE_BYTE * bytes.length;
  let budgetSpent = false;

  /** The frame at `at` if it is valid (seq above `afterSeq`), else why not. */
  const frameAt = (at: number, afterSeq: number, resync: boolean): { seq: number; end: number } | string => {
    if (at + headerBytes > bytes.length) return `${bytes.length - at} bytes left, less than a frame header`;
    const length = view.getUint32(at, true);
    if (length > WAL_FRAME_BYTES_MAX) return `frame length ${length} exceeds limit ${WAL_FRAME_BYTES_MAX}`;
    const end = at + headerBytes + length;
    if (end > bytes.length) return `frame length ${length} runs past the end of the file (${bytes.length} bytes)`;
    const seqBig = view.getBigUint64(at + 8, true);
    if (seqBig <= BigInt(afterSeq) || seqBig > BigInt(Number.MAX_SAFE_INTEGER)) return `frame seq ${seqBig} is not above the previous seq ${afterSeq}`;
    if (resync) {
      // Cheap plausibility first: past damage, most byte offsets fail here, not on a CRC.
      if (version === 2) {
        const group = view.getBigUint64(at + 16, true);
        if (group < BigInt(WAL_HEADER_BYTES) || group > BigInt(at)) return 'implausible group offset';
      } else if (seqBig - BigInt(afterSeq) > BigInt(SEQ_GAP_MAX)) return 'implausible seq';
      if (crcBudget < length) { budgetSpent = true; return 'scan budget spent'; }
      crcBudget -= length + headerBytes;
    }
    const crc = crc32(bytes.subarray(at + 8, end));
    if (crc !== view.getUint32(at + 4, true)) return `CRC-32 ${crc.toString(16).padStart(8, '0')} of the frame does not match the stored ${view.getUint32(at + 4, true).toString(16).padStart(8, '0')}`;
    return { seq: Number(seqBig), end };
  };

  const frames: WalFrame[] = [];
  const damage: WalDamage[] = [];
  let at = WAL_HEADER_BYTES;
  let lastSeq = 0;
  while (at < bytes.length) {
    const found = frameAt(at, lastSeq, false);
    if (typeof found !== 'string') {
      frames.push({ index: frames.length + damage.length + 1, seq: found.seq, offset: at, end: found.end, payload: bytes.subarray(at + headerBytes, found.end) });
      lastSeq = found.seq;
      at = found.end;
      continue;
    }
    // Damage from `at`: look for the next valid frame at every later byte.
    let next = at + 1;
    for (; next + headerBytes <= bytes.length; next++) {
      if (typeof frameAt(next, lastSeq, true) !== 'string') break;
    }
    const resumed = next + headerBytes <= bytes.length;
    const end = resumed ? next : bytes.length;
    damage.push({ start: at, end, frame: frames.length + damage.length + 1, afterSeq: lastSeq, beforeSeq: resumed ? Number(view.getBigUint64(next + 8, true)) : null, reason: found });
    at = end;
  }

  const first = damage[0];
  const frameAfter = (d: WalDamage) => frames.some((f) => f.offset >= d.end);
  /**
   * The header fields of the frame a damaged range starts with, as far as the file holds them,
   * are what a torn write leaves: the true ones, or zeros where a page never reached the disk.
   * Its seq follows the frame before (a failed write may leave a gap), and a v2 frame's group
   * offset is its own offset (the first frame of a write) or that of the frame before (the
   * same write). Damage that shifted or overwrote the header (a deleted byte, a copied region)
   * fails here even when the file was also cut short, so it is corruption, not a torn tail.
   */
  const headerPlausible = (d: WalDamage): boolean => {
    const present = (from: number, n: number) => d.start + from + n <= bytes.length;
    const zeros = (from: number, n: number) => bytes.subarray(d.start + from, d.start + from + n).every((b) => b === 0);
    if (present(0, 4) && view.getUint32(d.start, true) > WAL_FRAME_BYTES_MAX) return false;
    if (present(8, 8) && !zeros(8, 8)) {
      const seq = view.getBigUint64(d.start + 8, true);
      if (seq <= BigInt(d.afterSeq) || seq - BigInt(d.afterSeq) > BigInt(SEQ_GAP_MAX)) return false;
    }
    if (version === 2 && present(16, 8) && !zeros(16, 8)) {
      const group = Number(view.getBigUint64(d.start + 16, true));
      const before = frames.find((f) => f.end === d.start);
      const beforeGroup = before ? Number(view.getBigUint64(before.offset + 16, true)) : d.start;
      if (group !== d.start && group !== beforeGroup) return false;
    }
    return true;
  };
  /**
   * Whether the bytes after the header of the frame at `start` hold what looks like the header
   * of a frame written after it: a seq above its own (by at most SEQ_GAP_MAX; exactly the next
   * for v1 frames, which have no group offset) and, in v2, a group offset that is the header's
   * own position or the frame's write. A torn frame holds its own payload only.
   */
  const laterHeaderWithin = (start: number): boolean => {
    if (start + 16 > bytes.length) return false;
    const seq = view.getBigUint64(start + 8, true);
    const group = version === 2 && start + 24 <= bytes.length ? view.getBigUint64(start + 16, true) : -1n;
    for (let p = start + headerBytes; p + headerBytes <= bytes.length; p++) {
      const next = view.getBigUint64(p + 8, true);
      if (next <= seq || next - seq > (version === 2 ? BigInt(SEQ_GAP_MAX) : 1n)) continue;
      if (version === 1) return true;
      const g = view.getBigUint64(p + 16, true);
      if (g === BigInt(p) || g === group) return true;
    }
    return false;
  };
  /** Bytes the file never received: the file ends inside a frame, or a page reads as zeros. */
  const unwritten = (d: WalDamage): boolean => {
    if (!headerPlausible(d)) return false;
    if (!frameAfter(d) && d.end === bytes.length) {
      if (bytes.length - d.start < headerBytes) return true;
      const length = view.getUint32(d.start, true);
      if (d.start + headerBytes + length > bytes.length) {
        // Cut short, unless only the length field is wrong: the frame is then whole under a
        // shorter length (a changed length in a complete frame, the file cut after it).
        // A later frame's header inside it (the next seq, its write's offset) says the same
        // when the frame's own bytes were damaged too.
        return !wholeUnderShorterLength(bytes, d.start, headerBytes, view.getUint32(d.start + 4, true)) && !laterHeaderWithin(d.start);
      }
    }
    return hasZeroPage(bytes, d.start, d.end);
  };
  let torn = !budgetSpent;
  if (torn && first) {
    // Damage is a torn tail only if it lies in the last write (no valid frame after it, or
    // all valid frames after it came with one write that began at or before the damage; only
    // v2 frames say which write they came with) and looks unwritten rather than changed.
    const later = frames.filter((f) => f.offset > first.start);
    const groups = new Set(later.map((f) => Number(view.getBigUint64(f.offset + 16, true))));
    const [group] = groups;
    const lastWrite = later.length === 0 || (version === 2 && groups.size === 1 && group! <= first.start);
    torn = lastWrite && damage.every(unwritten);
  }
  return { path, id, version, bytes: bytes.length, frames, damage, torn, validEnd: first ? first.start : bytes.length };
}

/**
 * Whether the frame at `start` ends, by its CRC, somewhere before the end of the file: the
 * CRC of bytes start+8 .. e equals `stored` for some e from the end of its header to the end
 * of the file (one running CRC over the bytes, so linear in them).
 */
function wholeUnderShorterLength(bytes: Uint8Array, start: number, headerBytes: number, stored: number): boolean {
  let crc = 0xffffffff;
  const target = stored >>> 0;
  for (let i = start + 8; i < bytes.length; i++) {
    crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
    if (i + 1 >= start + headerBytes && ((crc ^ 0xffffffff) >>> 0) === target) return true;
  }
  return false;
}

/** The CRC-32 (zlib polynomial, reflected) byte table, for the running CRC above. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The page size at which a crash may lose a write's data (the file's size reached the disk,
 * some of its pages did not and read back as zeros), and the shortest run of zeros taken
 * for such a page where the damage covers only part of one.
 */
const PAGE_BYTES = 4096;
const ZERO_RUN_BYTES_MIN = 32;

/** True when some page of the file, clipped to [start, end), holds only zeros. */
function hasZeroPage(bytes: Uint8Array, start: number, end: number): boolean {
  for (let page = start - (start % PAGE_BYTES); page < end; page += PAGE_BYTES) {
    const lo = Math.max(page, start);
    const hi = Math.min(page + PAGE_BYTES, end);
    if (hi - lo < ZERO_RUN_BYTES_MIN) continue;
    let zero = true;
    for (let i = lo; i < hi && zero; i++) zero = bytes[i] === 0;
    if (zero) return true;
  }
  return false;
}

/** The header of a v2 log. */
export function walHeader(id: string): Uint8Array {
  return new TextEncoder().encode(WAL_MAGIC + id);
}

/** One v2 frame: `group` is the file offset where the write carrying it begins. */
export function walFrame(seq: number, group: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(WAL_FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length, true);
  view.setBigUint64(8, BigInt(seq), true);
  view.setBigUint64(16, BigInt(group), true);
  out.set(payload, WAL_FRAME_HEADER_BYTES);
  view.setUint32(4, crc32(out.subarray(8)), true);
  return out;
}
