/**
 * Cuts a streamed line-protocol body into lines, in bounded memory: a line ends at a newline
 * outside a string field value (a quoted field value may hold newlines, as InfluxDB's parser
 * allows). Each line comes with the body line number it starts on (1-based). A line longer
 * than `lineBytesMax`, or a string field left open at the end of the body, is reported as
 * that line's error and splitting resumes after the next newline.
 */
import { isUtf8 } from 'node:buffer';

const NL = 0x0a, SPACE = 0x20, TAB = 0x09, BACKSLASH = 0x5c, QUOTE = 0x22, EQUALS = 0x3d, HASH = 0x23, CR = 0x0d;

export type SplitLine = { line: number; text: string } | { line: number; error: string; text: string };

/** Shown text of a refused line: its first this many characters (UTF-16 code units; a surrogate pair is never cut). */
export const LINE_TEXT_SHOWN_MAX = 256;
/**
 * Bytes of a refused line decoded to show it. A character takes at most 4 bytes, so a line
 * longer than this has more than LINE_TEXT_SHOWN_MAX characters, and its first
 * LINE_TEXT_SHOWN_MAX are whole within these bytes (a character the cut splits comes after).
 */
const LINE_TEXT_SHOWN_BYTES_MAX = 4 * (LINE_TEXT_SHOWN_MAX + 1);

/**
 * Shown text of the bad line in bytes [start, end) of `buf` (for the error report): its first
 * LINE_TEXT_SHOWN_MAX characters, "…" when cut. Decodes at most LINE_TEXT_SHOWN_BYTES_MAX
 * bytes, however long the line (up to LINE_BYTES_MAX, 1 MiB).
 */
export function excerpt(buf: Buffer, start = 0, end = buf.length): string {
  const text = buf.toString('utf8', start, Math.min(end, start + LINE_TEXT_SHOWN_BYTES_MAX));
  if (text.length <= LINE_TEXT_SHOWN_MAX && end - start <= LINE_TEXT_SHOWN_BYTES_MAX) return text;
  // Not between the two halves of a surrogate pair (a lone half is no character).
  const last = text.charCodeAt(LINE_TEXT_SHOWN_MAX - 1);
  return `${text.slice(0, last >= 0xd800 && last <= 0xdbff ? LINE_TEXT_SHOWN_MAX - 1 : LINE_TEXT_SHOWN_MAX)}…`;
}

/**
 * Where the line starting at `start` ends: the index of its newline (or -1 when the buffer
 * ends first), and whether it ended inside a string field value.
 */
function lineEnd(buf: Buffer, start: number): { end: number; inString: boolean; newlines: number } {
  let i = start;
  const n = buf.length;
  while (i < n && (buf[i] === SPACE || buf[i] === TAB)) i++;
  if (i < n && buf[i] === HASH) { const end = buf.indexOf(NL, i); return { end, inString: false, newlines: 0 }; }
  let section = 0; // 0 measurement and tags, 1 fields, 2 timestamp
  let valueStart = false;
  let inString = false;
  let newlines = 0;
  for (; i < n; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === BACKSLASH) { i++; if (buf[i] === NL) newlines++; } else if (c === QUOTE) inString = false;
      else if (c === NL) newlines++;
      continue;
    }
    if (c === NL) return { end: i, inString: false, newlines };
    if (section === 2) continue;
    if (c === BACKSLASH) {
      // An escape never swallows the newline that ends the line.
      if (i + 1 < n && buf[i + 1] !== NL) i++;
      valueStart = false;
      continue;
    }
    if (c === SPACE || c === TAB) { section++; valueStart = false; while (i + 1 < n && (buf[i + 1] === SPACE || buf[i + 1] === TAB)) i++; continue; }
    if (section === 1) {
      if (valueStart && c === QUOTE) inString = true;
      valueStart = c === EQUALS;
    }
  }
  return { end: -1, inString, newlines };
}

/** Receives the lines a splitter cuts, in body order. */
export interface LineTarget {
  /** A line: bytes [start, end) of `buf` (valid UTF-8, a final CR dropped), starting on body line `line`; `buf` is read before the call returns. */
  line(buf: Buffer, start: number, end: number, line: number): void;
  /** A line refused before parsing (too long, invalid UTF-8, an unclosed string at the end). */
  error(line: number, error: string, text: string): void;
}

/** Collects lines as SplitLine objects (a string per line: the parser's tests and tools). */
class Collect implements LineTarget {
  readonly out: SplitLine[] = [];
  line(buf: Buffer, start: number, end: number, line: number): void { this.out.push({ line, text: buf.toString('utf8', start, end) }); }
  error(line: number, error: string, text: string): void { this.out.push({ line, error, text }); }
}

export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** Body line number where `pending` starts. */
  private line = 1;

  constructor(private readonly lineBytesMax: number) {}

  /** Lines completed by `chunk` (the rest waits for more bytes or `end()`). */
  push(chunk: Buffer): SplitLine[] {
    const c = new Collect();
    this.pushTo(chunk, c);
    return c.out;
  }

  /** The last line (without a final newline). */
  end(): SplitLine[] {
    const c = new Collect();
    this.endTo(c);
    return c.out;
  }

  /** Hands `target` the lines completed by `chunk`, as byte ranges (no string per line). */
  pushTo(chunk: Buffer, target: LineTarget): void {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.split(buf, false, target);
  }

  /** Hands `target` the last line (without a final newline). */
  endTo(target: LineTarget): void {
    const buf = this.pending;
    this.pending = Buffer.alloc(0);
    this.split(buf, true, target);
  }

  private split(buf: Buffer, final: boolean, out: LineTarget): void {
    let start = 0;
    /** Bytes before this are valid UTF-8 (-1: the rest is not; check line by line). */
    let validUpTo = 0;
    /** The first quote at or after `start` (-1: none in the rest of the buffer). */
    let quote = -2;
    while (start < buf.length) {
      if (quote !== -1 && quote < start) quote = buf.indexOf(QUOTE, start);
      // A line without a quote ends at its first newline (only a string value may hold one): found natively.
      const nl = buf.indexOf(NL, start);
      const found = quote === -1 || (nl >= 0 && quote > nl) ? { end: nl, inString: false, newlines: 0 } : lineEnd(buf, start);
      const { inString } = found;
      // The body's last line needs no newline.
      const end = found.end < 0 && final && !inString && !this.skipping && buf.length - start <= this.lineBytesMax ? buf.length : found.end;
      if (end < 0) {
        const rest = buf.length - start;
        if (!final && rest <= this.lineBytesMax) break;
        // Too long, or a string left open at the end of the body: the physical line is bad.
        const nl = buf.indexOf(NL, start);
        if (!final && nl < 0) {
          // Keep skipping until a newline arrives; remember only that we are skipping.
          out.error(this.line, `line longer than ${this.lineBytesMax} bytes`, excerpt(buf, start));
          this.skipping = true;
          start = buf.length;
          break;
        }
        const stop = nl < 0 ? buf.length : nl;
        if (!this.skipping) out.error(this.line, rest > this.lineBytesMax ? `line longer than ${this.lineBytesMax} bytes` : inString ? 'string field value has no closing quote' : 'unexpected end of line', excerpt(buf, start, stop));
        this.skipping = false;
        if (nl < 0) { start = buf.length; break; }
        this.line++;
        start = nl + 1;
        continue;
      }
      if (this.skipping) {
        this.skipping = false;
        this.line++;
        start = buf.indexOf(NL, start) + 1;
        continue;
      }
      let stop = end;
      if (stop > start && buf[stop - 1] === CR) stop--;
      const from = start;
      const line = this.line;
      this.line += found.newlines + 1;
      if (validUpTo <= start) {
        // UTF-8 is checked for the whole rest of the buffer at once; line by line only when it fails.
        validUpTo = isUtf8(buf.subarray(start)) ? buf.length : -1;
      }
      start = end + 1;
      if (stop - from > this.lineBytesMax) { out.error(line, `line longer than ${this.lineBytesMax} bytes`, excerpt(buf, from, stop)); continue; }
      if (validUpTo < 0 && !isUtf8(buf.subarray(from, stop))) { out.error(line, 'invalid UTF-8', excerpt(buf, from, stop)); continue; }
      out.line(buf, from, stop, line);
    }
    this.pending = start >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(start));
  }

  /** A too-long line is being skipped up to its newline. */
  private skipping = false;
}
