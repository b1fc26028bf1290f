import { Hono } from 'hono';
import { z } from 'zod';
import { IncidentStateSchema } from '../domain/incident.js';
import { safeEqualStrings } from '../ingest/grafana-signature.js';
import type { Catalog } from '../remediation/catalog.js';
import type { Incident, IncidentRecord, IncidentSummary } from '../domain/incident-record.js';
import type { IncidentState } from '../domain/incident.js';
import { JsonObjectSchema } from '../domain/json-value.js';
import type { ApprovalStore } from '../store/approvals.js';
import type { ApprovalMessage } from '../workflow/approval-message.js';
import { problem } from './problem.js';

const ResumeRequestSchema = z
  .object({
    approved: z.boolean(),
    reason: z.string().trim().min(1, 'say why: the reason goes into the audit trail'),
    modifications: JsonObjectSchema.optional(),
  })
  .strict();

/** What the routes read; the store implements it, and HTTP tests use an in-memory one. */
export interface IncidentReads {
  list(filter: { state?: IncidentState; limit?: number }): Promise<IncidentSummary[]>;
  get(id: string): Promise<Incident | null>;
  getRecord(id: string): Promise<IncidentRecord | null>;
}

export interface IncidentRouteDeps {
  incidents: IncidentReads;
  approvals: Pick<ApprovalStore, 'record' | 'hasApprovedSince'>;
  catalog: Catalog;
  tokens: readonly { name: string; token: string }[];
  sendApproval(incidentId: string, message: ApprovalMessage): Promise<void>;
}

/** Bearer token → the approver's name. Every token is compared, so timing says nothing about which matched. */
function approverFor(header: string | undefined, tokens: IncidentRouteDeps['tokens']): string | null {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim();
  if (!presented) return null;
  let name: string | null = null;
  for (const token of tokens) if (safeEqualStrings(presented, token.token)) name = token.name;
  return name;
}

export function incidentRoutes(deps: IncidentRouteDeps): Hono {
  const app = new Hono();

  app.get('/api/v1/incidents', async (c) => {
    const state = c.req.query('state');
    const parsedState = state === undefined ? undefined : IncidentStateSchema.safeParse(state);
    if (parsedState && !parsedState.success) {
      return problem(c, { status: 400, code: 'bad-state', title: 'Unknown state', detail: `state must be one of ${IncidentStateSchema.options.join(', ')}` });
    }
    const limit = Number(c.req.query('limit') ?? 100);
    return c.json({ incidents: await deps.incidents.list({ state: parsedState?.data, limit: Number.isFinite(limit) && limit > 0 ? limit : 100 }) });
  });

  app.get('/api/v1/incidents/:id', async (c) => {
    const id = c.req.param('id');
    const record = z.string().uuid().safeParse(id).success ? await deps.incidents.getRecord(id) : null;
    if (!record) return problem(c, { status: 404, code: 'not-found', title: 'No such incident', detail: id });
    return c.json(record);
  });

  app.post('/api/v1/incidents/:id/resume', async (c) => {
    const approver = approverFor(c.req.header('authorization'), deps.tokens);
    if (!approver) {
      return problem(c, { status: 401, code: 'bad-token', title: 'Approval needs a valid API token', detail: 'send Authorization: Bearer <token> for a token listed in auth.tokens' });
    }
    const id = c.req.param('id');
    const incident = z.string().uuid().safeParse(id).success ? await deps.incidents.get(id) : null;
    if (!incident) return problem(c, { status: 404, code: 'not-found', title: 'No such incident', detail: id });
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      return problem(c, { status: 400, code: 'malformed-json', title: 'Body is not valid JSON' });
    }
    const parsed = ResumeRequestSchema.safeParse(json);
    if (!parsed.success) {
      return problem(c, {
        status: 400,
        code: 'invalid-request',
        title: 'Invalid resume request',
        errors: parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
      });
    }
    if (incident.state !== 'awaiting_approval') {
      return problem(c, { status: 409, code: 'not-awaiting-approval', title: 'Incident is not awaiting approval', detail: `its state is ${incident.state}` });
    }
    const request = parsed.data;
    // Quorum counts distinct people: a second approval by the same person is refused, not silently ignored.
    if (request.approved && (await deps.approvals.hasApprovedSince(id, approver, incident.updatedAt))) {
      return problem(c, { status: 409, code: 'already-approved', title: 'You already approved this request', detail: 'policy asks for approvals from different people' });
    }
    if (request.modifications) {
      const action = incident.proposal?.action;
      const problems = action ? deps.catalog.validateInputs(action.id, { ...action.inputs, ...request.modifications }) : ['the incident has no proposed action to modify'];
      if (problems.length > 0) {
        return problem(c, { status: 400, code: 'invalid-modifications', title: 'Modified inputs do not fit the action', errors: problems.map((message) => ({ path: 'modifications', message })) });
      }
    }
    await deps.approvals.record(id, { approver, approved: request.approved, reason: request.reason, modifications: request.modifications, channel: 'api' });
    await deps.sendApproval(id, { kind: 'decision', approved: request.approved, approver, reason: request.reason, modifications: request.modifications });
    return c.json({ id, accepted: true, approver, approved: request.approved }, 202);
  });

  return app;
}
