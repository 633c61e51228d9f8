import { makeData, RecordBatch, Struct, Utf8, vectorFromArray, type Data, type Vector } from 'apache-arrow';
import { compareStrings } from '../format/index.js';
import { columnData, columnKind, fixedWidthOf } from './aggregate-column.js';
import { assert } from '../errors.js';
import { utf8VectorAt } from '../format/utf8.js';

/**
 * Merges batches of chunks that overlap in time and may share series into one batch sorted by
 * series (tag values in code-point order, the null tag before every value, as the write
 * buffer sorts series) then time, ties kept
 * in input order (stable). Every batch has the same schema except for the dictionaries of tag
 * columns, which are unified: the output's dictionary is the sorted union.
 *
 * Arrow JS conventions as in predicate-take.ts: value buffers are pre-sliced, validity bitmaps
 * and bool bits are read at `offset + row`.
 */
export function mergeBySeriesTime(batches: readonly RecordBatch[], tags: readonly string[], time: string): RecordBatch {
  const schema = batches[0]!.schema;
  const n = batches.reduce((s, b) => s + b.numRows, 0);
  const source = new Int32Array(n);
  const row = new Int32Array(n);
  const times = new BigInt64Array(n);
  let at = 0;
  batches.forEach((batch, b) => {
    const t = columnData(batch, time, 'scan merge').values as BigInt64Array;
    for (let r = 0; r < batch.numRows; r++, at++) { source[at] = b; row[at] = r; times[at] = t[r]!; }
  });
  // Per tag: the unified dictionary and each batch's code → rank remap (the null tag → -1, first).
  const unified = tags.map((tag) => unifyDictionaries(batches, tag));
  const ranks = tags.map((tag, k) => {
    const out = new Int32Array(n);
    const { remap } = unified[k]!;
    let i = 0;
    batches.forEach((batch, b) => {
      const data = columnData(batch, tag, 'scan merge');
      const codes = data.values as Int32Array;
      const bits = data.nullCount > 0 ? data.nullBitmap : undefined;
      for (let r = 0; r < batch.numRows; r++, i++) {
        const valid = !bits || ((bits[(data.offset + r) >> 3]! >> ((data.offset + r) & 7)) & 1) === 1;
        out[i] = valid ? remap[b]![codes[r]!]! : -1;
      }
    });
    return out;
  });
  // Times compared on their int32 halves (no BigInt per comparison: they would feed the GC).
  const t32 = new Int32Array(times.buffer, times.byteOffset, 2 * n);
  const compare = (a: number, b: number) => {
    for (const rank of ranks) { const d = rank[a]! - rank[b]!; if (d !== 0) return d; }
    const ha = t32[2 * a + 1]!, hb = t32[2 * b + 1]!;
    if (ha !== hb) return ha - hb;
    const la = t32[2 * a]! >>> 0, lb = t32[2 * b]! >>> 0;
    return la !== lb ? la - lb : a - b;
  };
  const order = mergeRuns(batches.map((b) => b.numRows), compare);
  const from = Int32Array.from(order, (i) => source[i]!);
  const rowAt = Int32Array.from(order, (i) => row[i]!);
  const children = schema.fields.map((field, c) => {
    const k = tags.indexOf(field.name);
    return gather(batches.map((batch) => batch.data.children[c]! as Data), from, rowAt, k >= 0 ? unified[k]! : null, field.name);
  });
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
}

/**
 * Row indexes 0…n−1 (the batches' rows one after another) in `compare` order. Batches are
 * usually each sorted already (chunks are written sorted by series then time): then their runs
 * are merged pairwise, O(n log k) for k batches; a batch that is not sorted (checked, O(n))
 * makes it a plain sort. `compare` breaks ties by index, so either way the merge is stable.
 */
function mergeRuns(lengths: readonly number[], compare: (a: number, b: number) => number): Int32Array {
  const n = lengths.reduce((s, l) => s + l, 0);
  let order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const starts = [0];
  for (const l of lengths) starts.push(starts[starts.length - 1]! + l);
  for (let k = 0; k + 1 < starts.length; k++) {
    for (let i = starts[k]! + 1; i < starts[k + 1]!; i++) {
      if (compare(i - 1, i) > 0) return order.sort(compare);
    }
  }
  let runs = starts.filter((s, k) => k === 0 || s !== starts[k - 1]);
  let scratch = new Int32Array(n);
  while (runs.length > 2) {
    const next = [0];
    for (let r = 0; r + 1 < runs.length; r += 2) {
      const lo = runs[r]!, mid = runs[r + 1]!, hi = runs[r + 2] ?? mid;
      let i = lo, j = mid, o = lo;
      while (i < mid && j < hi) scratch[o++] = compare(order[i]!, order[j]!) <= 0 ? order[i++]! : order[j++]!;
      while (i < mid) scratch[o++] = order[i++]!;
      while (j < hi) scratch[o++] = order[j++]!;
      next.push(hi);
    }
    if (next[next.length - 1] !== n) next.push(n);
    [order, scratch] = [scratch, order];
    runs = next;
  }
  return order;
}

/** A tag's dictionary over several batches: the sorted union of theirs. */
export interface Unified {
  vector: Vector<Utf8>;
  /** Per batch: its dictionary code → index in the union. */
  remap: Int32Array[];
}

function unifyDictionaries(batches: readonly RecordBatch[], tag: string): Unified {
  const perBatch = batches.map((batch) => {
    const dictionary = columnData(batch, tag, 'scan merge').dictionary;
    return dictionary ? Array.from({ length: dictionary.length }, (_, k) => utf8VectorAt(dictionary, k) ?? '') : [];
  });
  const values = [...new Set(perBatch.flat())].sort(compareStrings);
  const index = new Map(values.map((v, i) => [v, i]));
  return { vector: vectorFromArray(values, new Utf8()) as Vector<Utf8>, remap: perBatch.map((d) => Int32Array.from(d, (v) => { const k = index.get(v); assert(k !== undefined, 'every dictionary value is in the union'); return k; })) };
}

/** Calls `copy(part, row, at, length)` for each run of output rows `at…` taking consecutive rows `row…` of one part. */
function eachRun(source: Int32Array, row: Int32Array, copy: (part: number, row: number, at: number, length: number) => void): void {
  const n = source.length;
  for (let i = 0; i < n;) {
    const p = source[i]!, r = row[i]!;
    let j = i + 1;
    while (j < n && source[j] === p && row[j] === r + (j - i)) j++;
    copy(p, r, i, j - i);
    i = j;
  }
}

/**
 * Column values gathered from parts of one type: output row i is row `row[i]` of `parts[source[i]]`.
 * `dict`: for a tag column, the unified dictionary and each part's code remap.
 */
export function gather(parts: readonly Data[], source: Int32Array, row: Int32Array, dict: Unified | null, name: string): Data {
  const n = source.length;
  const type = parts[0]!.type;
  let nullBitmap: Uint8Array | undefined;
  let nullCount = 0;
  // Per part: its validity bitmap and offset, none when it has no null (Data.nullCount is a getter: not per row).
  const bitmaps = parts.map((d) => (d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0 ? d.nullBitmap : null));
  if (bitmaps.some((b) => b !== null)) {
    const offsets = parts.map((d) => d.offset);
    nullBitmap = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      const bits = bitmaps[source[i]!]!, bit = offsets[source[i]!]! + row[i]!;
      if (bits !== null && ((bits[bit >> 3]! >> (bit & 7)) & 1) === 0) nullCount++;
      else nullBitmap[i >> 3]! |= 1 << (i & 7);
    }
    if (nullCount === 0) nullBitmap = undefined;
  }
  const kind = columnKind(parts[0]!, `merge column ${name}`);
  switch (kind) {
    case 'i64': case 'u64': case 'time': case 'w64': case 'f64': case 'i32': case 'w32': {
      // Copied as int32 words (64-bit values read as BigInts would allocate each; floats keep their bits).
      const width = (parts[0]!.values as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT / 4;
      const srcs = parts.map((d) => { const v = d.values as ArrayBufferView; return new Int32Array(v.buffer, v.byteOffset, width * d.length); });
      const out = new Int32Array(width * n);
      eachRun(source, row, (p, r, at, length) => {
        const src = srcs[p]!;
        if (length > 8) { out.set(src.subarray(r * width, (r + length) * width), at * width); return; }
        for (let k = 0; k < length * width; k++) out[at * width + k] = src[r * width + k]!;
      });
      const Ctor = (parts[0]!.values as object).constructor as new (b: ArrayBufferLike) => ArrayBufferView;
      return makeData({ type, length: n, nullCount, nullBitmap, data: new Ctor(out.buffer) } as never);
    }
    case 'dict': {
      assert(dict !== null, `tag ${name} has a unified dictionary`);
      const out = new Int32Array(n);
      eachRun(source, row, (p, r, at, length) => {
        const remap = dict.remap[p]!, codes = parts[p]!.values as Int32Array;
        for (let k = 0; k < length; k++) out[at + k] = remap[codes[r + k]!] ?? 0;
      });
      return makeData({ type, length: n, nullCount, nullBitmap, data: out, dictionary: dict.vector } as never);
    }
    case 'bool': {
      const out = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) {
        const d = parts[source[i]!]!, bit = d.offset + row[i]!;
        if (((d.values as Uint8Array)[bit >> 3]! >> (bit & 7)) & 1) out[i >> 3]! |= 1 << (i & 7);
      }
      return makeData({ type, length: n, nullCount, nullBitmap, data: out } as never);
    }
    case 'fixed': {
      const width = fixedWidthOf(parts[0]!);
      const srcs = parts.map((d) => { const v = d.values as ArrayBufferView; return new Uint8Array(v.buffer, v.byteOffset, d.length * width); });
      const out = new Uint8Array(n * width);
      for (let i = 0; i < n; i++) {
        const r = row[i]!;
        out.set(srcs[source[i]!]!.subarray(r * width, (r + 1) * width), i * width);
      }
      const Ctor = (parts[0]!.values as object).constructor as new (b: ArrayBufferLike) => ArrayBufferView;
      return makeData({ type, length: n, nullCount, nullBitmap, data: new Ctor(out.buffer) } as never);
    }
    case 'utf8': case 'bytes': {
      const offsets = new Int32Array(n + 1);
      for (let i = 0; i < n; i++) {
        const d = parts[source[i]!]!, r = row[i]!, o = d.valueOffsets as Int32Array;
        offsets[i + 1] = offsets[i]! + o[r + 1]! - o[r]!;
      }
      const bytes = new Uint8Array(offsets[n]!);
      for (let i = 0; i < n; i++) {
        const d = parts[source[i]!]!, r = row[i]!, o = d.valueOffsets as Int32Array;
        bytes.set((d.values as Uint8Array).subarray(o[r]!, o[r + 1]!), offsets[i]!);
      }
      return makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: offsets, data: bytes } as never);
    }
  }
}
