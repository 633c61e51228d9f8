/**
 * The float chain's decode kernel alone: the bench's cpu fields (ten random walks with two
 * decimals a host, pages of 8192 values as the writer cuts them) encoded with each rANS chain
 * given by --chains, then decoded page by page into one reused buffer (decodePage, as a
 * reader without a cache does). CPU time of the process per value, median of the rounds,
 * chains alternating round by round. Also prints each chain's encoded bytes.
 * Usage: `node dist/bench/queries/rans-kernel.js [--hosts N] [--rounds N] [--chains a,b] [--dump FILE]`.
 * --dump FILE writes the first chain's native deltaRans calls (arguments and the values they
 * decoded) for the C++ driver of the kernel alone, bench/queries/rans-kernel-driver.cc.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { decodePage, encodePage } from '../../src/format/encodings/registry.js';
import { DEFAULT_PAGE_ROWS } from '../../src/format/chunk.js';
import { decodeKernels } from '../../src/format/encodings/kernels.js';
import { CPU_DEFAULTS, hostBlock } from './cpu-data.js';

const { values: args } = parseArgs({ options: { hosts: { type: 'string' }, rounds: { type: 'string' }, chains: { type: 'string' }, dump: { type: 'string' } } });
const hosts = Number(args.hosts ?? 100);
const rounds = Number(args.rounds ?? 7);
const chains = (args.chains ?? 'alp>delta>zigzag>rans,alp>delta>zigzag>rans2').split(',');

// Per field, the hosts' values back to back, cut into pages.
const pages: Float64Array[] = [];
const columns: Float64Array[][] = Array.from({ length: 10 }, () => []);
for (let h = 0; h < hosts; h++) hostBlock(CPU_DEFAULTS, h).fields.forEach((f, c) => columns[c]!.push(f));
for (const parts of columns) {
  const all = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  for (let s = 0; s < all.length; s += DEFAULT_PAGE_ROWS) pages.push(all.subarray(s, Math.min(all.length, s + DEFAULT_PAGE_ROWS)));
}
const values = pages.reduce((s, p) => s + p.length, 0);
const encoded = new Map(chains.map((chain) => [chain, pages.map((p) => encodePage({ kind: 'f64', values: p }, { encoding: chain }))]));
const into = new Uint8Array(DEFAULT_PAGE_ROWS * 8);
for (const [chain, list] of encoded) {
  list.forEach((e, k) => {
    const got = decodePage(e.encoding, e.bytes, 'f64', pages[k]!.length, into.subarray(0, pages[k]!.length * 8));
    const want = pages[k]!;
    const v = (got as { values: Float64Array }).values;
    for (let i = 0; i < want.length; i++) if (!Object.is(v[i], want[i])) throw new Error(`${chain}: page ${k} value ${i} decoded ${v[i]}, wrote ${want[i]}`);
  });
}
if (args.dump !== undefined) {
  // Per call: n, s, lanes, first, step, divisor, stream bytes, low bytes, zigzag (9 doubles),
  // freq (256 × u16), stream, low, the n decoded doubles.
  const kernel = decodeKernels.deltaRans;
  if (!kernel) throw new Error('--dump needs the native addon');
  const parts: Uint8Array[] = [];
  decodeKernels.deltaRans = (freq, stream, low, s, n, lanes, first, step, divisor, out, zigzag) => {
    const status = kernel(freq, stream, low, s, n, lanes, first, step, divisor, out, zigzag);
    const head = Float64Array.of(n, s, lanes, first, step, divisor, stream.length, low.length, zigzag === false ? 0 : 1);
    parts.push(new Uint8Array(head.buffer), new Uint8Array(freq.buffer, freq.byteOffset, freq.byteLength).slice(), stream.slice(), low.slice(), new Uint8Array(out.buffer, out.byteOffset, n * 8).slice());
    return status;
  };
  const list = encoded.get(chains[0]!)!;
  list.forEach((e, k) => decodePage(e.encoding, e.bytes, 'f64', pages[k]!.length, into.subarray(0, pages[k]!.length * 8)));
  decodeKernels.deltaRans = kernel;
  writeFileSync(args.dump, Buffer.concat(parts));
  console.log(`${args.dump}: ${parts.length / 5} deltaRans calls of ${chains[0]}`);
}
const ns: Record<string, number[]> = Object.fromEntries(chains.map((c) => [c, []]));
for (let r = 0; r < rounds; r++) {
  for (const chain of chains) {
    const list = encoded.get(chain)!;
    const start = process.cpuUsage();
    for (let k = 0; k < list.length; k++) decodePage(list[k]!.encoding, list[k]!.bytes, 'f64', pages[k]!.length, into.subarray(0, pages[k]!.length * 8));
    const used = process.cpuUsage(start);
    ns[chain]!.push(((used.user + used.system) * 1000) / values);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`${values.toLocaleString('en-US')} float values in ${pages.length} pages; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const chain of chains) {
  const m = median(ns[chain]!);
  const bytes = encoded.get(chain)!.reduce((s, e) => s + e.bytes.length, 0);
  console.log(`${chain}: ${m.toFixed(3)} ns/value CPU (median of ${rounds}), ${(1e3 / m).toFixed(0)} M values/s; ${bytes.toLocaleString('en-US')} bytes (${((bytes * 8) / values).toFixed(3)} bits/value)`);
}
