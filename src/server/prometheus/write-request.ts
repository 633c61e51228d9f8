/**
 * Decoding Prometheus' remote write 1.0 `WriteRequest` (prompb/remote.proto, types.proto):
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
 *                  repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }   // timestamp: epoch ms
 *
 * Sample values are copied as their 8 bytes (NaN payloads, the staleness marker included, pass
 * bit for bit) and timestamps as two 32-bit halves, into flat arrays shared by all series.
 * Exemplars and native histograms are refused (400): Quiver would have to drop them, and a
 * dropped value is never silent. Metadata (type, help, unit of a metric family) is skipped:
 * it describes series, it holds no sample.
 */
import { LEN, FIXED64, VARINT, ProtoReader } from './protobuf.js';

/** One series of a request: its labels in wire order, its samples at [first, first + count). */
export interface WireSeries {
  labels: [name: string, value: string][];
  first: number;
  count: number;
}

export interface DecodedWrite {
  series: WireSeries[];
  /** Epoch milliseconds, one per sample. */
  times: BigInt64Array;
  /** Values, one per sample, bit for bit as sent. */
  values: Float64Array;
  samples: number;
  /** MetricMetadata entries skipped. */
  metadata: number;
}

/** Named limits of one request. */
export const LABELS_PER_SERIES_MAX = 256;
/** Samples of one write request (Prometheus sends up to max_samples_per_send, 2,000 by default). */
export const SAMPLES_PER_WRITE_MAX = 1_000_000;

class SampleArrays {
  times = new Uint8Array(8 * 1024);
  values = new Uint8Array(8 * 1024);
  timesView = new DataView(this.times.buffer);
  n = 0;

  grow(): void {
    const t = new Uint8Array(this.times.length * 2); t.set(this.times); this.times = t;
    const v = new Uint8Array(this.values.length * 2); v.set(this.values); this.values = v;
    this.timesView = new DataView(t.buffer);
  }
}

/** A WriteRequest's series and samples; ProtoError (an InputError) on bytes that are not one. */
export function decodeWriteRequest(buf: Uint8Array, samplesMax = SAMPLES_PER_WRITE_MAX): DecodedWrite {
  const r = new ProtoReader(buf, 'remote write request');
  const series: WireSeries[] = [];
  const out = new SampleArrays();
  let metadata = 0;
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) {
      r.expect(field, wire, LEN, 'timeseries');
      const { start, end } = r.span();
      series.push(decodeSeries(new ProtoReader(buf, `remote write request: timeseries ${series.length}`, start, end), out, samplesMax));
    } else {
      if (field === 3) metadata++;
      r.skip(wire);
    }
  }
  const n = out.n;
  return {
    series,
    // Views over the copied bytes (little-endian, as the halves were written).
    times: new BigInt64Array(out.times.buffer, 0, n),
    values: new Float64Array(out.values.buffer, 0, n),
    samples: n,
    metadata,
  };
}

function decodeSeries(r: ProtoReader, out: SampleArrays, samplesMax: number): WireSeries {
  const labels: [string, string][] = [];
  const first = out.n;
  while (!r.done) {
    const { field, wire } = r.key();
    switch (field) {
      case 1: {
        r.expect(field, wire, LEN, 'labels');
        if (labels.length === LABELS_PER_SERIES_MAX) r.fail(`more than ${LABELS_PER_SERIES_MAX} labels`);
        const { start, end } = r.span();
        labels.push(decodeLabel(new ProtoReader(r.buf, `${r.what}: label ${labels.length}`, start, end)));
        break;
      }
      case 2: {
        r.expect(field, wire, LEN, 'samples');
        const { start, end } = r.span();
        if (out.n === samplesMax) r.fail(`more than ${samplesMax} samples in one request (SAMPLES_PER_WRITE_MAX): lower max_samples_per_send`);
        if (out.n * 8 === out.times.length) out.grow();
        decodeSample(new ProtoReader(r.buf, `${r.what}: sample ${out.n - first}`, start, end), out);
        break;
      }
      case 3: r.fail('exemplars are not stored by Quiver (set send_exemplars: false in remote_write)'); break;
      case 4: r.fail('native histograms are not stored by Quiver (send classic histograms: drop the native_histograms feature flag for this remote_write)'); break;
      default: r.skip(wire);
    }
  }
  return { labels, first, count: out.n - first };
}

function decodeLabel(r: ProtoReader): [string, string] {
  let name = '', value = '';
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) { r.expect(field, wire, LEN, 'name'); name = r.string(); }
    else if (field === 2) { r.expect(field, wire, LEN, 'value'); value = r.string(); }
    else r.skip(wire);
  }
  return [name, value];
}

function decodeSample(r: ProtoReader, out: SampleArrays): void {
  const at = out.n * 8;
  // proto3 omits zero fields: a missing value is +0.0, a missing timestamp 0.
  out.values.fill(0, at, at + 8);
  out.timesView.setBigInt64(at, 0n, true);
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) { r.expect(field, wire, FIXED64, 'value'); r.fixed64Into(out.values, at); }
    else if (field === 2) { r.expect(field, wire, VARINT, 'timestamp'); r.int64Into(out.timesView, at); }
    else r.skip(wire);
  }
  out.n++;
}
