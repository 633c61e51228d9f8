import type { ChunkManager } from './chunk-manager.js';
import { NotFoundError } from '../errors.js';

/**
 * True when `key` holds exactly `bytes`. A remote store calls this when a conditional create
 * is refused: if the object is byte for byte the one being written, the refusal is this same
 * write landing twice (the first attempt succeeded, its response was lost, the retry layer
 * sent it again), so the writer won. Answering AlreadyExists there would make a committer
 * that won believe it lost and re-apply its change on top of its own commit. A rival writer's
 * manifest never matches byte for byte (its parent, commit time and chunks differ).
 */
export async function holdsExactly(store: ChunkManager, key: string, bytes: Uint8Array): Promise<boolean> {
  let there: Uint8Array;
  try {
    if ((await store.size(key)) !== bytes.length) return false;
    there = await store.get(key);
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
  return Buffer.compare(Buffer.from(there.buffer, there.byteOffset, there.byteLength), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) === 0;
}
