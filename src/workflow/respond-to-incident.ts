import type { IncidentState } from '../domain/incident.js';
import type { ActionProposal } from '../domain/proposal.js';
import { workflowIdFor } from './approval-message.js';
import { isDurableRuntimeStopping, registerWorkflow, startWorkflow, step } from './durable-runtime.js';
import { awaitDecisionStep, escalateStep, openApprovalStep, type ApprovalRound } from './steps/approval.js';
import { dryRunStep } from './steps/dry-run.js';
import { evidenceStep, trustedIncidentStep } from './steps/evidence.js';
import { claimExecutionStep, executeStep, runFailureReason } from './steps/execute.js';
import { policyStep } from './steps/policy.js';
import { proposeStep } from './steps/propose.js';
import { transition } from './steps/transition.js';
import { verifyStep } from './steps/verify.js';
import { DB_RETRIES, RESPONDER, type WorkflowDeps } from './workflow-deps.js';

const OPEN_STATES: IncidentState[] = ['received', 'investigating', 'proposed', 'awaiting_approval', 'approved', 'executing', 'verifying'];

/** One incident from received to a final state. Each stage is a named, checkpointed step in steps/. */
async function respondToIncident(d: WorkflowDeps, incidentId: string): Promise<IncidentState> {
  const incident = await step('load-incident', () => d.incidents.get(incidentId), { retries: DB_RETRIES });
  if (!incident || incident.state !== 'received' || !incident.mode) return incident?.state ?? 'failed';
  const mode = incident.mode;
  const route = d.routes.find((r) => r.name === incident.route);

  if (!(await transition(d, incidentId, 'start-investigation', { from: ['received'], to: 'investigating', actor: RESPONDER }))) return 'resolved';
  // From here on the alert's own expression and change query are claims: only the trusted ones run.
  const { incident: checked, trusted } = await trustedIncidentStep(d, incident);
  const evidence = await evidenceStep(d, checked, trusted);
  let proposal = await proposeStep(d, checked, evidence, route?.actions ?? []);

  if (mode === 'diagnose-only' || proposal.action === null) {
    const reason = mode === 'diagnose-only' ? 'diagnose-only route: diagnosis recorded, nothing executed' : 'no action proposed; a human needs to look';
    await transition(d, incidentId, 'record-diagnosis', { from: ['investigating'], to: 'diagnosed', actor: RESPONDER, reason, patch: { evidence, proposal } });
    return 'diagnosed';
  }
  if (!(await transition(d, incidentId, 'record-proposal', { from: ['investigating'], to: 'proposed', actor: RESPONDER, patch: { evidence, proposal }, audit: { action: proposal.action } }))) {
    return 'resolved';
  }

  let carriedApproval: ApprovalRound['carriedApproval'];
  for (let round = 1; ; round += 1) {
    const actionProposal = proposal as ActionProposal;
    const entry = d.catalog.get(actionProposal.action.id)!;
    const dryRun = await dryRunStep(d, incident, entry, actionProposal, round);
    const decision = await policyStep(d, { incident, mode, entry, proposal: actionProposal, dryRun: { ok: dryRun.ok, skipped: dryRun.skipped }, round });
    if (decision === null) return 'resolved';
    if (!decision.allow) {
      await transition(d, incidentId, `record-denial-${round}`, { from: ['proposed'], to: 'denied', actor: 'policy', reason: decision.deny.join('; ') || 'policy did not allow this action' });
      return 'denied';
    }
    // Policy sees the mode and decides when no human is needed (auto mode, or read-only actions). A modified
    // proposal always goes back to people: it was never what policy allowed on its own.
    if (round === 1 && decision.auto_execute && !decision.require_approval) {
      await transition(d, incidentId, 'auto-approve-1', { from: ['proposed'], to: 'approved', actor: 'policy', reason: 'policy allows automatic execution' });
      break;
    }
    const request = await openApprovalStep(d, { incident, entry, proposal: actionProposal, dryRun, decision, round, carriedApproval });
    const waiting = `waiting for ${request.approvalsRequired} approval(s) of request ${request.id}`;
    if (!(await transition(d, incidentId, `request-approval-${round}`, { from: ['proposed'], to: 'awaiting_approval', actor: RESPONDER, reason: waiting, audit: { requestId: request.id, approvalsRequired: request.approvalsRequired } }))) {
      await step(`close-approval-request-${round}`, () => d.approvals.finish(request.id, 'closed', 'the incident was closed before people were asked'), { retries: DB_RETRIES });
      return 'resolved';
    }
    const outcome = await awaitDecisionStep(d, request);
    const settled = outcome.request;
    if (outcome.kind === 'closed') return 'resolved';
    if (outcome.kind === 'expired') {
      if (await transition(d, incidentId, 'expire', { from: ['awaiting_approval'], to: 'expired', actor: RESPONDER, reason: `no decision within ${d.settings.approvalTimeoutSeconds}s; escalated` })) {
        await escalateStep(d, incident);
      }
      return 'expired';
    }
    if (outcome.kind === 'rejected') {
      const rejection = settled.decisions.find((x) => !x.approved)!;
      await transition(d, incidentId, 'record-rejection', { from: ['awaiting_approval'], to: 'rejected', actor: rejection.approver, reason: rejection.reason, audit: { requestId: settled.id } });
      return 'rejected';
    }
    if (outcome.kind === 'approved') {
      const approvers = settled.decisions.filter((x) => x.approved).map((x) => x.approver);
      if (!(await transition(d, incidentId, 'record-approval', { from: ['awaiting_approval'], to: 'approved', actor: approvers.join(','), reason: `approved by ${approvers.join(', ')}`, audit: { requestId: settled.id, proposalHash: settled.proposalHash } }))) {
        return 'resolved';
      }
      break;
    }
    // Superseded: someone approved changed inputs. They are a new proposal: validation, dry-run, policy and a new request.
    const modifier = settled.decisions.find((x) => x.approver === settled.modifiedBy)!;
    const modified = { ...actionProposal, action: { ...actionProposal.action, inputs: settled.modifications! } };
    const problems = d.catalog.validateInputs(entry.id, modified.action.inputs);
    if (problems.length > 0) {
      await transition(d, incidentId, `reject-modifications-${round}`, { from: ['awaiting_approval'], to: 'rejected', actor: RESPONDER, reason: `modified inputs are invalid: ${problems.join('; ')}` });
      return 'rejected';
    }
    proposal = modified;
    carriedApproval = { approver: modifier.approver, channel: modifier.channel, reason: modifier.reason };
    if (!(await transition(d, incidentId, `record-modified-proposal-${round}`, { from: ['awaiting_approval'], to: 'proposed', actor: modifier.approver, reason: 'approved with modifications; re-checking', patch: { proposal: modified }, audit: { requestId: settled.id } }))) {
      return 'resolved';
    }
  }

  const finalProposal = proposal as ActionProposal;
  const entry = d.catalog.get(finalProposal.action.id)!;
  await claimExecutionStep(d, incident, entry, finalProposal);
  if (!(await transition(d, incidentId, 'start-execution', { from: ['approved'], to: 'executing', actor: RESPONDER, audit: { runId: `${incidentId}:execute` } }))) return 'resolved';
  const run = await executeStep(d, incident, entry, finalProposal);
  if (run.outcome !== 'succeeded') {
    await transition(d, incidentId, 'record-run-failure', { from: ['executing'], to: 'failed', actor: RESPONDER, reason: runFailureReason(run), audit: { runId: `${incidentId}:execute`, outcome: run.outcome, failure: run.failure } });
    return 'failed';
  }

  await transition(d, incidentId, 'start-verification', { from: ['executing'], to: 'verifying', actor: RESPONDER });
  const verification = await verifyStep(d, checked);
  // Resolved means verified: a remediation nothing could check is unverified, never resolved.
  const final: IncidentState = verification.outcome === 'cleared' ? 'resolved' : verification.outcome === 'skipped' ? 'unverified' : 'failed';
  const reason =
    verification.outcome === 'cleared'
      ? 'the alert condition cleared after the remediation'
      : verification.outcome === 'skipped'
        ? `remediation succeeded but was not verified: ${verification.reason}`
        : `the alert condition still holds ${d.settings.verificationTimeoutSeconds}s after the remediation`;
  await transition(d, incidentId, 'record-verification', { from: ['verifying'], to: final, actor: RESPONDER, reason, patch: { verification } });
  return final;
}

export interface IncidentWorkflow {
  /** Idempotent: the workflow id is the incident's, so starting twice runs it once. */
  start(incidentId: string): Promise<void>;
}

/**
 * Registers the workflow with the durable runtime, bound to its collaborators. DBOS recovers a
 * workflow by calling the registered function with its original arguments only, so the
 * collaborators are bound here, once per process start, before the runtime launches.
 */
export function registerIncidentWorkflow(d: WorkflowDeps): IncidentWorkflow {
  // An unexpected error must not leave the incident looking busy forever: it fails, visibly, for a human.
  const respondOrFail = async (incidentId: string): Promise<IncidentState> => {
    try {
      return await respondToIncident(d, incidentId);
    } catch (error) {
      if (isDurableRuntimeStopping()) {
        // Interrupted by the service stopping, not failed: the next start resumes it from its last step.
        d.log.info({ incident: incidentId }, 'incident workflow interrupted by shutdown; it resumes at the next start');
        throw error;
      }
      d.log.error({ err: error, incident: incidentId }, 'incident workflow failed');
      await transition(d, incidentId, 'record-workflow-error', {
        from: OPEN_STATES,
        to: 'failed',
        actor: RESPONDER,
        reason: `internal error, nothing further will run on its own: ${(error as Error).message}`,
      });
      return 'failed';
    }
  };
  const workflow = registerWorkflow('respond-to-incident', respondOrFail);
  return { start: (incidentId) => startWorkflow(workflow, workflowIdFor(incidentId), incidentId) };
}
