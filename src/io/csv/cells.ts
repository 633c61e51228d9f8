// `x[i]!` in this file indexes within the bounds of its loop, on per-value paths where an
// assert() per value would cost (noUncheckedIndexedAccess); invariants elsewhere use assert()/at().
/**
 * Per-cell converters shared by the wide and long CSV builders: the time cell (parsed
 * from bytes, cached across equal neighbours, converted to the table unit) and tag
 * interning (bytes → dictionary code without a string per cell).
 */
import { isUtf8 } from 'node:buffer';
import { InputError } from '../../errors.js';
import type { TimeUnit } from '../../format/types.js';
import { fieldText, type RowView } from './tokenizer.js';
import { parseEpochBytes, parseIsoBytes, type TimeFormat } from './values.js';
import { floorDiv, inTimeRange, NS_PER_UNIT, timeRangeText } from '../../core/time.js';

/** Longest cell text quoted back in an error message. */
const ERROR_TEXT_CHARS_MAX = 60;

/** The InputError of a value at line:column j (0-based) of column `name`: `file:line:column (column name): expected X, got "text"[; detail]`. */
export function valueError(file: string, line: number, j: number, name: string, expected: string, text: string, detail?: string): InputError {
  const shown = text.length > ERROR_TEXT_CHARS_MAX ? `${text.slice(0, ERROR_TEXT_CHARS_MAX)}…` : text;
  return new InputError(`${file}:${line}:${j + 1} (column ${name}): expected ${expected}, got ${JSON.stringify(shown)}${detail ? `; ${detail}` : ''}`, file, line, name);
}

/** The InputError of a cell of `row` (see valueError). */
export function cellError(file: string, header: readonly string[], row: RowView, j: number, expected: string, detail?: string): InputError {
  return valueError(file, row.line, j, header[j] ?? `#${j + 1}`, expected, j < row.count ? fieldText(row, j) : '', detail);
}

/** The InputError of a cell whose bytes are not UTF-8 (names the first bad byte and the way out). */
export function utf8Error(file: string, header: readonly string[], row: RowView, j: number): InputError {
  const bytes = row.buf.subarray(row.starts[j]!, row.ends[j]!);
  const at = firstInvalidUtf8(bytes);
  return cellError(file, header, row, j, 'UTF-8 text',
    `byte ${at + 1} of the cell (0x${bytes[at]!.toString(16).padStart(2, '0')}) is not valid UTF-8 (fix the file, or import with --invalid-utf8 replace to store U+FFFD in its place)`);
}

/** The offset of the first byte of `bytes` that does not start or continue a valid UTF-8 sequence (bytes.length when all are valid). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) { i++; continue; }
    // Lead byte → sequence length and the allowed range of the second byte (no overlongs, no surrogates, ≤ U+10FFFF).
    let n: number, lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) n = 2;
    else if (b >= 0xe0 && b <= 0xef) { n = 3; if (b === 0xe0) lo = 0xa0; if (b === 0xed) hi = 0x9f; }
    else if (b >= 0xf0 && b <= 0xf4) { n = 4; if (b === 0xf0) lo = 0x90; if (b === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k < n; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n;
  }
  return bytes.length;
}

/** What the CSV reader does with bytes that are not UTF-8: 'error' (the default) or 'replace' them with U+FFFD and count the values. */
export type InvalidUtf8 = 'error' | 'replace';

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Invalid bytes become U+FFFD (one per maximal invalid subsequence, as WHATWG says); a leading U+FEFF stays. */
const lenientDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Cell bytes → stored text under the invalid-UTF-8 policy. `decode` returns null for bytes
 * that are not UTF-8 under 'error'; under 'replace' it never fails and sets `lossy` when it
 * replaced something. Callers count replaced values of a row in `rowReplaced` (the reader
 * adds them up for rows it keeps).
 */
export class CellText {
  /** Whether the last decode replaced invalid bytes. */
  lossy = false;
  /** Values of the current row stored with replacements. */
  rowReplaced = 0;

  constructor(readonly mode: InvalidUtf8 = 'error') {}

  decode(buf: Uint8Array, s: number, e: number): string | null {
    const bytes = buf.subarray(s, e);
    if (this.mode === 'error') {
      try { return strictDecoder.decode(bytes); } catch { return null; }
    }
    this.lossy = !isUtf8(bytes);
    return lenientDecoder.decode(bytes);
  }

  /** Cell j of `row` (doubled quotes unescaped), or null (see decode). */
  cell(row: RowView, j: number): string | null {
    const text = this.decode(row.buf, row.starts[j]!, row.ends[j]!);
    return text !== null && row.escaped[j] === 1 ? text.replaceAll('""', '"') : text;
  }
}

/** A row with the wrong number of fields; the column is the first missing or extra field. */
export function fieldCountError(file: string, header: readonly string[], row: RowView): InputError {
  const width = header.length;
  const j = row.count < width ? row.count : width;
  const name = row.count < width ? ` (column ${header[j]})` : '';
  return new InputError(`${file}:${row.line}:${j + 1}${name}: expected ${width} fields, got ${row.count}`, file, row.line, row.count < width ? header[j] : undefined);
}

/**
 * The time cell: ISO-8601 (see parseIso in core/time.ts) or epoch digits → the table unit. A
 * time finer than the unit is an error (never floored without a word); one outside the
 * unit's int64 range is an error naming the range, never a wrap-around. Rows of many series
 * often share a timestamp, so the last parse is reused for equal bytes.
 */
export class TimeCell {
  private lastBytes = new Uint8Array(64);
  private lastLength = -1;
  private last = 0n;
  private readonly divisor: bigint;
  readonly expected: string;

  constructor(private readonly format: TimeFormat, private readonly unit: TimeUnit, private readonly file: string, private readonly header: readonly string[]) {
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
    let t: bigint;
    if (this.format === 'iso') {
      const r = parseIsoBytes(buf, s, e);
      if (r === null) throw cellError(this.file, this.header, row, j, this.expected);
      t = r;
    } else {
      const r = parseEpochBytes(buf, s, e, this.format);
      if (r === null) throw cellError(this.file, this.header, row, j, this.expected);
      t = r;
    }
    if (t % this.divisor !== 0n) throw cellError(this.file, this.header, row, j, `a time in whole ${this.unit} (the table's time unit: finer digits would be dropped; import into a table of a finer --time-unit, or round them)`);
    t = floorDiv(t, this.divisor);
    if (!inTimeRange(t)) throw cellError(this.file, this.header, row, j, `a time within ${timeRangeText(this.unit)} (the table's unit)`);
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


/** Hash keys are masked to 30 bits so Map keys stay small integers (no allocation per lookup). */
export const SMI_MASK = 0x3fffffff;

/** Slots of a fresh interner's open-addressing table (a power of two; doubled at half load). */
const INTERNER_SLOTS_INITIAL = 64;

/** The code of a null tag cell (an unquoted empty CSV field): a null slot of the dictionary column. */
export const NULL_TAG = -1;
/** What TagInterner returns for bytes that are not UTF-8 under the 'error' policy. */
export const INVALID_TAG = -2;

/**
 * Tag values interned by their bytes: no string is made for a value already seen, which is
 * nearly every cell of a tag column. An open-addressing table of typed arrays (FNV-1a hash,
 * linear probing, then a byte compare against one store of every distinct byte string)
 * keeps the per-cell path free of Maps and objects. Codes index `values` and restart at
 * every reset() (one dictionary per batch).
 *
 * With a CellText, new values are decoded under its invalid-UTF-8 policy (INVALID_TAG for
 * bytes that are not UTF-8 under 'error'; under 'replace', `lossy(code)` tells which values
 * were replaced); without one, invalid bytes become U+FFFD.
 */
export class TagInterner {
  values: string[] = [];
  /** Under 'replace': 1 for codes whose text had invalid bytes replaced. */
  private lossyCodes: Uint8Array | undefined;
  private readonly byText = new Map<string, number>();
  /** Entry index + 1 per slot (0 = empty), and the slot's full hash. */
  private slots = new Int32Array(INTERNER_SLOTS_INITIAL);
  private slotHashes = new Int32Array(INTERNER_SLOTS_INITIAL);
  /** Per entry: its bytes in `store`, and its code. */
  private entryStart = new Int32Array(16);
  private entryLength = new Int32Array(16);
  private entryCode = new Int32Array(16);
  private entries = 0;
  private store = new Uint8Array(1024);
  private storeView = new DataView(this.store.buffer);
  private stored = 0;
  private viewOf: Uint8Array | undefined;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  constructor(private readonly cells?: CellText) {}

  text(text: string): number {
    let code = this.byText.get(text);
    if (code === undefined) {
      code = this.values.length;
      this.byText.set(text, code);
      this.values.push(text);
    }
    return code;
  }

  /**
   * The code of CSV cell j: NULL_TAG for an unquoted empty field (a quoted one, `""`, is
   * the empty string), INVALID_TAG for bytes that are not UTF-8 under the 'error' policy.
   */
  cell(row: RowView, j: number): number {
    const escaped = row.escaped[j]!;
    if (escaped === 1) {
      if (!this.cells) return this.text(fieldText(row, j));
      const text = this.cells.cell(row, j);
      return text === null ? INVALID_TAG : this.noteLossy(this.text(text));
    }
    const s = row.starts[j]!, e = row.ends[j]!;
    if (s === e && escaped === 0) return NULL_TAG;
    return this.bytes(row.buf, s, e);
  }

  /** Whether the value of `code` had invalid bytes replaced (under 'replace'). */
  lossy(code: number): boolean {
    return this.lossyCodes !== undefined && code >= 0 && this.lossyCodes[code] === 1;
  }

  private noteLossy(code: number): number {
    if (this.cells!.lossy) {
      if (!this.lossyCodes || this.lossyCodes.length <= code) {
        const grown = new Uint8Array(Math.max(64, (code + 1) * 2));
        if (this.lossyCodes) grown.set(this.lossyCodes);
        this.lossyCodes = grown;
      }
      this.lossyCodes[code] = 1;
    }
    return code;
  }

  /**
   * The code of the UTF-8 text buf[s, e). Hashed and compared four bytes at a time (through
   * DataViews kept per buffer), with a final mix so the low bits that pick a slot depend on
   * every byte.
   */
  bytes(buf: Uint8Array, s: number, e: number): number {
    if (buf !== this.viewOf) { this.viewOf = buf; this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength); }
    const view = this.view;
    const length = e - s;
    let h = 0x811c9dc5 ^ length;
    let i = s;
    for (; i + 4 <= e; i += 4) { h = Math.imul(h ^ view.getUint32(i, true), 0x9e3779b1); h ^= h >>> 15; }
    for (; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13;
    const slots = this.slots;
    const mask = slots.length - 1;
    let k = h & mask;
    for (;;) {
      const entry = slots[k]! - 1;
      if (entry < 0) break;
      if (this.slotHashes[k] === h && this.entryLength[entry] === length) {
        const stored = this.storeView;
        const at = this.entryStart[entry]!;
        let j = 0;
        for (; j + 4 <= length; j += 4) if (stored.getUint32(at + j, true) !== view.getUint32(s + j, true)) break;
        if (j + 4 > length) {
          const store = this.store;
          while (j < length && store[at + j] === buf[s + j]) j++;
          if (j === length) return this.entryCode[entry]!;
        }
      }
      k = (k + 1) & mask;
    }
    let code: number;
    if (this.cells) {
      const text = this.cells.decode(buf, s, e);
      if (text === null) return INVALID_TAG;
      code = this.noteLossy(this.text(text));
    } else code = this.text(lenientDecoder.decode(buf.subarray(s, e)));
    this.insert(k, h, buf, s, e, code);
    return code;
  }

  private insert(slot: number, h: number, buf: Uint8Array, s: number, e: number, code: number): void {
    const length = e - s;
    if (this.stored + length > this.store.length) {
      const next = new Uint8Array(Math.max(this.store.length * 2, this.stored + length));
      next.set(this.store.subarray(0, this.stored));
      this.store = next;
      this.storeView = new DataView(next.buffer);
    }
    this.store.set(buf.subarray(s, e), this.stored);
    const entry = this.entries++;
    if (entry >= this.entryStart.length) {
      const grow = (a: Int32Array) => { const b = new Int32Array(a.length * 2); b.set(a); return b; };
      this.entryStart = grow(this.entryStart);
      this.entryLength = grow(this.entryLength);
      this.entryCode = grow(this.entryCode);
    }
    this.entryStart[entry] = this.stored;
    this.entryLength[entry] = length;
    this.entryCode[entry] = code;
    this.stored += length;
    this.slots[slot] = entry + 1;
    this.slotHashes[slot] = h;
    if (this.entries * 2 > this.slots.length) this.rehash(this.slots.length * 2);
  }

  private rehash(size: number): void {
    const slots = new Int32Array(size);
    const hashes = new Int32Array(size);
    const mask = size - 1;
    for (let k = 0; k < this.slots.length; k++) {
      const entry = this.slots[k]!;
      if (entry === 0) continue;
      const h = this.slotHashes[k]!;
      let at = h & mask;
      while (slots[at] !== 0) at = (at + 1) & mask;
      slots[at] = entry;
      hashes[at] = h;
    }
    this.slots = slots;
    this.slotHashes = hashes;
  }

  reset(): void {
    this.values = [];
    this.byText.clear();
    this.lossyCodes?.fill(0);
    if (this.slots.length > INTERNER_SLOTS_INITIAL) {
      this.slots = new Int32Array(INTERNER_SLOTS_INITIAL);
      this.slotHashes = new Int32Array(INTERNER_SLOTS_INITIAL);
    } else this.slots.fill(0);
    this.entries = 0;
    this.stored = 0;
  }
}
