/**
 * What the fuzzer attacks. Each target makes valid seed inputs, reads a mutated input through
 * Quiver's real entry point, and says what counts as a correct outcome:
 *
 * - `acceptable`: the names of the typed errors (src/errors.ts) a damaged input may end in;
 * - `check` returns undefined when the data read back is correct, or a description of the
 *   silent change it found; it throws whatever the entry point throws (the runner classifies it).
 *
 * FUZZ_TARGETS (at the end) lists the targets `npm test` runs. Every target below can be run
 * on demand with QUIVER_FUZZ_TARGETS=name (see fuzz.test.ts).
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Field, Float64, Int64, RecordBatch, RecordBatchStreamWriter, Schema, Table as ArrowTable, TimeUnit, Timestamp, Utf8,
  makeData, Struct, tableFromIPC, tableToIPC, vectorFromArray, type Data,
} from 'apache-arrow';
import { Quiver } from '../../src/quiver.js';
import { importFiles } from '../../src/io/import.js';
import { bufferSource, openChunk, registerArrowCodecs, writeChunk, type BlockCodecId } from '../../src/format/index.js';
import { CorruptChunkError } from '../../src/errors.js';
import { crc32 } from '../../src/format/crc32.js';
import { rng } from '../../bench/rng.js';
import { makeBatches, type ColumnSpec } from '../format/helpers.js';
import { WriteAheadLog } from '../../src/table/wal.js';
import { mutate, TEXT_OPERATORS, type Mutation, type Random } from './mutate.js';

export interface Harness {
  /** Valid inputs; each case mutates one of them. */
  inputs: Uint8Array[];
  /** Reads the mutated input `mutation.bytes` (made from inputs[input]) in `dir` (empty, the case's own). */
  check(input: number, mutation: Mutation, dir: string, iteration: number): Promise<string | undefined>;
}

export interface Target {
  name: string;
  /** Typed errors (by name) a damaged input may end in. */
  acceptable: readonly string[];
  /** Cases per target in the default run (QUIVER_FUZZ_ITERATIONS overrides). */
  iterations: number;
  /** Text formats also get token-level edits (snippets, numbers, invalid UTF-8, lines). */
  text?: boolean;
  /** Structural operators of this format, mixed in with the byte-level ones. */
  operators?: readonly [string, number, (bytes: Uint8Array, random: Random) => { bytes: Uint8Array; what: string; at: number }][];
  /** Builds the seed inputs once per process, in `dir`. */
  setup(dir: string): Promise<Harness>;
}

// ---- canonical form of data: equality means bit for bit, -0 and NaN payloads included ----

function cell(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') {
    const bits = new DataView(new ArrayBuffer(8));
    bits.setFloat64(0, value);
    return `f${bits.getBigUint64(0).toString(16)}`;
  }
  return JSON.stringify(value);
}

/** Rows of batches as text lines (column names, then a line per row; timestamps as raw int64). */
export function canonical(batches: readonly RecordBatch[]): string[] {
  const out: string[] = [];
  for (const batch of batches) {
    out.push(batch.schema.fields.map((f) => `${f.name}:${f.type}`).join(','));
    const columns = batch.schema.fields.map((f, k) => ({ f, v: batch.getChildAt(k)! }));
    for (let i = 0; i < batch.numRows; i++) {
      out.push(columns.map(({ f, v }) => {
        if (!v.isValid(i)) return 'null';
        if (f.type instanceof Timestamp) {
          // The int64 buffer, not get() (which converts to milliseconds).
          let row = i;
          for (const d of v.data) {
            // A sliced Data keeps its offset but its values buffer may already start there.
            if (row < d.length) return `${(d.values as BigInt64Array)[d.values.length === d.length ? row : d.offset + row]}n`;
            row -= d.length;
          }
        }
        return cell(v.get(i));
      }).join(','));
    }
  }
  // Batch boundaries are not data: drop repeated header lines.
  return out.filter((line, k) => k === 0 || !(line === out[0] && batches.length > 1));
}

function differ(what: string, expected: string[], actual: string[]): string | undefined {
  if (expected.length === actual.length && expected.every((l, k) => l === actual[k])) return undefined;
  const k = expected.findIndex((l, i) => l !== actual[i]);
  const at = k < 0 ? expected.length : k;
  return `${what}: ${actual.length} lines read back, ${expected.length} expected; first difference at line ${at}: expected ${expected[at] ?? '(end)'}, got ${actual[at] ?? '(end)'}`;
}

async function scanAll(db: Quiver, table: string, options: Parameters<Awaited<ReturnType<Quiver['table']>>['scan']>[0] = {}): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of (await db.table(table)).scan(options)) out.push(b);
  return out;
}

const openStore = (dir: string) => Quiver.open(dir, { decodeThreads: 0, decodedCacheBytes: 0 });

// ---- the seed data shared by the file formats ----

const ROWS = 48;
const T0 = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z in ns

interface Row { time: bigint; host: string; usage: number | null; count: bigint | null; note: string | null }

function seedRows(): Row[] {
  return Array.from({ length: ROWS }, (_, i) => ({
    time: T0 + BigInt(Math.floor(i / 3)) * 10_000_000_000n + BigInt(i % 3) * 1_000n,
    host: `host_${i % 3}`,
    usage: i % 7 === 3 ? null : Math.round((i * 37 % 1000) * 1.25) / 100,
    count: i % 5 === 4 ? null : BigInt(i * i) - 100n,
    note: i % 4 === 1 ? null : i % 4 === 2 ? `a, "quoted" note ${i}` : `n${i}`,
  }));
}

function seedTable(rows: Row[]): ArrowTable {
  const time = new Timestamp(TimeUnit.NANOSECOND, 'UTC');
  const fields = [new Field('time', time, false), new Field('host', new Utf8(), true), new Field('usage', new Float64(), true),
    new Field('count', new Int64(), true), new Field('note', new Utf8(), true)];
  const data: Data[] = [
    makeData({ type: time, length: rows.length, data: BigInt64Array.from(rows.map((r) => r.time)) }),
    vectorFromArray(rows.map((r) => r.host), new Utf8()).data[0]!,
    vectorFromArray(rows.map((r) => r.usage), new Float64()).data[0]!,
    vectorFromArray(rows.map((r) => r.count), new Int64()).data[0]!,
    vectorFromArray(rows.map((r) => r.note), new Utf8()).data[0]!,
  ];
  const schema = new Schema(fields);
  const half = rows.length / 2;
  const batch = (start: number, end: number) => new RecordBatch(schema, makeData({
    type: new Struct(fields), length: end - start, nullCount: 0, children: data.map((d) => d.slice(start, end - start)),
  }));
  return new ArrowTable([batch(0, half), batch(half, rows.length)]);
}

function csvText(rows: Row[]): string {
  const q = (s: string | null) => (s === null ? '' : /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const lines = ['time,host,usage,count,note'];
  for (const r of rows) {
    const iso = new Date(Number(r.time / 1_000_000n)).toISOString().replace('Z', `${String(r.time % 1_000_000n).padStart(6, '0')}Z`);
    lines.push(`${iso},${r.host},${r.usage ?? ''},${r.count ?? ''},${q(r.note)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A foreign file imported through importFiles. An import that succeeds must leave a table
 * that scans without error and holds exactly the rows the import reported, less those it
 * counted as duplicates (folded under the default policy, last); the unmutated
 * input must come back as the seed rows.
 */
function importTarget(name: string, ext: string, acceptable: readonly string[], make: (rows: Row[]) => Promise<Uint8Array[]>, extra: Partial<Target> = {}): Target {
  return {
    name, acceptable, iterations: 40, ...extra,
    async setup() {
      const rows = seedRows();
      const inputs = await make(rows);
      return {
        inputs,
        async check(input, mutation, dir) {
          const file = join(dir, `input.${ext}`);
          writeFileSync(file, mutation.bytes);
          const db = await openStore(join(dir, 'store'));
          try {
            const summary = await importFiles(db, [file], { table: 't', rejectsPath: join(dir, 'rejects.csv') });
            const batches = await scanAll(db, 't');
            const scanned = batches.reduce((n, b) => n + b.numRows, 0);
            // The table's policy is the default, last: rows that met a point already written fold into it.
            if (scanned !== summary.rows - summary.duplicateRows) return `import reported ${summary.rows} rows of which ${summary.duplicateRows} met a point already written, a scan returns ${scanned}`;
            const results = await (await db.table('t')).verify();
            const bad = results.find((r) => !r.ok);
            if (bad) return `import committed a chunk that fails verify: ${bad.key}: ${bad.error}`;
            if (mutation.bytes.length === inputs[input]!.length && mutation.firstTouched === mutation.bytes.length) {
              return differ('unmutated input', canonical(await expected(rows)), canonical(batches));
            }
            return undefined;
          } finally {
            await db.close();
          }
        },
      };
    },
  };
}

/** The seed rows as an import of any of the seed files must store them (the reference for an unmutated input). */
let expectedRows: RecordBatch[] | undefined;
async function expected(rows: Row[]): Promise<RecordBatch[]> {
  if (expectedRows) return expectedRows;
  const db = await Quiver.open('memory://fuzz-expected', { decodeThreads: 0, decodedCacheBytes: 0 });
  try {
    // Imports make string columns tags by default: host and note.
    const t = await db.createTable('t', {
      time: 'time', tags: ['host', 'note'], fields: [{ name: 'usage', type: 'float64' }, { name: 'count', type: 'int64' }],
    } as never);
    await t.append(rows.map((r) => ({ time: r.time, host: r.host, usage: r.usage, count: r.count, note: r.note })) as never);
    await t.flush();
    expectedRows = await scanAll(db, 't');
    return expectedRows;
  } finally {
    await db.close();
  }
}

const FILE_ERRORS = ['InputError', 'SchemaError', 'LimitExceededError'] as const;

const csv = importTarget('csv', 'csv', FILE_ERRORS, async (rows) => [Buffer.from(csvText(rows))], { text: true });

const parquet = importTarget('parquet', 'parquet', FILE_ERRORS, async (rows) => {
  const pw = await import('parquet-wasm/node');
  const ipc = tableToIPC(seedTable(rows), 'stream');
  const out: Uint8Array[] = [];
  for (const compression of [pw.Compression.UNCOMPRESSED, pw.Compression.SNAPPY, pw.Compression.ZSTD]) {
    const props = new pw.WriterPropertiesBuilder().setCompression(compression).setMaxRowGroupSize(20).build();
    out.push(pw.writeParquet(pw.Table.fromIPCStream(ipc), props));
  }
  return out;
});

const arrowFile = importTarget('arrow-file', 'arrow', FILE_ERRORS, async (rows) => [tableToIPC(seedTable(rows), 'file')]);

const arrowStream = importTarget('arrow-stream', 'arrows', FILE_ERRORS, async (rows) => {
  registerArrowCodecs();
  const table = seedTable(rows);
  const compressed = new RecordBatchStreamWriter({ compressionType: 1 /* ZSTD */ } as never);
  return [tableToIPC(table, 'stream'), compressed.writeAll(table).toUint8Array(true)];
});

// ---- chunk files: every change must be caught by a checksum ----

const chunk: Target = {
  name: 'chunk', acceptable: ['CorruptChunkError', 'LimitExceededError'], iterations: 150,
  async setup() {
    const table = seedTable(seedRows());
    const inputs: Uint8Array[] = [];
    const originals: string[][] = [];
    for (const [codec, pageRows] of [['zstd', 16], ['lz4', 8], ['none', 32]] as [BlockCodecId, number][]) {
      const written = writeChunk(table.batches, { timeColumn: 'time', tags: ['host'], codec, pageRows });
      inputs.push(written.bytes);
      const reader = await openChunk(bufferSource(written.bytes, 'seed.qvr'));
      originals.push(canonical([await reader.read()]));
    }
    return {
      inputs,
      async check(input, mutation) {
        const reader = await openChunk(bufferSource(mutation.bytes, 'fuzz.qvr'));
        const batch = await reader.read();
        const result = await reader.verify({ decode: true });
        if (!result.ok) {
          const wrong = result.errors.find((e) => !(e instanceof CorruptChunkError));
          if (wrong) throw wrong;
          throw result.errors[0]!;
        }
        return differ('chunk read back without an error', originals[input]!, canonical([batch]));
      },
    };
  },
};

// ---- chunk files whose checksums were forged: the decoders and codecs meet hostile bytes ----

/** Varied columns (so the writer picks delta, rle, ALP, dictionary, rANS, bitsplit, plain pages…) with nulls. */
function decoderSeedBatches(random: () => number, rows: number): RecordBatch[] {
  let t = 1_767_225_600_000n, price = 10_000, walk = 50;
  const specs: ColumnSpec[] = [
    { name: 'time', kind: 'time', values: Array.from({ length: rows }, () => (t += BigInt(1 + Math.floor(random() * 900)))) },
    { name: 'sym', kind: 'tag', values: Array.from({ length: rows }, (_, i) => `s${Math.floor(i / 97) % 4}`) },
    { name: 'price', kind: 'float64', values: Array.from({ length: rows }, () => (price += Math.floor(random() * 21) - 10) / 100) },
    { name: 'usage', kind: 'float64', values: Array.from({ length: rows }, (_, i) => (i % 11 === 5 ? null : (walk = Math.min(100, Math.max(0, walk + Math.round((random() - 0.5) * 300) / 100))))) },
    { name: 'raw', kind: 'float64', values: Array.from({ length: rows }, () => random() * 1e6 - 5e5) },
    { name: 'volume', kind: 'int64', values: Array.from({ length: rows }, () => BigInt(random() < 0.8 ? 100 * (1 + Math.floor(random() * 9)) : Math.floor(random() * 5000))) },
    { name: 'n', kind: 'uint64', values: Array.from({ length: rows }, (_, i) => (i % 13 === 0 ? null : BigInt(i) * 1_000_003n)) },
    { name: 'ok', kind: 'bool', values: Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? null : random() < 0.5)) },
    { name: 'msg', kind: 'utf8', values: Array.from({ length: rows }, (_, i) => (i % 9 === 0 ? null : `event ${Math.floor(random() * 50)}`)) },
  ];
  return makeBatches(specs);
}

interface ChunkLayout { footer: Record<string, any>; pages: { column: number; page: number; bytes: Uint8Array }[] }

function chunkLayout(bytes: Uint8Array): ChunkLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerBytes = view.getUint32(bytes.length - 16, true);
  const region = bytes.subarray(bytes.length - 16 - footerBytes, bytes.length - 16);
  if (region[0] !== 0) throw new Error('the fuzzer expects a plain JSON footer');
  const footer = JSON.parse(new TextDecoder().decode(region.subarray(8)));
  const pages: ChunkLayout['pages'] = [];
  footer.columns.forEach((c: any, ci: number) => c.pages.forEach((p: any, pi: number) => pages.push({ column: ci, page: pi, bytes: bytes.slice(p.offset, p.offset + p.length) })));
  return { footer, pages };
}

/** Lays the pages out again (any length), with every page, region and footer checksum recomputed. */
function forgeChunk(layout: ChunkLayout): Uint8Array {
  const footer = structuredClone(layout.footer);
  const parts: Uint8Array[] = [Uint8Array.of(0x51, 0x56, 0x52, 0x31)];
  let at = 4;
  footer.columns.forEach((c: any, ci: number) => {
    c.offset = at;
    const start = parts.length;
    c.pages.forEach((p: any, pi: number) => {
      const page = layout.pages.find((q) => q.column === ci && q.page === pi)!.bytes;
      p.offset = at;
      p.length = page.length;
      p.crc32 = crc32(page);
      parts.push(page);
      at += page.length;
    });
    c.length = at - c.offset;
    c.crc32 = crc32(Buffer.concat(parts.slice(start)));
  });
  return withFooterJson(Buffer.concat(parts), new TextEncoder().encode(JSON.stringify(footer)));
}

/** A chunk file of `body` (magic and column regions) and the footer JSON `json`, with a valid footer checksum. */
function withFooterJson(body: Uint8Array, json: Uint8Array): Uint8Array {
  const region = new Uint8Array(8 + json.length);
  new DataView(region.buffer).setUint32(4, json.length, true);
  region.set(json, 8);
  const trailer = new Uint8Array(16);
  const tv = new DataView(trailer.buffer);
  tv.setUint32(0, region.length, true);
  tv.setUint32(4, crc32(region), true);
  tv.setUint32(8, 1, true);
  trailer.set([0x51, 0x56, 0x52, 0x31], 12);
  return Buffer.concat([body, region, trailer]);
}

/**
 * Pages mutated behind valid checksums (what a bug in a writer, or an attacker, could store):
 * reading must end in CorruptChunkError or LimitExceededError, or in some data (the
 * checksums were forged, so the data need not be the original) — never a crash or a hang.
 */
const chunkForged: Target = {
  name: 'chunk-forged', acceptable: ['CorruptChunkError', 'LimitExceededError'], iterations: 100,
  async setup() {
    const inputs: Uint8Array[] = [];
    const layouts: ChunkLayout[] = [];
    const seeded = rng(7);
    const seeds: [BlockCodecId, number, number, boolean][] = [['none', 600, 128, true], ['none', 300, 300, false], ['zstd', 400, 100, true], ['lz4', 200, 64, false]];
    for (const [codec, rows, pageRows, preferSize] of seeds) {
      const bytes = writeChunk(decoderSeedBatches(seeded, rows), { timeColumn: 'time', tags: ['sym'], codec, pageRows, preferSize }).bytes;
      inputs.push(bytes);
      layouts.push(chunkLayout(bytes));
    }
    return {
      inputs,
      async check(input, mutation) {
        // The mutation is replayed on one page (chosen by the mutated bytes' hash, so the
        // case stays a function of its seed): the whole file is the mutation's carrier.
        const layout = layouts[input]!;
        if (mutation.firstTouched === mutation.bytes.length && mutation.bytes.length === inputs[input]!.length) {
          // Unmutated: the forged copy (same bytes, recomputed checksums) must read and verify.
          const reader = await openChunk(bufferSource(forgeChunk(layout), 'unmutated.qvr'));
          await reader.read();
          const result = await reader.verify({ decode: true });
          if (!result.ok) throw result.errors[0]!;
          return undefined;
        }
        const k = crc32(mutation.bytes) % layout.pages.length;
        const page = layout.pages[k]!;
        const random = rng(crc32(mutation.bytes));
        const mutated = mutate(page.bytes, random);
        const forged = forgeChunk({ footer: layout.footer, pages: layout.pages.map((p, j) => (j === k ? { ...p, bytes: mutated.bytes } : p)) });
        const reader = await openChunk(bufferSource(forged, `forged-c${page.column}p${page.page}.qvr`));
        await reader.read();
        const result = await reader.verify({ decode: true });
        if (!result.ok) throw result.errors.find((e) => !(e instanceof CorruptChunkError)) ?? result.errors[0]!;
        return undefined;
      },
    };
  },
};

/**
 * Footers edited behind a valid footer checksum (offsets, lengths, counts, encodings,
 * dictionaries, statistics set to hostile values): the footer validation and the reader
 * must end in CorruptChunkError or LimitExceededError, or read some data — never crash or hang.
 */
const chunkFooter: Target = {
  name: 'chunk-footer', acceptable: ['CorruptChunkError', 'LimitExceededError'], iterations: 100, text: true,
  operators: [['json edit', 40, jsonOperator]],
  async setup() {
    const bodies: Uint8Array[] = [];
    const inputs: Uint8Array[] = [];
    const seeded = rng(11);
    for (const [codec, rows, pageRows] of [['none', 300, 100], ['zstd', 200, 64]] as [BlockCodecId, number, number][]) {
      const bytes = writeChunk(decoderSeedBatches(seeded, rows), { timeColumn: 'time', tags: ['sym'], codec, pageRows, preferSize: true }).bytes;
      const footerBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 16, true);
      const start = bytes.length - 16 - footerBytes;
      bodies.push(bytes.slice(0, start));
      inputs.push(bytes.slice(start + 8, bytes.length - 16));
    }
    return {
      inputs,
      async check(input, mutation) {
        const reader = await openChunk(bufferSource(withFooterJson(bodies[input]!, mutation.bytes), 'footer.qvr'));
        await reader.read();
        const result = await reader.verify({ decode: true });
        if (!result.ok) throw result.errors.find((e) => !(e instanceof CorruptChunkError)) ?? result.errors[0]!;
        return undefined;
      },
    };
  },
};

// ---- manifests: a table whose latest manifest is damaged must scan as before or fail typed ----

/** Structural edits of a JSON document: a value replaced, perturbed or removed, an array element duplicated or dropped. */
function jsonOperator(bytes: Uint8Array, random: Random): { bytes: Uint8Array; what: string; at: number } {
  let doc: unknown;
  try { doc = JSON.parse(new TextDecoder().decode(bytes)); } catch { return { bytes, what: 'not JSON', at: bytes.length }; }
  const slots: { parent: Record<string, unknown> | unknown[]; key: string | number; path: string }[] = [];
  const walk = (v: unknown, path: string) => {
    if (v === null || typeof v !== 'object') return;
    for (const [k, child] of Object.entries(v)) {
      const key = Array.isArray(v) ? Number(k) : k;
      slots.push({ parent: v as never, key, path: `${path}.${k}` });
      walk(child, `${path}.${k}`);
    }
  };
  walk(doc, '$');
  if (slots.length === 0) return { bytes, what: 'empty JSON', at: bytes.length };
  const slot = slots[Math.floor(random() * slots.length)]!;
  const parent = slot.parent as Record<string | number, unknown>;
  const old = parent[slot.key];
  const r = random();
  let what: string;
  if (r < 0.15) {
    if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1); else delete parent[slot.key];
    what = `delete ${slot.path}`;
  } else if (r < 0.3 && Array.isArray(slot.parent)) {
    slot.parent.splice(slot.key as number, 0, structuredClone(old));
    what = `duplicate ${slot.path}`;
  } else if (r < 0.6) {
    let value: unknown;
    if (typeof old === 'number') value = old + (random() < 0.5 ? 1 : -1);
    else if (typeof old === 'string' && /^-?\d+$/.test(old)) value = String(BigInt(old) + (random() < 0.5 ? 1n : -1n));
    else if (typeof old === 'string') value = old === 'float64' ? 'int64' : old === 'int64' ? 'float64' : `${old}x`;
    else if (typeof old === 'boolean') value = !old;
    else value = null;
    parent[slot.key] = value;
    what = `${slot.path}: ${JSON.stringify(old)?.slice(0, 40)} := ${JSON.stringify(value)?.slice(0, 40)}`;
  } else {
    const values: unknown[] = [null, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, '', 'x', '../x', '-1', '99999999999999999999999', true, [], {}, '__proto__', 'string'];
    const value = values[Math.floor(random() * values.length)];
    parent[slot.key] = value;
    what = `${slot.path} := ${JSON.stringify(value)}`;
  }
  const out = new TextEncoder().encode(JSON.stringify(doc));
  return { bytes: out, what, at: 0 };
}

const manifest: Target = {
  name: 'manifest', acceptable: ['CorruptManifestError', 'LimitExceededError'], iterations: 60, text: true,
  operators: [['json edit', 80, jsonOperator]],
  async setup(dir) {
    const template = join(dir, 'manifest-template');
    const db = await openStore(template);
    const rows = seedRows();
    const t = await db.createTable('m', {
      time: 'time', tags: ['host'], fields: [{ name: 'usage', type: 'float64' }, { name: 'count', type: 'int64' }, { name: 'note', type: 'utf8' }],
    } as never);
    // Three flushes: three chunks, overlapping in time (late data), so pruning and merging matter.
    for (const part of [rows.filter((_, i) => i % 3 === 0), rows.filter((_, i) => i % 3 === 1), rows.filter((_, i) => i % 3 === 2)]) {
      await t.append(part as never);
      await t.flush();
    }
    const mid = T0 + 40_000_000_000n;
    const scans = [{}, { where: { host: 'host_1' } }, { from: mid, to: mid + 60_000_000_000n }, { where: { host: 'host_2' }, from: mid, columns: ['usage'] }];
    const originals: string[][] = [];
    for (const s of scans) originals.push(canonical(await scanAll(db, 'm', s as never)));
    await db.close();
    const manifestDir = join(template, 'm', '_manifest');
    const latest = readdirSync(manifestDir).filter((f) => f.endsWith('.json')).sort().at(-1)!;
    return {
      inputs: [readFileSync(join(manifestDir, latest))],
      async check(_input, mutation, caseDir) {
        const store = join(caseDir, 'store');
        cpSync(template, store, { recursive: true });
        writeFileSync(join(store, 'm', '_manifest', latest), mutation.bytes);
        const db = await openStore(store);
        try {
          for (let k = 0; k < scans.length; k++) {
            const diff = differ(`scan ${JSON.stringify(scans[k], (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`, originals[k]!, canonical(await scanAll(db, 'm', scans[k] as never)));
            if (diff) return diff;
          }
          const bad = (await (await db.table('m')).verify()).find((r) => !r.ok);
          if (bad) throw new Error(`verify failed after every scan succeeded: ${bad.key}: ${bad.error}`);
          return undefined;
        } finally {
          await db.close();
        }
      },
    };
  },
};

// ---- write-ahead logs: replay returns every logged row, or drops only a torn last frame, or fails typed ----

const wal: Target = {
  name: 'wal', acceptable: ['WalCorruptError', 'LimitExceededError', 'QuiverError' /* a bad header: not a write-ahead log */], iterations: 100,
  async setup(dir) {
    const template = join(dir, 'wal-template');
    const table = seedTable(seedRows());
    const { wal: log } = await WriteAheadLog.open(template, 'w', () => 0);
    // Five appends of different sizes (one spans two record batches: two frames).
    for (const [start, end] of [[0, 10], [10, 11], [11, 30], [30, 40], [40, 48]] as const) {
      for (const b of table.slice(start, end).batches) await log.append(b);
    }
    await log.close();
    const bytes = new Uint8Array(readFileSync(join(template, 'w.wal')));
    // Frames as written: a 24-byte header ("QVRWAL<v>\n" and the log id), then per frame
    // u32 length · u32 CRC · u64 seq (· u64 offset of its write, from version 2) · Arrow IPC stream.
    const frameHeader = new TextDecoder().decode(bytes.subarray(0, 8)) === 'QVRWAL1\n' ? 16 : 24;
    const frames: { start: number; end: number; rows: string[] }[] = [];
    const view = new DataView(bytes.buffer);
    for (let at = 24; at < bytes.length;) {
      const end = at + frameHeader + view.getUint32(at, true);
      frames.push({ start: at, end, rows: rowLines(tableFromIPC(bytes.subarray(at + frameHeader, end)).batches) });
      at = end;
    }
    const all = frames.flatMap((f) => f.rows);
    return {
      inputs: [bytes],
      async check(_input, mutation, caseDir) {
        writeFileSync(join(caseDir, 'w.wal'), mutation.bytes);
        const { wal: replayed, pending } = await WriteAheadLog.open(caseDir, 'w', () => 0);
        await replayed.close();
        const got = rowLines(pending);
        if (got.length === all.length) return differ('replayed rows', all, got);
        // Fewer rows without an error: only a torn tail may be dropped, and only the frames
        // from the damaged one on. A torn tail is damage confined to the frame the file now
        // ends in: the file cut short (a crash mid-write), the last frame damaged, or both at
        // once in one frame (a change inside the part of a frame a crash would have lost
        // cannot be told from that loss). The log id (bytes 8–24) is no frame's: the target
        // replays with no committed mark, so a changed id changes no row.
        const touched = firstDiff(bytes, mutation.bytes, 24);
        const damaged = frames.find((f) => touched < f.end) ?? frames[frames.length - 1]!;
        const kept = frames.filter((f) => f.end <= touched).flatMap((f) => f.rows);
        if (mutation.bytes.length < damaged.end || damaged === frames[frames.length - 1]) return differ('replay of a log with a torn tail', kept, got);
        return `replay returned ${got.length} of ${all.length} rows without an error, after damage at offset ${touched} (frames start at ${frames.map((f) => f.start).join(',')})`;
      },
    };
  },
};

/** The first offset at or after `from` where `b` differs from `a` (the shorter length when one is a prefix of the other). */
function firstDiff(a: Uint8Array, b: Uint8Array, from: number): number {
  const n = Math.min(a.length, b.length);
  let i = from;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Data lines of canonical() (its header lines dropped): rows across any batch boundaries. */
function rowLines(batches: readonly RecordBatch[]): string[] {
  return canonical(batches).filter((l) => !l.startsWith('time:'));
}

export const ALL_TARGETS: readonly Target[] = [csv, parquet, arrowFile, arrowStream, chunk, chunkForged, chunkFooter, manifest, wal];

/**
 * The targets `npm test` fuzzes: one line per target. A target whose fixes are still on
 * another branch is enabled by adding its line here once they are merged.
 */
export const FUZZ_TARGETS: readonly string[] = [
  'chunk',
  'chunk-forged',
  'chunk-footer',
  'parquet',
  'arrow-file',
  'arrow-stream',
  'csv',
  'manifest',
  'wal',
];
