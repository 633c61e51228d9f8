import type { Route } from '../route.js';
import { sendJson } from '../route.js';

/** `GET /health`: 200 while the server accepts work, 503 once it is shutting down. */
export const healthRoute: Route = {
  methods: ['GET'],
  path: '/health',
  public: true,
  async handle({ res, core }) {
    const closing = core.ingest.closing;
    sendJson(res, closing ? 503 : 200, { status: closing ? 'closing' : 'pass', name: 'quiver', store: core.db.url });
  },
};
