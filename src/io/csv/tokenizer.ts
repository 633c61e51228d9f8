// `x[i]!` in this file indexes within the bounds of its loop, on per-value paths where an
// assert() per value would cost (noUncheckedIndexedAccess); invariants elsewhere use assert()/at().
import { InputError } from '../../errors.js';

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/** Longest row (bytes) the tokenizer buffers before declaring the input malformed. */
export const CSV_ROW_BYTES_MAX = 64 * 1024 * 1024;
/** Most fields in one row. */
export const CSV_FIELDS_MAX = 4096;

/** One row's fields as byte ranges of `buf` (no strings, no per-field objects); reused for every row, so valid only during the onRow callback. */
export interface RowView {
  buf: Buffer;
  starts: Int32Array;
  ends: Int32Array;
  /** Per field: 0 unquoted, 1 quoted with doubled quotes to unescape, 2 quoted without. */
  escaped: Uint8Array;
  count: number;
  /** Physical line (1-based) where the row starts. */
  line: number;
}

/**
 * A streaming RFC 4180 tokenizer over bytes: quoted fields with embedded delimiters,
 * newlines and doubled quotes, CRLF or LF, a UTF-8 BOM. Bytes arrive in pieces of any size
 * (a row may span pieces); rows are handed out as byte ranges, so the caller converts
 * fields straight from bytes.
 */
export class CsvTokenizer {
  private pending: Buffer = Buffer.alloc(0);
  private line = 1;
  private first = true;
  private readonly starts = new Int32Array(CSV_FIELDS_MAX);
  private readonly ends = new Int32Array(CSV_FIELDS_MAX);
  private readonly escaped = new Uint8Array(CSV_FIELDS_MAX);
  /** The one RowView handed to onRow, refilled per row: valid only during the callback. */
  private readonly view: RowView = { buf: Buffer.alloc(0), starts: this.starts, ends: this.ends, escaped: this.escaped, count: 0, line: 0 };

  /** Column names for error messages (set once the header is known). */
  header: readonly string[] = [];

  constructor(private readonly delimiter: number, private readonly file: string, private readonly onRow: (row: RowView) => void) {}

  private where(line: number, j: number): string {
    const name = this.header[j];
    return `${this.file}:${line}:${j + 1}${name !== undefined ? ` (column ${name})` : ''}`;
  }

  feed(chunk: Uint8Array): void {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.pending.length && !this.first) {
      // The row left over from the last piece usually ends at this piece's first LF: finish
      // it from a copy of just that much, then parse the rest of the piece in place (joining
      // whole pieces would copy every byte of the file once more). A row that goes on past
      // that LF (a quoted newline) is joined with the whole piece.
      const lf = buf.indexOf(LF);
      if (lf >= 0) {
        const head = Buffer.concat([this.pending, buf.subarray(0, lf + 1)]);
        const used = this.parse(head, false);
        this.pending = head.subarray(used);
        buf = buf.subarray(lf + 1);
      }
    }
    if (this.pending.length) buf = Buffer.concat([this.pending, buf]);
    if (this.first && buf.length >= 3) {
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
      this.first = false;
    } else if (this.first) {
      this.pending = Buffer.from(buf);
      return;
    }
    const used = this.parse(buf, false);
    this.pending = used < buf.length ? Buffer.from(buf.subarray(used)) : Buffer.alloc(0);
    if (this.pending.length > CSV_ROW_BYTES_MAX) {
      throw new InputError(`${this.file}:${this.line}: a row longer than ${CSV_ROW_BYTES_MAX} bytes (CSV_ROW_BYTES_MAX; an unterminated quote?)`, this.file, this.line);
    }
  }

  end(): void {
    let buf = this.pending;
    if (this.first && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    this.first = false;
    if (buf.length) this.parse(buf, true);
    this.pending = Buffer.alloc(0);
  }

  /** Parses complete rows; returns the bytes consumed. */
  private parse(buf: Buffer, final: boolean): number {
    const n = buf.length;
    const delim = this.delimiter;
    // Bytes above every special byte (delimiter, CR, LF) need one comparison: for ',' that
    // is every digit, letter, '.', '-' and '+'.
    const plain = Math.max(delim, CR, LF) + 1;
    const { starts, ends, escaped } = this;
    let i = 0;
    while (i < n) {
      const rowStart = i;
      const rowLine = this.line;
      let extraLines = 0;
      let count = 0;
      let complete = false;
      for (;;) {
        if (count >= CSV_FIELDS_MAX) throw new InputError(`${this.file}:${rowLine}:${count + 1}: more than ${CSV_FIELDS_MAX} fields in a row`, this.file, rowLine);
        if (i < n && buf[i] === QUOTE) {
          let j = i + 1;
          let esc = 2;
          let closed = -1;
          while (j < n) {
            const c = buf[j]!;
            if (c === QUOTE) {
              if (j + 1 < n && buf[j + 1] === QUOTE) { esc = 1; j += 2; continue; }
              if (j + 1 >= n && !final) break; // the next piece may hold the second quote
              closed = j;
              break;
            }
            if (c === LF) extraLines++;
            j++;
          }
          if (closed < 0) {
            if (!final) return rowStart;
            throw new InputError(`${this.where(rowLine, count)}: unterminated quoted field (no closing quote before the end of the input)`, this.file, rowLine, this.header[count]);
          }
          starts[count] = i + 1;
          ends[count] = closed;
          escaped[count] = esc;
          count++;
          i = closed + 1;
          if (i >= n) { if (!final) return rowStart; complete = true; break; }
          const c = buf[i]!;
          if (c === delim) { i++; continue; }
          if (c === LF) { i++; complete = true; break; }
          if (c === CR) {
            if (i + 1 >= n && !final) return rowStart;
            i += buf[i + 1] === LF ? 2 : 1;
            complete = true;
            break;
          }
          throw new InputError(`${this.where(rowLine, count - 1)}: expected a delimiter or a line end after the closing quote, got ${JSON.stringify(String.fromCharCode(c))}`, this.file, rowLine, this.header[count - 1]);
        }
        let j = i;
        while (j < n) {
          const c = buf[j]!;
          if (c < plain && (c === delim || c === LF || c === CR)) break;
          j++;
        }
        if (j >= n && !final) return rowStart;
        starts[count] = i;
        ends[count] = j;
        escaped[count] = 0;
        count++;
        if (j >= n) { i = j; complete = true; break; }
        const c = buf[j]!;
        if (c === delim) { i = j + 1; if (i >= n && final) { starts[count] = i; ends[count] = i; escaped[count] = 0; count++; complete = true; break; } continue; }
        if (c === LF) { i = j + 1; complete = true; break; }
        if (j + 1 >= n && !final) return rowStart;
        i = j + (buf[j + 1] === LF ? 2 : 1);
        complete = true;
        break;
      }
      if (!complete) return rowStart;
      this.line += 1 + extraLines;
      if (count === 1 && starts[0] === ends[0] && !escaped[0] && buf[rowStart] !== QUOTE) continue; // blank line
      const view = this.view;
      view.buf = buf;
      view.count = count;
      view.line = rowLine;
      this.onRow(view);
    }
    return n;
  }
}

/** Invalid bytes become U+FFFD; a leading U+FEFF stays part of the text (TextDecoder's default drops it). */
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * A field's text (unescaping doubled quotes), invalid UTF-8 replaced: for planning and
 * messages. Values that are stored are decoded through CellText (cells.ts), which applies
 * the invalid-UTF-8 policy.
 */
export function fieldText(row: RowView, j: number): string {
  const s = decoder.decode(row.buf.subarray(row.starts[j]!, row.ends[j]!));
  return row.escaped[j] === 1 ? s.replaceAll('""', '"') : s;
}

/** The row's bytes as they are in the file (quotes included, line end excluded): what a rejects file keeps. */
export function rowBytes(row: RowView): Uint8Array {
  if (row.count === 0) return new Uint8Array(0);
  const last = row.count - 1;
  const start = row.starts[0]! - (row.escaped[0] ? 1 : 0);
  const end = row.ends[last]! + (row.escaped[last] ? 1 : 0);
  return new Uint8Array(row.buf.subarray(start, end));
}

/** Picks the delimiter among , ; tab | that splits the header line into the most fields. */
export function detectDelimiter(head: Uint8Array): number {
  const candidates = [0x2c, 0x3b, 0x09, 0x7c];
  const counts = candidates.map(() => 0);
  let quoted = false;
  for (let i = 0; i < head.length; i++) {
    const c = head[i]!;
    if (c === QUOTE) quoted = !quoted;
    else if (!quoted && (c === LF || c === CR)) break;
    else if (!quoted) { const k = candidates.indexOf(c); if (k >= 0) counts[k]!++; }
  }
  let best = 0;
  for (let k = 1; k < candidates.length; k++) if (counts[k]! > counts[best]!) best = k;
  return candidates[best]!;
}
