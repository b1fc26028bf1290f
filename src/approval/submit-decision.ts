import { z } from 'zod';
import { DecisionInputSchema, type ApprovalChannelName, type ApprovalRequest, type DecisionInput } from '../domain/approval.js';
import { hasRole, type Identity } from '../domain/identity.js';
import type { Incident } from '../domain/incident-record.js';
import type { JsonObject } from '../domain/json-value.js';
import type { ApprovalStore } from '../store/approvals.js';
import type { DecisionRateLimiter } from './decision-rate-limiter.js';

export type RefusalCode = 'forbidden' | 'not-found' | 'not-awaiting-approval' | 'stale-request' | 'already-decided' | 'invalid-request' | 'invalid-modifications' | 'rate-limited';

export type DecisionOutcome =
  | { kind: 'recorded'; request: ApprovalRequest; approver: string; approved: boolean }
  | { kind: 'refused'; code: RefusalCode; detail: string; errors?: { path: string; message: string }[] };

export interface DecisionDeps {
  approvals: Pick<ApprovalStore, 'openFor' | 'get' | 'decide'>;
  incidents: { get(id: string): Promise<Incident | null> };
  /** Catalog schema and inventory checks for a whole set of inputs; the same function the proposals pass. */
  checkInputs(actionId: string, inputs: Record<string, unknown>): string[];
  rateLimiter: DecisionRateLimiter;
  /** Wakes the incident's workflow; the decision is already committed when this runs. */
  notifyWorkflow(incidentId: string, requestId: string, decisionKey: string): Promise<void>;
  /** Tells channels that the request changed; best effort, never blocks the decision. */
  announce(request: ApprovalRequest): void;
}

export interface DecisionSubmission {
  incidentId: string;
  identity: Identity;
  channel: ApprovalChannelName;
  /** The body as the person sent it; parsed here so every channel parses it the same way. */
  input: unknown;
}

function refused(code: RefusalCode, detail: string, errors?: { path: string; message: string }[]): DecisionOutcome {
  return { kind: 'refused', code, detail, ...(errors ? { errors } : {}) };
}

function sameInputs(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => JSON.stringify(a[key]) === JSON.stringify(b[key]));
}

/**
 * The one way a person's decision enters Responder, whatever the channel: who may decide, on which
 * request, with which inputs, at most once each, and nothing dropped: a recorded decision is applied.
 */
export async function submitDecision(deps: DecisionDeps, submission: DecisionSubmission): Promise<DecisionOutcome> {
  const { identity, incidentId } = submission;
  if (!hasRole(identity.role, 'approver')) return refused('forbidden', `${identity.name} has the ${identity.role} role; deciding needs approver or admin`);
  if (!deps.rateLimiter.take(identity.name)) return refused('rate-limited', `too many decisions from ${identity.name}; wait a minute`);
  const parsed = DecisionInputSchema.safeParse(submission.input);
  if (!parsed.success) {
    return refused('invalid-request', 'the decision is not valid', parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })));
  }
  const input: DecisionInput = parsed.data;
  const incident = z.string().uuid().safeParse(incidentId).success ? await deps.incidents.get(incidentId) : null;
  if (!incident) return refused('not-found', `no incident ${incidentId}`);

  let request: ApprovalRequest | null;
  if (input.requestId) {
    request = await deps.approvals.get(input.requestId);
    if (!request || request.incidentId !== incident.id) return refused('not-found', `incident ${incident.id} has no approval request ${input.requestId}`);
    if (request.state !== 'open') return refused('stale-request', `request ${request.id} (round ${request.round}) is ${request.state}; review the current proposal and decide on it`);
  } else {
    request = await deps.approvals.openFor(incident.id);
    if (!request) return refused('not-awaiting-approval', `its state is ${incident.state}`);
    // Without a request id we cannot know which inputs the person saw; after a modification they may have seen others.
    if (request.round > 1) {
      return refused('stale-request', `the proposal was modified (round ${request.round}); send "requestId": "${request.id}" after reviewing its inputs`);
    }
  }

  let modifiedInputs: JsonObject | undefined;
  if (input.modifications && !sameInputs({ ...request.inputs, ...input.modifications }, request.inputs)) {
    modifiedInputs = { ...request.inputs, ...input.modifications };
    const problems = deps.checkInputs(request.actionId, modifiedInputs);
    if (problems.length > 0) {
      return refused('invalid-modifications', 'modified inputs do not fit the action', problems.map((message) => ({ path: 'modifications', message })));
    }
  }

  const written = await deps.approvals.decide({
    requestId: request.id,
    approver: identity.name,
    approved: input.approved,
    reason: input.reason,
    modifications: modifiedInputs ? input.modifications : undefined,
    modifiedInputs,
    channel: submission.channel,
  });
  switch (written.kind) {
    case 'not-found':
      return refused('not-found', `no approval request ${request.id}`);
    case 'not-awaiting':
      return refused('not-awaiting-approval', `its state is ${written.incidentState}`);
    case 'stale':
      return refused('stale-request', `request ${request.id} (round ${request.round}) is ${written.request.state}; review the current proposal and decide on it`);
    case 'already-decided':
      return refused('already-decided', `${identity.name} already decided on request ${request.id}; policy asks for decisions from different people`);
    case 'recorded':
      await deps.notifyWorkflow(incident.id, request.id, `${request.id}:${identity.name}`);
      deps.announce(written.request);
      return { kind: 'recorded', request: written.request, approver: identity.name, approved: input.approved };
  }
}
