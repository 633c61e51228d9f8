/**
 * How Prometheus series map onto Quiver tables: one table per metric name (`__name__`), the
 * other labels as tags, the time column `time` in milliseconds (Prometheus' unit) and one
 * float64 field `value`.
 *
 * - Metric names may hold ':' (recording rules: `job:http_requests:rate5m`), which table names
 *   may not; no metric name holds '.', which table names may: ':' ↔ '.' is a bijection.
 * - A label that is absent and a label whose value is empty are the same thing in Prometheus:
 *   both are the null tag (a written empty value is stored as null; remote read never returns
 *   an empty label).
 * - A table is created with the union of the label names the creating request had for that
 *   metric as its tags. A later series with a label the table lacks adds it as a tag (one
 *   alter commit, src/server/new-tags.ts; earlier samples read it as null, i.e. absent), so
 *   a label is never folded away (which would merge distinct series).
 * - Labels named `time` or `value` would collide with the columns: such series are refused.
 */
import type { TableSchema } from '../../core/types.js';
import { TABLE_NAME_LENGTH_MAX } from '../../table/names.js';

export const TIME_COLUMN = 'time';
export const VALUE_COLUMN = 'value';
export const NAME_LABEL = '__name__';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The table of a metric, or why it has none. */
export function tableOfMetric(metric: string): { table: string } | { error: string } {
  if (!METRIC_NAME.test(metric)) return { error: `metric name ${JSON.stringify(metric)} is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)` };
  if (metric.startsWith(':')) return { error: `metric name ${JSON.stringify(metric)} starts with ':', which Quiver table names cannot map` };
  if (metric.length > TABLE_NAME_LENGTH_MAX) return { error: `metric name of ${metric.length} characters exceeds ${TABLE_NAME_LENGTH_MAX} (Quiver's table name limit)` };
  return { table: metric.replaceAll(':', '.') };
}

/** The metric a table holds (undefined when the name cannot be one). */
export function metricOfTable(table: string): string | undefined {
  const metric = table.replaceAll('.', ':');
  return METRIC_NAME.test(metric) ? metric : undefined;
}

/** Why a label name cannot be a tag (undefined when it can). */
export function labelNameError(name: string): string | undefined {
  if (!LABEL_NAME.test(name)) return `label name ${JSON.stringify(name)} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)`;
  if (name === TIME_COLUMN || name === VALUE_COLUMN) return `label name ${JSON.stringify(name)} collides with the table's ${name} column`;
  return undefined;
}

/** Why a table cannot hold Prometheus samples (undefined when it can). */
export function shapeError(schema: TableSchema): string | undefined {
  const value = schema.fields.find((f) => f.name === VALUE_COLUMN);
  if (schema.time !== TIME_COLUMN || schema.timeUnit !== 'ms' || value?.type !== 'float64') {
    return `is not a Prometheus metric table (time column ${TIME_COLUMN} in ms and a float64 field ${VALUE_COLUMN}): it has time column ${schema.time} in ${schema.timeUnit} and ${value ? `${VALUE_COLUMN} ${value.type}` : `no ${VALUE_COLUMN} field`}`;
  }
  return undefined;
}
