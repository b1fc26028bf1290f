import type { PolicyDecision } from '../../domain/decision.js';
import type { Mode } from '../../domain/incident.js';
import type { Incident } from '../../domain/incident-record.js';
import type { ActionProposal } from '../../domain/proposal.js';
import { buildPolicyInput, targetOf, type DryRunSummary } from '../../policy/build-policy-input.js';
import type { CatalogEntry } from '../../remediation/catalog.js';
import { durableSleep, step } from '../durable-runtime.js';
import { DB_RETRIES, RESPONDER, type WorkflowDeps } from '../workflow-deps.js';

export interface PolicyRound {
  incident: Incident;
  mode: Mode;
  entry: CatalogEntry;
  proposal: ActionProposal;
  dryRun: DryRunSummary;
  round: number;
}

/**
 * Asks policy until it answers. While OPA is unreachable the incident waits; it never executes unchecked.
 * Null when the incident left `proposed` meanwhile (its alert resolved).
 */
export async function policyStep(d: WorkflowDeps, { incident, mode, entry, proposal, dryRun, round }: PolicyRound): Promise<PolicyDecision | null> {
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await step(
      `policy-${round}-${attempt}`,
      async () => {
        const history = await d.runs.countRecentExecutions(targetOf(entry, proposal.action.inputs));
        const input = buildPolicyInput({ incident, mode, proposal, entry, dryRun, targetRemediationsLastHour: history, requester: RESPONDER });
        const result = await d.timed('policy', () => d.policyGate.evaluate(input));
        if (result.kind === 'decided') {
          await d.incidents.patch(
            incident.id,
            { decision: { ...result.decision, input, evaluator: result.evaluator, revision: result.revision } },
            { actor: `policy:${result.evaluator}`, kind: 'policy.decision', data: { input, decision: result.decision, evaluator: result.evaluator, revision: result.revision } },
          );
        } else {
          await d.incidents.patch(incident.id, {}, { actor: RESPONDER, kind: 'policy.unavailable', data: { reason: result.reason, attempt, retryInSeconds: d.settings.policyRetrySeconds } });
        }
        return result;
      },
      { retries: DB_RETRIES },
    );
    if (outcome.kind === 'decided') return outcome.decision;
    d.log.warn({ incident: incident.id, reason: outcome.reason }, 'policy unavailable; incident waits and retries');
    await durableSleep(d.settings.policyRetrySeconds * 1000);
    const current = await step(`policy-${round}-${attempt}-recheck`, () => d.incidents.get(incident.id), { retries: DB_RETRIES });
    if (!current || current.state !== 'proposed') return null;
  }
}
