/**
 * The route registry: one line per endpoint file. The server dispatches on (method, path)
 * from this list; a new endpoint is its file plus one line here (docs/extending.md).
 */
import type { Route } from '../route.js';
import { healthRoute } from './health.js';
import { metricsRoute } from './metrics.js';
import { influxV1WriteRoute, influxV2WriteRoute, influxV3WriteRoute } from './influx-write.js';
import { queryRoute } from './query.js';
import { remoteReadRoute, remoteWriteRoute } from '../prometheus/routes.js';

export const ROUTES: readonly Route[] = [
  healthRoute,
  metricsRoute,
  influxV1WriteRoute,
  influxV2WriteRoute,
  influxV3WriteRoute,
  queryRoute,
  remoteWriteRoute, remoteReadRoute,
];
