import { EncodingError } from './types.js';

/** Growable little-endian byte writer with LEB128 varints (unsigned, for safe integers). */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, capacity));
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void { this.reserve(1); this.buf[this.length++] = v; }
  u32(v: number): void { this.reserve(4); this.view.setUint32(this.length, v, true); this.length += 4; }
  i64(v: bigint): void { this.reserve(8); this.view.setBigInt64(this.length, v, true); this.length += 8; }
  f64(v: number): void { this.reserve(8); this.view.setFloat64(this.length, v, true); this.length += 8; }
  bytes(b: Uint8Array): void { this.reserve(b.length); this.buf.set(b, this.length); this.length += b.length; }

  /** Unsigned varint of a non-negative safe integer (up to 2^53). */
  varint(v: number): void {
    this.reserve(8);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  /** Zigzag varint of a safe integer. */
  svarint(v: number): void { this.varint(zigzag(v)); }

  finish(): Uint8Array { return this.buf.slice(0, this.length); }
}

/** Reader twin of ByteWriter: every read is bounds-checked and fails with EncodingError. */
export class ByteReader {
  private readonly view: DataView;
  pos = 0;

  constructor(private readonly buf: Uint8Array, private readonly what: string) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new EncodingError(`${this.what}: needs ${n} more byte(s) at ${this.pos}, page has ${this.buf.length}`);
  }

  get remaining(): number { return this.buf.length - this.pos; }
  u8(): number { this.need(1); return this.buf[this.pos++]!; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  i64(): bigint { this.need(8); const v = this.view.getBigInt64(this.pos, true); this.pos += 8; return v; }
  f64(): number { this.need(8); const v = this.view.getFloat64(this.pos, true); this.pos += 8; return v; }
  bytes(n: number): Uint8Array { this.need(n); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw new EncodingError(`${this.what}: varint at ${this.pos} exceeds 2^53`);
        return result;
      }
      scale *= 0x80;
    }
    throw new EncodingError(`${this.what}: varint at ${this.pos} longer than 8 bytes`);
  }

  svarint(): number { return unzigzag(this.varint()); }

  /** A count that must not exceed `max` (so no allocation is driven by hostile bytes). */
  count(max: number, name: string): number {
    const n = this.varint();
    if (n > max) throw new EncodingError(`${this.what}: ${name} ${n} exceeds ${max}`);
    return n;
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new EncodingError(`${this.what}: ${this.buf.length - this.pos} trailing byte(s)`);
  }
}

/** Zigzag for safe integers: 0,-1,1,-2… → 0,1,2,3… (valid for |v| < 2^52). */
export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

export function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Largest magnitude the integer encodings accept: zigzag must stay a safe integer. */
export const SAFE_MAGNITUDE_MAX = 2 ** 51;
