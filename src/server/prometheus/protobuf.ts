/**
 * Protocol Buffers wire format, the part Prometheus' remote write and remote read messages
 * use (https://protobuf.dev/programming-guides/encoding/): varints, 64-bit fixed fields and
 * length-delimited fields. Hand-written rather than generated (protobufjs) because doubles
 * must pass bit for bit (the staleness marker is a signalling NaN, 0x7ff0000000000002, that a
 * number may not survive on every engine): readers copy the 8 bytes, writers write the bytes
 * they were given. Every read is checked against the message's end: hostile bytes raise
 * ProtoError naming the offset, never a read past the buffer.
 */
import { InputError } from '../../errors.js';

/** Wire types. */
export const VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

/** Undecodable protobuf bytes (an HTTP 400 for the client). */
export class ProtoError extends InputError {
  override name = 'ProtoError';
  constructor(what: string, readonly offset: number, detail: string) {
    super(`${what}: ${detail} at byte ${offset}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the fields of one message, bytes [start, end) of `buf`. */
export class ProtoReader {
  pos: number;
  constructor(readonly buf: Uint8Array, readonly what: string, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(detail: string, at = this.pos): never {
    throw new ProtoError(this.what, at, detail);
  }

  /** A field key: field number and wire type. */
  key(): { field: number; wire: number } {
    const at = this.pos;
    const k = this.varint();
    const field = Math.floor(k / 8);
    if (field === 0) this.fail('field number 0', at);
    return { field, wire: k % 8 };
  }

  /** An unsigned varint below 2^53 (keys, lengths, enums, booleans). */
  varint(): number {
    const { buf, end } = this;
    let value = 0, scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) this.fail('varint runs past the end of the message');
      const b = buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) this.fail('varint beyond 2^53 where a length, key or enum was expected');
        return value;
      }
      scale *= 128;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /**
   * An int64 varint into `out[at]` as two 32-bit halves (two's complement, as the wire has
   * it: negative values take 10 bytes), without going through a double or a bigint.
   */
  int64Into(out: DataView, at: number): void {
    const { buf, end } = this;
    let lo = 0, hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) this.fail('varint runs past the end of the message');
      const b = buf[this.pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) { lo |= (bits & 0x0f) << 28; hi |= bits >>> 4; }
      else hi |= bits << (7 * i - 32);
      if (b < 0x80) {
        out.setUint32(at, lo >>> 0, true);
        out.setUint32(at + 4, hi >>> 0, true);
        return;
      }
    }
    this.fail('varint longer than 10 bytes');
  }

  /** A length-delimited field's bytes as [start, end) of buf. */
  span(): { start: number; end: number } {
    const at = this.pos;
    const n = this.varint();
    if (n > this.end - this.pos) this.fail(`length ${n} runs past the end of the message (${this.end - this.pos} bytes left)`, at);
    const start = this.pos;
    this.pos += n;
    return { start, end: this.pos };
  }

  /** A string field (valid UTF-8, as protobuf requires). */
  string(): string {
    const at = this.pos;
    const { start, end } = this.span();
    try {
      return utf8.decode(this.buf.subarray(start, end));
    } catch {
      return this.fail('string is not valid UTF-8', at);
    }
  }

  /** A fixed64 field: its 8 bytes copied to `out` at `at`. */
  fixed64Into(out: Uint8Array, at: number): void {
    if (this.end - this.pos < 8) this.fail('fixed64 runs past the end of the message');
    out.set(this.buf.subarray(this.pos, this.pos + 8), at);
    this.pos += 8;
  }

  /** Skips a field of an unknown number (forward compatibility, as protobuf wants). */
  skip(wire: number): void {
    const at = this.pos;
    switch (wire) {
      case VARINT: this.varint64Skip(); break;
      case FIXED64: if (this.end - this.pos < 8) this.fail('fixed64 runs past the end of the message'); this.pos += 8; break;
      case LEN: this.span(); break;
      case FIXED32: if (this.end - this.pos < 4) this.fail('fixed32 runs past the end of the message'); this.pos += 4; break;
      default: this.fail(`wire type ${wire} (groups and unknown types are not supported)`, at);
    }
  }

  private varint64Skip(): void {
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('varint runs past the end of the message');
      if (this.buf[this.pos++]! < 0x80) return;
    }
    this.fail('varint longer than 10 bytes');
  }

  /** Checks a field's wire type. */
  expect(field: number, wire: number, want: number, name: string): void {
    if (wire !== want) this.fail(`field ${field} (${name}) has wire type ${wire}, expected ${want}`);
  }
}

const utf8Encoder = new TextEncoder();

/**
 * Builds a message into a growing buffer. Nested messages are written in place: `begin()`
 * reserves a 5-byte length (enough for any length below 2^35, padded with continuation
 * bits, which protobuf decoders accept), `end()` fills it in, so nothing is copied twice.
 */
export class ProtoWriter {
  buf = new Uint8Array(1 << 16);
  pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(v: number): void {
    this.reserve(10);
    while (v >= 0x80) { this.buf[this.pos++] = (v % 128) | 0x80; v = Math.floor(v / 128); }
    this.buf[this.pos++] = v;
  }

  key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  string(field: number, s: string): void {
    this.key(field, LEN);
    const bytes = utf8Encoder.encode(s);
    this.varint(bytes.length);
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A fixed64 field from 8 raw bytes (a double's bits as stored). */
  fixed64(field: number, bytes: Uint8Array): void {
    this.key(field, FIXED64);
    this.reserve(8);
    this.buf.set(bytes.subarray(0, 8), this.pos);
    this.pos += 8;
  }

  /** An int64 varint field (two's complement, 10 bytes when negative); 0 is omitted, as proto3 does. */
  int64(field: number, v: bigint): void {
    if (v === 0n) return;
    this.key(field, VARINT);
    this.reserve(10);
    let u = BigInt.asUintN(64, v);
    // Fast path: below 2^53 the number loop is exact.
    if (u <= 0x1fffffffffffffn) { this.varint(Number(u)); return; }
    while (u >= 0x80n) { this.buf[this.pos++] = Number(u & 0x7fn) | 0x80; u >>= 7n; }
    this.buf[this.pos++] = Number(u);
  }

  /** Starts a nested message (field `field`, length-delimited); returns what `end` takes. */
  begin(field: number): number {
    this.key(field, LEN);
    this.reserve(5);
    const at = this.pos;
    this.pos += 5;
    return at;
  }

  end(at: number): void {
    let n = this.pos - at - 5;
    for (let i = 0; i < 4; i++) { this.buf[at + i] = (n & 0x7f) | 0x80; n = Math.floor(n / 128); }
    this.buf[at + 4] = n;
  }

  /** The message so far (a view, valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
