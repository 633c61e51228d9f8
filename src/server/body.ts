/**
 * A request body as a stream of byte chunks, decompressed (Content-Encoding gzip) as it
 * arrives, with a limit on the bytes after decompression (413: the sender sees the limit
 * before anything is written when Content-Length already says too much).
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import { RequestError } from '../errors.js';

function tooLarge(max: number, what?: string): RequestError {
  return new RequestError(413, `request body${what ? ` ${what}` : ''} exceeds the limit of ${max} bytes (split the write into smaller batches)`);
}

/** Refuses a body whose declared length is over `max` before reading it. */
export function checkDeclaredLength(req: IncomingMessage, max: number): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) throw tooLarge(max, `of ${declared} bytes`);
}

/** The request's Content-Encoding, trimmed and lower-cased ('identity' when absent). */
export function contentEncoding(req: IncomingMessage): string {
  return (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
}

/**
 * The body's bytes, decoded. Encodings: identity, gzip (x-gzip); others are 415. The limit
 * applies to the decompressed bytes (a small gzip bomb is 413 too); `gzip: false` is for
 * protocols that compress inside the body (snappy) and accept only identity here.
 */
export async function* readBody(req: IncomingMessage, max: number, options: { gzip?: boolean } = {}): AsyncGenerator<Buffer> {
  const encoding = contentEncoding(req);
  let source: AsyncIterable<Buffer>;
  if (encoding === 'identity' || encoding === '') {
    checkDeclaredLength(req, max);
    source = req;
  } else if ((encoding === 'gzip' || encoding === 'x-gzip') && options.gzip !== false) {
    const gunzip = createGunzip();
    req.on('error', (error) => gunzip.destroy(error));
    req.pipe(gunzip);
    source = gunzip;
  } else {
    throw new RequestError(415, `Content-Encoding ${JSON.stringify(encoding)} is not supported (identity or gzip)`);
  }
  let total = 0;
  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > max) throw tooLarge(max, encoding === 'identity' || encoding === '' ? undefined : 'after decompression');
      yield chunk;
    }
  } catch (error) {
    if (error instanceof RequestError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) throw new RequestError(400, `gzip body does not decompress: ${(error as Error).message}`);
    if (code === 'ECONNRESET' || (error as Error).message === 'aborted') throw new RequestError(400, 'request body ended early (client disconnected)');
    throw error;
  } finally {
    if (source !== req) (source as NodeJS.ReadableStream & { destroy(): void }).destroy();
  }
}
