/**
 * Raw ChunkManager throughput on chunk-sized objects: local directory vs S3 (Ceph RGW) vs
 * Azure (Azurite), all on this machine. Per store: put and get of N objects (MB/s, requests),
 * getRanges of the column ranges a scan would ask for (requests actually sent after
 * coalescing, ms), and conditional creates of small manifests (ms each).
 *
 * Usage: eval "$(scripts/object-stores.sh start)"; node dist/bench/object-store/raw.js
 *          [--objects 16] [--object-mib 4] [--concurrency 4]
 * (also the first section of `npm run bench:object-store`). Stores whose environment
 * variables are not set are left out, with a note.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { ByteRange, ChunkManager } from '../../src/chunk-manager/chunk-manager.js';
import { LocalChunkManager } from '../../src/chunk-manager/local.js';
import { S3ChunkManager } from '../../src/chunk-manager/s3.js';
import { AzureChunkManager } from '../../src/chunk-manager/azure.js';
import { mapLimit } from '../../src/chunk-manager/semaphore.js';
import { AlreadyExistsError } from '../../src/errors.js';

export interface RawBenchOptions {
  objects: number;
  objectBytes: number;
  concurrency: number;
}

interface Store {
  label: string;
  cm: ChunkManager;
  /** Requests the backend really sent for single-range reads (after coalescing), or null (mmap). */
  rangeRequests: () => number | null;
  cleanup(): Promise<void>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbPerS = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(0);

/** Counts calls of a backend's own getRange: its getRanges sends one per coalesced range. */
function countRangeRequests(cm: S3ChunkManager | AzureChunkManager): () => number {
  let n = 0;
  const original = cm.getRange.bind(cm);
  cm.getRange = (key, offset, length) => { n++; return original(key, offset, length); };
  return () => n;
}

async function openStores(dir: string, run: string): Promise<Store[]> {
  const local = new LocalChunkManager(join(dir, 'local'));
  const stores: Store[] = [{ label: 'local (mmap)', cm: local, rangeRequests: () => null, cleanup: async () => {} }];
  if (process.env.S3_ENDPOINT) {
    const cm = await S3ChunkManager.fromUrl(new URL(`s3://bench-raw-${run}/raw?endpoint=${encodeURIComponent(process.env.S3_ENDPOINT)}`));
    stores.push({ label: 's3 (Ceph RGW)', cm, rangeRequests: countRangeRequests(cm), cleanup: async () => cm.delete(await cm.list('')) });
  } else console.log('(S3_ENDPOINT not set: no S3 figures)');
  if (process.env.AZURE_STORAGE_CONNECTION_STRING) {
    const cm = await AzureChunkManager.fromUrl(new URL(`az://bench-raw-${run}/raw`));
    stores.push({ label: 'azure (Azurite)', cm, rangeRequests: countRangeRequests(cm), cleanup: async () => cm.delete(await cm.list('')) });
  } else console.log('(AZURE_STORAGE_CONNECTION_STRING not set: no Azure figures)');
  return stores;
}

/**
 * The ranges a one-column scan of a packed chunk asks for: the footer at the end, and 3 of
 * 12 column chunks (two neighbours, one far), each ~1/12 of the object.
 */
function scanRanges(objectBytes: number): ByteRange[] {
  const column = Math.floor((objectBytes - 64 * 1024) / 12);
  return [
    { offset: objectBytes - 64 * 1024, length: 64 * 1024 },
    { offset: 2 * column, length: column },
    { offset: 3 * column, length: column },
    { offset: 9 * column, length: column },
  ];
}

export async function rawBench(options: RawBenchOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-raw-'));
  const run = randomBytes(3).toString('hex');
  const { objects, objectBytes, concurrency } = options;
  const payloads = Array.from({ length: objects }, (_, i) => randomBytes(objectBytes).map((b, j) => (j % 3 === 0 ? b : (i + j) & 0x0f)));
  const total = objects * objectBytes;
  console.log(`\n## raw store throughput: ${objects} objects × ${(objectBytes / 2 ** 20).toFixed(1)} MiB, ${concurrency} in flight\n`);
  console.log('| store | put MB/s | get MB/s | getRanges (4 ranges/object) ms/object | requests sent for 4 ranges | conditional create ms (median of 20) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const stores = await openStores(dir, run);
  try {
    for (const s of stores) {
      const key = (i: number) => `cpu/chunks/${String(i).padStart(4, '0')}.qvr`;
      let t0 = performance.now();
      await mapLimit(payloads, concurrency, (p, i) => s.cm.put(key(i), p));
      const putMs = performance.now() - t0;
      t0 = performance.now();
      const got = await mapLimit(payloads, concurrency, (_, i) => s.cm.get(key(i)));
      const getMs = performance.now() - t0;
      if (got.some((g, i) => g.length !== payloads[i]!.length || g[12345 % g.length] !== payloads[i]![12345 % g.length])) throw new Error(`${s.label}: read back differs`);
      const ranges = scanRanges(objectBytes);
      const before = s.rangeRequests();
      t0 = performance.now();
      await mapLimit(payloads, concurrency, (_, i) => s.cm.getRanges(key(i), ranges));
      const rangesMs = (performance.now() - t0) / objects;
      const sent = before === null ? null : (s.rangeRequests()! - before) / objects;
      const commitMs: number[] = [];
      for (let v = 1; v <= 20; v++) {
        const t = performance.now();
        await s.cm.put(`cpu/_manifest/${String(v).padStart(20, '0')}.json`, new TextEncoder().encode(`{"version":${v}}`), { ifAbsent: true });
        commitMs.push(performance.now() - t);
      }
      try {
        await s.cm.put(`cpu/_manifest/${String(1).padStart(20, '0')}.json`, new Uint8Array(1), { ifAbsent: true });
        throw new Error(`${s.label}: a second conditional create succeeded`);
      } catch (error) {
        if (!(error instanceof AlreadyExistsError)) throw error;
      }
      console.log(`| ${s.label} | ${mbPerS(total, putMs)} | ${mbPerS(total, getMs)} | ${rangesMs.toFixed(1)} | ${sent === null ? 'n/a (mmap)' : sent.toFixed(0)} | ${median(commitMs).toFixed(1)} |`);
    }
  } finally {
    for (const s of stores) await s.cleanup().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

export function rawBenchOptionsFromArgs(): RawBenchOptions {
  return { objects: arg('objects', 16), objectBytes: Math.round(arg('object-mib', 4) * 2 ** 20), concurrency: arg('concurrency', 4) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await rawBench(rawBenchOptionsFromArgs());
