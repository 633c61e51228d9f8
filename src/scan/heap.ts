/**
 * A binary min-heap for k-way merges (the scan's streamed merge, stream-merge.ts; compaction's
 * and the import count's merge, table/key-merge.ts): the inputs ordered by `compare` on their
 * current key. The merge moves the top input on, then calls fixTop.
 */
export class MinHeap<T> {
  readonly items: T[] = [];
  constructor(private readonly compare: (a: T, b: T) => number) {}

  push(item: T): void {
    const h = this.items;
    h.push(item);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (this.compare(h[p]!, h[i]!) <= 0) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  /** Restores the order after the top item moved on (or removes it when `done`). */
  fixTop(done: boolean): void {
    const h = this.items;
    if (done) { const last = h.pop()!; if (h.length === 0) return; h[0] = last; }
    for (let i = 0; ;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && this.compare(h[l]!, h[m]!) < 0) m = l;
      if (r < h.length && this.compare(h[r]!, h[m]!) < 0) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}
