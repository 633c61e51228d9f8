import { parentPort } from 'node:worker_threads';
import { toWireError } from '../errors.js';
import { valueWidthOf } from './column-kind.js';
import type { DecodeReply, DecodeRequest, DecodedPageWire } from './decode-pool.js';
import { decodeStoredPage } from './page-decode.js';
import type { DecodedPage } from './types.js';

/**
 * A decode worker (see decode-pool.ts): decodes runs of stored pages and sends the values back
 * as transferred buffers. Fixed-width pages of a run decode into one buffer, so the main thread
 * joins them into one Arrow buffer without a copy.
 */

const port = parentPort;
if (port === null) throw new Error('decode-worker.js runs as a worker thread');

port.on('message', (request: DecodeRequest) => {
  try {
    port.postMessage(...decodeRun(request));
  } catch (error) {
    const reply: DecodeReply = { id: request.id, error: toWireError(error) };
    port.postMessage(reply);
  }
});
port.postMessage({ ready: true });

function decodeRun(request: DecodeRequest): [DecodeReply, ArrayBuffer[]] {
  const { column, bytes } = request;
  const width = valueWidthOf(column.type);
  let rows = 0;
  for (const p of request.pages) rows += p.page.rows;
  const joined = width > 0 ? request.into ?? new Uint8Array(rows * width) : null;
  if (joined !== null && joined.length !== rows * width) throw new Error(`decode worker: a destination of ${joined.length} bytes for ${rows} values of ${width} bytes`);
  const transfer: ArrayBuffer[] = joined ? [joined.buffer as ArrayBuffer] : [];
  const pages: DecodedPageWire[] = [];
  let at = 0;
  for (const { p, page, start, end } of request.pages) {
    const into = joined ? joined.subarray(at, at + page.rows * width) : undefined;
    at += page.rows * width;
    const decoded = decodeStoredPage(request.chunk, column, p, page, bytes.subarray(start, end), false, into);
    pages.push(toWire(decoded, into, transfer));
  }
  return [{ id: request.id, pages, joined }, transfer];
}

/** Values owned by fresh buffers (the joined one, or exact copies) that can be transferred. */
function toWire(page: DecodedPage, into: Uint8Array | undefined, transfer: ArrayBuffer[]): DecodedPageWire {
  const own = <T extends Uint8Array | Int32Array>(a: T): T => {
    const copy = a.slice() as T;
    transfer.push(copy.buffer as ArrayBuffer);
    return copy;
  };
  const validity = page.validity === null ? null : own(page.validity);
  const v = page.values;
  if (into !== undefined && (v.kind === 'i64' || v.kind === 'f64' || v.kind === 'i32')) {
    // A decoder that did not write into the joined buffer: copy its values there.
    if (v.values.buffer !== into.buffer) into.set(new Uint8Array(v.values.buffer, v.values.byteOffset, v.values.byteLength));
    return { page: page.page, rows: page.rows, nullCount: page.nullCount, kind: v.kind, byteOffset: into.byteOffset, validity };
  }
  if (into !== undefined && v.kind === 'fixed') {
    if (v.data.buffer !== into.buffer) into.set(v.data);
    return { page: page.page, rows: page.rows, nullCount: page.nullCount, kind: 'fixed', width: v.width, byteOffset: into.byteOffset, validity };
  }
  if (v.kind === 'bool') return { page: page.page, rows: page.rows, nullCount: page.nullCount, kind: 'bool', bits: own(v.bits), validity };
  if (v.kind === 'utf8') return { page: page.page, rows: page.rows, nullCount: page.nullCount, kind: 'utf8', offsets: own(v.offsets), data: own(v.data), validity };
  throw new Error(`decode worker: fixed-width ${v.kind} page without a joined buffer`);
}
