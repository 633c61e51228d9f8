import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { ByteBuffer } from 'flatbuffers';
import { Message } from 'apache-arrow/fb/message';
import { RecordBatch as RecordBatchFb } from 'apache-arrow/fb/record-batch';
import { Footer } from 'apache-arrow/fb/footer';
import { MessageHeader } from 'apache-arrow/fb/message-header';

const ROWS = 3000;
const SEED = 0xa770;
const arrowModule = new URL('../../src/io/arrow.js', import.meta.url).href;

function table() {
  return tableFromArrays({
    time: BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(Date.UTC(2026, 0, 1) + i * 1000) * 1_000_000n),
    host: Array.from({ length: ROWS }, (_, i) => `h${i % 7}`),
    v: Float64Array.from({ length: ROWS }, (_, i) => i * 0.25),
  });
}

function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

/**
 * Imports each file in a child process (a hang must not hang the suite: the child is killed
 * after a minute) and returns, per file, 'rows N' or the error's name and message.
 */
function importEach(files: string[]): string[] {
  const script = `
    const { readArrowFile } = await import(${JSON.stringify(arrowModule)});
    const out = [];
    for (const file of JSON.parse(process.argv[1])) {
      try {
        let rows = 0;
        for await (const b of readArrowFile(file, { bytes: 0 }, { time: 'time', tags: ['host'] })) rows += b.batch.numRows;
        out.push('rows ' + rows);
      } catch (e) { out.push(e.name + ': ' + e.message); }
    }
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(files)], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 26 });
  assert.equal(r.signal, null, `the import of ${files.length} files did not finish (killed by ${r.signal}; seed ${SEED})`);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

/** Positions of the first record batch message's metadata flatbuffer in an IPC stream. */
function firstRecordBatch(bytes: Uint8Array): { metaAt: number; message: Message } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 8 <= bytes.length;) {
    const length = view.getInt32(at + 4, true);
    const metaAt = at + 8;
    const message = Message.getRootAsMessage(new ByteBuffer(bytes.subarray(metaAt, metaAt + length)));
    if (message.headerType() === MessageHeader.RecordBatch) return { metaAt, message };
    at = metaAt + length + Number(message.bodyLength());
  }
  throw new Error('no record batch');
}

test(`random bytes and damaged Arrow IPC files and streams end in 'not a readable Arrow IPC …' without hanging (seed ${SEED})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-arrow-damage-'));
  try {
    const rand = random(SEED);
    const files: { file: string; kind: string }[] = [];
    const add = (kind: string, bytes: Uint8Array) => {
      const file = join(dir, `${files.length}.arrow`);
      writeFileSync(file, bytes);
      files.push({ file, kind });
    };
    for (let i = 0; i < 12; i++) add('random', Uint8Array.from({ length: 100 + Math.floor(rand() * 5000) }, () => Math.floor(rand() * 256)));

    const stream = tableToIPC(table(), 'stream');
    const fileFormat = tableToIPC(table(), 'file');
    // The first batch's buffer count raised to 0x0fffffff: apache-arrow would build that many descriptors.
    {
      const bytes = Uint8Array.from(stream);
      const { metaAt, message } = firstRecordBatch(bytes);
      const batch = message.header(new RecordBatchFb()) as RecordBatchFb;
      const vector = batch.bb!.__vector(batch.bb_pos + batch.bb!.__offset(batch.bb_pos, 8));
      new DataView(bytes.buffer).setUint32(metaAt + vector - 4, 0x0fffffff, true);
      add('buffer count', bytes);
    }
    // A negative metadata length in the stream (it made the reader step back to negative offsets).
    {
      const bytes = Uint8Array.from(stream);
      const { metaAt } = firstRecordBatch(bytes);
      new DataView(bytes.buffer).setInt32(metaAt - 4, -104585318, true);
      add('negative length', bytes);
    }
    // The file's footer lists one record batch block at offset -8 (before the file).
    {
      const bytes = Uint8Array.from(fileFormat);
      const view = new DataView(bytes.buffer);
      const footerLength = view.getInt32(bytes.length - 10, true);
      const footerAt = bytes.length - 10 - footerLength;
      const footer = Footer.getRootAsFooter(new ByteBuffer(bytes.subarray(footerAt, bytes.length - 10)));
      const blocks = footer.bb!.__vector(footer.bb_pos + footer.bb!.__offset(footer.bb_pos, 10));
      view.setBigInt64(footerAt + blocks, -8n, true);
      add('negative block', bytes);
    }
    for (const [kind, base] of [['mutated stream', stream], ['mutated file', fileFormat]] as const) {
      for (let i = 0; i < 40; i++) {
        const bytes = Uint8Array.from(base);
        const k = 1 + Math.floor(rand() * 4);
        for (let j = 0; j < k; j++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
        add(kind, bytes);
      }
    }
    add('intact stream', stream);
    add('intact file', fileFormat);

    const results = importEach(files.map((f) => f.file));
    for (const [i, { file, kind }] of files.entries()) {
      const result = results[i]!;
      if (kind.startsWith('intact')) assert.equal(result, `rows ${ROWS}`, kind);
      else if (kind === 'random' || kind === 'buffer count' || kind === 'negative length' || kind === 'negative block') {
        assert.match(result, new RegExp(`^InputError: ${file.replaceAll('/', '\\/')}: not a readable Arrow IPC (file|stream) \\(\\d+ bytes, after 0 rows\\): `), `${kind} (seed ${SEED}): ${result}`);
      } else {
        // A mutation may hit only values (Arrow IPC has no checksums): rows, or a typed input error.
        assert.match(result, /^(rows \d+|InputError: .*)$/, `${kind} ${file} (seed ${SEED}): ${result}`);
      }
    }
    assert.match(results[12]!, /buffers claims 268435455 elements/);
    assert.match(results[14]!, /block at -8 .* lies outside/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
