/**
 * Per-cell converters shared by the wide and long CSV builders: the time cell (parsed
 * from bytes, cached across equal neighbours, converted to the table unit) and tag
 * interning (bytes → dictionary code without a string per cell).
 */
import { InputError } from '../../errors.js';
import type { TimeUnit } from '../../format/types.js';
import { utf8Decoder } from '../../format/utf8.js';
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

const decoder = utf8Decoder;

/** Hash keys are masked to 30 bits so Map keys stay small integers (no allocation per lookup). */
export const SMI_MASK = 0x3fffffff;

/** Slots of a fresh interner's open-addressing table (a power of two; doubled at half load). */
const INTERNER_SLOTS_INITIAL = 64;

/**
 * Tag values interned by their bytes: no string is made for a value already seen, which is
 * nearly every cell of a tag column. An open-addressing table of typed arrays (FNV-1a hash,
 * linear probing, then a byte compare against one store of every distinct byte string)
 * keeps the per-cell path free of Maps and objects. Codes index `values` and restart at
 * every reset() (one dictionary per batch).
 */
export class TagInterner {
  values: string[] = [];
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
    const code = this.text(decoder.decode(buf.subarray(s, e)));
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
    if (this.slots.length > INTERNER_SLOTS_INITIAL) {
      this.slots = new Int32Array(INTERNER_SLOTS_INITIAL);
      this.slotHashes = new Int32Array(INTERNER_SLOTS_INITIAL);
    } else this.slots.fill(0);
    this.entries = 0;
    this.stored = 0;
  }
}
