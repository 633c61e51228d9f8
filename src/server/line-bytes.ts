/**
 * Line protocol parsed straight from the request body's bytes (no JavaScript string per line):
 * the series part and field keys are looked up by their bytes (decoded once, the first time
 * they are met), numbers are read from their digits, and a string is made only for string
 * field values. This is a fast path for valid lines in the common shapes; every line it does
 * not take (any error, escapes in field keys or string values, a float whose digits need more
 * than a double's exact range, out-of-range numbers…) goes to the string parser
 * (line-protocol.ts), which decides it: the rows and errors are the string parser's, always.
 * Nothing reaches the sink until the whole line is read, so a line handed over leaves nothing.
 */
import { INT64_MAX, INT64_MIN } from '../core/time.js';
import { autoUnit, parseLineInto, readSeries, SeriesCache, LineError, type LineOptions, type LineSeries, type LineSink } from './line-protocol.js';
import type { PointFieldType } from './points.js';

const COMMA = 44, SPACE = 32, TAB = 9, EQUALS = 61, BACKSLASH = 92, QUOTE = 34, HASH = 35, MINUS = 45, DOT = 46;
const D0 = 48, D9 = 57, LOWER_E = 101, UPPER_E = 69, PLUS = 43, LOWER_I = 105, LOWER_U = 117;
const UINT64_MAX = 2n ** 64n - 1n;

/** 10^0 … 10^22: every one an exact double (Clinger's fast path). */
const POW10 = Array.from({ length: 23 }, (_, e) => Number(`1e${e}`));
/** Significant digits a double holds exactly as an integer (below 2^53) whatever they are. */
const EXACT_DIGITS = 15;

/** Values of byte strings (series parts, field keys), found by their bytes: bounded. */
class BytesCache<T> {
  private readonly known = new Map<number, { bytes: Uint8Array; value: T }[]>();
  private size = 0;
  constructor(private readonly max: number) {}

  get(buf: Uint8Array, start: number, end: number, hash: number): T | undefined {
    const list = this.known.get(hash);
    if (!list) return undefined;
    const n = end - start;
    outer: for (const e of list) {
      const b = e.bytes;
      if (b.length !== n) continue;
      for (let k = 0; k < n; k++) if (b[k] !== buf[start + k]) continue outer;
      return e.value;
    }
    return undefined;
  }

  set(buf: Uint8Array, start: number, end: number, hash: number, value: T): void {
    if (this.size >= this.max) { this.known.clear(); this.size = 0; }
    // A copy: Buffer's slice() is a view, which would keep the whole body chunk alive (and read
    // whatever a reused buffer holds later).
    const entry = { bytes: Uint8Array.prototype.slice.call(buf, start, end), value };
    const list = this.known.get(hash);
    if (list) list.push(entry);
    else this.known.set(hash, [entry]);
    this.size++;
  }
}

/** FNV-1a step. */
function mix(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 16777619);
}
const FNV = 2166136261;

function isDigit(c: number): boolean {
  return c >= D0 && c <= D9;
}

const BOOLEAN_WORDS: readonly (readonly [Buffer, boolean])[] = [
  ...['t', 'T', 'true', 'True', 'TRUE'].map((w) => [Buffer.from(w), true] as const),
  ...['f', 'F', 'false', 'False', 'FALSE'].map((w) => [Buffer.from(w), false] as const),
];

/** Bytes [start, end) spell a boolean of line protocol (the string parser's spellings): 1 true, 0 false, -1 neither. */
function booleanOf(buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n !== 1 && n !== 4 && n !== 5) return -1;
  outer: for (const [word, value] of BOOLEAN_WORDS) {
    if (word.length !== n) continue;
    for (let k = 0; k < n; k++) if (word[k] !== buf[start + k]) continue outer;
    return value ? 1 : 0;
  }
  return -1;
}

/** What the fast path did with a line. */
const TAKEN = 0, BLANK = 1, DEFER = 2;

export class LineBytesParser {
  private readonly seriesCache = new BytesCache<LineSeries>(10_000);
  private readonly keys = new BytesCache<string>(10_000);
  /** The string parser's own series cache (lines it decides). */
  private readonly textCache = new SeriesCache();
  // The line being read: its series and fields (handed to the sink only once it is whole).
  private series?: LineSeries;
  private readonly names: string[] = [];
  private readonly types: PointFieldType[] = [];
  private readonly values: (number | bigint | string | boolean)[] = [];
  private count = 0;
  private time = 0n;
  // The last timestamp read (lines of a batch often share one).
  private lastStamp = new Uint8Array(32);
  private lastStampLength = -1;
  private lastTime = 0n;
  /** Float parsed by the last floatAt(). */
  private float = 0;
  /** Lines handed to the string parser (errors and the shapes this path leaves to it). */
  deferred = 0;

  constructor(private readonly options: LineOptions) {}

  /**
   * Parses the line in bytes [start, end) of `buf` (valid UTF-8) into `sink`: false for a
   * blank or comment line, true once sink.end() has taken it; LineError when refused, with
   * the string parser's message and column.
   */
  parse(buf: Buffer, start: number, end: number, lineNumber: number, sink: LineSink): boolean {
    const how = this.read(buf, start, end);
    if (how === BLANK) return false;
    if (how === DEFER) {
      this.deferred++;
      return parseLineInto(buf.toString('utf8', start, end), lineNumber, this.options, sink, this.textCache);
    }
    sink.series(this.series!);
    for (let k = 0; k < this.count; k++) sink.field(this.names[k]!, this.types[k]!, this.values[k]!);
    sink.end(this.time, lineNumber);
    return true;
  }

  private take(name: string, type: PointFieldType, value: number | bigint | string | boolean): void {
    const k = this.count++;
    this.names[k] = name;
    this.types[k] = type;
    this.values[k] = value;
  }

  /** Reads a line into this.series, the fields and this.time: TAKEN, BLANK, or DEFER to the string parser. */
  private read(buf: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
    if (i === end || buf[i] === HASH) return BLANK;
    // The series part: up to the first unescaped space or tab (a backslash escapes the next byte).
    const seriesStart = i;
    let hash = FNV;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (c === SPACE || c === TAB) break;
      hash = mix(hash, c);
      if (c === BACKSLASH && i + 1 < end) hash = mix(hash, buf[++i]!);
    }
    if (i >= end || i === seriesStart) return DEFER;
    let series = this.seriesCache.get(buf, seriesStart, i, hash);
    if (!series) {
      const text = buf.toString('utf8', seriesStart, i);
      try {
        const [parsed, stop] = readSeries(text, 0);
        if (stop !== text.length) return DEFER;
        series = parsed;
      } catch (error) {
        if (error instanceof LineError) return DEFER;
        throw error;
      }
      this.seriesCache.set(buf, seriesStart, i, hash, series);
    }
    this.series = series;
    while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
    this.count = 0;
    for (;;) {
      // A field key: up to "=" (escapes: the string parser).
      const keyStart = i;
      hash = FNV;
      let c = 0;
      for (; i < end; i++) {
        c = buf[i]!;
        if (c === EQUALS || c === COMMA || c === SPACE || c === TAB || c === BACKSLASH) break;
        hash = mix(hash, c);
      }
      if (i >= end || c !== EQUALS || i === keyStart) return DEFER;
      let name = this.keys.get(buf, keyStart, i, hash);
      if (name === undefined) { name = buf.toString('utf8', keyStart, i); this.keys.set(buf, keyStart, i, hash, name); }
      for (let k = 0; k < this.count; k++) if (this.names[k] === name) return DEFER;
      i++;
      if (buf[i] === QUOTE) {
        // A string without escapes (a backslash in it: the string parser).
        let q = i + 1;
        while (q < end && buf[q] !== QUOTE && buf[q] !== BACKSLASH) q++;
        if (q >= end || buf[q] !== QUOTE) return DEFER;
        this.take(name, 'utf8', buf.toString('utf8', i + 1, q));
        i = q + 1;
      } else {
        const valueStart = i;
        while (i < end && (c = buf[i]!) !== COMMA && c !== SPACE && c !== TAB) i++;
        if (i === valueStart || !this.value(buf, valueStart, i, name)) return DEFER;
      }
      if (i < end && buf[i] === COMMA) { i++; continue; }
      if (i < end && buf[i] !== SPACE && buf[i] !== TAB) return DEFER;
      break;
    }
    while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
    if (i === end) { this.time = this.options.now; return TAKEN; }
    const stampStart = i;
    while (i < end && buf[i] !== SPACE && buf[i] !== TAB) i++;
    const stampEnd = i;
    while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
    if (i !== end) return DEFER;
    return this.stamp(buf, stampStart, stampEnd) ? TAKEN : DEFER;
  }

  /** An unquoted field value in bytes [start, end): taken (true) or left to the string parser. */
  private value(buf: Buffer, start: number, end: number, name: string): boolean {
    const last = buf[end - 1]!;
    if (isDigit(last) || last === DOT) {
      if (!this.floatAt(buf, start, end)) return false;
      this.take(name, 'float64', this.float);
      return true;
    }
    if (last === LOWER_I || last === LOWER_U) {
      const negative = buf[start] === MINUS;
      if (negative && last === LOWER_U) return false;
      const digits = negative ? start + 1 : start;
      const v = integerAt(buf, digits, end - 1, negative);
      if (v === undefined || (last === LOWER_I ? v < INT64_MIN || v > INT64_MAX : v > UINT64_MAX)) return false;
      this.take(name, last === LOWER_I ? 'int64' : 'uint64', v);
      return true;
    }
    const b = booleanOf(buf, start, end);
    if (b < 0) return false;
    this.take(name, 'bool', b === 1);
    return true;
  }

  /**
   * A float as the string parser's grammar has it (`-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`) into
   * this.float: the same double as Number(text) (exact: up to 15 significant digits and a
   * power of ten up to 22, one correctly rounded operation; otherwise Number() of its text).
   * False when it is not one, or out of the float64 range (the string parser says why).
   */
  private floatAt(buf: Buffer, start: number, end: number): boolean {
    let i = start;
    const negative = buf[i] === MINUS;
    if (negative) i++;
    let mantissa = 0;
    let digits = 0;
    let exponent = 0;
    let exact = true;
    let seen = 0;
    let c = 0;
    for (; i < end && isDigit(c = buf[i]!); i++) {
      seen++;
      if (mantissa === 0 && c === D0) continue;
      if (digits < EXACT_DIGITS) { mantissa = mantissa * 10 + (c - D0); digits++; } else exact = false;
    }
    const before = seen;
    if (i < end && c === DOT) {
      for (i++; i < end && isDigit(c = buf[i]!); i++) {
        seen++;
        if (mantissa === 0 && c === D0) { exponent--; continue; }
        if (digits < EXACT_DIGITS) { mantissa = mantissa * 10 + (c - D0); digits++; exponent--; } else exact = false;
      }
      if (before === 0 && seen === 0) return false;
    } else if (before === 0) return false;
    if (i < end && (c === LOWER_E || c === UPPER_E)) {
      i++;
      let sign = 1;
      if (i < end && (buf[i] === PLUS || buf[i] === MINUS)) { if (buf[i] === MINUS) sign = -1; i++; }
      const from = i;
      let e = 0;
      for (; i < end && isDigit(c = buf[i]!); i++) if (e < 1e6) e = e * 10 + (c - D0);
      if (i === from) return false;
      exponent += sign * e;
    }
    if (i !== end) return false;
    let v: number;
    if (mantissa === 0) v = 0;
    else if (exact && exponent >= -22 && exponent <= 22) v = exponent < 0 ? mantissa / POW10[-exponent]! : mantissa * POW10[exponent]!;
    else {
      v = Number(buf.toString('latin1', start, end));
      if (!Number.isFinite(v)) return false;
      this.float = v;
      return true;
    }
    this.float = negative ? -v : v;
    return true;
  }

  /** A timestamp in bytes [start, end) into this.time (false: the string parser decides it). */
  private stamp(buf: Buffer, start: number, end: number): boolean {
    const n = end - start;
    if (n === this.lastStampLength) {
      let same = true;
      for (let k = 0; k < n; k++) if (this.lastStamp[k] !== buf[start + k]) { same = false; break; }
      if (same) { this.time = this.lastTime; return true; }
    }
    const negative = buf[start] === MINUS;
    const value = integerAt(buf, negative ? start + 1 : start, end, negative);
    if (value === undefined) return false;
    const unit = this.options.unitNs === 0n ? autoUnit(value) : this.options.unitNs;
    const time = unit === 1n ? value : value * unit;
    if (time < INT64_MIN || time > INT64_MAX) return false;
    this.time = time;
    if (n <= this.lastStamp.length) {
      this.lastStamp.set(buf.subarray(start, end));
      this.lastStampLength = n;
      this.lastTime = time;
    }
    return true;
  }
}

/**
 * The integer of the decimal digits [start, end) (at least one, nothing else), negated when
 * asked; undefined when not. Each digit is read once: up to 15 digits as one exact number; up
 * to 24 (a nanosecond timestamp has 19) as the digits above the low nine and the low nine,
 * both exact as numbers; longer ones through BigInt of their text.
 */
function integerAt(buf: Buffer, start: number, end: number, negative: boolean): bigint | undefined {
  const n = end - start;
  if (n <= 0) return undefined;
  if (n > EXACT_DIGITS + 9) {
    for (let k = start; k < end; k++) if (!isDigit(buf[k]!)) return undefined;
    const v = BigInt(buf.toString('latin1', start, end));
    return negative ? -v : v;
  }
  const split = n <= EXACT_DIGITS ? end : end - 9;
  let high = 0;
  let k = start;
  for (; k < split; k++) {
    const c = buf[k]!;
    if (!isDigit(c)) return undefined;
    high = high * 10 + (c - D0);
  }
  if (split === end) return BigInt(negative ? -high : high);
  let low = 0;
  for (; k < end; k++) {
    const c = buf[k]!;
    if (!isDigit(c)) return undefined;
    low = low * 10 + (c - D0);
  }
  const v = BigInt(high) * 1_000_000_000n + BigInt(low);
  return negative ? -v : v;
}
