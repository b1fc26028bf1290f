import { Hono } from 'hono';
import type { Logger } from 'pino';
import { incidentRoutes, type IncidentRouteDeps } from './incident-routes.js';
import { intakeRoutes, type IntakeRouteDeps } from './intake-routes.js';
import type { Metrics } from './metrics.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';
import { authorize } from './authorize.js';
import { problemForError } from './error-problem.js';
import { peerAddress } from './identity.js';
import { problem } from './problem.js';
import { webRoutes, type WebRouteDeps } from './web-routes.js';

export interface AppDeps {
  intake: IntakeRouteDeps;
  incidents: IncidentRouteDeps;
  /** The web UI; absent in tests of the API alone. */
  web?: WebRouteDeps;
  metrics: Metrics;
  /** Refuses an address after too many failed credentials (auth.failedAttemptsPerMinute); absent: no limit. */
  authFailures?: AuthFailureLimiter;
  ready(): Promise<Record<string, { ok: boolean; detail?: string }>>;
  log: Logger;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const limiter = deps.authFailures;
  // Webhooks carry the intake key, not credentials: refusing an address there would drop alerts.
  if (limiter) {
    app.use('*', async (c, next) => {
      if (c.req.path.startsWith('/hooks/') || c.req.path === '/healthz' || c.req.path === '/readyz') return next();
      const peer = peerAddress(c) ?? '(no socket)';
      const wait = limiter.blockedFor(peer);
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        return problem(c, { status: 429, code: 'too-many-failed-attempts', title: 'Too many refused tokens from this address', detail: `try again in ${wait} s` });
      }
      await next();
      // A token that was presented and refused is a guess; a request with none is not.
      if (c.res.status === 401 && c.req.header('authorization') !== undefined) limiter.failed(peer);
    });
  }
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = await deps.ready();
    const ok = Object.values(checks).every((check) => check.ok);
    return c.json({ status: ok ? 'ready' : 'not ready', checks }, ok ? 200 : 503);
  });
  // Metrics name incident states and alert sources: a viewer's (or a scrape) token, like any read.
  app.get('/metrics', async (c) => {
    const access = authorize(c, deps.incidents.access, 'viewer');
    if (!access.ok) return access.response;
    return c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType });
  });
  app.route('/', intakeRoutes(deps.intake));
  app.route('/', incidentRoutes(deps.incidents));
  if (deps.web) app.route('/', webRoutes(deps.web));
  app.notFound((c) => problem(c, { status: 404, code: 'not-found', title: 'Not found', detail: `${c.req.method} ${c.req.path}` }));
  app.onError((error, c) => problem(c, problemForError(error, deps.log)));
  return app;
}
