import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config/config.schema.js';
import { DatabaseError } from '../domain/errors.js';
import { problemForError } from './error-problem.js';
import { intakeFastPath, intakeRoutes, type IntakeRouteDeps } from './intake-routes.js';
import { listen } from './listen.js';
import { createMetrics } from './metrics.js';
import { problem } from './problem.js';

const KEY = 'fast-path-key';
const alertmanagerBody = readFileSync(join(import.meta.dirname, '../ingest/alertmanager/__fixtures__/alertmanager-firing.json'), 'utf8');

/** The webhook route as the app serves it (its error handler included), over the fast path or over Hono. */
function server(failWith?: () => Error | undefined) {
  const config = ConfigSchema.parse({ intake: { key: KEY } });
  const log = pino({ level: 'silent' });
  const deps: IntakeRouteDeps = {
    notifications: {
      async record(delivery) {
        const error = failWith?.();
        if (error) throw error;
        // Ids derived from the alert, so both paths answer the same bytes for the same request.
        return delivery.alerts.map((alert) => ({ id: `00000000-0000-4000-8000-${alert.fingerprint.padStart(12, '0').slice(-12)}`, fingerprint: alert.fingerprint, state: 'received' as const, startWorkflow: false }));
      },
    },
    routes: [],
    intake: { ...config.intake, key: KEY },
    bodyLimitBytes: 64 * 1024,
    metrics: createMetrics(async () => ({})),
    adoptRoute: async () => false,
    startWorkflow: async () => {},
    notifyClosed: async () => {},
    onWorkflowStartError: () => {},
  };
  const app = new Hono();
  app.route('/', intakeRoutes(deps));
  app.onError((error, c) => problem(c, problemForError(error, log)));
  const reachedApp: string[] = [];
  const fetch = (request: Request) => {
    reachedApp.push(new URL(request.url).pathname);
    return app.fetch(request);
  };
  return { app, deps, log, fetch, reachedApp };
}

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}

const answerOf = async (response: Response): Promise<Answer> => ({ status: response.status, contentType: response.headers.get('content-type'), body: await response.text() });

describe('the webhook fast path answers exactly what the app answers', () => {
  let failing: Error | undefined;
  const s = server(() => failing);
  let http: ServerType;
  let base: string;

  beforeAll(async () => {
    http = await listen(s.fetch, { host: '127.0.0.1', port: 0 }, intakeFastPath(s.deps, s.log));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => http.close(() => done())));

  const cases: { name: string; path: string; body: string; contentType?: string; fail?: Error; status: number }[] = [
    { name: 'a delivery it stores', path: `/hooks/alertmanager/${KEY}`, body: alertmanagerBody, status: 202 },
    { name: 'an unknown source', path: `/hooks/nagios/${KEY}`, body: alertmanagerBody, status: 404 },
    { name: 'a wrong key', path: '/hooks/alertmanager/wrong', body: alertmanagerBody, status: 401 },
    { name: 'a body that is not JSON by content type', path: `/hooks/alertmanager/${KEY}`, body: alertmanagerBody, contentType: 'text/plain', status: 415 },
    { name: 'malformed JSON', path: `/hooks/alertmanager/${KEY}`, body: '{"version":', status: 400 },
    { name: 'a payload of the wrong shape', path: `/hooks/alertmanager/${KEY}`, body: JSON.stringify({ version: '3', alerts: 'none' }), status: 400 },
    { name: 'the database down', path: `/hooks/alertmanager/${KEY}`, body: alertmanagerBody, fail: new DatabaseError('database_start_failed', 'connection refused'), status: 503 },
    { name: 'an unexpected error (its message not shown)', path: `/hooks/alertmanager/${KEY}`, body: alertmanagerBody, fail: new Error('secret internals'), status: 500 },
  ];

  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.status}, without going through the app`, async () => {
      const init = { method: 'POST', body: testCase.body, headers: { 'content-type': testCase.contentType ?? 'application/json' } };
      failing = testCase.fail;
      const viaApp = await answerOf(await s.app.request(testCase.path, init));
      const before = s.reachedApp.length;
      const viaServer = await answerOf(await fetch(`${base}${testCase.path}`, init));
      failing = undefined;
      expect(viaServer).toEqual(viaApp);
      expect(viaServer.status).toBe(testCase.status);
      expect(viaServer.body).not.toContain('secret internals');
      expect(s.reachedApp.length).toBe(before);
    });
  }

  it('leaves to the app what it would not answer the same way: a query, percent-encoding, a declared body over the limit', async () => {
    const init = { method: 'POST', body: alertmanagerBody, headers: { 'content-type': 'application/json' } };
    for (const path of [`/hooks/alertmanager/${KEY}?from=am`, `/hooks/alertmanager/${encodeURIComponent(KEY).replace('-', '%2D')}`]) {
      const before = s.reachedApp.length;
      const viaServer = await answerOf(await fetch(`${base}${path}`, init));
      expect(viaServer).toEqual(await answerOf(await s.app.request(path, init)));
      expect(viaServer.status).toBe(202);
      expect(s.reachedApp.length).toBe(before + 1);
    }
    const big = JSON.stringify({ padding: 'x'.repeat(70 * 1024) });
    const before = s.reachedApp.length;
    const tooLarge = await fetch(`${base}/hooks/alertmanager/${KEY}`, { ...init, body: big });
    expect(tooLarge.status).toBe(413);
    expect(s.reachedApp.length).toBe(before + 1);
  });

  it('leaves a chunked body (no Content-Length) to the app, which still stores it', async () => {
    const before = s.reachedApp.length;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const sent = httpRequest(`${base}/hooks/alertmanager/${KEY}`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      sent.on('error', reject);
      sent.write(alertmanagerBody.slice(0, 100));
      sent.end(alertmanagerBody.slice(100));
    });
    expect(answer.status).toBe(202);
    expect(JSON.parse(answer.body)).toHaveProperty('incidents');
    expect(s.reachedApp.length).toBe(before + 1);
  });
});
