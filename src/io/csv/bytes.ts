import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DecompressStream } from 'zstd-napi';
import { InputError } from '../../errors.js';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = 0xfd2fb528;

/**
 * A CSV's bytes, decompressed when the name ends in .gz/.zst or the first bytes are a gzip
 * or zstd magic (so compressed stdin works too). `counter` counts the raw bytes read.
 */
export async function* csvBytes(file: string, counter: { bytes: number }, raw?: Readable): AsyncGenerator<Buffer> {
  const input: Readable = raw ?? (file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 }));
  const counted = (async function* () {
    for await (const chunk of input) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      counter.bytes += b.length;
      yield b;
    }
  })();
  const first = await counted.next();
  if (first.done) return;
  const head = first.value;
  const lower = file.toLowerCase();
  const gzip = lower.endsWith('.gz') || (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]);
  const zstd = lower.endsWith('.zst') || (head.length >= 4 && head.readUInt32LE(0) === ZSTD_MAGIC);
  if (!gzip && !zstd) {
    yield head;
    yield* counted;
    return;
  }
  const source = Readable.from((async function* () { yield head; yield* counted; })(), { objectMode: false });
  const decompressor = gzip ? createGunzip() : new DecompressStream();
  const out = pipeline(source, decompressor, () => {});
  try {
    for await (const chunk of out) yield chunk as Buffer;
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${file}: corrupt ${gzip ? 'gzip' : 'zstd'} data: ${(error as Error).message}`, file);
  }
}
