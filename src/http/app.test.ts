import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config/config.schema.js';
import { BackendError, DatabaseError, InvalidArgumentError } from '../domain/errors.js';
import type { IncidentState } from '../domain/incident.js';
import type { Incident, IncidentRecord } from '../domain/incident-record.js';
import type { RoutedNotification } from '../domain/incident.js';
import type { Catalog } from '../remediation/catalog.js';
import type { NewApproval } from '../store/approvals.js';
import type { ApprovalMessage } from '../workflow/approval-message.js';
import { createApp } from './app.js';
import { createMetrics } from './metrics.js';

const KEY = 'unit-intake-key';
const TOKEN = 'unit-approver-token';
const HMAC_SECRET = 'grafana-shared-secret';
const FIXTURES = join(import.meta.dirname, '../ingest');
const alertmanagerBody = readFileSync(join(FIXTURES, 'alertmanager/__fixtures__/alertmanager-firing.json'), 'utf8');
const grafanaBody = readFileSync(join(FIXTURES, 'grafana/__fixtures__/grafana-firing.json'), 'utf8');

function incident(state: IncidentState, overrides: Partial<Incident> = {}): Incident {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    fingerprint: 'f1',
    state,
    stateReason: null,
    route: 'default',
    mode: 'approve',
    alertName: 'NginxDown',
    severity: 'critical',
    instance: 'web1',
    createdAt: now,
    updatedAt: now,
    source: 'alertmanager',
    labels: { alertname: 'NginxDown' },
    annotations: {},
    expression: null,
    evidence: [],
    proposal: { diagnosis: 'nginx is down', evidence: [], action: { id: 'restart-service', inputs: { service: 'nginx', host: 'web1' } }, risk: 'medium', confidence: 0.9, source: 'runbook' },
    dryRun: null,
    decision: null,
    verification: null,
    ...overrides,
  };
}

/** The app with every collaborator in memory: what a request sees, with no database behind it. */
function harness(options: { failIntake?: Error; hmac?: boolean } = {}) {
  const incidents = new Map<string, Incident>();
  const deliveries: RoutedNotification[] = [];
  const started: string[] = [];
  const approvals: (NewApproval & { incidentId: string })[] = [];
  const sent: { id: string; message: ApprovalMessage }[] = [];
  const config = ConfigSchema.parse({ intake: { key: KEY, ...(options.hmac ? { grafana: { hmacSecret: HMAC_SECRET } } : {}) } });
  const catalog = {
    entries: new Map(),
    get: () => undefined,
    validateInputs: (_id: string, inputs: Record<string, unknown>) => (inputs.service === '' ? ['/service must NOT have fewer than 1 characters'] : []),
  } as unknown as Catalog;
  const app = createApp({
    intake: {
      notifications: {
        async record(delivery) {
          if (options.failIntake) throw options.failIntake;
          deliveries.push(delivery);
          return delivery.alerts.map((alert) => ({ id: randomUUID(), fingerprint: alert.fingerprint, state: 'received' as const, startWorkflow: alert.route !== null }));
        },
      },
      routes: [{ name: 'everything', matchers: [], mode: 'approve', actions: [] }],
      intake: { ...config.intake, key: KEY },
      bodyLimitBytes: 64 * 1024,
      metrics: createMetrics(async () => ({})),
      startWorkflow: async (id) => void started.push(id),
      notifyClosed: async () => {},
      onWorkflowStartError: () => {},
    },
    incidents: {
      incidents: {
        list: async ({ state }) => [...incidents.values()].filter((i) => !state || i.state === state),
        get: async (id) => incidents.get(id) ?? null,
        getRecord: async (id) => {
          const found = incidents.get(id);
          return found ? ({ ...found, alerts: [], approvals: [], runs: [], investigation: null, audit: [] } satisfies IncidentRecord) : null;
        },
      },
      approvals: {
        record: async (incidentId, approval) => void approvals.push({ incidentId, ...approval }),
        hasApprovedSince: async (incidentId, approver) => approvals.some((a) => a.incidentId === incidentId && a.approver === approver && a.approved),
      },
      catalog,
      tokens: [{ name: 'alice', token: TOKEN }],
      sendApproval: async (id, message) => void sent.push({ id, message }),
    },
    metrics: createMetrics(async () => ({})),
    log: pino({ level: 'silent' }),
    ready: async () => ({ database: { ok: true }, policy: { ok: false, detail: 'opa is not answering' } }),
  });
  return { app, incidents, deliveries, started, approvals, sent };
}

const json = { 'content-type': 'application/json' };
const post = (app: ReturnType<typeof harness>['app'], path: string, body: string, headers: Record<string, string> = json) => app.request(path, { method: 'POST', body, headers });

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as { code: string; status: number; detail?: string; errors?: { path: string; message: string }[] };
}

describe('webhook intake over HTTP', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });

  it('accepts an Alertmanager delivery, routes each alert before storing it and starts its workflow', async () => {
    const response = await post(h.app, `/hooks/alertmanager/${KEY}`, alertmanagerBody);
    expect(response.status).toBe(202);
    const body = (await response.json()) as { incidents: { id: string; state: string }[] };
    expect(body.incidents.length).toBeGreaterThan(0);
    expect(h.deliveries[0]!.alerts.every((a) => a.route?.route === 'everything')).toBe(true);
    expect(h.started).toEqual(body.incidents.map((i) => i.id));
  });

  it('refuses an unknown source with 404 and names the sources it knows', async () => {
    const problem = await problemOf(await post(h.app, `/hooks/zabbix/${KEY}`, alertmanagerBody));
    expect(problem).toMatchObject({ status: 404, code: 'unknown-source' });
    expect(problem.detail).toContain('alertmanager');
  });

  it('refuses a wrong key with 401 and stores nothing', async () => {
    expect(await problemOf(await post(h.app, '/hooks/alertmanager/wrong', alertmanagerBody))).toMatchObject({ status: 401, code: 'bad-key' });
    expect(h.deliveries).toHaveLength(0);
  });

  it('refuses a body that is not JSON by content type with 415', async () => {
    expect(await problemOf(await post(h.app, `/hooks/alertmanager/${KEY}`, alertmanagerBody, { 'content-type': 'text/plain' }))).toMatchObject({ status: 415, code: 'unsupported-media-type' });
  });

  it('refuses an oversized body with 413, declared or not', async () => {
    const big = JSON.stringify({ padding: 'x'.repeat(70 * 1024) });
    expect(await problemOf(await post(h.app, `/hooks/alertmanager/${KEY}`, big))).toMatchObject({ status: 413, code: 'body-too-large' });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const chunked = await h.app.request(`/hooks/alertmanager/${KEY}`, { method: 'POST', body: stream, headers: json, duplex: 'half' } as RequestInit);
    expect(await problemOf(chunked)).toMatchObject({ status: 413, code: 'body-too-large' });
    expect(h.deliveries).toHaveLength(0);
  });

  it('answers malformed JSON with 400 malformed-json', async () => {
    expect(await problemOf(await post(h.app, `/hooks/alertmanager/${KEY}`, '{"version":'))).toMatchObject({ status: 400, code: 'malformed-json' });
  });

  it('answers a payload of the wrong shape with 400 and the path of each problem', async () => {
    const problem = await problemOf(await post(h.app, `/hooks/alertmanager/${KEY}`, JSON.stringify({ version: '3', alerts: 'none' })));
    expect(problem).toMatchObject({ status: 400, code: 'invalid-payload' });
    expect(problem.errors!.map((e) => e.path)).toEqual(expect.arrayContaining(['version', 'alerts']));
  });

  it('checks the Grafana signature when a secret is configured', async () => {
    const signed = harness({ hmac: true });
    const signature = createHmac('sha256', HMAC_SECRET).update(grafanaBody).digest('hex');
    expect((await post(signed.app, `/hooks/grafana/${KEY}`, grafanaBody, { ...json, 'X-Grafana-Alerting-Signature': signature })).status).toBe(202);
    const forged = await post(signed.app, `/hooks/grafana/${KEY}`, grafanaBody, { ...json, 'X-Grafana-Alerting-Signature': '00'.repeat(32) });
    expect(await problemOf(forged)).toMatchObject({ status: 401, code: 'bad-signature' });
    expect(await problemOf(await post(signed.app, `/hooks/grafana/${KEY}`, grafanaBody))).toMatchObject({ status: 401, code: 'bad-signature' });
    expect(signed.deliveries).toHaveLength(1);
  });

  it('answers 503 with the reason when the database is down, so the sender retries', async () => {
    const down = harness({ failIntake: new DatabaseError('database_start_failed', 'connection refused') });
    const problem = await problemOf(await post(down.app, `/hooks/alertmanager/${KEY}`, alertmanagerBody));
    expect(problem).toMatchObject({ status: 503, code: 'database_start_failed', detail: 'connection refused' });
  });

  it('answers 500 "retrying is safe" for an unexpected error, without its message', async () => {
    const broken = harness({ failIntake: new Error('secret internals') });
    const problem = await problemOf(await post(broken.app, `/hooks/alertmanager/${KEY}`, alertmanagerBody));
    expect(problem).toMatchObject({ status: 500, code: 'internal' });
    expect(problem.detail).toContain('retrying is safe');
    expect(JSON.stringify(problem)).not.toContain('secret internals');
  });

  it('maps error families to their status: bad argument 400, backend 502', async () => {
    const invalid = harness({ failIntake: new InvalidArgumentError('invalid_argument', 'no') });
    expect((await post(invalid.app, `/hooks/alertmanager/${KEY}`, alertmanagerBody)).status).toBe(400);
    const backend = harness({ failIntake: new BackendError('prometheus_unreachable', 'down') });
    expect((await post(backend.app, `/hooks/alertmanager/${KEY}`, alertmanagerBody)).status).toBe(502);
  });
});

describe('incident reads over HTTP', () => {
  it('lists incidents, filters by state and refuses an unknown state with the valid ones', async () => {
    const h = harness();
    const waiting = incident('awaiting_approval');
    h.incidents.set(waiting.id, waiting);
    const closed = incident('resolved');
    h.incidents.set(closed.id, closed);
    const all = (await (await h.app.request('/api/v1/incidents')).json()) as { incidents: Incident[] };
    expect(all.incidents).toHaveLength(2);
    const filtered = (await (await h.app.request('/api/v1/incidents?state=resolved')).json()) as { incidents: Incident[] };
    expect(filtered.incidents.map((i) => i.id)).toEqual([closed.id]);
    const problem = await problemOf(await h.app.request('/api/v1/incidents?state=nope'));
    expect(problem).toMatchObject({ status: 400, code: 'bad-state' });
    expect(problem.detail).toContain('awaiting_approval');
  });

  it('answers 404 for an unknown or malformed incident id', async () => {
    const h = harness();
    expect(await problemOf(await h.app.request(`/api/v1/incidents/${randomUUID()}`))).toMatchObject({ status: 404, code: 'not-found' });
    expect(await problemOf(await h.app.request('/api/v1/incidents/not-a-uuid'))).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('answers unknown paths with a problem, not an HTML page', async () => {
    expect(await problemOf(await harness().app.request('/nope'))).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('reports readiness per check and 503 when one fails', async () => {
    const response = await harness().app.request('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'not ready', checks: { database: { ok: true }, policy: { ok: false, detail: 'opa is not answering' } } });
  });
});

describe('the resume API', () => {
  const auth = { ...json, authorization: `Bearer ${TOKEN}` };
  const resume = (h: ReturnType<typeof harness>, id: string, body: unknown, headers: Record<string, string> = auth) => post(h.app, `/api/v1/incidents/${id}/resume`, typeof body === 'string' ? body : JSON.stringify(body), headers);

  function waiting() {
    const h = harness();
    const target = incident('awaiting_approval');
    h.incidents.set(target.id, target);
    return { h, id: target.id };
  }

  it('records the approval under the token name and hands it to the waiting workflow', async () => {
    const { h, id } = waiting();
    const response = await resume(h, id, { approved: true, reason: 'nginx is down' });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ id, accepted: true, approver: 'alice', approved: true });
    expect(h.approvals).toEqual([{ incidentId: id, approver: 'alice', approved: true, reason: 'nginx is down', modifications: undefined, channel: 'api' }]);
    expect(h.sent).toEqual([{ id, message: { kind: 'decision', approved: true, approver: 'alice', reason: 'nginx is down', modifications: undefined } }]);
  });

  it('refuses a missing or unknown token with 401 and records nothing', async () => {
    const { h, id } = waiting();
    expect(await problemOf(await resume(h, id, { approved: true, reason: 'x' }, json))).toMatchObject({ status: 401, code: 'bad-token' });
    expect(await problemOf(await resume(h, id, { approved: true, reason: 'x' }, { ...json, authorization: 'Bearer guess' }))).toMatchObject({ status: 401, code: 'bad-token' });
    expect(h.approvals).toHaveLength(0);
  });

  it('answers 404 for an incident that does not exist', async () => {
    const { h } = waiting();
    expect(await problemOf(await resume(h, randomUUID(), { approved: true, reason: 'x' }))).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('refuses malformed JSON, a missing reason and unknown fields with 400', async () => {
    const { h, id } = waiting();
    expect(await problemOf(await resume(h, id, '{'))).toMatchObject({ status: 400, code: 'malformed-json' });
    const noReason = await problemOf(await resume(h, id, { approved: true, reason: '  ' }));
    expect(noReason).toMatchObject({ status: 400, code: 'invalid-request' });
    expect(noReason.errors).toEqual([{ path: 'reason', message: 'say why: the reason goes into the audit trail' }]);
    expect(await problemOf(await resume(h, id, { approved: true, reason: 'x', approver: 'bob' }))).toMatchObject({ status: 400, code: 'invalid-request' });
    expect(h.approvals).toHaveLength(0);
  });

  it('refuses modifications that do not fit the action with 400 and the schema error', async () => {
    const { h, id } = waiting();
    const problem = await problemOf(await resume(h, id, { approved: true, reason: 'x', modifications: { service: '' } }));
    expect(problem).toMatchObject({ status: 400, code: 'invalid-modifications' });
    expect(problem.errors![0]!.message).toContain('fewer than 1 characters');
    expect(h.sent).toHaveLength(0);
  });

  it('answers 409 when the incident is not waiting for a decision', async () => {
    const h = harness();
    const done = incident('resolved');
    h.incidents.set(done.id, done);
    const problem = await problemOf(await resume(h, done.id, { approved: true, reason: 'x' }));
    expect(problem).toMatchObject({ status: 409, code: 'not-awaiting-approval', detail: 'its state is resolved' });
  });

  it('answers 409 when the same person approves twice', async () => {
    const { h, id } = waiting();
    expect((await resume(h, id, { approved: true, reason: 'x' })).status).toBe(202);
    expect(await problemOf(await resume(h, id, { approved: true, reason: 'again' }))).toMatchObject({ status: 409, code: 'already-approved' });
    expect(h.sent).toHaveLength(1);
  });
});
