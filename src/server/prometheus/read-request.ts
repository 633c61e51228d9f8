/**
 * Prometheus' remote read (prompb/remote.proto), the SAMPLES response type:
 *
 *   ReadRequest  { repeated Query queries = 1; repeated ResponseType accepted_response_types = 2; }
 *   Query        { int64 start_timestamp_ms = 1; int64 end_timestamp_ms = 2;
 *                  repeated LabelMatcher matchers = 3; ReadHints hints = 4; }
 *   LabelMatcher { Type type = 1 (EQ 0, NEQ 1, RE 2, NRE 3); string name = 2; string value = 3; }
 *   ReadResponse { repeated QueryResult results = 1; }
 *   QueryResult  { repeated TimeSeries timeseries = 1; }
 *
 * Both ends of a query's time range are inclusive. Hints (step, function) are optional for a
 * server and ignored: every raw sample in the range is returned. A client that accepts only
 * STREAMED_XOR_CHUNKS is refused (400); Prometheus always also accepts SAMPLES.
 */
import { LEN, VARINT, ProtoReader, ProtoWriter } from './protobuf.js';

export type MatchType = 'EQ' | 'NEQ' | 'RE' | 'NRE';
const MATCH_TYPES: readonly MatchType[] = ['EQ', 'NEQ', 'RE', 'NRE'];

export interface LabelMatcher { type: MatchType; name: string; value: string }

export interface ReadQuery {
  /** Epoch ms, inclusive. */
  start: bigint;
  /** Epoch ms, inclusive. */
  end: bigint;
  matchers: LabelMatcher[];
}

/** Named limits of one read request. */
export const QUERIES_PER_READ_MAX = 64;
export const MATCHERS_PER_QUERY_MAX = 64;

export function decodeReadRequest(buf: Uint8Array): { queries: ReadQuery[]; acceptedTypes: number[] } {
  const r = new ProtoReader(buf, 'remote read request');
  const queries: ReadQuery[] = [];
  const acceptedTypes: number[] = [];
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) {
      r.expect(field, wire, LEN, 'queries');
      if (queries.length === QUERIES_PER_READ_MAX) r.fail(`more than ${QUERIES_PER_READ_MAX} queries`);
      const { start, end } = r.span();
      queries.push(decodeQuery(new ProtoReader(buf, `remote read request: query ${queries.length}`, start, end)));
    } else if (field === 2 && wire === VARINT) acceptedTypes.push(r.varint());
    else if (field === 2 && wire === LEN) {
      // Packed repeated enum.
      const { start, end } = r.span();
      const p = new ProtoReader(buf, 'remote read request: accepted_response_types', start, end);
      while (!p.done) acceptedTypes.push(p.varint());
    } else r.skip(wire);
  }
  return { queries, acceptedTypes };
}

const scratch = new DataView(new ArrayBuffer(8));

function decodeQuery(r: ProtoReader): ReadQuery {
  const q: ReadQuery = { start: 0n, end: 0n, matchers: [] };
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1 || field === 2) {
      r.expect(field, wire, VARINT, field === 1 ? 'start_timestamp_ms' : 'end_timestamp_ms');
      r.int64Into(scratch, 0);
      q[field === 1 ? 'start' : 'end'] = scratch.getBigInt64(0, true);
    } else if (field === 3) {
      r.expect(field, wire, LEN, 'matchers');
      if (q.matchers.length === MATCHERS_PER_QUERY_MAX) r.fail(`more than ${MATCHERS_PER_QUERY_MAX} matchers`);
      const { start, end } = r.span();
      q.matchers.push(decodeMatcher(new ProtoReader(r.buf, `${r.what}: matcher ${q.matchers.length}`, start, end)));
    } else r.skip(wire);
  }
  return q;
}

function decodeMatcher(r: ProtoReader): LabelMatcher {
  const m: LabelMatcher = { type: 'EQ', name: '', value: '' };
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) {
      r.expect(field, wire, VARINT, 'type');
      const at = r.pos;
      const t = MATCH_TYPES[r.varint()];
      if (!t) r.fail('matcher type is not EQ, NEQ, RE or NRE', at);
      m.type = t;
    } else if (field === 2) { r.expect(field, wire, LEN, 'name'); m.name = r.string(); }
    else if (field === 3) { r.expect(field, wire, LEN, 'value'); m.value = r.string(); }
    else r.skip(wire);
  }
  return m;
}

/** One series of a response: labels sorted by name, samples in time order. */
export interface ResultSeries {
  labels: [string, string][];
  /** Epoch ms. */
  times: BigInt64Array;
  /** Values as stored (their bytes go out unchanged). */
  values: Float64Array;
}

/**
 * Writes a ReadResponse, one QueryResult per query, into `w` (returned: its bytes are the
 * message). Sample values are written as the bytes of `values`, NaN payloads intact.
 */
export function encodeReadResponse(results: readonly (readonly ResultSeries[])[], w = new ProtoWriter()): ProtoWriter {
  for (const series of results) {
    const result = w.begin(1);
    for (const s of series) {
      const ts = w.begin(1);
      for (const [name, value] of s.labels) {
        const label = w.begin(1);
        w.string(1, name);
        w.string(2, value);
        w.end(label);
      }
      const bytes = new Uint8Array(s.values.buffer, s.values.byteOffset, s.values.byteLength);
      for (let i = 0; i < s.times.length; i++) {
        const sample = w.begin(2);
        w.fixed64(1, bytes.subarray(i * 8, i * 8 + 8));
        w.int64(2, s.times[i]!);
        w.end(sample);
      }
      w.end(ts);
    }
    w.end(result);
  }
  return w;
}
