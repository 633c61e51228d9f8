/**
 * Local reads: the mapped file copied out by the addon under its SIGBUS guard (what
 * LocalChunkManager does) against positional reads (pread through fs.readSync on a kept
 * descriptor, what a store would do to avoid mmap), on the same files, interleaved run by
 * run; medians of `--runs` (default 15). Whole 4 MiB objects and random ranges of 4 KiB,
 * 64 KiB and 1 MiB. The OS page cache is warm for both.
 *
 * Usage: npm run build:ts && node dist/bench/object-store/local-reads.js [--runs 15]
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalChunkManager } from '../../src/chunk-manager/local.js';
import { rng } from '../rng.js';

const args = process.argv.slice(2);
const runs = (() => { const i = args.indexOf('--runs'); return i >= 0 ? Number(args[i + 1]) : 15; })();
const OBJECTS = 16;
const OBJECT_BYTES = 4 << 20;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-local-reads-'));
  try {
    const cm = new LocalChunkManager(dir);
    if (!cm.usesMmap) throw new Error('the native addon did not load: nothing to compare');
    const keys = Array.from({ length: OBJECTS }, (_, i) => `o/${i}.qvr`);
    for (const [i, key] of keys.entries()) await cm.put(key, new Uint8Array(OBJECT_BYTES).map((_, j) => (i + j * 31) & 0xff));
    const fds = keys.map((k) => openSync(join(dir, k), 'r'));
    const pread = (o: number, offset: number, length: number) => {
      const out = new Uint8Array(length);
      for (let done = 0; done < length;) {
        const n = readSync(fds[o]!, out, done, length - done, offset + done);
        if (n === 0) throw new Error('short read');
        done += n;
      }
      return out;
    };
    const random = rng(11);
    const cases: { label: string; reads: { o: number; offset: number; length: number }[] }[] = [
      { label: `whole ${OBJECT_BYTES >> 20} MiB objects`, reads: keys.map((_, o) => ({ o, offset: 0, length: OBJECT_BYTES })) },
      ...[4 << 10, 64 << 10, 1 << 20].map((length) => ({
        label: `random ${length >= 1 << 20 ? `${length >> 20} MiB` : `${length >> 10} KiB`} ranges`,
        reads: Array.from({ length: Math.min(4096, (64 << 20) / length) }, () => ({ o: Math.floor(random() * OBJECTS), offset: Math.floor(random() * (OBJECT_BYTES - length)), length })),
      })),
    ];
    console.log(`# local reads: mapped + guarded copy vs pread, ${OBJECTS} files of ${OBJECT_BYTES >> 20} MiB, median of ${runs} interleaved runs\n`);
    console.log('| reads | mmap + guarded copy MB/s | pread MB/s | pread time / mmap time |');
    console.log('|---|---:|---:|---:|');
    for (const c of cases) {
      const bytes = c.reads.reduce((s, r) => s + r.length, 0);
      const times = { mmap: [] as number[], pread: [] as number[] };
      for (let run = 0; run <= runs; run++) {
        for (const way of run % 2 ? (['mmap', 'pread'] as const) : (['pread', 'mmap'] as const)) {
          const t0 = performance.now();
          for (const r of c.reads) {
            if (way === 'mmap') await cm.getRange(keys[r.o]!, r.offset, r.length);
            else pread(r.o, r.offset, r.length);
          }
          if (run > 0) times[way].push(performance.now() - t0); // run 0 warms up
        }
      }
      const m = median(times.mmap);
      const p = median(times.pread);
      console.log(`| ${c.label} | ${(bytes / 1e6 / (m / 1000)).toFixed(0)} | ${(bytes / 1e6 / (p / 1000)).toFixed(0)} | ${(p / m).toFixed(2)} |`);
    }
    for (const fd of fds) closeSync(fd);
    await cm.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
