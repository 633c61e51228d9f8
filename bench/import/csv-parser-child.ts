/**
 * One measured parse of the cpu CSV into Arrow columns in a fresh process; prints JSON
 * {seconds, rows, maxRssMb, checksum}. The checksum (sum of times in seconds and field
 * values; tag codes depend on interning order) shows each parser produced the same columns.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Type, type RecordBatch } from 'apache-arrow';
import { parse as csvParse } from 'csv-parse';
import Papa from 'papaparse';
import { inferSchema, initParser } from 'udsv';
import { readCsv } from '../../src/io/csv/reader.js';
import { csvBytes } from '../../src/io/csv/bytes.js';
import { CPU_TAGS } from '../datasets.js';
import { peakRssMb } from '../rss.js';

export const PARSERS = ['quiver', 'csv-parse', 'papaparse', 'udsv'] as const;
export type ParserName = typeof PARSERS[number];
const BATCH_ROWS = 65_536;

/** String rows → Arrow-shaped columns (int64 ns time, int32 tag codes, float64 fields), batch by batch. */
export class ColumnBuilder {
  private header: string[] | undefined;
  private tagIndex: number[] = [];
  private fieldIndex: number[] = [];
  private time = new BigInt64Array(BATCH_ROWS);
  private tags: Int32Array[] = [];
  private fields: Float64Array[] = [];
  private dictionaries: Map<string, number>[] = [];
  private n = 0;
  rows = 0;
  checksum = 0;

  row(cells: readonly string[]): void {
    if (!this.header) {
      this.header = [...cells];
      this.tagIndex = this.header.flatMap((h, j) => (CPU_TAGS.includes(h as never) ? [j] : []));
      this.fieldIndex = this.header.flatMap((h, j) => (j > 0 && !CPU_TAGS.includes(h as never) ? [j] : []));
      this.tags = this.tagIndex.map(() => new Int32Array(BATCH_ROWS));
      this.fields = this.fieldIndex.map(() => new Float64Array(BATCH_ROWS));
      this.dictionaries = this.tagIndex.map(() => new Map());
      return;
    }
    const i = this.n;
    this.time[i] = BigInt(Date.parse(cells[0] ?? '')) * 1_000_000n;
    this.tagIndex.forEach((j, k) => {
      const d = this.dictionaries[k] as Map<string, number>;
      const v = cells[j] ?? '';
      let code = d.get(v);
      if (code === undefined) d.set(v, (code = d.size));
      (this.tags[k] as Int32Array)[i] = code;
    });
    this.fieldIndex.forEach((j, k) => { (this.fields[k] as Float64Array)[i] = Number(cells[j]); });
    if (++this.n === BATCH_ROWS) this.flush();
  }

  flush(): void {
    for (let i = 0; i < this.n; i++) {
      this.checksum += Number(this.time[i] ?? 0n) / 1e9;
      for (const f of this.fields) this.checksum += f[i] ?? 0;
    }
    this.rows += this.n;
    this.n = 0;
  }
}

/** The same checksum over our reader's batches. */
function checksumOf(batch: RecordBatch): number {
  let sum = 0;
  batch.schema.fields.forEach((f, k) => {
    const data = batch.data.children[k];
    if (!data || f.type.typeId === Type.Dictionary) return;
    const values = data.values as ArrayLike<number | bigint>;
    for (let i = 0; i < batch.numRows; i++) {
      const v = values[i] ?? 0;
      if (f.type.typeId === Type.Timestamp) sum += Number(v) / 1e9;
      else sum += Number(v);
    }
  });
  return sum;
}

/**
 * A library's rows of a file (the header row first), as a careful user streams them: csv-parse
 * with `bom: true`, papaparse on the Node stream (its reported errors thrown), udsv on text
 * decoded by a StringDecoder (so UTF-8 split across reads stays whole).
 */
export async function libraryRows(parser: Exclude<ParserName, 'quiver'>, file: string, onRow: (row: string[]) => void): Promise<void> {
  if (parser === 'csv-parse') {
    for await (const record of createReadStream(file).pipe(csvParse({ bom: true }))) onRow(record as string[]);
  } else if (parser === 'papaparse') {
    await new Promise<void>((resolve, reject) => {
      Papa.parse<string[]>(createReadStream(file) as never, {
        chunk: (results) => {
          if (results.errors.length > 0) reject(new Error(results.errors.map((e) => `${e.code}: ${e.message} (row ${e.row})`).join('; ')));
          for (const r of results.data) if (r.length > 1 || r[0] !== '') onRow(r);
        },
        complete: () => resolve(), error: (e: Error) => reject(e),
      });
    });
  } else {
    const decoder = new StringDecoder('utf8');
    let p: ReturnType<typeof initParser> | undefined;
    const each = (row: string[]) => { onRow(row); };
    for await (const chunk of createReadStream(file)) {
      const text = decoder.write(chunk as Buffer);
      if (!p) { p = initParser(inferSchema(text)); onRow(p.schema.cols.map((c) => c.name)); }
      p.chunk<string[]>(text, p.stringArrs, each);
    }
    p?.chunk<string[]>(decoder.end(), p.stringArrs, each);
    p?.end();
  }
}

async function run(parser: ParserName, file: string): Promise<{ rows: number; checksum: number }> {
  if (parser === 'quiver') {
    let rows = 0;
    let checksum = 0;
    for await (const b of readCsv(csvBytes(file, { bytes: 0 }), file, { tags: [...CPU_TAGS] })) { rows += b.batch.numRows; checksum += checksumOf(b.batch); }
    return { rows, checksum };
  }
  const out = new ColumnBuilder();
  await libraryRows(parser, file, (r) => out.row(r));
  out.flush();
  return { rows: out.rows, checksum: out.checksum };
}

if (process.argv[1]?.endsWith('csv-parser-child.js') && process.argv.length >= 4) {
  const [parser, file] = process.argv.slice(2) as [ParserName, string];
  const t0 = performance.now();
  const r = await run(parser, file);
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ seconds, rows: r.rows, maxRssMb: peakRssMb(), checksum: Math.round(r.checksum) }));
}
