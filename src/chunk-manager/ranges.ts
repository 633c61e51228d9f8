import type { ByteRange } from './chunk-manager.js';

/** Neighbouring ranges closer than this are fetched in one request (cheaper than a round trip). */
export const COALESCE_GAP_BYTES = 256 * 1024;
/** A coalesced request never grows beyond this. */
export const COALESCED_BYTES_MAX = 32 * 1024 * 1024;

export interface CoalescedRange extends ByteRange {
  /** Indexes of the requested ranges inside this one. */
  members: number[];
}

/**
 * Merges requested ranges into fewer, larger ones for object stores: sorted by offset,
 * joined when the gap is at most `gapBytes` and the result stays within `bytesMax`.
 */
export function coalesceRanges(ranges: readonly ByteRange[], gapBytes = COALESCE_GAP_BYTES, bytesMax = COALESCED_BYTES_MAX): CoalescedRange[] {
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]!.offset - ranges[b]!.offset);
  const out: CoalescedRange[] = [];
  for (const i of order) {
    const r = ranges[i]!;
    const last = out[out.length - 1];
    const end = r.offset + r.length;
    if (last && r.offset <= last.offset + last.length + gapBytes && Math.max(end, last.offset + last.length) - last.offset <= bytesMax) {
      last.length = Math.max(last.length, end - last.offset);
      last.members.push(i);
    } else {
      out.push({ offset: r.offset, length: r.length, members: [i] });
    }
  }
  return out;
}

/** Fetches coalesced ranges with `fetch` and slices each requested range out of them. */
export async function fetchCoalesced(ranges: readonly ByteRange[], fetch: (range: ByteRange) => Promise<Uint8Array>): Promise<Uint8Array[]> {
  const out = new Array<Uint8Array>(ranges.length);
  await Promise.all(coalesceRanges(ranges).map(async (merged) => {
    const bytes = merged.length === 0 ? new Uint8Array(0) : await fetch(merged);
    for (const i of merged.members) {
      const r = ranges[i]!;
      out[i] = bytes.subarray(r.offset - merged.offset, r.offset - merged.offset + r.length);
    }
  }));
  return out;
}
