import type { Route } from '../route.js';

/** `GET /metrics`: Prometheus text exposition format 0.0.4. */
export const metricsRoute: Route = {
  methods: ['GET'],
  path: '/metrics',
  async handle({ res, core }) {
    const text = await core.metrics.render();
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  },
};
