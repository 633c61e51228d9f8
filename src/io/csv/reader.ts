/**
 * The CSV reader: bytes → planned (plan.ts) → tokenized (tokenizer.ts) → rows converted into
 * Arrow batches (builders.ts) in the table's shape.
 */
import type { RecordBatch } from 'apache-arrow';
import { InputError } from '../../errors.js';
import type { TableSchema } from '../../core/types.js';
import { CsvTokenizer, detectDelimiter, rowBytes } from './tokenizer.js';
import { CellText } from './cells.js';
export { CSV_BATCH_ROWS, CSV_SAMPLE_ROWS, CSV_PLAN_BYTES, TIME_NAMES, inferType, delimiterByte, type CsvOptions, type CsvPlan } from './plan.js';
import { CSV_BATCH_ROWS, CSV_PLAN_BYTES, CsvSampler, FirstLine, delimiterByte, planCsv, type CsvOptions, type CsvPlan } from './plan.js';
import { LongBuilder, WideBuilder, type Builder } from './builders.js';

export interface CsvBatch {
  batch: RecordBatch;
  /** 0-based data row of the file where this batch starts. */
  rowStart: number;
  plan: CsvPlan;
  /** Values stored with invalid UTF-8 replaced by U+FFFD (invalidUtf8 'replace'; header names included; since the previous batch). */
  replaced: number;
}

/**
 * Streams a CSV into Arrow batches in the table's schema: plan from the head of the file
 * (header, delimiter, types, time format), then tokenize and convert every row from bytes.
 * `table`, when given, fixes the time column, tags and known field types (append).
 */
export async function* readCsv(input: AsyncIterable<Buffer | Uint8Array>, file: string, options: CsvOptions = {}, table?: TableSchema): AsyncGenerator<CsvBatch> {
  const iterator = input[Symbol.asyncIterator]();
  const cells = new CellText(options.invalidUtf8 ?? 'error');
  const planBytes = options.planBytes ?? CSV_PLAN_BYTES;
  // Read the head piece by piece until the sample is whole rows enough to plan from (the
  // pieces are kept to be parsed again by the real pass). The delimiter, when not given,
  // is detected once the header line has ended.
  const headChunks: Buffer[] = [];
  let done = false;
  let delimiter = options.delimiter !== undefined ? delimiterByte(options.delimiter) : undefined;
  const firstLine = new FirstLine();
  let sampler: CsvSampler | undefined;
  const startSampler = (d: number) => {
    sampler = new CsvSampler(file, d, options, table, cells);
    for (const piece of headChunks) sampler.feed(piece);
    return sampler;
  };
  if (delimiter !== undefined) startSampler(delimiter);
  while (!sampler?.enough(planBytes)) {
    const next = await iterator.next();
    if (next.done) { done = true; break; }
    const b = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    headChunks.push(b);
    if (sampler) sampler.feed(b);
    else {
      firstLine.feed(b);
      if (firstLine.ended) startSampler(delimiter = detectDelimiter(Buffer.concat(headChunks)));
    }
  }
  if (!sampler) startSampler(delimiter = detectDelimiter(Buffer.concat(headChunks)));
  if (done) sampler!.end();
  const plan = planCsv(file, sampler!, delimiter!, options, table);
  const capacity = options.batchRows ?? CSV_BATCH_ROWS;
  const ready: CsvBatch[] = [];
  let dataRows = 0;
  let batchStart = 0;
  let replaced = sampler!.replaced;
  const emit = (batch: RecordBatch) => {
    ready.push({ batch, rowStart: batchStart, plan, replaced });
    replaced = 0;
  };
  // A long batch is cut inside add(), before the row that starts the next one.
  const builder: Builder = plan.long
    ? new LongBuilder(plan, file, capacity, cells, (batch) => { emit(batch); batchStart = dataRows; })
    : new WideBuilder(plan, file, capacity, cells);
  let headerSkipped = options.columns !== undefined;
  let errors = 0;
  const maxErrors = options.maxErrors ?? 0;
  const tokenizer = new CsvTokenizer(plan.delimiter, file, (row) => {
    if (!headerSkipped) { headerSkipped = true; return; }
    if (builder.rows === 0) batchStart = dataRows;
    cells.rowReplaced = 0;
    try {
      builder.add(row);
      replaced += cells.rowReplaced;
    } catch (error) {
      if (!(error instanceof InputError) || errors >= maxErrors) throw error;
      errors++;
      const bytes = rowBytes(row);
      options.onReject?.({ line: row.line, reason: error.message, text: Buffer.from(bytes).toString('utf8'), bytes });
    }
    dataRows++;
    if (!plan.long && builder.rows >= capacity) emit(builder.take());
  });
  tokenizer.header = plan.header;
  // The pieces as they came (the tokenizer strips the BOM itself), not the joined head.
  for (const piece of headChunks) {
    tokenizer.feed(piece);
    for (const b of ready.splice(0)) yield b;
  }
  for (const b of ready.splice(0)) yield b;
  while (!done) {
    const next = await iterator.next();
    if (next.done) break;
    tokenizer.feed(next.value);
    for (const b of ready.splice(0)) yield b;
  }
  tokenizer.end();
  if (builder.rows > 0) emit(builder.take());
  for (const b of ready.splice(0)) yield b;
}
