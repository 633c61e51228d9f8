import type { AggregateDescriptor } from '../../src/scan/aggregates/index.js';
import { fieldAccumulator } from '../../src/scan/aggregates/index.js';

/**
 * A toy aggregate for the registry test (and docs/extending.md): (min + max) / 2 of a numeric
 * field. It reads the built-in min/max statistic, so pages inside one bucket and group are
 * answered from their footers, and it inherits the NaN policy of min and max (DuckDB's: NaN is
 * the largest value, so a NaN makes max, and the midrange, NaN).
 */
export const midrange: AggregateDescriptor = {
  id: 'midrange',
  takes: 'numbers',
  needs: ['minMax'],
  fromStats: true,
  outputType: () => 'f64',
  finish(input) {
    const acc = fieldAccumulator(input);
    if (acc.count[input.slot]! === 0) return null;
    return (Number(acc.minValue(input.slot)) + Number(acc.maxValue(input.slot))) / 2;
  },
};
