import { proposalHash } from '../../approval/proposal-hash.js';
import type { ApprovalRequest } from '../../domain/approval.js';
import type { PolicyDecision } from '../../domain/decision.js';
import type { DryRun, Incident } from '../../domain/incident-record.js';
import type { ActionProposal } from '../../domain/proposal.js';
import type { CatalogEntry } from '../../remediation/catalog.js';
import type { NewApprovalRequest } from '../../store/approvals.js';
import { APPROVAL_TOPIC, type ApprovalMessage } from '../approval-message.js';
import { receive, step } from '../durable-runtime.js';
import { DB_RETRIES, RESPONDER, type WorkflowDeps } from '../workflow-deps.js';

export type ApprovalOutcome = { kind: Exclude<ApprovalRequest['state'], 'open'>; request: ApprovalRequest };

export interface ApprovalRound {
  incident: Incident;
  entry: CatalogEntry;
  proposal: ActionProposal;
  dryRun: DryRun;
  decision: PolicyDecision;
  round: number;
  /** The person whose modification led to this round approved its inputs already. */
  carriedApproval?: NewApprovalRequest['carriedApproval'];
  /** How long people have; approval.timeoutMinutes unless the route re-asks with a longer deadline. */
  deadlineSeconds?: number;
}

/** Opens this round's request for exactly these inputs after exactly this dry-run, and tells the channels. */
export async function openApprovalStep(d: WorkflowDeps, r: ApprovalRound): Promise<ApprovalRequest> {
  const request = await step(
    `open-approval-request-${r.round}`,
    () =>
      d.approvals.openRequest({
        incidentId: r.incident.id,
        round: r.round,
        actionId: r.entry.id,
        inputs: r.proposal.action.inputs,
        risk: r.entry.risk,
        proposalHash: proposalHash(r.entry.id, r.proposal.action.inputs, r.dryRun.output),
        approvalsRequired: Math.max(1, r.decision.approvals_required),
        policyReasons: r.decision.reasons,
        deadline: new Date(Date.now() + (r.deadlineSeconds ?? d.settings.approvalTimeoutSeconds) * 1000).toISOString(),
        carriedApproval: r.carriedApproval,
      }),
    { retries: DB_RETRIES },
  );
  await step(`announce-approval-request-${r.round}`, () => d.announcer.posted(request));
  return request;
}

/**
 * Waits until the request is settled. Decisions are counted by the database under the request's lock;
 * a message only says "look again", so the state read here is the whole truth. The deadline is durable.
 */
export async function awaitDecisionStep(d: WorkflowDeps, request: ApprovalRequest): Promise<ApprovalOutcome> {
  const deadline = Date.parse(request.deadline);
  for (let look = 1; ; look += 1) {
    const current = await step(`approval-state-${request.round}-${look}`, async () => (await d.approvals.get(request.id))!, { retries: DB_RETRIES });
    if (current.state !== 'open') return settled(d, current);
    const message = await receive<ApprovalMessage>(APPROVAL_TOPIC, deadline);
    if (message === null || message.kind === 'closed') {
      const state = message === null ? 'expired' : 'closed';
      const reason = message === null ? `no decision within ${d.settings.approvalTimeoutSeconds}s` : 'the incident was closed (its alert resolved)';
      // A decision that settled the request just before the deadline wins: finish() keeps a settled request as it is.
      const final = await step(`finish-approval-request-${request.round}`, () => d.approvals.finish(request.id, state, reason), { retries: DB_RETRIES });
      return settled(d, final);
    }
  }
}

async function settled(d: WorkflowDeps, request: ApprovalRequest): Promise<ApprovalOutcome> {
  await step(`withdraw-approval-request-${request.round}`, () => d.announcer.withdrawn(request));
  return { kind: request.state as ApprovalOutcome['kind'], request };
}

/** Nobody decided in time: tell someone who can. */
export async function escalateStep(d: WorkflowDeps, incident: Incident): Promise<void> {
  await step(
    'escalate',
    async () => {
      const result = await d.escalate(incident);
      await d.incidents.patch(incident.id, {}, { actor: RESPONDER, kind: 'approval.escalated', data: result });
    },
    { retries: DB_RETRIES },
  );
}
