/**
 * The client side of Prometheus' remote write and read, for tests: WriteRequest and ReadRequest
 * encoders and a ReadResponse decoder, written from the .proto definitions independently of
 * the server's codec (values as raw 8-byte strings so NaN payloads are compared exactly).
 */
import { ProtoReader, ProtoWriter } from '../../src/server/prometheus/protobuf.js';

export interface TestSample { t: bigint; /** 16 hex digits: the double's bits. */ bits: string }
export interface TestSeries { labels: [string, string][]; samples: TestSample[] }

export function bitsOf(v: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return b.toString('hex');
}

/** The 8 little-endian bytes of a double given by its bits (as Protobuf's fixed64 has them). */
export function leBytes(bits: string): Uint8Array {
  return Uint8Array.from(Buffer.from(bits, 'hex').reverse());
}

export function encodeWriteRequest(series: readonly TestSeries[]): Uint8Array {
  const w = new ProtoWriter();
  for (const s of series) {
    const ts = w.begin(1);
    for (const [name, value] of s.labels) { const l = w.begin(1); w.string(1, name); w.string(2, value); w.end(l); }
    for (const { t, bits } of s.samples) { const m = w.begin(2); w.fixed64(1, leBytes(bits)); w.int64(2, t); w.end(m); }
    w.end(ts);
  }
  return w.bytes().slice();
}

export type TestMatcher = { type: 'EQ' | 'NEQ' | 'RE' | 'NRE'; name: string; value: string };

export function encodeReadRequest(queries: readonly { start: bigint; end: bigint; matchers: TestMatcher[] }[], acceptedTypes: number[] = []): Uint8Array {
  const w = new ProtoWriter();
  for (const q of queries) {
    const m = w.begin(1);
    w.int64(1, q.start);
    w.int64(2, q.end);
    for (const matcher of q.matchers) {
      const at = w.begin(3);
      const type = ['EQ', 'NEQ', 'RE', 'NRE'].indexOf(matcher.type);
      if (type) { w.key(1, 0); w.varint(type); }
      w.string(2, matcher.name);
      w.string(3, matcher.value);
      w.end(at);
    }
    w.end(m);
  }
  for (const t of acceptedTypes) { w.key(2, 0); w.varint(t); }
  return w.bytes().slice();
}

const view = new DataView(new ArrayBuffer(8));

/** ReadResponse → per query, its series (labels in order, samples with value bits). */
export function decodeReadResponse(buf: Uint8Array): TestSeries[][] {
  const out: TestSeries[][] = [];
  const r = new ProtoReader(buf, 'read response');
  while (!r.done) {
    const { field, wire } = r.key();
    if (field !== 1) { r.skip(wire); continue; }
    const result: TestSeries[] = [];
    const qr = r.span();
    const q = new ProtoReader(buf, 'query result', qr.start, qr.end);
    while (!q.done) {
      q.key();
      const ts = q.span();
      const s = new ProtoReader(buf, 'series', ts.start, ts.end);
      const series: TestSeries = { labels: [], samples: [] };
      while (!s.done) {
        const k = s.key();
        const span = s.span();
        const m = new ProtoReader(buf, 'message', span.start, span.end);
        if (k.field === 1) {
          const label: [string, string] = ['', ''];
          while (!m.done) { const f = m.key(); label[f.field - 1] = m.string(); }
          series.labels.push(label);
        } else {
          const sample: TestSample = { t: 0n, bits: '0000000000000000' };
          while (!m.done) {
            const f = m.key();
            if (f.field === 1) { const b = new Uint8Array(8); m.fixed64Into(b, 0); sample.bits = Buffer.from(b).reverse().toString('hex'); }
            else { m.int64Into(view, 0); sample.t = view.getBigInt64(0, true); }
          }
          series.samples.push(sample);
        }
      }
      result.push(series);
    }
    out.push(result);
  }
  return out;
}
