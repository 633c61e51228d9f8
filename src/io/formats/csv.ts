/**
 * CSV (also .tsv/.txt, gzip or zstd compressed, stdin and pipes): csv/bytes → csv/reader on
 * this thread, or a run of large regular files parsed in one worker thread (csv/parse-worker).
 */
import { csvBytes } from '../csv/bytes.js';
import { readCsv, type CsvOptions } from '../csv/reader.js';
import { CSV_WORKER_BYTES_MIN, readCsvInWorker } from '../csv/parse-worker.js';
import type { FormatContext, ImportFormatDescriptor } from './registry.js';

/** The reader's options from the import's; a skipped row goes to the context's rejects as from `sourceOf(its file)`. */
function csvOptions(context: FormatContext, sourceOf: (file: string) => string): CsvOptions {
  const o = context.options;
  return {
    ...(o.delimiter !== undefined ? { delimiter: o.delimiter } : {}),
    ...(o.columns ? { columns: o.columns } : {}),
    ...(o.time ? { time: o.time } : {}),
    ...(o.tags ? { tags: o.tags } : {}),
    ...(o.timeFormat ? { timeFormat: o.timeFormat } : {}),
    ...(o.timeUnit ? { timeUnit: o.timeUnit } : {}),
    ...(o.schema ? { schema: o.schema } : {}),
    ...(o.layout ? { layout: o.layout } : {}),
    ...(o.fieldColumn ? { fieldColumn: o.fieldColumn } : {}),
    ...(o.valueColumn ? { valueColumn: o.valueColumn } : {}),
    ...(o.invalidUtf8 ? { invalidUtf8: o.invalidUtf8 } : {}),
    maxErrors: context.errorsLeft(),
    onReject: (r) => context.reject({ source: sourceOf(r.file ?? ''), line: r.line, reason: r.reason, bytes: r.bytes }),
  };
}

export const csvFormat: ImportFormatDescriptor = {
  id: 'csv',
  name: 'CSV',
  extensions: ['.csv', '.tsv', '.txt', '.csv.gz', '.tsv.gz', '.txt.gz', '.csv.zst', '.tsv.zst', '.txt.zst'],
  pipeable: true,
  csvOptions: true,
  async *open(input, context) {
    const options = csvOptions(context, () => input.source);
    for await (const b of readCsv(csvBytes(input.file, context.counter), input.file, options, context.table)) {
      yield { batch: b.batch, rowStart: b.rowStart, schema: b.plan.schema, file: input.file, replaced: b.replaced };
    }
  },
  // A run of regular CSV files large enough together is parsed in one worker thread (file
  // after file), overlapping the encoding of chunks on the importing thread.
  openRun(inputs, context) {
    const bytes = inputs.reduce((sum, i) => sum + (i.size ?? 0), 0);
    if (!context.parallel || bytes < (context.options.workerBytesMin ?? CSV_WORKER_BYTES_MIN)) return undefined;
    return readCsvInWorker(inputs.map((i) => i.file), context.counter, csvOptions(context, (f) => f), context.table);
  },
};
