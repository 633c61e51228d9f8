import { open } from 'node:fs/promises';
import type { ByteSource } from '../format/types.js';
import type { ChunkManager } from '../chunk-manager/chunk-manager.js';

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

/** An object of a ChunkManager as a ByteSource; `size` from the manifest saves a request. */
export function storeSource(cm: ChunkManager, key: string, size?: number): ByteSource {
  return {
    name: key,
    size: () => (size !== undefined ? Promise.resolve(size) : cm.size(key)),
    read: (offset, length) => cm.getRange(key, offset, length),
    readRanges: (ranges) => cm.getRanges(key, ranges),
  };
}
