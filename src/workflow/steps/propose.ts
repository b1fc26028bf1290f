import { proposeFromRunbook } from '../../agent/runbook-proposer.js';
import type { Incident } from '../../domain/incident-record.js';
import type { EvidenceItem, Proposal } from '../../domain/proposal.js';
import { step } from '../durable-runtime.js';
import { RESPONDER, type WorkflowDeps } from '../workflow-deps.js';

/**
 * The agent's proposal when a model is configured, else the runbook's. A model that cannot finish
 * (provider down, budget spent) falls back to the runbook proposal, and the diagnosis says so.
 */
export function proposeStep(d: WorkflowDeps, incident: Incident, evidence: EvidenceItem[], routeActions: readonly string[]): Promise<Proposal> {
  const investigator = d.investigator;
  if (!investigator) return step('propose', async () => proposeFromRunbook(incident, evidence, d.catalog, routeActions));
  // Same step name as the runbook path, so a workflow recorded before a model was configured replays.
  return step('propose', async () => {
    let reason: string;
    let context: EvidenceItem[] = [];
    try {
      const investigation = await d.timed('investigate', () => investigator.run(incident, routeActions));
      await d.investigations.save(incident.id, investigation);
      if (investigation.outcome !== 'fallback' && investigation.proposal) return investigation.proposal;
      reason = investigation.reason ?? 'no reason given';
      context = investigation.context.map((s) => ({ kind: 'context', summary: s.title, data: { source: s.source, text: s.text } }));
    } catch (error) {
      reason = `internal error: ${(error as Error).message}`;
      await d.incidents.patch(incident.id, {}, { actor: RESPONDER, kind: 'agent.failed', data: { reason } });
    }
    d.log.warn({ incident: incident.id, reason }, 'agent investigation fell back to the runbook proposal');
    const fallback = proposeFromRunbook(incident, [...evidence, ...context], d.catalog, routeActions);
    return { ...fallback, diagnosis: `The agent could not finish (${reason}); runbook proposal instead. ${fallback.diagnosis}` };
  });
}
