/**
 * Per-cell converters shared by the wide and long CSV builders: the time cell (parsed
 * from bytes, cached across equal neighbours, converted to the table unit) and tag
 * interning (bytes → dictionary code without a string per cell).
 */
import { InputError } from '../../errors.js';
import type { TimeUnit } from '../../format/types.js';
import { fieldText, type RowView } from './tokenizer.js';
import { parseEpochBytes, parseIsoBytes, type TimeFormat } from './values.js';

/** Longest cell text quoted back in an error message. */
const ERROR_TEXT_CHARS_MAX = 60;

/** The InputError of a cell: `file:line:column (column name): expected X, got "text"`. */
export function cellError(file: string, header: readonly string[], row: RowView, j: number, expected: string): InputError {
  const name = header[j] ?? `#${j + 1}`;
  const text = j < row.count ? fieldText(row, j) : '';
  const shown = text.length > ERROR_TEXT_CHARS_MAX ? `${text.slice(0, ERROR_TEXT_CHARS_MAX)}…` : text;
  return new InputError(`${file}:${row.line}:${j + 1} (column ${name}): expected ${expected}, got ${JSON.stringify(shown)}`, file, row.line, name);
}

/** A row with the wrong number of fields; the column is the first missing or extra field. */
export function fieldCountError(file: string, header: readonly string[], row: RowView): InputError {
  const width = header.length;
  const j = row.count < width ? row.count : width;
  const name = row.count < width ? ` (column ${header[j]})` : '';
  return new InputError(`${file}:${row.line}:${j + 1}${name}: expected ${width} fields, got ${row.count}`, file, row.line, row.count < width ? header[j] : undefined);
}

const NS_PER_UNIT: Record<TimeUnit, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };

/** Whether buf[s, e) equals `bytes` (a JS loop: short values, no native call). */
export function sameBytes(bytes: Uint8Array, buf: Uint8Array, s: number, e: number): boolean {
  if (bytes.length !== e - s) return false;
  for (let k = 0; k < bytes.length; k++) if (bytes[k] !== buf[s + k]) return false;
  return true;
}

/**
 * The time cell: ISO-8601 or epoch digits → the table unit (floor division, so instants
 * before 1970 round down like every other unit conversion). Rows of many series often
 * share a timestamp, so the last parse is reused for equal bytes.
 */
export class TimeCell {
  private lastBytes = new Uint8Array(64);
  private lastLength = -1;
  private last = 0n;
  private readonly divisor: bigint;
  readonly expected: string;

  constructor(private readonly format: TimeFormat, unit: TimeUnit, private readonly file: string, private readonly header: readonly string[]) {
    this.divisor = NS_PER_UNIT[unit];
    this.expected = format === 'iso' ? 'an ISO-8601 timestamp' : `epoch ${format === 's' ? 'seconds' : format}`;
  }

  parse(row: RowView, j: number): bigint {
    const buf = row.buf;
    const s = row.starts[j]!, e = row.ends[j]!;
    const length = e - s;
    if (length === this.lastLength) {
      const last = this.lastBytes;
      let k = 0;
      while (k < length && last[k] === buf[s + k]) k++;
      if (k === length) return this.last;
    }
    let t = this.format === 'iso' ? parseIsoBytes(buf, s, e) : parseEpochBytes(buf, s, e, this.format);
    if (t === null) throw cellError(this.file, this.header, row, j, this.expected);
    if (this.divisor !== 1n) {
      const q = t / this.divisor;
      t = t < 0n && q * this.divisor !== t ? q - 1n : q;
    }
    if (length > this.lastBytes.length) this.lastBytes = new Uint8Array(length * 2);
    this.lastBytes.set(buf.subarray(s, e));
    this.lastLength = length;
    this.last = t;
    return t;
  }

  reset(): void {
    this.lastLength = -1;
  }
}

interface Interned { bytes: Uint8Array; code: number }

const decoder = new TextDecoder('utf-8');

/**
 * Tag values interned by their bytes (FNV-1a hash, then a byte compare): no string is
 * made for a value already seen, which is nearly every cell of a tag column. Codes index
 * `values` and restart at every reset() (one dictionary per batch).
 */
export class TagInterner {
  values: string[] = [];
  private readonly byText = new Map<string, number>();
  private byHash = new Map<number, Interned | Interned[]>();

  text(text: string): number {
    let code = this.byText.get(text);
    if (code === undefined) {
      code = this.values.length;
      this.byText.set(text, code);
      this.values.push(text);
    }
    return code;
  }

  cell(row: RowView, j: number): number {
    if (row.escaped[j] === 1) return this.text(fieldText(row, j));
    return this.bytes(row.buf, row.starts[j]!, row.ends[j]!);
  }

  /** The code of the UTF-8 text buf[s, e). */
  bytes(buf: Uint8Array, s: number, e: number): number {
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const found = this.byHash.get(h);
    if (found !== undefined) {
      if (!Array.isArray(found)) {
        if (sameBytes(found.bytes, buf, s, e)) return found.code;
      } else {
        for (const c of found) if (sameBytes(c.bytes, buf, s, e)) return c.code;
      }
    }
    const copy = new Uint8Array(buf.subarray(s, e));
    const code = this.text(decoder.decode(copy));
    const entry = { bytes: copy, code };
    if (found === undefined) this.byHash.set(h, entry);
    else if (Array.isArray(found)) found.push(entry);
    else this.byHash.set(h, [found, entry]);
    return code;
  }

  reset(): void {
    this.values = [];
    this.byText.clear();
    this.byHash = new Map();
  }
}
