/**
 * Where a full-table decode of the query bench's cpu data spends its time, stage by stage,
 * in CPU time per value (issue 18: "which part of the remaining time is what"). Each stage is
 * timed alone over the same pages, in the order a scan runs them:
 *   read     the page bytes copied out of the mapped chunk files (readRangesInto, reused buffer)
 *   crc      CRC-32 of every page
 *   decode   each column kind's pages decoded into reused buffers, CRC already checked
 *            (floats: the rANS + delta + ALP kernel; time: delta>rle; tags: rle runs)
 *   readPages   ChunkReader.readPages: read + crc + decode + its own bookkeeping
 *   read()      ChunkReader.read: readPages + Arrow assembly (Data, RecordBatch)
 *   scan        table.scan({}) with each batch released: read() + the scan's planning,
 *               windows and garbage collection
 * Differences between the nested lines give the bookkeeping, Arrow assembly and scan shares.
 * Usage: `node dist/bench/queries/decode-stages.js [--hosts N] [--passes N]` (after `npm run build:ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Quiver } from '../../src/quiver.js';
import { LocalChunkManager } from '../../src/chunk-manager/local.js';
import { storeSource } from '../../src/table/store-source.js';
import { openChunk, type ChunkReader } from '../../src/format/chunk-reader.js';
import { crc32 } from '../../src/format/crc32.js';
import { decodeColumnOf, decodeStoredPage } from '../../src/format/page-decode.js';
import { valueWidthOf } from '../../src/format/column-kind.js';
import { decodeBuffers, releaseBatch } from '../../src/format/buffer-pool.js';
import { CPU_DEFAULTS, writeCpuTable } from './cpu-data.js';

const { values: args } = parseArgs({ options: { hosts: { type: 'string' }, passes: { type: 'string' } } });
const opts = { ...CPU_DEFAULTS, hosts: Number(args.hosts ?? CPU_DEFAULTS.hosts) };
const passes = Number(args.passes ?? 15);
/** Pages per window: the scan reads SCAN_WINDOW_ROWS (65,536) rows at a time, 8 pages of the cpu data. */
const WINDOW_PAGES = 8;

const cpuMs = (fn: () => void | Promise<void>) => async (): Promise<number> => {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-stages-'));
try {
  const writer = await Quiver.open(dir);
  await writeCpuTable(writer, opts);
  await writer.close();

  const store = new LocalChunkManager(dir);
  const keys = (await store.list('cpu/chunks/')).filter((k) => k.endsWith('.qvr'));
  const readers: ChunkReader[] = [];
  for (const key of keys) readers.push(await openChunk(storeSource(store, key, await store.size(key))));
  let values = 0;
  for (const r of readers) values += r.footer.pageRowStarts[r.pageCount]! * r.footer.columns.length;
  const windows = (r: ChunkReader): number[][] => {
    const out: number[][] = [];
    for (let p = 0; p < r.pageCount; p += WINDOW_PAGES) out.push(Array.from({ length: Math.min(WINDOW_PAGES, r.pageCount - p) }, (_, k) => p + k));
    return out;
  };
  // The stored bytes of every page, read once, for the crc and decode stages.
  const stored = new Map<ChunkReader, Uint8Array[][]>();
  let storedBytesTotal = 0;
  for (const r of readers) {
    stored.set(r, await Promise.all(r.footer.columns.map(async (c) => Promise.all(c.pages.map((p) => store.getRange(r.name, p.offset, p.length))))));
    for (const c of r.footer.columns) for (const p of c.pages) storedBytesTotal += p.length;
  }
  const readBuffer = new Uint8Array(storedBytesTotal);
  const read = cpuMs(async () => {
    for (const r of readers) for (const w of windows(r)) {
      const ranges = r.footer.columns.map((c) => ({ offset: c.pages[w[0]!]!.offset, length: c.pages[w[w.length - 1]!]!.offset + c.pages[w[w.length - 1]!]!.length - c.pages[w[0]!]!.offset }));
      let total = 0;
      for (const x of ranges) total += x.length;
      await store.getRangesInto(r.name, ranges, readBuffer.subarray(0, total));
    }
  });
  const crc = cpuMs(() => {
    for (const r of readers) for (const pages of stored.get(r)!) for (const bytes of pages) crc32(bytes);
  });
  const outputs = new Map<number, Uint8Array>();
  const decodeRole = (role: 'time' | 'tag' | 'field') => cpuMs(() => {
    for (const r of readers) {
      const s = stored.get(r)!;
      r.footer.columns.forEach((c, ci) => {
        if (c.role !== role) return;
        const column = decodeColumnOf(c);
        const width = valueWidthOf(c.type);
        c.pages.forEach((p, pi) => {
          const bytes = p.rows * width;
          let into = outputs.get(bytes);
          if (into === undefined) { into = new Uint8Array(bytes); outputs.set(bytes, into); }
          decodeStoredPage(r.name, column, pi, p, s[ci]![pi]!, true, into);
        });
      });
    }
  });
  const readPages = cpuMs(async () => {
    const all = readers[0]!.footer.columns.map((_, i) => i);
    for (const r of readers) for (const w of windows(r)) {
      // Its column buffers go back to the decode buffer pool, as a released batch's do.
      for (const pages of await r.readPages(all, w, undefined, true)) {
        const v = pages[0]!.values;
        if (v.kind === 'f64' || v.kind === 'i64' || v.kind === 'i32') decodeBuffers.give(v.values.buffer);
      }
    }
  });
  const readArrow = cpuMs(async () => {
    for (const r of readers) for (const w of windows(r)) releaseBatch(await r.read({ pages: w, uncached: true }));
  });
  const db = await Quiver.open(dir, { decodedCacheBytes: 0, decodeThreads: 0 });
  const table = await db.table('cpu');
  const scan = cpuMs(async () => {
    for await (const batch of table.scan({})) releaseBatch(batch);
  });

  // Stages interleaved pass by pass, so each sees the same share of the machine's load.
  const stages = [
    ['read (copy out of the mapped files)', read], ['crc', crc],
    ['decode floats (10 columns)', decodeRole('field')], ['decode time', decodeRole('time')], ['decode tags (10 columns)', decodeRole('tag')],
    ['readPages (read + crc + decode + bookkeeping)', readPages], ['read() (readPages + Arrow assembly)', readArrow], ['scan, batches released', scan],
  ] as const;
  const samples: number[][] = stages.map(() => []);
  for (let pass = -1; pass < passes; pass++) {
    for (let i = 0; i < stages.length; i++) {
      const ms = await stages[i]![1]();
      if (pass >= 0) samples[i]!.push(ms); // pass -1 warms up
    }
  }
  const rows = stages.map(([name], i) => [name, samples[i]!.sort((a, b) => a - b)[samples[i]!.length >> 1]!] as const);
  console.log(`cpu: ${values.toLocaleString('en-US')} values (${readers.length} chunks, ${(storedBytesTotal / 1e6).toFixed(2)} MB stored); median of ${passes} passes, stages interleaved; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const [name, ms] of rows) console.log(`${name.padEnd(48)} ${ms.toFixed(2).padStart(8)} ms CPU  ${(ms * 1e6 / values).toFixed(2).padStart(6)} ns/value  ${(values / ms / 1e3).toFixed(0).padStart(6)} M values/s`);
  await db.close();
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
