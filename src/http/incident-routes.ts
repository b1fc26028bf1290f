import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import type { DecisionOutcome, DecisionSubmission, RefusalCode } from '../approval/submit-decision.js';
import { IncidentStateSchema, type IncidentState } from '../domain/incident.js';
import type { IncidentRecord, IncidentSummary } from '../domain/incident-record.js';
import { authorize, type AccessPolicy } from './authorize.js';
import { problem } from './problem.js';
import { readLimited } from './read-body.js';

/** What the routes read; the store implements it, and HTTP tests use an in-memory one. */
export interface IncidentReads {
  list(filter: { state?: IncidentState; limit?: number }): Promise<IncidentSummary[]>;
  getRecord(id: string): Promise<IncidentRecord | null>;
}

export interface IncidentRouteDeps {
  incidents: IncidentReads;
  access: AccessPolicy;
  /** src/approval/submit-decision.ts, bound to its collaborators. */
  decide(submission: DecisionSubmission): Promise<DecisionOutcome>;
  /** Cap on JSON API bodies (server.apiBodyLimitBytes). */
  bodyLimitBytes: number;
  /**
   * Asks the incident's waiting or running remediation to stop (the run store's requestCancel); null when it
   * has none. Absent: the route answers 404.
   */
  cancelRun?(incidentId: string, actor: string, reason: string): Promise<{ runId: string; state: string } | null>;
  /**
   * An admin checked the target of the incident's run that ended unknown; it stops holding the target (the
   * run store's acknowledgeUnknownRun). Null when there is no such run. Absent: the route answers 404.
   */
  acknowledgeRun?(incidentId: string, actor: string, reason: string): Promise<{ runId: string } | null>;
}

const ReasonBodySchema = z.object({ reason: z.string().trim().min(1, 'say why; it goes into the audit trail').max(1000) }).strict();

const REFUSAL_STATUS: Record<RefusalCode, ContentfulStatusCode> = {
  forbidden: 403,
  'not-found': 404,
  'not-awaiting-approval': 409,
  'stale-request': 409,
  'already-decided': 409,
  'invalid-request': 400,
  'invalid-modifications': 400,
  'rate-limited': 429,
};

const REFUSAL_TITLE: Record<RefusalCode, string> = {
  forbidden: 'You may not decide',
  'not-found': 'No such incident or request',
  'not-awaiting-approval': 'Incident is not awaiting approval',
  'stale-request': 'That request is no longer the one waiting',
  'already-decided': 'You already decided on this request',
  'invalid-request': 'Invalid resume request',
  'invalid-modifications': 'Modified inputs do not fit the action',
  'rate-limited': 'Too many decisions',
};

export function incidentRoutes(deps: IncidentRouteDeps): Hono {
  const app = new Hono();

  app.get('/api/v1/incidents', async (c) => {
    const access = authorize(c, deps.access, 'viewer');
    if (!access.ok) return access.response;
    const state = c.req.query('state');
    const parsedState = state === undefined ? undefined : IncidentStateSchema.safeParse(state);
    if (parsedState && !parsedState.success) {
      return problem(c, { status: 400, code: 'bad-state', title: 'Unknown state', detail: `state must be one of ${IncidentStateSchema.options.join(', ')}` });
    }
    const limit = Number(c.req.query('limit') ?? 100);
    return c.json({ incidents: await deps.incidents.list({ state: parsedState?.data, limit: Number.isFinite(limit) && limit > 0 ? limit : 100 }) });
  });

  app.get('/api/v1/incidents/:id', async (c) => {
    const access = authorize(c, deps.access, 'viewer');
    if (!access.ok) return access.response;
    const id = c.req.param('id');
    const record = z.string().uuid().safeParse(id).success ? await deps.incidents.getRecord(id) : null;
    if (!record) return problem(c, { status: 404, code: 'not-found', title: 'No such incident', detail: id });
    return c.json(record);
  });

  app.post('/api/v1/incidents/:id/resume', async (c) => {
    const access = authorize(c, deps.access, 'approver');
    if (!access.ok) return access.response;
    const body = await readLimited(c.req.raw, deps.bodyLimitBytes);
    if (!body.ok) {
      return problem(c, { status: 413, code: 'body-too-large', title: 'Body too large', detail: `the limit is ${deps.bodyLimitBytes} bytes (server.apiBodyLimitBytes)` });
    }
    let input: unknown;
    try {
      input = JSON.parse(body.bytes.toString('utf8'));
    } catch {
      return problem(c, { status: 400, code: 'malformed-json', title: 'Body is not valid JSON' });
    }
    const outcome = await deps.decide({ incidentId: c.req.param('id'), identity: access.identity!, channel: 'api', input });
    if (outcome.kind === 'refused') {
      return problem(c, { status: REFUSAL_STATUS[outcome.code], code: outcome.code, title: REFUSAL_TITLE[outcome.code], detail: outcome.detail, errors: outcome.errors });
    }
    const { request } = outcome;
    return c.json(
      {
        id: request.incidentId,
        accepted: true,
        approver: outcome.approver,
        approved: outcome.approved,
        request: {
          id: request.id,
          round: request.round,
          state: request.state,
          action: request.actionId,
          inputs: request.inputs,
          proposalHash: request.proposalHash,
          approvalsRequired: request.approvalsRequired,
          approvals: request.decisions.filter((d) => d.approved).map((d) => d.approver),
        },
      },
      202,
    );
  });

  /** An admin's request about an incident's run, with the reason the audit trail keeps. */
  async function adminRunRequest(c: Context, what: string): Promise<{ ok: true; id: string; record: IncidentRecord; actor: string; reason: string } | { ok: false; response: Response }> {
    const access = authorize(c, deps.access, 'admin');
    if (!access.ok) return access;
    const id = c.req.param('id') ?? '';
    const record = z.string().uuid().safeParse(id).success ? await deps.incidents.getRecord(id) : null;
    if (!record) return { ok: false, response: problem(c, { status: 404, code: 'not-found', title: 'No such incident', detail: id }) };
    const body = await readLimited(c.req.raw, deps.bodyLimitBytes);
    if (!body.ok) {
      return { ok: false, response: problem(c, { status: 413, code: 'body-too-large', title: 'Body too large', detail: `the limit is ${deps.bodyLimitBytes} bytes (server.apiBodyLimitBytes)` }) };
    }
    let input: unknown;
    try {
      input = JSON.parse(body.bytes.toString('utf8'));
    } catch {
      return { ok: false, response: problem(c, { status: 400, code: 'malformed-json', title: 'Body is not valid JSON' }) };
    }
    const parsed = ReasonBodySchema.safeParse(input);
    if (!parsed.success) {
      return { ok: false, response: problem(c, { status: 400, code: 'invalid-request', title: `Invalid ${what} request`, errors: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) }) };
    }
    return { ok: true, id, record, actor: access.identity!.name, reason: parsed.data.reason };
  }

  // Admin only: stopping a remediation half-way can leave a target in between, which is an admin's call.
  app.post('/api/v1/incidents/:id/cancel', async (c) => {
    const cancelRun = deps.cancelRun;
    if (!cancelRun) return problem(c, { status: 404, code: 'not-found', title: 'Cancelling is not available here' });
    const request = await adminRunRequest(c, 'cancel');
    if (!request.ok) return request.response;
    const requested = await cancelRun(request.id, request.actor, request.reason);
    if (!requested) {
      return problem(c, { status: 409, code: 'nothing-running', title: 'Nothing to cancel', detail: `incident ${request.id} is ${request.record.state}: it has no remediation waiting or running` });
    }
    return c.json({ id: request.id, runId: requested.runId, runState: requested.state, cancelRequestedBy: request.actor }, 202);
  });

  // Admin only: after a crash mid-run, only a person who looked at the target can say it is safe to act on again.
  app.post('/api/v1/incidents/:id/acknowledge-run', async (c) => {
    const acknowledgeRun = deps.acknowledgeRun;
    if (!acknowledgeRun) return problem(c, { status: 404, code: 'not-found', title: 'Acknowledging runs is not available here' });
    const request = await adminRunRequest(c, 'acknowledge');
    if (!request.ok) return request.response;
    const acknowledged = await acknowledgeRun(request.id, request.actor, request.reason);
    if (!acknowledged) {
      return problem(c, { status: 409, code: 'nothing-to-acknowledge', title: 'Nothing to acknowledge', detail: `incident ${request.id} has no run that ended unknown and is still unacknowledged` });
    }
    return c.json({ id: request.id, runId: acknowledged.runId, acknowledgedBy: request.actor }, 200);
  });

  return app;
}
