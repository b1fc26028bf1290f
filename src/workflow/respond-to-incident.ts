import type { IncidentState, Mode } from '../domain/incident.js';
import type { Incident } from '../domain/incident-record.js';
import type { JsonObject } from '../domain/json-value.js';
import type { ActionProposal } from '../domain/proposal.js';
import type { Verification } from '../domain/verification.js';
import { rollbackInputs, type CatalogEntry } from '../remediation/catalog.js';
import { workflowIdFor } from './approval-message.js';
import { isDurableRuntimeStopping, registerWorkflow, startWorkflow, step } from './durable-runtime.js';
import { decideStep } from './steps/decide.js';
import { evidenceStep, trustedIncidentStep } from './steps/evidence.js';
import { runApprovedAction, runFailureReason } from './steps/execute.js';
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
  const proposal = await proposeStep(d, checked, evidence, route?.actions ?? []);

  if (mode === 'diagnose-only' || proposal.action === null) {
    const reason = mode === 'diagnose-only' ? 'diagnose-only route: diagnosis recorded, nothing executed' : 'no action proposed; a human needs to look';
    await transition(d, incidentId, 'record-diagnosis', { from: ['investigating'], to: 'diagnosed', actor: RESPONDER, reason, patch: { evidence, proposal } });
    return 'diagnosed';
  }
  if (!(await transition(d, incidentId, 'record-proposal', { from: ['investigating'], to: 'proposed', actor: RESPONDER, patch: { evidence, proposal }, audit: { action: proposal.action } }))) {
    return 'resolved';
  }

  const decided = await decideStep(d, { incident, mode, firstRound: 1, rollback: false }, proposal as ActionProposal);
  if (decided.kind === 'ended') return decided.state;
  const approved = decided.proposal;
  const entry = d.catalog.get(approved.action.id)!;
  const ran = await runApprovedAction(d, incidentId, entry, approved.action.inputs, 'execute');
  if (ran.kind === 'closed') return 'resolved';
  const run = ran.run;
  if (run.outcome !== 'succeeded') {
    await transition(d, incidentId, 'record-run-failure', { from: ['executing', 'approved'], to: 'failed', actor: RESPONDER, reason: runFailureReason(run), audit: { runId: ran.runId, outcome: run.outcome, failure: run.failure } });
    return 'failed';
  }

  await transition(d, incidentId, 'start-verification', { from: ['executing'], to: 'verifying', actor: RESPONDER });
  const verification = await verifyStep(d, checked, { entry, inputs: approved.action.inputs });
  // Resolved means verified: a remediation nothing could check is unverified, never resolved.
  const final: IncidentState = verification.outcome === 'cleared' ? 'resolved' : verification.outcome === 'skipped' ? 'unverified' : 'failed';
  const reason =
    verification.outcome === 'cleared'
      ? 'the alert condition cleared after the remediation'
      : verification.outcome === 'skipped'
        ? `remediation succeeded but was not verified: ${verification.reason}`
        : `the alert condition still holds ${d.settings.verificationTimeoutSeconds}s after the remediation`;
  const rollback = verification.outcome === 'still_firing' ? rollbackInputs(entry, approved.action.inputs) : null;
  if (rollback) return rollBack(d, { incident, mode, round: decided.round, entry, rollback, reason, verification });
  await transition(d, incidentId, 'record-verification', { from: ['verifying'], to: final, actor: RESPONDER, reason, patch: { verification } });
  return final;
}

/**
 * The remediation ran and the condition still holds, and the catalog names its undo: the rollback is proposed
 * as a new round through the same dry-run, policy and approval path, never run on its own. Whatever happens
 * to it, the incident ends failed (the remediation did not work), saying what became of the rollback.
 */
async function rollBack(
  d: WorkflowDeps,
  r: { incident: Incident; mode: Mode; round: number; entry: CatalogEntry; rollback: { action: string; inputs: Record<string, unknown> }; reason: string; verification: Verification },
): Promise<IncidentState> {
  const incidentId = r.incident.id;
  const problems = d.catalog.validateInputs(r.rollback.action, r.rollback.inputs);
  if (problems.length > 0) {
    await transition(d, incidentId, 'record-verification', { from: ['verifying'], to: 'failed', actor: RESPONDER, reason: `${r.reason}; its rollback ${r.rollback.action} cannot be proposed: ${problems.join('; ')}`, patch: { verification: r.verification } });
    return 'failed';
  }
  const proposal: ActionProposal = {
    diagnosis: `${r.entry.id} ran but ${r.reason.replace(/^the alert condition /, 'the condition ')}; rolling it back with ${r.rollback.action}.`,
    evidence: [],
    action: { id: r.rollback.action, inputs: r.rollback.inputs as JsonObject },
    risk: d.catalog.get(r.rollback.action)!.risk,
    confidence: 1,
    source: 'runbook',
  };
  const proposed = await transition(d, incidentId, 'propose-rollback', {
    from: ['verifying'],
    to: 'proposed',
    actor: RESPONDER,
    reason: `${r.reason}; proposing its rollback ${r.rollback.action} for approval`,
    patch: { verification: r.verification, proposal },
    audit: { action: proposal.action, rollbackOf: r.entry.id },
  });
  if (!proposed) return 'resolved';
  const decided = await decideStep(d, { incident: r.incident, mode: r.mode, firstRound: r.round + 1, rollback: true }, proposal);
  if (decided.kind === 'ended') return decided.state;
  const entry = d.catalog.get(decided.proposal.action.id)!;
  const ran = await runApprovedAction(d, incidentId, entry, decided.proposal.action.inputs, 'rollback');
  if (ran.kind === 'closed') return 'resolved';
  const outcome = ran.run.outcome === 'succeeded' ? `rolled back with ${entry.id}` : `its rollback did not finish: ${runFailureReason(ran.run)}`;
  await transition(d, incidentId, 'record-rollback', { from: ['executing', 'approved'], to: 'failed', actor: RESPONDER, reason: `the remediation did not clear the condition; ${outcome}`, audit: { runId: ran.runId, outcome: ran.run.outcome, failure: ran.run.failure } });
  return 'failed';
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
