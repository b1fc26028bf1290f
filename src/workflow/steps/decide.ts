import type { IncidentState, Mode } from '../../domain/incident.js';
import type { Incident } from '../../domain/incident-record.js';
import type { ActionProposal } from '../../domain/proposal.js';
import { step } from '../durable-runtime.js';
import { DB_RETRIES, RESPONDER, type WorkflowDeps } from '../workflow-deps.js';
import { awaitDecisionStep, escalateStep, openApprovalStep, type ApprovalRound } from './approval.js';
import { dryRunStep } from './dry-run.js';
import { policyStep } from './policy.js';
import { transition } from './transition.js';

export interface DecideContext {
  incident: Incident;
  mode: Mode;
  /** The first round's number: a rollback continues the incident's rounds. */
  firstRound: number;
  /**
   * A rollback: always put to people (never auto-approved), and a denial or rejection fails the incident,
   * because the remediation it would undo already ran and did not clear the condition.
   */
  rollback: boolean;
}

export type Decided = { kind: 'approved'; proposal: ActionProposal; round: number } | { kind: 'ended'; state: IncidentState };

/**
 * Rounds of dry-run, policy and approval for one proposal until it is approved or the incident ends. Approved
 * modifications are a new proposal: validated, dry-run, policy-checked and put to people again.
 */
export async function decideStep(d: WorkflowDeps, ctx: DecideContext, initial: ActionProposal): Promise<Decided> {
  const { incident, mode } = ctx;
  const incidentId = incident.id;
  // Step names of the first proposal's rounds stay as they were, so recorded workflows replay.
  const name = (text: string) => (ctx.rollback ? `rollback-${text}` : text);
  let proposal = initial;
  let carriedApproval: ApprovalRound['carriedApproval'];
  // A route may ask once more, with a longer deadline, before an unanswered request expires the incident.
  const reaskMinutes = ctx.rollback ? undefined : d.routes.find((r) => r.name === incident.route)?.escalation?.reaskMinutes;
  let deadlineSeconds: number | undefined;
  for (let round = ctx.firstRound; ; round += 1) {
    const entry = d.catalog.get(proposal.action.id)!;
    const dryRun = await dryRunStep(d, incident, entry, proposal, round);
    const decision = await policyStep(d, { incident, mode, entry, proposal, dryRun: { ok: dryRun.ok, skipped: dryRun.skipped }, round });
    if (decision === null) return { kind: 'ended', state: 'resolved' };
    if (!decision.allow) {
      const reason = decision.deny.join('; ') || 'policy did not allow this action';
      const to = ctx.rollback ? 'failed' : 'denied';
      await transition(d, incidentId, `record-denial-${round}`, { from: ['proposed'], to, actor: 'policy', reason: ctx.rollback ? `the remediation did not clear the condition, and policy denied its rollback: ${reason}` : reason });
      return { kind: 'ended', state: to };
    }
    // Policy sees the mode and decides when no human is needed (auto mode, or read-only actions). A modified
    // proposal always goes back to people: it was never what policy allowed on its own.
    if (!ctx.rollback && round === 1 && decision.auto_execute && !decision.require_approval) {
      await transition(d, incidentId, 'auto-approve-1', { from: ['proposed'], to: 'approved', actor: 'policy', reason: 'policy allows automatic execution' });
      return { kind: 'approved', proposal, round };
    }
    const request = await openApprovalStep(d, { incident, entry, proposal, dryRun, decision, round, carriedApproval, deadlineSeconds });
    const waiting = `waiting for ${request.approvalsRequired} approval(s) of request ${request.id}${ctx.rollback ? ` to roll back with ${entry.id}` : ''}`;
    if (!(await transition(d, incidentId, `request-approval-${round}`, { from: ['proposed'], to: 'awaiting_approval', actor: RESPONDER, reason: waiting, audit: { requestId: request.id, approvalsRequired: request.approvalsRequired } }))) {
      await step(`close-approval-request-${round}`, () => d.approvals.finish(request.id, 'closed', 'the incident was closed before people were asked'), { retries: DB_RETRIES });
      return { kind: 'ended', state: 'resolved' };
    }
    const outcome = await awaitDecisionStep(d, request);
    const settled = outcome.request;
    if (outcome.kind === 'closed') return { kind: 'ended', state: 'resolved' };
    if (outcome.kind === 'expired' && reaskMinutes !== undefined && deadlineSeconds === undefined) {
      // The new request is announced like the first (a new card, an approval-requested notice): that is the nudge.
      deadlineSeconds = reaskMinutes * 60;
      const reason = `no decision within ${d.settings.approvalTimeoutSeconds}s; asking once more, for ${deadlineSeconds}s`;
      if (!(await transition(d, incidentId, `reask-${round}`, { from: ['awaiting_approval'], to: 'proposed', actor: RESPONDER, reason, audit: { requestId: settled.id } }))) {
        return { kind: 'ended', state: 'resolved' };
      }
      carriedApproval = undefined;
      continue;
    }
    if (outcome.kind === 'expired') {
      if (await transition(d, incidentId, name('expire'), { from: ['awaiting_approval'], to: 'expired', actor: RESPONDER, reason: `no decision within ${deadlineSeconds ?? d.settings.approvalTimeoutSeconds}s; escalated` })) {
        await escalateStep(d, incident);
      }
      return { kind: 'ended', state: 'expired' };
    }
    if (outcome.kind === 'rejected') {
      const rejection = settled.decisions.find((x) => !x.approved)!;
      const to = ctx.rollback ? 'failed' : 'rejected';
      const reason = ctx.rollback ? `the remediation did not clear the condition; its rollback was rejected: ${rejection.reason}` : rejection.reason;
      await transition(d, incidentId, name('record-rejection'), { from: ['awaiting_approval'], to, actor: rejection.approver, reason, audit: { requestId: settled.id } });
      return { kind: 'ended', state: to };
    }
    if (outcome.kind === 'approved') {
      const approvers = settled.decisions.filter((x) => x.approved).map((x) => x.approver);
      if (!(await transition(d, incidentId, name('record-approval'), { from: ['awaiting_approval'], to: 'approved', actor: approvers.join(','), reason: `approved by ${approvers.join(', ')}`, audit: { requestId: settled.id, proposalHash: settled.proposalHash } }))) {
        return { kind: 'ended', state: 'resolved' };
      }
      return { kind: 'approved', proposal, round };
    }
    // Superseded: someone approved changed inputs. They are a new proposal: validation, dry-run, policy and a new request.
    const modifier = settled.decisions.find((x) => x.approver === settled.modifiedBy)!;
    const modified = { ...proposal, action: { ...proposal.action, inputs: settled.modifications! } };
    const problems = d.catalog.validateInputs(entry.id, modified.action.inputs);
    if (problems.length > 0) {
      await transition(d, incidentId, `reject-modifications-${round}`, { from: ['awaiting_approval'], to: 'rejected', actor: RESPONDER, reason: `modified inputs are invalid: ${problems.join('; ')}` });
      return { kind: 'ended', state: 'rejected' };
    }
    proposal = modified;
    carriedApproval = { approver: modifier.approver, channel: modifier.channel, reason: modifier.reason };
    if (!(await transition(d, incidentId, `record-modified-proposal-${round}`, { from: ['awaiting_approval'], to: 'proposed', actor: modifier.approver, reason: 'approved with modifications; re-checking', patch: { proposal: modified }, audit: { requestId: settled.id } }))) {
      return { kind: 'ended', state: 'resolved' };
    }
  }
}
