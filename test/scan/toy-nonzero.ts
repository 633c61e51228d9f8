import type { AggregateDescriptor, AggregateState, BatchField, Segments } from '../../src/scan/aggregates/index.js';

/**
 * A toy aggregate with a statistic of its own (the registry test, docs/extending.md): how many
 * values of a numeric field are not zero (NaN counts: it is not zero). Its state gets every
 * batch as segments (runs of rows sharing a slot); pages are always decoded.
 */
class NonZeroCounts implements AggregateState {
  counts = new Float64Array(0);

  ensure(capacity: number): void {
    if (capacity <= this.counts.length) return;
    const grown = new Float64Array(capacity);
    grown.set(this.counts);
    this.counts = grown;
  }

  accumulate(segs: Segments, field: BatchField): void {
    const { vals, valid } = field;
    if (vals === null) return;
    for (let s = 0; s < segs.count; s++) {
      let n = 0;
      for (let i = segs.start[s]!; i < segs.end[s]!; i++) if ((valid === null || valid[i] === 1) && vals[i] !== 0) n++;
      this.counts[segs.slot[s]!]! += n;
    }
  }
}

export const nonzero: AggregateDescriptor<NonZeroCounts> = {
  id: 'nonzero',
  takes: 'numbers',
  needs: [],
  state: () => new NonZeroCounts(),
  fromStats: false,
  empty: 0n,
  outputType: () => 'i64',
  finish: ({ state, slot }) => BigInt(state.counts[slot]!),
};
