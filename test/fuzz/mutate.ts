/**
 * Byte-level mutations for the fuzzer. Every mutation is a pure function of the input and a
 * seeded PRNG, so a case is reproduced by its seed alone. Each returns the mutated bytes, a
 * one-line description (printed with a failing case) and the first offset it changed (the
 * oracles use it: bytes before it are the original's).
 */
export type Random = () => number;

export interface Mutation {
  bytes: Uint8Array;
  /** e.g. "flip bit 3 at 812; truncate at 400". */
  description: string;
  /** Lowest offset whose byte differs from the input (input length when nothing changed). */
  firstTouched: number;
}

/** A mutation operator: input bytes → output bytes and what it did. */
type Operator = (bytes: Uint8Array, random: Random) => { bytes: Uint8Array; what: string; at: number };

const int = (random: Random, n: number): number => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)]!;

/** An offset in [0, n); biased towards both ends, where headers and trailers live. */
function offset(random: Random, n: number): number {
  if (n === 0) return 0;
  const r = random();
  if (r < 0.15) return int(random, Math.min(n, 32));
  if (r < 0.3) return Math.max(0, n - 1 - int(random, Math.min(n, 32)));
  return int(random, n);
}

function randomBytes(random: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = int(random, 256);
  return out;
}

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

/** Values that break parsers: zero, all ones, sign bits, one past a byte/short/int. */
const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff];
const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** Writes a 32-bit value (little or big endian) at `at`, clipped to the buffer. */
function put32(out: Uint8Array, at: number, value: number, littleEndian: boolean): void {
  for (let k = 0; k < 4 && at + k < out.length; k++) {
    const shift = littleEndian ? 8 * k : 8 * (3 - k);
    out[at + k] = (value >>> shift) & 0xff;
  }
}

const OPERATORS: readonly [string, number, Operator][] = [
  ['bit flips', 6, (bytes, random) => {
    const out = bytes.slice();
    const n = 1 + int(random, 4);
    const at: number[] = [];
    for (let k = 0; k < n && out.length > 0; k++) {
      const o = offset(random, out.length);
      const bit = int(random, 8);
      out[o]! ^= 1 << bit;
      at.push(o);
    }
    return { bytes: out, what: `flip ${n} bit(s) at ${at.join(',')}`, at: Math.min(...at, bytes.length) };
  }],
  ['random byte', 4, (bytes, random) => {
    const out = bytes.slice();
    const o = offset(random, out.length);
    if (out.length > 0) out[o] = int(random, 256);
    return { bytes: out, what: `byte ${o} := ${out[o]}`, at: o };
  }],
  ['interesting byte', 3, (bytes, random) => {
    const out = bytes.slice();
    const o = offset(random, out.length);
    const v = pick(random, INTERESTING_8);
    if (out.length > 0) out[o] = v;
    return { bytes: out, what: `byte ${o} := 0x${v.toString(16)}`, at: o };
  }],
  ['interesting u32', 3, (bytes, random) => {
    const out = bytes.slice();
    const o = offset(random, out.length);
    const v = pick(random, INTERESTING_32);
    const le = random() < 0.7;
    put32(out, o, v, le);
    return { bytes: out, what: `u32${le ? 'le' : 'be'} at ${o} := 0x${v.toString(16)}`, at: o };
  }],
  // A 4-byte aligned little-endian value that looks like a length or offset (non-zero and
  // below the file size) becomes huge, negative (as i32), zero, or one past the end.
  ['length field', 5, (bytes, random) => {
    const out = bytes.slice();
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const candidates: number[] = [];
    for (let o = 0; o + 4 <= out.length; o += 4) {
      const v = view.getUint32(o, true);
      if (v > 0 && v <= out.length) candidates.push(o);
    }
    if (candidates.length === 0) return { bytes: out, what: 'no length-like field', at: bytes.length };
    const o = pick(random, candidates);
    const old = view.getUint32(o, true);
    const v = pick(random, [0xffffffff, 0x7fffffff, 0x80000000, 0xfffffff0, 0, old + 1, old - 1, out.length + 1, old * 2, 0x10000000]) >>> 0;
    view.setUint32(o, v, true);
    return { bytes: out, what: `length-like u32le at ${o}: ${old} := ${v | 0}`, at: o };
  }],
  ['truncate', 4, (bytes, random) => {
    const o = offset(random, bytes.length);
    return { bytes: bytes.slice(0, o), what: `truncate at ${o} of ${bytes.length}`, at: o };
  }],
  ['insert random', 3, (bytes, random) => {
    const o = offset(random, bytes.length + 1);
    const n = 1 + int(random, 16);
    return { bytes: splice(bytes, o, 0, randomBytes(random, n)), what: `insert ${n} random byte(s) at ${o}`, at: o };
  }],
  ['delete range', 3, (bytes, random) => {
    const o = offset(random, bytes.length);
    const n = Math.min(bytes.length - o, 1 + int(random, 64));
    return { bytes: splice(bytes, o, n, new Uint8Array(0)), what: `delete ${n} byte(s) at ${o}`, at: o };
  }],
  ['duplicate region', 3, (bytes, random) => {
    const from = offset(random, bytes.length);
    const n = Math.min(bytes.length - from, 1 + int(random, 256));
    const to = offset(random, bytes.length + 1);
    return { bytes: splice(bytes, to, 0, bytes.slice(from, from + n)), what: `duplicate ${n} byte(s) from ${from} at ${to}`, at: to };
  }],
  ['overwrite with region', 2, (bytes, random) => {
    const out = bytes.slice();
    const from = offset(random, bytes.length);
    const n = Math.min(bytes.length - from, 1 + int(random, 64));
    const to = offset(random, bytes.length);
    out.set(bytes.subarray(from, from + Math.min(n, bytes.length - to)), to);
    return { bytes: out, what: `copy ${n} byte(s) from ${from} over ${to}`, at: to };
  }],
  ['fill', 2, (bytes, random) => {
    const out = bytes.slice();
    const o = offset(random, out.length);
    const n = Math.min(out.length - o, 1 + int(random, 64));
    const v = pick(random, [0x00, 0xff]);
    out.fill(v, o, o + n);
    return { bytes: out, what: `fill ${n} byte(s) at ${o} with 0x${v.toString(16)}`, at: o };
  }],
  ['random file', 1, (bytes, random) => {
    // Sometimes keep the first bytes (the magic), so the reader gets past its first check.
    const keep = random() < 0.5 ? Math.min(bytes.length, 8) : 0;
    const n = int(random, Math.max(16, bytes.length * 2));
    const out = new Uint8Array(keep + n);
    out.set(bytes.subarray(0, keep));
    out.set(randomBytes(random, n), keep);
    return { bytes: out, what: `random file of ${out.length} bytes (first ${keep} kept)`, at: keep };
  }],
];

const TOTAL_WEIGHT = OPERATORS.reduce((s, [, w]) => s + w, 0);

/** One to three stacked operators, picked by weight. */
export function mutate(input: Uint8Array, random: Random, extra: readonly [string, number, Operator][] = []): Mutation {
  const ops = [...OPERATORS, ...extra];
  const total = TOTAL_WEIGHT + extra.reduce((s, [, w]) => s + w, 0);
  let bytes = input;
  const what: string[] = [];
  const count = 1 + (random() < 0.3 ? 1 + int(random, 2) : 0);
  for (let k = 0; k < count; k++) {
    let r = random() * total;
    let op = ops[0]!;
    for (const o of ops) { if ((r -= o[1]) < 0) { op = o; break; } }
    const result = op[2](bytes, random);
    bytes = result.bytes;
    what.push(result.what);
  }
  return { bytes, description: what.join('; '), firstTouched: firstDifference(input, bytes) };
}

export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? a.length : n;
}

// Text formats (CSV, JSON): edits at token level reach past the first syntax check.
const TEXT_SNIPPETS = [
  '"', ',', '\n', '\r\n', '\r', ';', '\t', '""', '\\', '\u0000', '-', '+', '.', 'e', 'E', ' ', '1e309', '-1e309', 'NaN', 'Infinity',
  '-0', '9223372036854775808', '-9223372036854775809', '18446744073709551616', '1e-400', '0x10', 'null', 'true', '{}', '[]',
  '__proto__', 'constructor', 'toString', '2026-13-45T25:61:61Z', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z',
  '\u00e9', '\ud83d\ude00', '\ufeff', '\u2028',
];
const INVALID_UTF8 = [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]];

export const TEXT_OPERATORS: readonly [string, number, Operator][] = [
  ['text snippet', 6, (bytes, random) => {
    const o = offset(random, bytes.length + 1);
    const s = pick(random, TEXT_SNIPPETS);
    const replace = random() < 0.5 ? Math.min(bytes.length - o, int(random, 4)) : 0;
    return { bytes: splice(bytes, o, replace, new TextEncoder().encode(s)), what: `${replace ? `replace ${replace} byte(s)` : 'insert'} ${JSON.stringify(s)} at ${o}`, at: o };
  }],
  ['invalid utf-8', 2, (bytes, random) => {
    const o = offset(random, bytes.length + 1);
    const b = pick(random, INVALID_UTF8);
    return { bytes: splice(bytes, o, 0, Uint8Array.from(b)), what: `insert invalid UTF-8 ${b.map((x) => x.toString(16)).join(' ')} at ${o}`, at: o };
  }],
  ['number', 4, (bytes, random) => {
    // A run of digits becomes an extreme or malformed number.
    const text = new TextDecoder('latin1').decode(bytes);
    const runs = [...text.matchAll(/\d+/g)];
    if (runs.length === 0) return { bytes, what: 'no number', at: bytes.length };
    const run = pick(random, runs);
    const s = pick(random, ['0', '-1', '4294967295', '4294967296', '2147483648', '-2147483649', '9007199254740993', '99999999999999999999999', '1e400', '-0', '1.5', '']);
    return { bytes: splice(bytes, run.index!, run[0].length, new TextEncoder().encode(s)), what: `number ${run[0]} at ${run.index} := ${JSON.stringify(s)}`, at: run.index! };
  }],
  ['duplicate line', 2, (bytes, random) => {
    const starts = [0];
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) starts.push(i + 1);
    const k = int(random, starts.length);
    const from = starts[k]!;
    const to = starts[k + 1] ?? bytes.length;
    const at = pick(random, starts);
    return { bytes: splice(bytes, at, 0, bytes.slice(from, to)), what: `duplicate line ${k} (bytes ${from}-${to}) at ${at}`, at };
  }],
];
