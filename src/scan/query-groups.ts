import { DataType, type Data, type RecordBatch } from 'apache-arrow';
import { SchemaError } from '../errors.js';
import { columnData, columnView, dictionaryStrings, int32Values, utf8At } from './aggregate-column.js';

/**
 * Group (and series) identity from tag columns. Each batch carries its own dictionaries, so
 * a tag's local codes are mapped to query-wide value ids once per dictionary (cached by the
 * dictionary object); rows then get a group id with one Map lookup per run of equal codes —
 * scans arrive sorted by series, so runs are long and the per-row cost is a compare.
 */

class TagValues {
  readonly ids = new Map<string | null, number>();
  readonly values: (string | null)[] = [];
  private readonly cache = new WeakMap<object, Int32Array>();

  constructor(readonly tag: string) {}

  id(value: string | null): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
    }
    return id;
  }

  /** Index code + 1 → value id; index 0 is the null tag. */
  localMap(data: Data): Int32Array {
    const dict = data.dictionary as object | undefined;
    const hit = dict ? this.cache.get(dict) : undefined;
    if (hit) return hit;
    const strings = dictionaryStrings(data, `query tag ${this.tag}`);
    const map = new Int32Array(strings.length + 1);
    map[0] = this.id(null);
    for (let i = 0; i < strings.length; i++) map[i + 1] = this.id(strings[i]!);
    if (dict) this.cache.set(dict, map);
    return map;
  }
}

/** Groups keyed by the values of a list of tags. */
export class GroupRegistry {
  private readonly tags: TagValues[];
  private readonly keys = new Map<string, number>();
  private readonly single: number[] = [];
  /** Tag values of each group, in tag order. */
  readonly groupValues: (string | null)[][] = [];

  constructor(readonly tagNames: string[]) {
    this.tags = tagNames.map((t) => new TagValues(t));
  }

  get size(): number { return this.groupValues.length; }

  /**
   * Runs of rows with the same group: run r covers [runs.start[r], runs.start[r + 1]) —
   * one compare per row and one lookup per run, nothing written per row.
   */
  resolveRuns(batch: RecordBatch, runs: GroupRuns): GroupRuns {
    const n = batch.numRows;
    const k = this.tags.length;
    runs.count = 0;
    if (k !== 1) {
      // Several tags: per-row ids, then runs of equal ids.
      if (runs.ids.length < n) runs.ids = new Int32Array(Math.max(n, runs.ids.length * 2));
      const ids = this.resolve(batch, runs.ids.subarray(0, n));
      let i = 0;
      while (i < n) {
        const g = ids[i]!;
        let j = i + 1;
        while (j < n && ids[j] === g) j++;
        pushRun(runs, i, j, g);
        i = j;
      }
      return runs;
    }
    const { map, codes } = this.tagCodes(batch, 0);
    let i = 0;
    while (i < n) {
      const c = codes[i]!;
      let j = i + 1;
      while (j < n && codes[j] === c) j++;
      pushRun(runs, i, j, this.singleGroup(map[c + 1]!));
      i = j;
    }
    return runs;
  }

  /** One group id per row. */
  resolve(batch: RecordBatch, out: Int32Array): Int32Array {
    const n = batch.numRows;
    const k = this.tags.length;
    const codes: Int32Array[] = [];
    const maps: Int32Array[] = [];
    for (let t = 0; t < k; t++) {
      const c = this.tagCodes(batch, t);
      maps.push(c.map);
      codes.push(c.codes);
    }
    if (k === 1) {
      const c0 = codes[0]!, m0 = maps[0]!;
      let prev = -2, g = -1;
      for (let i = 0; i < n; i++) {
        const c = c0[i]!;
        if (c !== prev) { prev = c; g = this.singleGroup(m0[c + 1]!); }
        out[i] = g;
      }
      return out;
    }
    const prev = new Int32Array(k).fill(-2);
    let g = -1;
    for (let i = 0; i < n; i++) {
      let same = true;
      for (let t = 0; t < k; t++) if (codes[t]![i] !== prev[t]) { same = false; break; }
      if (!same) {
        let key = '';
        for (let t = 0; t < k; t++) {
          const c = codes[t]![i]!;
          prev[t] = c;
          key += maps[t]![c + 1]! + ',';
        }
        g = this.keyGroup(key, maps, prev);
      }
      out[i] = g;
    }
    return out;
  }

  /**
   * Codes of tag t in this batch and their value-id map. A batch without the tag column
   * (written before the tag existed) has the null tag on every row.
   */
  private tagCodes(batch: RecordBatch, t: number): { map: Int32Array; codes: Int32Array } {
    const name = this.tagNames[t]!;
    if (!batch.schema.fields.some((f) => f.name === name)) {
      return { map: Int32Array.of(this.tags[t]!.id(null)), codes: new Int32Array(batch.numRows).fill(-1) };
    }
    const data = columnData(batch, name, 'query group');
    if (!DataType.isDictionary(data.type)) return this.plainCodes(batch, t, data);
    return { map: this.tags[t]!.localMap(data), codes: codesWithNulls(data) };
  }

  /** A tag column that arrives as plain Utf8: a dictionary built for this batch. */
  private plainCodes(batch: RecordBatch, t: number, data: Data): { map: Int32Array; codes: Int32Array } {
    const view = columnView(batch, this.tagNames[t]!, 'query group');
    if (view.kind !== 'utf8') throw new SchemaError(`query group: tag ${JSON.stringify(this.tagNames[t])} is ${String(data.type)}, expected Dictionary<Utf8> or Utf8`);
    const local = new Map<string | null, number>();
    const ids: number[] = [];
    const codes = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = utf8At(view, i);
      let c = local.get(v);
      if (c === undefined) { c = ids.length; local.set(v, c); ids.push(this.tags[t]!.id(v)); }
      codes[i] = c;
    }
    const map = new Int32Array(ids.length + 1);
    map[0] = this.tags[t]!.id(null);
    map.set(ids, 1);
    return { map, codes };
  }

  /** The group of rows whose tags hold `values` (in tag order), as resolve() would find it. */
  groupOfValues(values: readonly (string | null)[]): number {
    if (this.tags.length === 1) return this.singleGroup(this.tags[0]!.id(values[0]!));
    let key = '';
    for (let t = 0; t < this.tags.length; t++) key += this.tags[t]!.id(values[t]!) + ',';
    let g = this.keys.get(key);
    if (g === undefined) {
      g = this.groupValues.length;
      this.keys.set(key, g);
      this.groupValues.push([...values]);
    }
    return g;
  }

  private singleGroup(valueId: number): number {
    let g = this.single[valueId];
    if (g === undefined) {
      g = this.groupValues.length;
      this.single[valueId] = g;
      this.groupValues.push([this.tags[0]!.values[valueId]!]);
    }
    return g;
  }

  private keyGroup(key: string, maps: Int32Array[], codes: Int32Array): number {
    let g = this.keys.get(key);
    if (g === undefined) {
      g = this.groupValues.length;
      this.keys.set(key, g);
      this.groupValues.push(this.tags.map((tv, t) => tv.values[maps[t]![codes[t]! + 1]!]!));
    }
    return g;
  }
}

export interface GroupRuns {
  start: Int32Array;
  end: Int32Array;
  group: Int32Array;
  count: number;
  /** Scratch per-row ids (several tags). */
  ids: Int32Array;
}

export function newGroupRuns(): GroupRuns {
  return { start: new Int32Array(64), end: new Int32Array(64), group: new Int32Array(64), count: 0, ids: new Int32Array(0) };
}

function pushRun(runs: GroupRuns, a: number, b: number, g: number): void {
  if (runs.count === runs.start.length) {
    const cap = runs.count * 2;
    const s = new Int32Array(cap); s.set(runs.start); runs.start = s;
    const e = new Int32Array(cap); e.set(runs.end); runs.end = e;
    const gr = new Int32Array(cap); gr.set(runs.group); runs.group = gr;
  }
  runs.start[runs.count] = a; runs.end[runs.count] = b; runs.group[runs.count] = g;
  runs.count++;
}

/** Dictionary codes with -1 where the tag is null. */
function codesWithNulls(data: Data): Int32Array {
  const codes = int32Values(data);
  if (!(data.nullCount > 0) || !data.nullBitmap || data.nullBitmap.length === 0) return codes;
  const out = codes.slice();
  const bits = data.nullBitmap;
  for (let i = 0; i < out.length; i++) {
    const bit = data.offset + i;
    if (((bits[bit >> 3]! >> (bit & 7)) & 1) === 0) out[i] = -1;
  }
  return out;
}

/** Orders group ids by their tag values (in tag order, nulls last), like ORDER BY tags. */
export function sortedGroups(registry: GroupRegistry): number[] {
  const ids = Array.from({ length: registry.size }, (_, i) => i);
  const v = registry.groupValues;
  ids.sort((a, b) => {
    const va = v[a]!, vb = v[b]!;
    for (let t = 0; t < va.length; t++) {
      const x = va[t]!, y = vb[t]!;
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      return x < y ? -1 : 1;
    }
    return 0;
  });
  return ids;
}
