import { readRuns } from './chains/runs.js';
import { decodePlain, encodePlain, PLAIN_ID } from './plain.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { allSafeInts, decodeInts, encodeInts, intChain, intChainIds, isIntChain } from './ints.js';
import { encodeIntsSmallest, pickIntChain } from './int-picker.js';
import { fromRelative, toRelative } from './int64.js';
import { alpDivisor, alpPatch, alpSplit, chooseExponent, readAlpHeader, writeAlpHeader } from './alp.js';
import { BSS_ID, decodeBss, encodeBss } from './bss.js';
import { EncodingError, pageValueCount, type EncodedPage, type EncodeOptions, type PageKind, type PageValues } from './types.js';

/**
 * The encoding registry: the one place that maps stable chain ids to code, and the picker.
 *
 * Chains by page kind (ids are stable; the footer records one per page):
 * - i64:  `plain`, or an integer chain (the table in ints.ts) over `value - first` (i64 base in front):
 *         `rle`, `delta>rle`, `delta>zigzag>bitsplit`, `for>bitsplit`, `dict>rans2` (few
 *         distinct values), the `…>rans2` twins of the delta chains, `delta>gcd>rans2`
 *         (ascending pages), `dod>zigzag>rans2` (counters); the one-state `…>rans` ids
 *         written before still decode
 * - i32:  `plain` or an integer chain (tag codes: sorted runs → `rle`)
 * - f64:  `plain`, `alp>` + an integer chain (decimal-like doubles), or `bss`
 * - bool: `plain` or `rle` (runs of 0/1; validity bitmaps are mostly one run)
 * - utf8: `plain` (the block codec does the work; utf8 and binary columns)
 * - fixed: `plain` (wide decimals, fixed-size binary)
 *
 * The picker is BtrBlocks-style but cheap: a chain is named from statistics of the page
 * (runs, delta runs, log-magnitudes, ALP's exception share on a sample), the few
 * alternatives that statistics cannot rank (the rANS chains, see encodeIntsSmallest) are
 * trial-encoded and the smallest kept, and `plain` is kept when nothing is smaller.
 */
export function encodePage(values: PageValues, options: EncodeOptions = {}): EncodedPage {
  const forced = options.encoding;
  if (forced === PLAIN_ID) return { encoding: PLAIN_ID, bytes: encodePlain(values) };
  const picked = forced !== undefined ? encodeForced(values, forced) : encodePicked(values, options.preferSize === true);
  if (picked === null) return { encoding: PLAIN_ID, bytes: encodePlain(values) };
  if (forced === undefined && picked.bytes.length >= plainBytes(values)) return { encoding: PLAIN_ID, bytes: encodePlain(values) };
  return picked;
}

function plainBytes(values: PageValues): number {
  switch (values.kind) {
    case 'i64': case 'f64': return values.values.length * 8;
    case 'i32': return values.values.length * 4;
    case 'bool': return (values.length + 7) >>> 3;
    case 'utf8': return values.offsets.byteLength + values.data.length;
    case 'fixed': return values.data.length;
  }
}

function encodeChain(values: PageValues, chain: string): EncodedPage | null {
  const w = new ByteWriter(plainBytes(values) / 4 + 64);
  switch (values.kind) {
    case 'i64': {
      if (!isIntChain(chain)) return null;
      const relative = toRelative(values.values);
      if (!relative) return null;
      w.i64(relative.base);
      encodeInts(chain, relative.rel, w);
      break;
    }
    case 'i32': {
      if (!isIntChain(chain)) return null;
      encodeInts(chain, Float64Array.from(values.values), w);
      break;
    }
    case 'f64': {
      if (chain === BSS_ID) { encodeBss(values.values, w); break; }
      if (!chain.startsWith('alp>') || !isIntChain(chain.slice(4))) return null;
      const e = chooseExponent(values.values);
      const split = e < 0 ? null : alpSplit(values.values, e);
      if (!split) return null;
      writeAlpHeader(w, e, values.values, split.positions);
      encodeInts(chain.slice(4), split.ints, w);
      break;
    }
    case 'bool': {
      if (chain !== 'rle') return null;
      encodeInts('rle', boolsOf(values.bits, values.length), w);
      break;
    }
    case 'utf8': case 'fixed':
      return null;
  }
  return { encoding: chain, bytes: w.finish() };
}

function encodeForced(values: PageValues, chain: string): EncodedPage {
  const out = encodeChain(values, chain);
  if (!out) throw new EncodingError(`encoding chain ${JSON.stringify(chain)} does not apply to this ${values.kind} page`);
  return out;
}

function encodePicked(values: PageValues, preferSize: boolean): EncodedPage | null {
  switch (values.kind) {
    case 'i64': {
      const relative = toRelative(values.values);
      if (!relative) return null;
      const w = new ByteWriter(values.values.length * 2 + 64);
      w.i64(relative.base);
      const chain = encodeIntsSmallest(pickIntChain(relative.rel), relative.rel, w, preferSize);
      return { encoding: chain, bytes: w.finish() };
    }
    case 'i32':
      return encodeChain(values, pickIntChain(Float64Array.from(values.values)));
    case 'f64': {
      const e = chooseExponent(values.values);
      const split = e < 0 ? null : alpSplit(values.values, e);
      if (split && allSafeInts(split.ints)) {
        const w = new ByteWriter(values.values.length * 2 + 64);
        writeAlpHeader(w, e, values.values, split.positions);
        const chain = encodeIntsSmallest(pickIntChain(split.ints), split.ints, w, preferSize);
        return { encoding: `alp>${chain}`, bytes: w.finish() };
      }
      return values.values.length >= 64 ? encodeChain(values, BSS_ID) : null;
    }
    case 'bool': {
      let runs = 1;
      for (let i = 1; i < values.length; i++) if (bit(values.bits, i) !== bit(values.bits, i - 1)) runs++;
      return runs * 16 <= values.length ? encodeChain(values, 'rle') : null;
    }
    case 'utf8': case 'fixed':
      return null;
  }
}

function bit(bits: Uint8Array, i: number): number {
  return (bits[i >> 3]! >> (i & 7)) & 1;
}

function boolsOf(bits: Uint8Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = bit(bits, i);
  return out;
}

/**
 * Decodes a page. `into`, for fixed-width kinds, is where the values go (count × width
 * bytes, 8-byte aligned): a reader passes consecutive slices of one buffer so multi-page
 * columns need no concatenation copy.
 */
export function decodePage(encoding: string, bytes: Uint8Array, kind: PageKind, count: number, into?: Uint8Array, width = 0, codesBelow?: number): PageValues {
  const decoded = decodePageOwn(encoding, bytes, kind, count, into, width, codesBelow);
  if (into === undefined || decoded.kind === 'bool' || decoded.kind === 'utf8') return decoded;
  if (decoded.kind === 'fixed') {
    if (decoded.data.byteLength !== into.byteLength) throw new EncodingError(`${encoding} page decoded ${decoded.data.byteLength} bytes, expected ${into.byteLength}`);
    into.set(decoded.data);
    return { kind: 'fixed', width: decoded.width, data: into };
  }
  const v = decoded.values;
  if (v.buffer === into.buffer && v.byteOffset === into.byteOffset) return decoded;
  if (v.byteLength !== into.byteLength) throw new EncodingError(`${encoding} page decoded ${v.byteLength} bytes, expected ${into.byteLength}`);
  into.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return viewOf(kind, into, count);
}

function viewOf(kind: PageKind, bytes: Uint8Array, count: number): PageValues {
  switch (kind) {
    case 'i64': return { kind, values: new BigInt64Array(bytes.buffer, bytes.byteOffset, count) };
    case 'f64': return { kind, values: new Float64Array(bytes.buffer, bytes.byteOffset, count) };
    case 'i32': return { kind, values: new Int32Array(bytes.buffer, bytes.byteOffset, count) };
    default: throw new EncodingError(`no fixed-width view for ${kind}`);
  }
}

/** `codesBelow`: i32 `rle` pages refuse a value outside [0, codesBelow) (checked once per run: tag codes). */
function decodePageOwn(encoding: string, bytes: Uint8Array, kind: PageKind, count: number, into?: Uint8Array, width = 0, codesBelow?: number): PageValues {
  if (encoding === PLAIN_ID) return decodePlain(bytes, kind, count, width);
  const r = new ByteReader(bytes, `${encoding} ${kind} page`);
  let out: PageValues;
  const intCoder = intChain(encoding);
  if (kind === 'i64' && intCoder !== undefined) {
    const base = r.i64();
    const target = into && new BigInt64Array(into.buffer, into.byteOffset, count);
    // Runs of equal deltas and dictionaries go straight to int64; the rest through relative doubles.
    const values = intCoder.decodeInt64 ? intCoder.decodeInt64(r, count, base, target) : fromRelative(base, intCoder.decode(r, count, 1), target);
    out = { kind, values };
  } else if (kind === 'i32' && encoding === 'rle') {
    out = { kind, values: decodeRleInt32(r, count, into && new Int32Array(into.buffer, into.byteOffset, count), codesBelow) };
  } else if (kind === 'i32' && isIntChain(encoding)) {
    const ints = decodeInts(encoding, r, count);
    const values = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const v = ints[i]!;
      if (v < -2147483648 || v > 2147483647) throw new EncodingError(`i32 page value ${v} at ${i} out of range`);
      values[i] = v;
    }
    out = { kind, values };
  } else if (kind === 'f64' && encoding === BSS_ID) {
    out = { kind, values: decodeBss(r, count) };
  } else if (kind === 'f64' && encoding.startsWith('alp>') && isIntChain(encoding.slice(4))) {
    const { e, exceptions } = readAlpHeader(r, count);
    const target = into && new Float64Array(into.buffer, into.byteOffset, count);
    out = { kind, values: alpPatch(decodeInts(encoding.slice(4), r, count, alpDivisor(e), target), exceptions) };
  } else if (kind === 'bool' && encoding === 'rle') {
    const ints = decodeInts('rle', r, count);
    const bits = new Uint8Array((count + 7) >>> 3);
    for (let i = 0; i < count; i++) {
      const v = ints[i]!;
      if (v !== 0 && v !== 1) throw new EncodingError(`bool rle value ${v} at ${i} is not 0 or 1`);
      if (v) bits[i >> 3]! |= 1 << (i & 7);
    }
    out = { kind, bits, length: count };
  } else {
    throw new EncodingError(`unknown encoding chain ${JSON.stringify(encoding)} for a ${kind} page`);
  }
  r.end();
  if (pageValueCount(out) !== count) throw new EncodingError(`${encoding} page decoded ${pageValueCount(out)} values, expected ${count}`);
  return out;
}

/** `rle` straight into int32 codes (tag pages: a few runs per page). */
function decodeRleInt32(r: ByteReader, n: number, into?: Int32Array, codesBelow?: number): Int32Array {
  return readRuns(r, n, into ?? new Int32Array(n), codesBelow === undefined ? -2147483648 : 0, codesBelow === undefined ? 2147483647 : codesBelow - 1);
}

/** Ids of every chain the registry can decode (for `inspect` and the golden tests). */
export function knownEncodings(): string[] {
  const ints = intChainIds();
  return [PLAIN_ID, ...ints, ...ints.map((c) => `alp>${c}`), BSS_ID];
}
