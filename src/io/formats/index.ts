/**
 * The built-in import formats, one registration each (detection tries them in this order;
 * extensions and magic bytes do not overlap). A format of your own: docs/extending.md.
 */
import { registerImportFormat } from './registry.js';
import { csvFormat } from './csv.js';
import { parquetFormat } from './parquet.js';
import { arrowFileFormat, arrowStreamFormat } from './arrow.js';

registerImportFormat(csvFormat);
registerImportFormat(parquetFormat);
registerImportFormat(arrowFileFormat);
registerImportFormat(arrowStreamFormat);

export {
  registerImportFormat, unregisterImportFormat, importFormats, importFormat, detectFormat, importInput, likelyFormat,
  type ImportFormatDescriptor, type ImportInput, type FormatContext, type SourceBatch, type RejectedRow,
} from './registry.js';
