import { openAsBlob, statSync } from 'node:fs';
import * as parquetWasm from 'parquet-wasm/node';
import { InputError } from '../errors.js';

/** Rows per Arrow batch decoded from a row group (bounds memory inside large row groups). */
export const PARQUET_BATCH_ROWS = 65_536;

/** One decoded row group as an Arrow IPC stream (a JS-owned copy, transferable). */
export interface ParquetGroup {
  ipc: Uint8Array;
  group: number;
  groups: number;
  /** File bytes this group accounts for (its compressed size; the first also the footer). */
  bytes: number;
}

/**
 * The row groups of a Parquet file decoded by parquet-wasm (arrow-rs in WebAssembly), one
 * at a time from a file-backed Blob: only the footer and the group being decoded are in
 * memory. Pure decoding, no table logic, so it runs inline or in a worker thread.
 */
export async function* parquetRowGroups(file: string): AsyncGenerator<ParquetGroup> {
  const size = statSync(file).size;
  let parquet: parquetWasm.ParquetFile;
  try {
    parquet = await parquetWasm.ParquetFile.fromFile(await openAsBlob(file));
  } catch (error) {
    throw new InputError(`${file}: not a readable Parquet file (${size} bytes): ${String((error as Error).message ?? error)}`, file);
  }
  try {
    const metadata = parquet.metadata();
    const groups = metadata.numRowGroups();
    const sizes = Array.from({ length: groups }, (_, g) => metadata.rowGroup(g).compressedSize());
    const footerBytes = Math.max(0, size - sizes.reduce((a, b) => a + b, 0));
    for (let g = 0; g < groups; g++) {
      let ipc: Uint8Array;
      try {
        ipc = (await parquet.read({ rowGroups: [g], batchSize: PARQUET_BATCH_ROWS })).intoIPCStream();
      } catch (error) {
        throw new InputError(`${file}: row group ${g} of ${groups} does not decode: ${String((error as Error).message ?? error)}`, file);
      }
      yield { ipc, group: g, groups, bytes: sizes[g]! + (g === 0 ? footerBytes : 0) };
    }
  } finally {
    parquet.free();
  }
}
