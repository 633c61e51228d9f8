/**
 * Worker threads that parse line-protocol request bodies, so that a write's parsing runs on
 * other cores while the main thread appends, logs and acknowledges the windows already parsed.
 *
 * ```
 * write route ─ body bytes (≤ MESSAGE_BYTES, one copy, transferred) ─► worker k (fewest bytes queued)
 *     ▲                                                                 LineBody: split, parse, windows
 *     └── windows as column buffers (transferred), rows held; at the end the refused lines ◄──┘
 * main thread: table creation, new fields and tags, lineBatch, WAL append + group commit, 204/400
 * ```
 *
 * A body is one job on one worker (its splitter and parser keep their state between messages);
 * a request has at most one message in flight, so what waits for a worker is bounded by the
 * requests the memory budget admits. A worker that throws answers that job with an error; a
 * worker that dies fails its jobs (their requests answer 500, saying how many points of earlier
 * windows were written) and is replaced. Until a worker is ready, bodies are parsed inline.
 */
import { fromWireError, QuiverError, UsageError, type WireError } from '../errors.js';
import { awaitLoaded, countReady, endWorkers, failTasks, loadSignal, startWorker, takeTask, type WorkerSlot } from '../native/worker-pool.js';
import type { LineSeries } from './line-protocol.js';
import type { BadLine, BodyEnd, BodyParse, LineBodyOptions } from './line-body.js';
import type { FieldBuilder, LineWindow, MeasurementData, TagData } from './line-columns.js';
import { PARSE_THREADS_MAX } from './settings.js';

/** Body bytes sent to a worker at once: bounds the windows one reply carries (and what it holds). */
export const MESSAGE_BYTES = 512 * 1024;
/**
 * Message buffers (MESSAGE_BYTES plus one body chunk) come back with their reply and are
 * reused, so the main thread copies into warm memory instead of fresh pages; at most this
 * many are kept.
 */
const SPARE_BUFFERS_MAX = 16;
const SPARE_BUFFER_BYTES = MESSAGE_BYTES + 256 * 1024;
/** A measurement's columns as they cross threads (typed arrays transferred; strings cloned). */
export interface WireMeasurement {
  measurement: string;
  rows: number;
  time: BigInt64Array;
  lines: Int32Array;
  seriesOf: Int32Array;
  series: LineSeries[];
  tags: TagData[];
  /** Field columns in the order of MeasurementData.fields (by name, then type). */
  fields: FieldBuilder[];
}

export type WireWindow = { rows: number; measurements: WireMeasurement[] };

export type ParseRequest = { job: number; start?: LineBodyOptions; bytes?: Uint8Array; end?: boolean; cancel?: boolean };
export type ParseReply = { job: number; windows?: WireWindow[]; rows?: number; errors?: BadLine[]; parsed?: number; error?: WireError; bytes?: Uint8Array };

/** Windows as plain objects and the buffers to transfer with them. */
export function toWire(windows: readonly LineWindow[]): [WireWindow[], ArrayBuffer[]] {
  const transfer = new Set<ArrayBuffer>();
  const add = (a: { buffer: ArrayBufferLike }) => { transfer.add(a.buffer as ArrayBuffer); };
  const wire = windows.map((w) => ({
    rows: w.rows,
    measurements: [...w.measurements.values()].map((m): WireMeasurement => {
      add(m.time); add(m.lines); add(m.seriesOf);
      const tags = [...m.tags.values()].map((t) => { add(t.codes); add(t.valid); return { name: t.name, codes: t.codes, valid: t.valid, values: t.values }; });
      const fields = [...m.fields.values()].flat().map((f) => {
        add(f.valid);
        if (!Array.isArray(f.values)) add(f.values);
        return { name: f.name, type: f.type, values: f.values, valid: f.valid, firstRow: f.firstRow };
      });
      return { measurement: m.measurement, rows: m.rows, time: m.time, lines: m.lines, seriesOf: m.seriesOf, series: [...m.seriesList], tags, fields };
    }),
  }));
  return [wire, [...transfer]];
}

export function fromWire(windows: readonly WireWindow[]): LineWindow[] {
  return windows.map((w) => {
    const measurements = new Map<string, MeasurementData>();
    for (const m of w.measurements) {
      const fields = new Map<string, FieldBuilder[]>();
      for (const f of m.fields) {
        const list = fields.get(f.name);
        if (list) list.push(f); else fields.set(f.name, [f]);
      }
      measurements.set(m.measurement, {
        measurement: m.measurement, rows: m.rows, time: m.time, lines: m.lines, seriesOf: m.seriesOf, seriesList: m.series,
        tags: new Map(m.tags.map((t) => [t.name, t])), fields,
      });
    }
    return { rows: w.rows, measurements };
  });
}

/** `pending`: replies awaited, by job. */
interface Slot extends WorkerSlot<{ resolve(reply: ParseReply): void; reject(error: Error): void }> {
  /** Body bytes sent and not yet answered. */
  queuedBytes: number;
  /** Set when the worker stopped: its jobs' state is gone. */
  failure?: Error;
  /** Settles when the worker has loaded (or failed to). */
  loaded: Promise<void>;
}

export class ParsePool {
  private slots: Slot[] = [];
  private nextJob = 1;
  private closed = false;
  private readonly spare: ArrayBuffer[] = [];
  /** Bodies parsed by workers (metrics, tests). */
  jobs = 0;
  /** Workers that stopped unexpectedly (replaced). */
  crashes = 0;

  constructor(readonly threads: number) {
    if (!Number.isInteger(threads) || threads < 1 || threads > PARSE_THREADS_MAX) throw new UsageError(`parse threads must be an integer in [1, ${PARSE_THREADS_MAX}], got ${threads}`);
  }

  /** Starts the workers (idempotent). */
  start(): void {
    if (this.closed || this.slots.length > 0) return;
    for (let i = 0; i < this.threads; i++) this.spawn();
  }

  get readyCount(): number {
    return countReady(this.slots);
  }

  /** Resolves once every worker has loaded (rejects when one failed to). */
  async whenReady(): Promise<void> {
    this.start();
    await awaitLoaded(this.slots);
  }

  /**
   * Terminates the worker parsing the most bytes now (tests of a crash: its jobs fail, a new
   * worker takes its place). Resolves once it has stopped.
   */
  async terminateOne(): Promise<void> {
    const slot = [...this.slots].sort((a, b) => b.queuedBytes - a.queuedBytes || b.pending.size - a.pending.size)[0];
    if (slot) await slot.worker.terminate();
  }

  /** A body parsed by the least busy ready worker (undefined: none is ready; parse inline). */
  open(options: LineBodyOptions): BodyParse | undefined {
    const slot = this.slots.filter((s) => s.ready).sort((a, b) => a.queuedBytes - b.queuedBytes)[0];
    if (!slot) return undefined;
    this.jobs++;
    const job = this.nextJob++;
    let started = false;
    let chunks: Buffer[] = [];
    let bytes = 0;
    let rows = 0;
    let done = false;
    const send = async (end: boolean): Promise<ParseReply> => {
      if (slot.failure) throw new QuiverError(`line protocol parse worker stopped: ${slot.failure.message}`, { cause: slot.failure });
      // Up to the last newline (the rest goes with the next message), so that the worker's
      // splitter rarely holds a partial line to join with the next bytes.
      const last = chunks[chunks.length - 1]!;
      const nl = end ? -1 : last.lastIndexOf(0x0a);
      const tail = nl < 0 ? undefined : last.subarray(nl + 1);
      if (tail) chunks[chunks.length - 1] = last.subarray(0, nl + 1);
      const size = bytes - (tail?.length ?? 0);
      const buffer = size <= SPARE_BUFFER_BYTES ? this.spare.pop() ?? new ArrayBuffer(SPARE_BUFFER_BYTES) : new ArrayBuffer(size);
      const data = new Uint8Array(buffer, 0, size);
      let at = 0;
      for (const c of chunks) { data.set(c, at); at += c.length; }
      chunks = tail && tail.length > 0 ? [tail] : [];
      bytes = tail?.length ?? 0;
      const request: ParseRequest = { job, bytes: data, ...(started ? {} : { start: options }), ...(end ? { end } : {}) };
      started = true;
      slot.queuedBytes += size;
      try {
        const reply = await new Promise<ParseReply>((resolve, reject) => {
          if (slot.pending.size === 0) slot.worker.ref();
          slot.pending.set(job, { resolve, reject });
          slot.worker.postMessage(request, [data.buffer]);
        });
        if (reply.bytes && reply.bytes.buffer.byteLength === SPARE_BUFFER_BYTES && this.spare.length < SPARE_BUFFERS_MAX) this.spare.push(reply.bytes.buffer as ArrayBuffer);
        // The worker's error as its class (the same error the inline parse throws).
        if (reply.error !== undefined) throw fromWireError(reply.error);
        rows = reply.rows ?? rows;
        return reply;
      } finally {
        slot.queuedBytes -= size;
      }
    };
    return {
      push: async (chunk) => {
        chunks.push(chunk);
        bytes += chunk.length;
        if (bytes < MESSAGE_BYTES) return { windows: [], rows };
        const reply = await send(false);
        return { windows: fromWire(reply.windows ?? []), rows };
      },
      end: async (): Promise<BodyEnd> => {
        const reply = await send(true);
        done = true;
        return { windows: fromWire(reply.windows ?? []), errors: reply.errors ?? [], parsed: reply.parsed ?? 0 };
      },
      close: () => {
        if (done || !started || slot.failure || this.closed) return;
        done = true;
        const cancel: ParseRequest = { job, cancel: true };
        slot.worker.postMessage(cancel);
      },
    };
  }

  /** Stops the workers (after the requests using them have finished). */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    await endWorkers(slots, (s) => this.fail(s, new QuiverError('line protocol parse pool closed')));
  }

  private spawn(): void {
    const worker = startWorker(new URL('./parse-worker.js', import.meta.url));
    const { loaded, settle: settleLoad } = loadSignal();
    const slot: Slot = { worker, ready: false, pending: new Map(), queuedBytes: 0, loaded };
    worker.on('message', (message: ParseReply | { ready: true }) => {
      if ('ready' in message) { slot.ready = true; settleLoad(); return; }
      takeTask(slot, message.job)?.resolve(message);
    });
    const die = (error: Error) => {
      if (slot.failure) return;
      const wasReady = slot.ready;
      slot.ready = false;
      settleLoad(error);
      this.slots = this.slots.filter((s) => s !== slot);
      this.fail(slot, error);
      if (this.closed) return;
      this.crashes++;
      // A worker that never loaded would fail again: bodies are parsed inline from then on.
      if (wasReady) this.spawn();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
    worker.unref();
    this.slots.push(slot);
  }

  private fail(slot: Slot, error: Error): void {
    slot.failure ??= error;
    failTasks(slot, new QuiverError(`line protocol parse worker stopped: ${error.message}`, { cause: error }));
  }
}
