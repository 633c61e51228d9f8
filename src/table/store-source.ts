import type { ChunkManager } from '../chunk-manager/chunk-manager.js';
import type { ByteSource } from '../format/types.js';

/** An object of a store as the format's ByteSource; `size` (from the manifest) saves a request. */
export function storeSource(store: ChunkManager, key: string, size?: number): ByteSource {
  const source: ByteSource = {
    name: key,
    size: () => (size !== undefined ? Promise.resolve(size) : store.size(key)),
    read: (offset, length) => store.getRange(key, offset, length),
    readRanges: (ranges) => store.getRanges(key, ranges),
  };
  if (store.getRangesInto) source.readRangesInto = (ranges, into) => store.getRangesInto!(key, ranges, into);
  return source;
}
