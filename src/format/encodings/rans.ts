import { type ByteReader, type ByteWriter, SAFE_MAGNITUDE_MAX } from './bytes.js';
import { decodeKernels, encodeKernels } from './kernels.js';
import { EncodingError } from './types.js';

/**
 * `rans`: non-negative integers (zigzagged deltas) as an rANS-coded high part plus raw low bits.
 *
 * Why: bitsplit hands byte planes to zstd, whose Huffman stage spends at least one bit per
 * byte and cannot split a bit between symbols; a random walk's zigzagged steps (cpu fields:
 * ~N(0, 100²) in hundredths, 8.7 bits of entropy) cost it ~9.4 bits. Here each value splits
 * into `z >> s` (at most 256 symbols, coded with exact per-page frequencies by a byte-wise
 * rANS coder, so fractional bits are not lost) and `s` low bits stored raw (they are
 * near-uniform once the high part has been taken off). The picker (registry) keeps this only
 * when the page comes out smaller than bitsplit.
 *
 * Layout: u8 s (0..23) · varint symbols with a nonzero frequency · per symbol: varint gap to
 * the previous symbol + 1, varint frequency − 1 (frequencies sum to 4096) · varint rANS
 * bytes · the rANS stream (each lane's initial state: 4 bytes little-endian, lane 0 first,
 * then renormalisation bytes in decode order) · the low bits, `s` per value, least
 * significant first, ⌈n·s/8⌉ bytes.
 *
 * The coder is Fabian Giesen's byte-wise rANS (ryg_rans): 32-bit state kept in [2^23, 2^31),
 * 12-bit probabilities. Decoding ends at the encoder's initial state, a free integrity check.
 * `rans2` (the chains the writer picks) interleaves two states over one byte stream, value i
 * through state i % 2 (Giesen's interleaving): decoding a value is a serial chain of a table
 * load, a multiply and a renormalisation, so two independent chains let the CPU overlap them
 * — the native decoder of a cpu page takes 2.6 ns per value instead of 3.8 (tables and call
 * included) for 4 more bytes a page. `rans` (one state) pages, written before, still decode.
 */
export const RANS_SCALE_BITS = 12;
const M = 1 << RANS_SCALE_BITS;
const RANS_L = 1 << 23;
/** Largest zigzagged value (exclusive) the coder takes: the fused decoders stay in int32 math. */
export const RANS_VALUE_LIMIT = 2 ** 31;
const SYMBOLS_MAX = 256;
/** Every running sum of a delta page stays an exact integer up to 2^53. */
const EXACT_SUM_MAX = 2 ** 53;

function bitLength(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/**
 * Whether delta pages coded from `z` (scaled by `step`, after `first`) decode within
 * decodeDeltaRans's exactness bound: it allows (largest symbol + 1)·2^s − 1 per value, and
 * encodeRans picks s at most 3 above the fewest low bits.
 */
export function ransDeltasFit(z: Float64Array, first: number, step: number): boolean {
  let max = 0;
  for (let i = 0; i < z.length; i++) if (z[i]! > max) max = z[i]!;
  if (!(max < RANS_VALUE_LIMIT) || !(Math.abs(first) < SAFE_MAGNITUDE_MAX)) return false;
  const lowMax = 2 ** (Math.max(0, bitLength(max) - 8) + 3);
  return Math.abs(first) + z.length * step * (max + lowMax) <= EXACT_SUM_MAX;
}

/** Frequencies scaled to sum to M, every present symbol ≥ 1. */
function normalize(counts: Float64Array, n: number): Uint16Array {
  const freq = new Uint16Array(SYMBOLS_MAX);
  let sum = 0;
  let largest = -1;
  for (let s = 0; s < SYMBOLS_MAX; s++) {
    if (counts[s] === 0) continue;
    const f = Math.max(1, Math.round((counts[s]! * M) / n));
    freq[s] = f;
    sum += f;
    if (largest < 0 || counts[s]! > counts[largest]!) largest = s;
  }
  // Fix the total on the most frequent symbols (the rounding error is tiny next to them).
  while (sum !== M) {
    let best = -1;
    for (let s = 0; s < SYMBOLS_MAX; s++) {
      if (freq[s] === 0) continue;
      if (sum > M && freq[s]! <= 1) continue;
      if (best < 0 || freq[s]! > freq[best]!) best = s;
    }
    const step = sum > M ? -Math.min(sum - M, freq[best]! - 1) : M - sum;
    freq[best] = freq[best]! + step;
    sum += step;
  }
  return freq;
}

/** Estimated bits of coding `z` with `s` raw low bits (entropy of the high part + low bits + table). */
function costBits(hist: Float64Array, n: number, s: number): number {
  let bits = n * s;
  for (let h = 0; h < SYMBOLS_MAX; h++) {
    const c = hist[h]!;
    if (c > 0) bits += c * Math.log2(n / c) + 24;
  }
  return bits;
}

/**
 * rANS states a page interleaves: 1 (the `…>rans` chains), 2 (`…>rans2`), or 4, 8, 16 or 32
 * (the `…>ransx` chains, whose pages store their lane count: see writeLanes).
 */
export type RansLanes = 1 | 2 | 4 | 8 | 16 | 32;
/** The lane counts this reader decodes. */
export const RANS_LANES: readonly RansLanes[] = [1, 2, 4, 8, 16, 32];
/** The lane count the writer gives new `…>ransx` pages. */
export const RANS_LANES_WRITTEN: RansLanes = 16;

/** Writes a `…>ransx` page's lane count (one byte, before its rANS tables). */
export function writeLanes(w: ByteWriter, lanes: RansLanes): void {
  w.u8(lanes);
}

/** Reads a `…>ransx` page's lane count; one this reader does not know is an error that says so. */
export function readLanes(r: ByteReader): RansLanes {
  const lanes = r.u8();
  if (!(RANS_LANES as readonly number[]).includes(lanes)) throw new EncodingError(`rans page of ${lanes} interleaved states: this reader decodes ${RANS_LANES.join(', ')}`);
  return lanes as RansLanes;
}

export function encodeRans(z: Float64Array, w: ByteWriter, lanes: RansLanes): void {
  const n = z.length;
  let max = 0;
  for (let i = 0; i < n; i++) if (z[i]! > max) max = z[i]!;
  if (!(max < RANS_VALUE_LIMIT)) throw new EncodingError(`rans takes values below 2^31, got ${max}`);
  // The fewest low bits that leave ≤ 256 high symbols, or a few more when the smaller table
  // and the flatter high part pay for them.
  const s0 = Math.max(0, bitLength(max) - 8);
  let s = s0;
  let hist = new Float64Array(SYMBOLS_MAX);
  for (let i = 0; i < n; i++) hist[Math.floor(z[i]! / 2 ** s0)]!++;
  let best = costBits(hist, n, s0);
  let bestHist = hist;
  for (let k = 1; k <= 3 && s0 + k <= 23; k++) {
    const merged = new Float64Array(SYMBOLS_MAX);
    for (let h = 0; h < SYMBOLS_MAX; h++) merged[h >>> k]! += hist[h]!;
    const cost = costBits(merged, n, s0 + k);
    if (cost < best) { best = cost; s = s0 + k; bestHist = merged; }
  }
  hist = bestHist;
  const freq = n > 0 ? normalize(hist, n) : new Uint16Array(SYMBOLS_MAX);
  const cum = new Uint32Array(SYMBOLS_MAX + 1);
  for (let h = 0; h < SYMBOLS_MAX; h++) cum[h + 1] = cum[h]! + freq[h]!;

  w.u8(s);
  let present = 0;
  for (let h = 0; h < SYMBOLS_MAX; h++) if (freq[h]! > 0) present++;
  w.varint(present);
  let prev = -1;
  for (let h = 0; h < SYMBOLS_MAX; h++) {
    if (freq[h] === 0) continue;
    w.varint(h - prev - 1);
    w.varint(freq[h]! - 1);
    prev = h;
  }

  // rANS: symbols in reverse, bytes emitted backwards into the end of `out`; low bits packed.
  const out = new Uint8Array(n * 2 + 4 * lanes + 16);
  const packed = new Uint8Array(Math.ceil((n * s) / 8));
  const kernel = encodeKernels.ransEncode;
  const pos = kernel ? kernel(z, s, freq, cum, out, packed, lanes) : ransEncodeJs(z, s, freq, cum, out, packed, lanes);
  if (pos < 0) throw new EncodingError(pos === -1 ? 'rans output overflow' : 'rans value outside its table');
  w.varint(out.length - pos);
  w.bytes(out.subarray(pos));
  if (s > 0) w.bytes(packed);
}

/**
 * The JS twin of the native ransEncode kernel (same bytes, same return): codes `z` backwards
 * into the end of `out` (value i through state i % lanes), packs the low `s` bits LSB-first
 * into `low`, and returns where the stream (lane 0's initial state first) starts in `out`
 * (-1: `out` too short; -2: a value outside the table).
 */
export function ransEncodeJs(z: Float64Array, s: number, freq: Uint16Array, cum: Uint32Array, out: Uint8Array, low: Uint8Array, lanes: RansLanes = 1): number {
  const n = z.length;
  const divisor = 2 ** s;
  let pos = out.length;
  const states = new Array<number>(lanes).fill(RANS_L);
  for (let i = n - 1; i >= 0; i--) {
    let x = states[i % lanes]!;
    const v = z[i]!;
    if (!(v >= 0 && v < RANS_VALUE_LIMIT)) return -2;
    const sym = Math.floor(v / divisor);
    const f = sym < SYMBOLS_MAX ? freq[sym]! : 0;
    if (f === 0) return -2;
    const xMax = (RANS_L >>> RANS_SCALE_BITS) * 256 * f;
    while (x >= xMax) {
      if (pos === 0) return -1;
      out[--pos] = x & 0xff;
      x >>>= 8;
    }
    states[i % lanes] = Math.floor(x / f) * M + (x % f) + cum[sym]!;
  }
  if (pos < 4 * lanes) return -1;
  for (let l = lanes - 1; l >= 0; l--) {
    const x = states[l]!;
    pos -= 4;
    out[pos] = x & 0xff; out[pos + 1] = (x >>> 8) & 0xff; out[pos + 2] = (x >>> 16) & 0xff; out[pos + 3] = x >>> 24;
  }
  if (s > 0) {
    let acc = 0;
    let accBits = 0;
    let at = 0;
    for (let i = 0; i < n; i++) {
      acc += (z[i]! % divisor) * 2 ** accBits;
      accBits += s;
      while (accBits >= 8) { low[at++] = acc % 256; acc = Math.floor(acc / 256); accBits -= 8; }
    }
    if (accBits > 0) low[at] = acc;
  }
  return pos;
}

/** A page's coding tables (validated): the native kernels build their slot tables from `freq`. */
export interface RansTables {
  s: number;
  /** Largest value the tables can decode: (largest symbol + 1) · 2^s − 1. */
  valueMax: number;
  /** Frequency per high symbol (256 entries summing to 4096 when the page has values). */
  freq: Uint16Array;
  stream: Uint8Array;
  low: Uint8Array;
}

export function readTables(r: ByteReader, n: number, lanes: RansLanes): RansTables {
  const s = r.u8();
  if (s > 23) throw new EncodingError(`rans low bits ${s} > 23`);
  const present = r.varint();
  if (present > SYMBOLS_MAX || (n > 0 && present === 0)) throw new EncodingError(`rans table of ${present} symbols`);
  const freq = new Uint16Array(SYMBOLS_MAX);
  let prev = -1;
  let total = 0;
  for (let k = 0; k < present; k++) {
    const sym = prev + 1 + r.varint();
    const f = r.varint() + 1;
    if (sym >= SYMBOLS_MAX || f > M) throw new EncodingError(`rans table entry ${k}: symbol ${sym}, frequency ${f}`);
    freq[sym] = f;
    total += f;
    prev = sym;
  }
  if (n > 0 && total !== M) throw new EncodingError(`rans frequencies sum to ${total}, expected ${M}`);
  const streamBytes = r.varint();
  if (streamBytes < 4 * lanes) throw new EncodingError(`rans stream of ${streamBytes} bytes for ${lanes} states`);
  const stream = r.bytes(streamBytes);
  for (let l = 0; n > 0 && l < lanes; l++) {
    const x0 = stateAt(stream, 4 * l);
    if (x0 < RANS_L || x0 >= RANS_L * 256) throw new EncodingError(`rans initial state ${x0} of lane ${l} out of range`);
  }
  const low = s > 0 ? r.bytes(Math.ceil((n * s) / 8)) : new Uint8Array(0);
  return { s, valueMax: (prev + 1) * 2 ** s - 1, freq, stream, low };
}

/**
 * The JS decoders' slot tables (the native kernels build the same ones): the symbol of each
 * of the 4096 slots, and the state update's two constants in one word, frequency << 12 |
 * (slot − cum). `freq` must sum to 4096 (readTables checks it).
 */
function slotTables(freq: Uint16Array): { slotSymbol: Uint8Array; slotStep: Uint32Array } {
  const slotSymbol = new Uint8Array(M);
  const slotStep = new Uint32Array(M);
  let c = 0;
  for (let h = 0; h < SYMBOLS_MAX; h++) {
    const f = freq[h]!;
    if (f === 0) continue;
    if (c + f > M) throw new EncodingError(`rans frequencies exceed ${M}`);
    slotSymbol.fill(h, c, c + f);
    for (let k = 0; k < f; k++) slotStep[c + k] = (f << RANS_SCALE_BITS) | k;
    c += f;
  }
  if (c !== M) throw new EncodingError(`rans frequencies sum to ${c}, expected ${M}`);
  return { slotSymbol, slotStep };
}

function stateAt(stream: Uint8Array, at: number): number {
  return (stream[at]! | (stream[at + 1]! << 8) | (stream[at + 2]! << 16) | (stream[at + 3]! << 24)) >>> 0;
}

/** Throws for a decode loop's failure status (see ransValuesJs); `what` names how value `status` failed. */
function checkRansStatus(status: number, n: number, what = 'rans stream ends'): void {
  if (status === n) throw new EncodingError('rans stream does not end where it began');
  if (status >= 0) throw new EncodingError(`${what} at value ${status} of ${n}`);
}

/**
 * Decodes `n` values and folds them as deltas: x += unzigzag(z)·step (or z·step when
 * `zigzag` is false), out[i] = x / divisor (ALP's exact decimal division; 1 for plain
 * integers).
 */
export function decodeDeltaRans(r: ByteReader, n: number, lanes: RansLanes, first: number, step: number, divisor: number, into?: Float64Array, zigzag = true): Float64Array {
  const { s, valueMax, freq, stream, low } = readTables(r, n, lanes);
  // Every running sum stays an exact integer whatever the stream holds.
  if (!(Math.abs(first) + n * step * valueMax <= EXACT_SUM_MAX)) throw new EncodingError(`rans delta page out of the exact range (first ${first}, step ${step}, ${n} values up to ${valueMax})`);
  const out = into ?? new Float64Array(n);
  if (n === 0) return out;
  const kernel = decodeKernels.deltaRans;
  if (kernel) {
    checkRansStatus(kernel(freq, stream, low, s, n, lanes, first, step, divisor, out, zigzag), n);
    return out;
  }
  return deltaRansJs(freq, stream, low, s, n, lanes, first, step, divisor, out, zigzag);
}

/**
 * Decodes `n` values as they were coded (no delta folding), each an index into `dictionary`,
 * and returns the dictionary's values (`dict>rans`): doubles (ALP pages), or int64 (integer
 * pages, copied as they are: the native kernel moves 8 raw bytes either way).
 */
export function decodeRansDict<T extends Float64Array | BigInt64Array>(r: ByteReader, n: number, lanes: RansLanes, dictionary: T, out: T): T {
  const { s, freq, stream, low } = readTables(r, n, lanes);
  if (n === 0) return out;
  const kernel = decodeKernels.ransDict;
  const status = kernel ? kernel(freq, stream, low, s, n, lanes, float64View(dictionary), float64View(out)) : ransDictJs(freq, stream, low, s, n, lanes, dictionary, out);
  checkRansStatus(status, n, `rans stream ends, or leaves a dictionary of ${dictionary.length},`);
  return out;
}

function float64View(a: Float64Array | BigInt64Array): Float64Array {
  return a instanceof Float64Array ? a : new Float64Array(a.buffer, a.byteOffset, a.length);
}

/**
 * The rANS loop of the JS decoders: writes the coded values (`symbol << s | low bits`) to
 * `out` and returns -1 when the stream decodes cleanly, the index of the value where it ran
 * out of bytes, or `n` when it ended in the wrong state (the native kernels' status codes;
 * they fuse the step that follows, the JS twins run it as a second pass).
 */
function ransValuesJs(freq: Uint16Array, stream: Uint8Array, low: Uint8Array, s: number, n: number, lanes: RansLanes, out: Float64Array): number {
  const { slotSymbol, slotStep } = slotTables(freq);
  const states = Array.from({ length: lanes }, (_, l) => stateAt(stream, 4 * l));
  let pos = 4 * lanes;
  const end = stream.length;
  const lowMask = (1 << s) - 1;
  let acc = 0;
  let accBits = 0;
  let at = 0;
  for (let i = 0; i < n; i++) {
    let x = states[i % lanes]!;
    const slot = x & (M - 1);
    const sym = slotSymbol[slot]!;
    const stepInfo = slotStep[slot]!;
    x = (stepInfo >>> RANS_SCALE_BITS) * (x >>> RANS_SCALE_BITS) + (stepInfo & (M - 1));
    while (x < RANS_L) {
      if (pos >= end) return i;
      x = x * 256 + stream[pos++]!;
    }
    states[i % lanes] = x;
    let z = sym;
    if (s > 0) {
      while (accBits < s) { acc |= low[at++]! << accBits; accBits += 8; }
      z = ((sym << s) | (acc & lowMask)) >>> 0;
      acc >>>= s;
      accBits -= s;
    }
    out[i] = z;
  }
  return states.some((x) => x !== RANS_L) || pos !== end ? n : -1;
}

/** The JS twin of the native ransDict kernel (same status codes): indexes → dictionary values. */
export function ransDictJs<T extends Float64Array | BigInt64Array>(freq: Uint16Array, stream: Uint8Array, low: Uint8Array, s: number, n: number, lanes: RansLanes, dictionary: T, out: T): number {
  const codes = out instanceof Float64Array ? out : new Float64Array(n);
  const status = ransValuesJs(freq, stream, low, s, n, lanes, codes);
  const valid = status < 0 ? n : Math.min(status, n);
  for (let i = 0; i < valid; i++) {
    const z = codes[i]!;
    if (z >= dictionary.length) return i;
    (out as Float64Array)[i] = (dictionary as Float64Array)[z]!; // a bigint into a BigInt64Array when T is one
  }
  return status;
}

/** The JS twin of the native deltaRans kernel (exported for tests): zigzagged (or, with `zigzag` false, plain) deltas folded. */
export function deltaRansJs(freq: Uint16Array, stream: Uint8Array, low: Uint8Array, s: number, n: number, lanes: RansLanes, first: number, step: number, divisor: number, out: Float64Array, zigzag = true): Float64Array {
  checkRansStatus(ransValuesJs(freq, stream, low, s, n, lanes, out), n);
  let v = first;
  if (zigzag) {
    for (let i = 0; i < n; i++) {
      const z = out[i]!;
      v += ((z >>> 1) ^ -(z & 1)) * step;
      out[i] = v / divisor;
    }
  } else {
    for (let i = 0; i < n; i++) {
      v += out[i]! * step;
      out[i] = v / divisor;
    }
  }
  if (!(Math.abs(v) <= Number.MAX_SAFE_INTEGER)) throw new EncodingError(`decoded integer ${v} outside the exact range`);
  return out;
}
