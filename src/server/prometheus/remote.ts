/**
 * Prometheus remote write and remote read over a Quiver store, without HTTP (routes.ts puts
 * them on the server): bodies in, snappy blocks checked against their limits, protobuf decoded
 * (write-request.ts, read-request.ts), samples into and out of metric tables (ingest.ts, read.ts).
 */
import type { RecordBatch } from 'apache-arrow';
import { endianness } from 'node:os';
import type { Quiver } from '../../quiver.js';
import { InputError } from '../../errors.js';
import { decodeWriteRequest, SAMPLES_PER_WRITE_MAX } from './write-request.js';
import { decodeReadRequest, encodeReadResponse } from './read-request.js';
import { MetricTables, writeSamples, type WriteOutcome } from './ingest.js';
import { READ_SAMPLES_MAX, RemoteReader } from './read.js';
import { snappyDecode, snappyEncode } from './snappy.js';

// Sample values and times are viewed in place as Float64Array/BigInt64Array over the wire's
// little-endian bytes.
if (endianness() !== 'LE') throw new Error('Prometheus remote write/read needs a little-endian machine');

export interface PrometheusLimits {
  /** Snappy-compressed body bytes of one request. Default 16 MiB. */
  bodyBytesMax?: number;
  /** Uncompressed protobuf bytes of one request. Default 64 MiB. */
  decodedBytesMax?: number;
  /** Samples of one write request. Default SAMPLES_PER_WRITE_MAX. */
  writeSamplesMax?: number;
  /** Samples one read request may return. Default READ_SAMPLES_MAX. */
  readSamplesMax?: number;
}

/** What the server around does after writes (flush scheduling, metrics). */
export interface PrometheusHooks {
  /** Appends a batch to a table (default: Table.append); resolves once it is durable. */
  append?(table: string, batch: RecordBatch): Promise<void>;
  /** Samples acknowledged by a write. */
  written?(samples: number): void;
}

export const PROMETHEUS_BODY_BYTES_MAX = 16 * 1024 * 1024;
export const PROMETHEUS_DECODED_BYTES_MAX = 64 * 1024 * 1024;

/** The remote read response type this server answers with (SAMPLES = 0). */
const SAMPLES = 0;

export class PrometheusRemote {
  readonly tables: MetricTables;
  readonly bodyBytesMax: number;
  readonly decodedBytesMax: number;
  private readonly writeSamplesMax: number;
  private readonly readSamplesMax: number;

  constructor(db: Quiver, limits: PrometheusLimits = {}, private readonly hooks: PrometheusHooks = {}) {
    this.tables = new MetricTables(db);
    this.bodyBytesMax = limits.bodyBytesMax ?? PROMETHEUS_BODY_BYTES_MAX;
    this.decodedBytesMax = limits.decodedBytesMax ?? PROMETHEUS_DECODED_BYTES_MAX;
    this.writeSamplesMax = limits.writeSamplesMax ?? SAMPLES_PER_WRITE_MAX;
    this.readSamplesMax = limits.readSamplesMax ?? READ_SAMPLES_MAX;
  }

  /**
   * A remote write body (a snappy block of a WriteRequest): resolves once its samples are
   * durable; the outcome lists refused series. InputError (400) when the body is not a
   * WriteRequest, LimitExceededError (413) past a limit: nothing is written then.
   */
  async write(body: Uint8Array): Promise<WriteOutcome> {
    const request = decodeWriteRequest(snappyDecode(body, this.decodedBytesMax, 'remote write body'), this.writeSamplesMax);
    const outcome = await writeSamples(this.tables, request, this.hooks.append?.bind(this.hooks));
    this.hooks.written?.(outcome.samples);
    return outcome;
  }

  /** A remote read body (a snappy block of a ReadRequest) → the snappy block of its ReadResponse. */
  async read(body: Uint8Array): Promise<Buffer> {
    const { queries, acceptedTypes } = decodeReadRequest(snappyDecode(body, this.decodedBytesMax, 'remote read body'));
    if (acceptedTypes.length > 0 && !acceptedTypes.includes(SAMPLES)) {
      throw new InputError(`remote read: the client accepts response types ${acceptedTypes.join(', ')}; Quiver answers SAMPLES (0) only`);
    }
    const reader = new RemoteReader(this.tables, this.readSamplesMax);
    const results = [];
    for (const q of queries) results.push(await reader.query(q));
    return snappyEncode(encodeReadResponse(results).bytes());
  }
}
