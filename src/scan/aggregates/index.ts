import { registerAggregate } from './descriptor.js';
import { count, derivative, first, last, max, mean, min, quantile, rate, spread, stddev, sum } from './builtins.js';

/**
 * The aggregate registry with the built-ins registered, in the order help texts list them.
 * A new aggregate: its descriptor in a file of this folder, and one line here.
 */
registerAggregate(count);
registerAggregate(sum);
registerAggregate(min);
registerAggregate(max);
registerAggregate(mean);
registerAggregate(first);
registerAggregate(last);
registerAggregate(stddev);
registerAggregate(quantile);
registerAggregate(rate);
registerAggregate(derivative);
registerAggregate(spread);

export {
  registerAggregate, unregisterAggregate, aggregates, aggregateHelp, resolveAggSpec, aggregatesTaking, takesType, fieldAccumulator, newState,
  PAGE_STATISTICS,
  type AggregateDescriptor, type AggPlan, type SlotInput, type Statistic, type Takes, type FieldKind, type OutKind, type Value,
} from './descriptor.js';
export type { AggregateState, BatchField, BatchTime, Segments } from '../aggregate.js';
