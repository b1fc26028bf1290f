import { gatherEvidence } from '../agent/gather-evidence.js';
import { proposeFromRunbook } from '../agent/runbook-proposer.js';
import type { PolicyDecision } from '../domain/decision.js';
import type { IncidentState, Mode } from '../domain/incident.js';
import type { EvidenceItem, Proposal } from '../domain/proposal.js';
import { buildPolicyInput, targetOf, type DryRunSummary } from '../policy/build-policy-input.js';
import type { CatalogEntry } from '../remediation/catalog.js';
import type { Incident } from '../store/incident-store.js';
import { verifyConditionCleared } from '../verification/verify-condition-cleared.js';
import { APPROVAL_TOPIC, type ApprovalMessage } from './approval-message.js';
import { durableSleep, receive, registerWorkflow, step } from './durable-runtime.js';
import { workflowDeps, type WorkflowDeps } from './workflow-deps.js';

type ActionProposal = Proposal & { action: NonNullable<Proposal['action']> };

const RESPONDER = 'responder';
const DB_RETRIES = 5;

function transition(d: WorkflowDeps, id: string, name: string, request: Parameters<WorkflowDeps['store']['transition']>[1]): Promise<boolean> {
  return step(name, () => d.store.transition(id, request), { retries: DB_RETRIES });
}

async function dryRunStage(d: WorkflowDeps, incident: Incident, entry: CatalogEntry, proposal: ActionProposal, round: number): Promise<DryRunSummary> {
  return step(`dry-run-${round}`, async () => {
    const runId = `${incident.id}:dry-run:${round}`;
    const target = targetOf(entry, proposal.action.inputs);
    await d.store.claimRun({ id: runId, incidentId: incident.id, kind: 'dry-run', actionId: entry.id, target, inputs: proposal.action.inputs });
    await d.store.startRun(runId);
    const result = await d.timed('dry-run', () => d.executor.dryRun({ entry, inputs: proposal.action.inputs, runId }));
    await d.store.finishRun(runId, incident.id, { state: result.outcome, exitCode: result.exitCode, output: result.output });
    const summary = { ok: result.outcome === 'succeeded', skipped: false, runId, outcome: result.outcome, exitCode: result.exitCode, output: result.output };
    await d.store.patch(incident.id, { dryRun: summary }, { actor: RESPONDER, kind: 'dry-run.finished', data: { runId, outcome: result.outcome } });
    return { ok: summary.ok, skipped: false };
  });
}

/** Asks policy until it answers. While OPA is unreachable the incident waits; it never executes unchecked. */
async function policyStage(
  d: WorkflowDeps,
  incident: Incident,
  mode: Mode,
  entry: CatalogEntry,
  proposal: ActionProposal,
  dryRun: DryRunSummary,
  round: number,
): Promise<PolicyDecision | null> {
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await step(`policy-${round}-${attempt}`, async () => {
      const history = await d.store.countRecentRemediations(targetOf(entry, proposal.action.inputs));
      const input = buildPolicyInput({ incident, mode, proposal, entry, dryRun, targetRemediationsLastHour: history, requester: RESPONDER });
      const result = await d.timed('policy', () => d.policyGate.evaluate(input));
      if (result.kind === 'decided') {
        await d.store.patch(
          incident.id,
          { decision: { ...result.decision, input, evaluator: result.evaluator, revision: result.revision } },
          { actor: `policy:${result.evaluator}`, kind: 'policy.decision', data: { input, decision: result.decision, evaluator: result.evaluator, revision: result.revision } },
        );
      } else {
        await d.store.patch(incident.id, {}, { actor: RESPONDER, kind: 'policy.unavailable', data: { reason: result.reason, attempt, retryInSeconds: d.settings.policyRetrySeconds } });
      }
      return result;
    }, { retries: DB_RETRIES });
    if (outcome.kind === 'decided') return outcome.decision;
    d.log.warn({ incident: incident.id, reason: outcome.reason }, 'policy unavailable; incident waits and retries');
    await durableSleep(d.settings.policyRetrySeconds * 1000);
    const current = await step(`policy-${round}-${attempt}-recheck`, () => d.store.get(incident.id), { retries: DB_RETRIES });
    if (!current || current.state !== 'proposed') return null;
  }
}

type ApprovalOutcome =
  | { kind: 'approved'; approvers: string[]; modifications?: Record<string, unknown> }
  | { kind: 'rejected'; approver: string; reason: string }
  | { kind: 'expired' }
  | { kind: 'closed' };

/** Waits for as many distinct approvers as policy asks for; one rejection ends it; the deadline is durable. */
async function waitForApprovals(d: WorkflowDeps, incidentId: string, required: number): Promise<ApprovalOutcome> {
  const deadline = await step('approval-deadline', async () => Date.now() + d.settings.approvalTimeoutSeconds * 1000);
  const approvers = new Set<string>();
  let modifications: Record<string, unknown> | undefined;
  while (approvers.size < Math.max(1, required)) {
    const message = await receive<ApprovalMessage>(APPROVAL_TOPIC, deadline);
    if (message === null) return { kind: 'expired' };
    if (message.kind === 'closed') return { kind: 'closed' };
    if (!message.approved) return { kind: 'rejected', approver: message.approver, reason: message.reason };
    approvers.add(message.approver);
    modifications = message.modifications ?? modifications;
  }
  return { kind: 'approved', approvers: [...approvers], modifications };
}

async function escalate(d: WorkflowDeps, incident: Incident): Promise<void> {
  await step('escalate', async () => {
    const result = await d.escalate(incident);
    await d.store.patch(incident.id, {}, { actor: RESPONDER, kind: 'approval.escalated', data: result });
  }, { retries: DB_RETRIES });
}

async function executeAndVerify(d: WorkflowDeps, incident: Incident, entry: CatalogEntry, proposal: ActionProposal): Promise<IncidentState> {
  const id = incident.id;
  const runId = `${id}:execute`;
  const target = targetOf(entry, proposal.action.inputs);
  await step('claim-run', () => d.store.claimRun({ id: runId, incidentId: id, kind: 'execute', actionId: entry.id, target, inputs: proposal.action.inputs }), { retries: DB_RETRIES });
  if (!(await transition(d, id, 'start-execution', { from: ['approved'], to: 'executing', actor: RESPONDER, audit: { runId } }))) return 'resolved';

  const run = await step('run-remediation', async () => {
    // A claimed run that is already "running" was interrupted by a crash: never run it again on our own.
    if (!(await d.store.startRun(runId))) {
      const output = 'the service stopped while this remediation was running; its outcome is unknown and it will not be re-run without a human';
      await d.store.finishRun(runId, id, { state: 'unknown', exitCode: null, output });
      return { outcome: 'unknown' as const, output };
    }
    const result = await d.timed('execute', () => d.executor.run({ entry, inputs: proposal.action.inputs, runId }));
    await d.store.finishRun(runId, id, { state: result.outcome, exitCode: result.exitCode, output: result.output });
    return { outcome: result.outcome, output: result.output };
  });

  if (run.outcome !== 'succeeded') {
    const reason =
      run.outcome === 'unknown'
        ? 'remediation was interrupted; outcome unknown, a human must check the target before anything re-runs'
        : `remediation ${run.outcome === 'timed_out' ? 'timed out' : 'failed'}; see the run output`;
    await transition(d, id, 'record-run-failure', { from: ['executing'], to: 'failed', actor: RESPONDER, reason, audit: { runId, outcome: run.outcome } });
    return 'failed';
  }

  await transition(d, id, 'start-verification', { from: ['executing'], to: 'verifying', actor: RESPONDER });
  const verification = await step('verify', () =>
    d.timed('verify', () =>
      verifyConditionCleared({
        prometheus: d.prometheus,
        expression: incident.expression,
        timeoutSeconds: d.settings.verificationTimeoutSeconds,
        intervalSeconds: d.settings.verificationIntervalSeconds,
      }),
    ),
  );
  const cleared = verification.outcome !== 'still_firing';
  const reason =
    verification.outcome === 'cleared'
      ? 'the alert condition cleared after the remediation'
      : verification.outcome === 'skipped'
        ? `remediation succeeded; not verified: ${verification.reason}`
        : `the alert condition still holds ${d.settings.verificationTimeoutSeconds}s after the remediation`;
  await transition(d, id, 'record-verification', { from: ['verifying'], to: cleared ? 'resolved' : 'failed', actor: RESPONDER, reason, patch: { verification } });
  return cleared ? 'resolved' : 'failed';
}

/**
 * The agent's proposal when a model is configured, else the runbook's. A model that cannot finish
 * (provider down, budget spent) falls back to the runbook proposal, and the diagnosis says so.
 */
async function proposeStage(d: WorkflowDeps, incident: Incident, evidence: EvidenceItem[], routeActions: readonly string[]): Promise<Proposal> {
  const investigator = d.investigator;
  if (!investigator) return step('propose', async () => proposeFromRunbook(incident, evidence, d.catalog, routeActions));
  // Same step name as the runbook path, so a workflow recorded before a model was configured replays.
  return step('propose', async () => {
    let reason: string;
    let context: EvidenceItem[] = [];
    try {
      const investigation = await d.timed('investigate', () => investigator.run(incident, routeActions));
      await d.store.saveInvestigation(incident.id, investigation);
      if (investigation.outcome !== 'fallback' && investigation.proposal) return investigation.proposal;
      reason = investigation.reason ?? 'no reason given';
      context = investigation.context.map((s) => ({ kind: 'context', summary: s.title, data: { source: s.source, text: s.text } }));
    } catch (error) {
      reason = `internal error: ${(error as Error).message}`;
      await d.store.patch(incident.id, {}, { actor: RESPONDER, kind: 'agent.failed', data: { reason } });
    }
    d.log.warn({ incident: incident.id, reason }, 'agent investigation fell back to the runbook proposal');
    const fallback = proposeFromRunbook(incident, [...evidence, ...context], d.catalog, routeActions);
    return { ...fallback, diagnosis: `The agent could not finish (${reason}); runbook proposal instead. ${fallback.diagnosis}` };
  });
}

/** One incident from received to a final state. Each side effect is a named, checkpointed step. */
async function respondToIncidentWorkflow(incidentId: string): Promise<IncidentState> {
  const d = workflowDeps();
  const incident = await step('load-incident', () => d.store.get(incidentId), { retries: DB_RETRIES });
  if (!incident || incident.state !== 'received' || !incident.mode) return incident?.state ?? 'failed';
  const mode = incident.mode;
  const route = d.routes.find((r) => r.name === incident.route);

  if (!(await transition(d, incidentId, 'start-investigation', { from: ['received'], to: 'investigating', actor: RESPONDER }))) return 'resolved';
  const evidence = await step('gather-evidence', () => d.timed('evidence', () => gatherEvidence(incident, d.prometheus)));
  let proposal = await proposeStage(d, incident, evidence, route?.actions ?? []);

  if (mode === 'diagnose-only' || proposal.action === null) {
    const reason = mode === 'diagnose-only' ? 'diagnose-only route: diagnosis recorded, nothing executed' : 'no action proposed; a human needs to look';
    await transition(d, incidentId, 'record-diagnosis', { from: ['investigating'], to: 'diagnosed', actor: RESPONDER, reason, patch: { evidence, proposal } });
    return 'diagnosed';
  }
  if (!(await transition(d, incidentId, 'record-proposal', { from: ['investigating'], to: 'proposed', actor: RESPONDER, patch: { evidence, proposal }, audit: { action: proposal.action } }))) {
    return 'resolved';
  }

  let approvedBy: string[] = ['policy'];
  for (let round = 1; ; round += 1) {
    const actionProposal = proposal as ActionProposal;
    const entry = d.catalog.get(actionProposal.action.id)!;
    const dryRun = await dryRunStage(d, incident, entry, actionProposal, round);
    const decision = await policyStage(d, incident, mode, entry, actionProposal, dryRun, round);
    if (decision === null) return 'resolved';
    if (!decision.allow) {
      await transition(d, incidentId, `record-denial-${round}`, { from: ['proposed'], to: 'denied', actor: 'policy', reason: decision.deny.join('; ') || 'policy did not allow this action' });
      return 'denied';
    }
    const required = Math.max(1, decision.approvals_required);
    const approvedEnough = round > 1 && approvedBy.length >= required;
    // Policy sees the mode and decides when no human is needed (auto mode, or read-only actions).
    if (approvedEnough || (round === 1 && decision.auto_execute && !decision.require_approval)) {
      // A modified proposal that policy still allows runs on the approvals already given for exactly these inputs.
      await transition(d, incidentId, `auto-approve-${round}`, { from: ['proposed'], to: 'approved', actor: round > 1 ? approvedBy.join(',') : 'policy', reason: round > 1 ? 'approved with modifications' : 'policy allows automatic execution' });
      break;
    }
    if (!(await transition(d, incidentId, `request-approval-${round}`, { from: ['proposed'], to: 'awaiting_approval', actor: RESPONDER, reason: `waiting for ${required} approval(s)`, audit: { approvalsRequired: required } }))) {
      return 'resolved';
    }
    const outcome = await waitForApprovals(d, incidentId, required);
    if (outcome.kind === 'closed') return 'resolved';
    if (outcome.kind === 'expired') {
      if (await transition(d, incidentId, 'expire', { from: ['awaiting_approval'], to: 'expired', actor: RESPONDER, reason: `no decision within ${d.settings.approvalTimeoutSeconds}s; escalated` })) {
        await escalate(d, incident);
      }
      return 'expired';
    }
    if (outcome.kind === 'rejected') {
      await transition(d, incidentId, 'record-rejection', { from: ['awaiting_approval'], to: 'rejected', actor: outcome.approver, reason: outcome.reason });
      return 'rejected';
    }
    approvedBy = outcome.approvers;
    if (!outcome.modifications) {
      if (!(await transition(d, incidentId, 'record-approval', { from: ['awaiting_approval'], to: 'approved', actor: approvedBy.join(','), reason: 'approved' }))) return 'resolved';
      break;
    }
    // Modified inputs are a new proposal: validation, dry-run and policy see them before anything runs.
    const modified = { ...actionProposal, action: { ...actionProposal.action, inputs: { ...actionProposal.action.inputs, ...outcome.modifications } } };
    const problems = d.catalog.validateInputs(entry.id, modified.action.inputs);
    if (problems.length > 0) {
      await transition(d, incidentId, `reject-modifications-${round}`, { from: ['awaiting_approval'], to: 'rejected', actor: RESPONDER, reason: `modified inputs are invalid: ${problems.join('; ')}` });
      return 'rejected';
    }
    proposal = modified;
    if (!(await transition(d, incidentId, `record-modified-proposal-${round}`, { from: ['awaiting_approval'], to: 'proposed', actor: approvedBy.join(','), reason: 'approved with modifications; re-checking', patch: { proposal: modified } }))) {
      return 'resolved';
    }
  }

  const finalProposal = proposal as ActionProposal;
  return executeAndVerify(d, incident, d.catalog.get(finalProposal.action.id)!, finalProposal);
}

const OPEN_STATES: IncidentState[] = ['received', 'investigating', 'proposed', 'awaiting_approval', 'approved', 'executing', 'verifying'];

/** An unexpected error must not leave the incident looking busy forever: it fails, visibly, for a human. */
async function respondOrFail(incidentId: string): Promise<IncidentState> {
  try {
    return await respondToIncidentWorkflow(incidentId);
  } catch (error) {
    const d = workflowDeps();
    d.log.error({ err: error, incident: incidentId }, 'incident workflow failed');
    await transition(d, incidentId, 'record-workflow-error', {
      from: OPEN_STATES,
      to: 'failed',
      actor: RESPONDER,
      reason: `internal error, nothing further will run on its own: ${(error as Error).message}`,
    });
    return 'failed';
  }
}

export const respondToIncident = registerWorkflow('respond-to-incident', respondOrFail);
