import { open } from 'node:fs/promises';
import type { ByteSource } from '../format/types.js';

/** A chunk file on disk, read with positional reads (for `quiver inspect FILE.qvr`). */
export function fileSource(path: string): ByteSource {
  return {
    name: path,
    async size() {
      const handle = await open(path, 'r');
      try { return (await handle.stat()).size; } finally { await handle.close(); }
    },
    async read(offset, length) {
      const handle = await open(path, 'r');
      try {
        const out = new Uint8Array(length);
        const { bytesRead } = await handle.read(out, 0, length, offset);
        return bytesRead === length ? out : out.subarray(0, bytesRead);
      } finally { await handle.close(); }
    },
  };
}

/** An object of a store as a ByteSource (one implementation, the table's). */
export { storeSource } from '../table/store-source.js';
