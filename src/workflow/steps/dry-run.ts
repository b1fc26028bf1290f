import type { DryRun, Incident } from '../../domain/incident-record.js';
import type { ActionProposal } from '../../domain/proposal.js';
import { failureOf, type ExecutionResult } from '../../execution/executor.js';
import { targetOf } from '../../policy/build-policy-input.js';
import type { CatalogEntry } from '../../remediation/catalog.js';
import { step } from '../durable-runtime.js';
import { RESPONDER, type WorkflowDeps } from '../workflow-deps.js';

/**
 * The executor's own dry run (ansible --check --diff) of one round's proposal; recorded as a run and on the
 * incident. Only a dry run that acted on something is ok: one that matched no host fails, so policy sees
 * dry_run.ok = false. An engine without a dry run answers skipped, which policy reads as "not checked".
 */
export function dryRunStep(d: WorkflowDeps, incident: Incident, entry: CatalogEntry, proposal: ActionProposal, round: number | string): Promise<DryRun> {
  return step(`dry-run-${round}`, async () => {
    const runId = `${incident.id}:dry-run:${round}`;
    const inputs = proposal.action.inputs;
    await d.runs.claim({ id: runId, incidentId: incident.id, kind: 'dry-run', actionId: entry.id, target: targetOf(entry, inputs), inputs });
    await d.runs.start(runId);
    const executor = d.executors.forEntry(entry);
    // When the catalog says the action has no meaningful dry run, it is recorded skipped, so policy knows it was not checked.
    const result: ExecutionResult = entry.supportsDryRun
      ? await d.timed('dry-run', () => executor.dryRun({ entry, inputs, runId }))
      : { outcome: 'skipped', exitCode: null, output: `${entry.id} has no dry run (supportsDryRun: false in the catalog): nothing was checked before approval`, durationMs: 0 };
    const failure = failureOf(result);
    await d.runs.finish(runId, incident.id, { state: result.outcome, failure, exitCode: result.exitCode, output: result.output, outputs: 'outputs' in result ? result.outputs : undefined });
    d.recordRun('dry-run', result.outcome, failure);
    const dryRun: DryRun = {
      ok: result.outcome === 'succeeded',
      skipped: result.outcome === 'skipped',
      runId,
      outcome: result.outcome,
      failure,
      exitCode: result.exitCode,
      output: result.output,
    };
    await d.incidents.patch(incident.id, { dryRun }, { actor: RESPONDER, kind: 'dry-run.finished', data: { runId, outcome: result.outcome, failure } });
    return dryRun;
  });
}
