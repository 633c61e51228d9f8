import { AbortError } from '../errors.js';

/**
 * What a scan's read-ahead is made of: a budget of decoded bytes reads may hold, each read's
 * turn (reads ahead of the consumer decode on the calling thread only when it comes), and the
 * page windows a large chunk is read in.
 */

/**
 * Decoded bytes reads may hold at once: acquire waits (first come, first served) until the
 * bytes fit, except that one holder may always proceed (a chunk larger than the budget still
 * reads, alone).
 */
export class ByteBudget {
  private held = 0;
  private readonly waiters: { bytes: number; resolve(): void }[] = [];
  constructor(private readonly max: number) {}

  acquire(bytes: number): Promise<void> {
    if (this.waiters.length === 0 && (this.held === 0 || this.held + bytes <= this.max)) {
      this.held += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  release(bytes: number): void {
    this.held -= bytes;
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      if (this.held !== 0 && this.held + w.bytes > this.max) break;
      this.waiters.shift();
      this.held += w.bytes;
      w.resolve();
    }
  }

  /** Lets every waiter go (the scan ended; they see `stopped` and give their bytes back). */
  cancel(): void {
    for (const w of this.waiters.splice(0)) { this.held += w.bytes; w.resolve(); }
  }
}

/** A pending read's turn: comes when the scan waits for it, or never (the scan ended). */
export class Turn {
  come!: () => void;
  never!: () => void;
  readonly promise = new Promise<void>((resolve, reject) => {
    this.come = resolve;
    this.never = () => reject(new AbortError('scan ended'));
  });
  constructor() { this.promise.catch(() => {}); } // a read that never reached its decode does not observe it
}

/** The pages split into runs of at most `rows` rows (at least one page each), in order. */
export function pageWindows(pageRowStarts: readonly number[], pages: readonly number[], rows: number): number[][] {
  const out: number[][] = [];
  let window: number[] = [];
  let held = 0;
  for (const p of pages) {
    const n = pageRowStarts[p + 1]! - pageRowStarts[p]!;
    if (window.length > 0 && held + n > rows) { out.push(window); window = []; held = 0; }
    window.push(p);
    held += n;
  }
  if (window.length > 0) out.push(window);
  return out;
}
