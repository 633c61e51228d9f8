/**
 * One line of InfluxDB line protocol → a point, exactly or with the reason it is refused:
 *
 *   measurement[,tag=value…] field=value[,field=value…] [timestamp]
 *
 * Escapes (InfluxDB's rules): in the measurement `\,` and `\ `; in tag keys, tag values and
 * field keys `\,`, `\=` and `\ `; `\\` is one backslash everywhere; any other backslash is
 * kept as written. String field values are double-quoted with `\"` and `\\` (other escapes
 * kept as written) and may hold commas, spaces, equals signs and newlines. Field values:
 * floats (`1`, `-1.5`, `1e-3`: parsed to the nearest double, so the shortest text of a double
 * round-trips), integers `12i` (int64), unsigned `12u` (uint64), strings, booleans
 * (t T true True TRUE f F false False FALSE). The timestamp is an integer at the request's
 * precision, converted to nanoseconds exactly (int64 range checked); without one the point
 * takes the request's time. Blank lines and lines starting with `#` are skipped.
 */
import { INT64_MAX, INT64_MIN } from '../core/time.js';
import type { IngestPoint, PointField, PointFieldType } from './points.js';

const UINT64_MAX = 2n ** 64n - 1n;

/** Nanoseconds per unit of each accepted precision name, per API version. */
export const PRECISIONS = {
  v1: { n: 1n, ns: 1n, u: 1_000n, us: 1_000n, µ: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n },
  v2: { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n },
  v3: { auto: 0n, nanosecond: 1n, microsecond: 1_000n, millisecond: 1_000_000n, second: 1_000_000_000n, ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n },
} as const;

/** `auto` (v3): the unit guessed from the magnitude, as InfluxDB 3 does. */
export function autoUnit(value: bigint): bigint {
  const a = value < 0n ? -value : value;
  if (a < 5_000_000_000n) return 1_000_000_000n;
  if (a < 5_000_000_000_000n) return 1_000_000n;
  if (a < 5_000_000_000_000_000n) return 1_000n;
  return 1n;
}

export interface LineOptions {
  /** Nanoseconds per timestamp unit; 0n: auto. */
  unitNs: bigint;
  /** The time of points without a timestamp (epoch ns). */
  now: bigint;
}

export class LineError extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
  }
}

const COMMA = 44, SPACE = 32, TAB = 9, EQUALS = 61, BACKSLASH = 92;
/** What a backslash escapes: in measurements `, `, in keys and tag values `,= `; `\\` everywhere. */
const MEASUREMENT_ESCAPES = ', \\';
const KEY_ESCAPES = ',= \\';

/**
 * Reads an escaped name up to an unescaped comma, space or tab (and `=` unless it is a
 * measurement); returns the name and where it stopped. `escapes`: characters a backslash
 * escapes (a backslash before others is kept).
 */
function readName(text: string, at: number, measurement: boolean, escapes: string): [string, number] {
  let out = '';
  let from = at;
  let i = at;
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH && i + 1 < n && escapes.includes(text[i + 1]!)) {
      out += text.slice(from, i);
      from = i + 1;
      i++;
      continue;
    }
    if (c === COMMA || c === SPACE || c === TAB || (c === EQUALS && !measurement)) break;
  }
  return [from === at ? text.slice(at, i) : out + text.slice(from, i), i];
}

/** Where the last readFieldKey() stopped. */
let keyEnd = 0;

/** A field key at `at` (readName's rules for keys) without a tuple per call: its end is in keyEnd. */
function readFieldKey(text: string, at: number): string {
  const n = text.length;
  for (let i = at; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) break; // escapes: the general reader
    if (c === COMMA || c === SPACE || c === TAB || c === EQUALS) { keyEnd = i; return text.slice(at, i); }
  }
  const [name, end] = readName(text, at, false, KEY_ESCAPES);
  keyEnd = end;
  return name;
}

const BOOLS: ReadonlyMap<string, boolean> = new Map([
  ['t', true], ['T', true], ['true', true], ['True', true], ['TRUE', true],
  ['f', false], ['F', false], ['false', false], ['False', false], ['FALSE', false],
]);
const FLOAT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^-?\d+$/;

/** Parses an unquoted field value and hands it to `sink` (no object per value). */
function fieldValue(name: string, raw: string, column: number, sink: LineSink): void {
  const last = raw.charCodeAt(raw.length - 1);
  // Ending in a digit or a point: a float or nothing (the other kinds end in i, u or a letter).
  if (((last >= 48 && last <= 57) || last === 46) && FLOAT.test(raw)) {
    const v = Number(raw);
    if (!Number.isFinite(v)) throw new LineError(`field ${JSON.stringify(name)}: float ${raw} is out of the float64 range`, column);
    sink.field(name, 'float64', v);
    return;
  }
  if (last === 105 /* i */ && INTEGER.test(raw.slice(0, -1))) {
    const v = BigInt(raw.slice(0, -1));
    if (v < INT64_MIN || v > INT64_MAX) throw new LineError(`field ${JSON.stringify(name)}: integer ${raw} is out of the int64 range`, column);
    sink.field(name, 'int64', v);
    return;
  }
  if (last === 117 /* u */ && /^\d+$/.test(raw.slice(0, -1))) {
    const v = BigInt(raw.slice(0, -1));
    if (v > UINT64_MAX) throw new LineError(`field ${JSON.stringify(name)}: unsigned integer ${raw} is out of the uint64 range`, column);
    sink.field(name, 'uint64', v);
    return;
  }
  const b = BOOLS.get(raw);
  if (b !== undefined) { sink.field(name, 'bool', b); return; }
  if (FLOAT.test(raw)) {
    const v = Number(raw);
    if (!Number.isFinite(v)) throw new LineError(`field ${JSON.stringify(name)}: float ${raw} is out of the float64 range`, column);
    sink.field(name, 'float64', v);
    return;
  }
  if (raw === '') throw new LineError(`field ${JSON.stringify(name)} has no value`, column);
  if (/^-?\d+u$/.test(raw)) throw new LineError(`field ${JSON.stringify(name)}: unsigned integer ${raw} is negative`, column);
  throw new LineError(`field ${JSON.stringify(name)}: invalid value ${JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw)} (expected a float, an integer like 1i, an unsigned like 1u, a "string" or a boolean)`, column);
}

/** A quoted string value starting at the quote at `at`: its text and the index after the closing quote. */
function readString(text: string, at: number, name: string): [string, number] {
  let out = '';
  let from = at + 1;
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
      out += text.slice(from, i);
      from = i + 1;
      i++;
      continue;
    }
    if (c === '"') return [out + text.slice(from, i), i + 1];
  }
  throw new LineError(`field ${JSON.stringify(name)}: string value has no closing quote`, at);
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** A series: the measurement and its tags (keys unique), as a line names them. */
export interface LineSeries {
  readonly measurement: string;
  readonly tags: readonly (readonly [string, string])[];
}

/**
 * Receives a parsed line: its series, each field as it is read, then its time. A line refused
 * part way (LineError) has had series() and some field() calls: the sink drops them on the
 * next series() (nothing is kept until end()).
 */
export interface LineSink {
  series(series: LineSeries): void;
  field(name: string, type: PointFieldType, value: number | bigint | string | boolean): void;
  end(time: bigint, lineNumber: number): void;
}

/**
 * Where the series part of a line (measurement and tags) starting at `at` ends: its first
 * unescaped space or tab (-1: none). A backslash escapes the character after it here (in the
 * series part `\ ` and `\\` are escapes, and no other escaped character ends it).
 */
function seriesEnd(text: string, at: number): number {
  for (let i = at; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) { i++; continue; }
    if (c === SPACE || c === TAB) return i;
  }
  return -1;
}

/** Series already parsed, by their text (lines of one series repeat it): bounded. */
export class SeriesCache {
  private readonly known = new Map<string, LineSeries>();
  constructor(private readonly max = 10_000) {}
  get(text: string): LineSeries | undefined { return this.known.get(text); }
  set(text: string, series: LineSeries): void {
    if (this.known.size >= this.max) this.known.clear();
    this.known.set(text, series);
  }
}

/** The measurement and tags starting at `i`: the series and where it stopped. */
export function readSeries(text: string, i: number): [LineSeries, number] {
  const [measurement, afterMeasurement] = readName(text, i, true, MEASUREMENT_ESCAPES);
  if (measurement === '') throw new LineError('missing measurement', i);
  i = afterMeasurement;
  const tags: [string, string][] = [];
  while (text[i] === ',') {
    const [key, k] = readName(text, i + 1, false, KEY_ESCAPES);
    if (key === '') throw new LineError('missing tag key', i + 1);
    if (text[k] !== '=') throw new LineError(`tag ${JSON.stringify(key)} has no "=value"`, k);
    const [value, v] = readName(text, k + 1, false, KEY_ESCAPES);
    if (value === '') throw new LineError(`tag ${JSON.stringify(key)} has an empty value`, k + 1);
    if (text[v] === '=') throw new LineError(`tag ${JSON.stringify(key)}: unescaped "=" in its value`, v);
    if (tags.some(([t]) => t === key)) throw new LineError(`tag ${JSON.stringify(key)} appears twice`, i + 1);
    tags.push([key, value]);
    i = v;
  }
  return [{ measurement, tags }, i];
}

/** Field names of the line being parsed (duplicates are refused); reused from line to line. */
const lineFields: string[] = [];

/**
 * Parses one line into `sink`: false for a blank or comment line, true once sink.end() has
 * taken it; LineError when it is refused. `cache`: series met before (their text is parsed once).
 */
export function parseLineInto(text: string, lineNumber: number, options: LineOptions, sink: LineSink, cache?: SeriesCache): boolean {
  let i = 0;
  while (isSpace(text[i])) i++;
  if (i === text.length || text[i] === '#') return false;
  const stop = cache ? seriesEnd(text, i) : -1;
  const key = stop > i ? text.slice(i, stop) : undefined;
  let series = key === undefined ? undefined : cache!.get(key);
  if (series) i = stop;
  else {
    [series, i] = readSeries(text, i);
    if (key !== undefined && i === stop) cache!.set(key, series);
  }
  sink.series(series);
  if (!isSpace(text[i])) throw new LineError(i >= text.length ? 'missing fields' : `unexpected ${JSON.stringify(text[i])} after the measurement and tags`, i);
  while (isSpace(text[i])) i++;
  lineFields.length = 0;
  for (;;) {
    const start = i;
    const name = readFieldKey(text, i);
    const k = keyEnd;
    if (name === '') throw new LineError(lineFields.length === 0 && i >= text.length ? 'missing fields' : 'missing field key', i);
    if (text.charCodeAt(k) !== EQUALS) throw new LineError(`field ${JSON.stringify(name)} has no "=value"`, k);
    const twice = lineFields.includes(name);
    if (text[k + 1] === '"') {
      const [value, end] = readString(text, k + 1, name);
      if (twice) throw new LineError(`field ${JSON.stringify(name)} appears twice`, start);
      sink.field(name, 'utf8', value);
      i = end;
    } else {
      let end = k + 1;
      for (let c = text.charCodeAt(end); end < text.length && c !== COMMA && c !== SPACE && c !== TAB; c = text.charCodeAt(++end));
      const raw = text.slice(k + 1, end);
      if (twice) { fieldValue(name, raw, k + 1, DISCARD); throw new LineError(`field ${JSON.stringify(name)} appears twice`, start); }
      fieldValue(name, raw, k + 1, sink);
      i = end;
    }
    lineFields.push(name);
    if (text[i] === ',') { i++; continue; }
    if (i < text.length && !isSpace(text[i])) throw new LineError(`unexpected ${JSON.stringify(text[i])} after field ${JSON.stringify(name)}`, i);
    break;
  }
  while (isSpace(text[i])) i++;
  let time = options.now;
  if (i < text.length) {
    let end = i;
    while (end < text.length && !isSpace(text[end])) end++;
    const raw = text.slice(i, end);
    if (!INTEGER.test(raw)) throw new LineError(`invalid timestamp ${JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw)} (expected an integer)`, i);
    const value = BigInt(raw);
    const unit = options.unitNs === 0n ? autoUnit(value) : options.unitNs;
    time = unit === 1n ? value : value * unit;
    if (time < INT64_MIN || time > INT64_MAX) throw new LineError(`timestamp ${raw} is out of range: ×${unit} ns is beyond int64 nanoseconds (1677-09-21 to 2262-04-11)`, i);
    let rest = end;
    while (isSpace(text[rest])) rest++;
    if (rest < text.length) throw new LineError(`unexpected text after the timestamp: ${JSON.stringify(text.slice(rest, rest + 32))}`, rest);
  }
  sink.end(time, lineNumber);
  return true;
}

/** A sink that keeps nothing (a duplicate field's value is still checked first, as before). */
const DISCARD: LineSink = { series() {}, field() {}, end() {} };

/** The point of one line; null for a blank or comment line; LineError when it is refused. */
export function parseLine(text: string, lineNumber: number, options: LineOptions): IngestPoint | null {
  let series: LineSeries | undefined;
  const fields: PointField[] = [];
  let point: IngestPoint | null = null;
  parseLineInto(text, lineNumber, options, {
    series(s) { series = s; },
    field(name, type, value) { fields.push({ name, type, value }); },
    end(time, line) { point = { measurement: series!.measurement, tags: series!.tags, fields, time, line }; },
  });
  return point;
}
