import type { RunFailure, RunState } from '../../domain/incident.js';
import type { Incident } from '../../domain/incident-record.js';
import type { ActionProposal } from '../../domain/proposal.js';
import { failureOf } from '../../execution/executor.js';
import { targetOf } from '../../policy/build-policy-input.js';
import type { CatalogEntry } from '../../remediation/catalog.js';
import { step } from '../durable-runtime.js';
import { DB_RETRIES, type WorkflowDeps } from '../workflow-deps.js';

export interface ExecutionOutcome {
  outcome: Exclude<RunState, 'claimed' | 'running'>;
  failure: RunFailure | null;
  output: string;
}

export const executionRunId = (incidentId: string) => `${incidentId}:execute`;

/** Claims the one execute run of an incident; starting it is a separate step so a crash between them is visible. */
export function claimExecutionStep(d: WorkflowDeps, incident: Incident, entry: CatalogEntry, proposal: ActionProposal): Promise<void> {
  const inputs = proposal.action.inputs;
  const claim = { id: executionRunId(incident.id), incidentId: incident.id, kind: 'execute' as const, actionId: entry.id, target: targetOf(entry, inputs), inputs };
  return step('claim-run', () => d.runs.claim(claim), { retries: DB_RETRIES });
}

/** Runs the approved action at most once: a run found already started was interrupted, and is never re-run on its own. */
export function executeStep(d: WorkflowDeps, incident: Incident, entry: CatalogEntry, proposal: ActionProposal): Promise<ExecutionOutcome> {
  const runId = executionRunId(incident.id);
  return step('run-remediation', async () => {
    if (!(await d.runs.start(runId))) {
      const output = 'the service stopped while this remediation was running; its outcome is unknown and it will not be re-run without a human';
      await d.runs.finish(runId, incident.id, { state: 'unknown', exitCode: null, output });
      return { outcome: 'unknown' as const, failure: null, output };
    }
    const executor = d.executors.forEntry(entry);
    const result = await d.timed('execute', () => executor.run({ entry, inputs: proposal.action.inputs, runId }));
    const failure = failureOf(result);
    await d.runs.finish(runId, incident.id, { state: result.outcome, failure, exitCode: result.exitCode, output: result.output, outputs: 'outputs' in result ? result.outputs : undefined });
    return { outcome: result.outcome, failure, output: result.output };
  });
}

/** The incident's reason for a run that did not succeed. */
export function runFailureReason(run: ExecutionOutcome): string {
  switch (run.outcome) {
    case 'unknown':
      return 'remediation was interrupted; outcome unknown, a human must check the target before anything re-runs';
    case 'timed_out':
      return 'remediation timed out; see the run output';
    case 'cancelled':
      return 'remediation cancelled by an admin; its process was stopped, check the target';
    default:
      return run.failure === 'no-hosts-matched'
        ? 'remediation failed (no-hosts-matched): nothing ran on any host; see the run output'
        : `remediation failed${run.failure ? ` (${run.failure})` : ''}; see the run output`;
  }
}
