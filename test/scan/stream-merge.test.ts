/**
 * The scan's streamed merge (src/scan/stream-merge.ts) against the in-memory merge it replaced
 * (mergeBySeriesTime + deduplicateSorted, kept in src/scan/merge.ts and dedup.ts): seeded
 * random tables whose chunks share points (small pages, small chunks, repeated times, null
 * tags, null fields, NaN payloads and -0), merged under every policy with random windows,
 * output sizes, page selections and row selections; every value compared (bits for floats).
 *
 *   QUIVER_MERGE_CASES (default 8 seeds per policy), QUIVER_MERGE_SEED (the first seed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeData, RecordBatch, Struct, type Data } from 'apache-arrow';
import { rng as random } from '../../bench/rng.js';
import { Quiver } from '../../src/quiver.js';
import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { openChunk, type ChunkReader } from '../../src/format/index.js';
import { storeSource } from '../../src/table/store-source.js';
import { nullData, retype, TableArrowSchema } from '../../src/core/arrow-schema.js';
import { mergeBySeriesTime } from '../../src/scan/merge.js';
import { deduplicateSorted, folds } from '../../src/scan/dedup.js';
import { takeRows } from '../../src/scan/predicate-take.js';
import { streamMerge, type MergeChunk } from '../../src/scan/stream-merge.js';
import type { ChunkEntry, DuplicatePolicy, Row } from '../../src/core/types.js';

const CASES = Number(process.env.QUIVER_MERGE_CASES ?? 8);
const FIRST_SEED = Number(process.env.QUIVER_MERGE_SEED ?? 1);

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);
const floatOf = (bits: bigint) => { U64[0] = bits; return F64[0]!; };
const FLOATS = [floatOf(0x7ff0000000000001n), floatOf(0xfff8000000000123n), floatOf(0x7ff8000000000002n), -0, 0, 1.5, -2.25, Infinity];

/** Every cell of a batch as text: floats by their bits, bigints by value, null as null. */
function cells(batch: RecordBatch): string[][] {
  const out: string[][] = [];
  for (let r = 0; r < batch.numRows; r++) {
    out.push(batch.schema.fields.map((f) => {
      const v: unknown = batch.getChild(f.name)!.get(r);
      if (v === null || v === undefined) return 'null';
      if (typeof v === 'number') { F64[0] = v; return `f${U64[0]!.toString(16)}`; }
      return String(v);
    }));
  }
  return out;
}

function relabel(batch: RecordBatch, arrow: TableArrowSchema, columns: string[]): RecordBatch {
  const schema = arrow.project(columns);
  const children: Data[] = columns.map((name) => {
    const field = arrow.field(name);
    const child = batch.getChild(name);
    return child ? retype(child.data[0]!, field) : nullData(field, batch.numRows);
  });
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: batch.numRows, nullCount: 0, children }));
}

async function oneCase(seed: number, policy: DuplicatePolicy): Promise<void> {
  const rand = random(seed * 7919 + policy.length);
  const int = (n: number) => Math.floor(rand() * n);
  const store = new MemoryChunkManager();
  const db = await Quiver.open(store, { autoCompact: 0 });
  const fields = [{ name: 'f', type: 'float64' as const }, { name: 'i', type: 'int64' as const }, { name: 's', type: 'utf8' as const }, { name: 'b', type: 'bool' as const }];
  const table = await db.createTable('m', { tags: ['host', 'dc'], fields, duplicates: policy, pageRows: 2 + int(12), rowsPerChunkMax: 10 + int(80) });
  const hosts = ['a', 'b', 'ä', 'B', null];
  const writes = 2 + int(4);
  for (let w = 0; w < writes; w++) {
    const rows: Row[] = [];
    for (let r = int(120); r > 0; r--) {
      const maybe = <T>(v: T) => (rand() < 0.3 ? null : v);
      rows.push({
        time: 1_000 * int(25), host: hosts[int(hosts.length)]!, dc: rand() < 0.3 ? null : `dc${int(2)}`,
        f: maybe(FLOATS[int(FLOATS.length)]!), i: maybe(BigInt(int(1000) - 500) * 10n ** 15n), s: maybe(rand() < 0.2 ? '' : `s${int(9)}`), b: maybe(rand() < 0.5),
      });
    }
    if (rows.length) { await table.append(rows); await table.flush(); }
  }
  const chunks = table.currentManifest.chunks;
  if (chunks.length < 2) return;
  // Write order: seq, then place in the manifest (what scanUnits gives a merge under a folding policy).
  const place = new Map(chunks.map((c, i) => [c, i]));
  const ordered = [...chunks].sort((a: ChunkEntry, b: ChunkEntry) => (a.seq ?? 0) - (b.seq ?? 0) || place.get(a)! - place.get(b)!);
  const readers: ChunkReader[] = await Promise.all(ordered.map((c) => openChunk(storeSource(store, c.key, c.bytes))));
  const columns = ['time', 'host', 'dc', 'f', 'i', 's', 'b'];
  const arrow = new TableArrowSchema(table.schema);
  const filtered = rand() < 0.5;
  const visible = (batch: RecordBatch): Int32Array | null => {
    if (!filtered) return null;
    const t = batch.getChild('time')!.data[0]!.values as BigInt64Array;
    const rows: number[] = [];
    for (let i = 0; i < batch.numRows; i++) if (t[i]! % 3000n !== 1000n) rows.push(i);
    return Int32Array.from(rows);
  };
  const merge: MergeChunk[] = readers.map((reader) => {
    const count = reader.footer.pageRowStarts.length - 1;
    const pages = [...Array(count).keys()].filter(() => rand() < 0.85);
    return { reader, pages, names: reader.footer.columns.map((c) => c.name), deletes: [] };
  }).filter((c) => c.pages.length > 0);
  const dedup = folds(policy) ? policy : undefined;
  const windowRows = 1 + int(40), outRows = 1 + int(60);
  // Bounded memory: every read of the streamed merge is one window (one page, or pages up to windowRows rows).
  let readRowsMax = 0, pageRowsMax = 0;
  const streamedChunks = merge.map((chunk) => {
    const starts = chunk.reader.footer.pageRowStarts;
    for (let p = 0; p + 1 < starts.length; p++) pageRowsMax = Math.max(pageRowsMax, starts[p + 1]! - starts[p]!);
    const reader = Object.create(chunk.reader) as ChunkReader;
    reader.read = async (options) => {
      const batch = await chunk.reader.read(options);
      readRowsMax = Math.max(readRowsMax, batch.numRows);
      return batch;
    };
    return { ...chunk, reader };
  });
  const streamed: string[][] = [];
  const sizes: number[] = [];
  for await (const batch of streamMerge(streamedChunks, {
    input: { columns, tags: ['host', 'dc'], filters: [], order: 'series' }, tags: ['host', 'dc'], time: 'time',
    schema: arrow.project(columns), fields: columns.map((c) => arrow.field(c)), policy: dedup, windowRows, outRows,
    visible: (batch) => visible(batch),
  })) { streamed.push(...cells(batch)); sizes.push(batch.numRows); }
  // The in-memory merge of the same rows.
  const parts: RecordBatch[] = [];
  for (const chunk of merge) {
    const batch = await chunk.reader.read({ columns: chunk.names, pages: chunk.pages });
    const rows = visible(batch);
    const part = relabel(rows === null ? batch : takeRows(batch, rows), arrow, columns);
    if (part.numRows > 0) parts.push(part);
  }
  let expected: string[][] = [];
  if (parts.length > 0) {
    const merged = mergeBySeriesTime(parts, ['host', 'dc'], 'time');
    expected = cells(dedup ? deduplicateSorted(merged, ['host', 'dc'], 'time', dedup).batch : merged);
  }
  const label = `seed ${seed}, policy ${policy}, ${merge.length} chunks, window ${windowRows}, out ${outRows}, filtered ${filtered}`;
  assert.ok(expected.length > 0 || streamed.length === 0, label);
  assert.deepEqual(streamed, expected, label);
  if (dedup) assert.ok(new Set(streamed.map((r) => `${r[0]} ${r[1]} ${r[2]}`)).size === streamed.length, `${label}: one row per point`);
  assert.ok(sizes.every((n) => n > 0), `${label}: no empty batch`);
  assert.ok(readRowsMax <= Math.max(windowRows, pageRowsMax), `${label}: a read of ${readRowsMax} rows, beyond a window`);
  await db.close();
}

for (const policy of ['last', 'first', 'keep'] as const) {
  test(`the streamed merge gives the in-memory merge's rows under '${policy}': ${CASES} seeded random tables from seed ${FIRST_SEED}`, async () => {
    for (let seed = FIRST_SEED; seed < FIRST_SEED + CASES; seed++) await oneCase(seed, policy);
  });
}
